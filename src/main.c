/* main.c - flags -> config -> serve.
 *
 * podterm [--listen HOST:PORT] [--config FILE] [--jwt-key-file FILE]
 *         [--token-auth-file FILE] [--allowed-origin ORIGIN]... [--allowed-host NAME]...
 *         [--insecure-allow-anonymous]
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <libfyaml.h>
#include <libwebsockets.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>
#include <uv.h>

#include "admit/admit.h"
#include "metrics/metrics.h"
#include "auth/auth.h"
#include "auth/jwt_mint.h"
#include "oidc/oidc.h"
#include "signin/signin.h"
#include "backend/local/local.h"
#include "config/config.h"
#include "config/config_flags.h"
#include "log/log.h"
#include "record/record.h"
#include "gateway/gateway.h"
#include "server/server.h"

#define MAIN_ERR_MAX 1024
#define MAIN_SHUTDOWN_GRACE_MS 25000 /* below Kubernetes' default 30 s termination grace */
#define MAIN_DURATION_MAX_MS (24ull * 3600 * 1000) /* any duration flag */
/* Under every common proxy's idle cut-off (nginx 60 s, AWS ELB 60 s,
 * Cloudflare 100 s). */
#define MAIN_PING_INTERVAL_MS 20000
/* --session-grace: a minute covers a Wi-Fi blink, a laptop lid, a proxy restart. */
#define MAIN_SESSION_GRACE_MS 60000
#define MAIN_DEFAULT_LISTEN "127.0.0.1:8080"
#define PODTERM_VERSION "0.1.0"
#ifndef PODTERM_COMMIT /* set by CMakeLists.txt for the podterm target */
#define PODTERM_COMMIT "unknown"
#endif
#ifndef PODTERM_LIBJWT_VERSION /* libjwt has no runtime version call */
#define PODTERM_LIBJWT_VERSION "unknown"
#endif
/* What an --allowed-host name may hold (the Host check compares names only). */
#define MAIN_HOST_NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_"

struct main_flags {
    char host[64];
    int port;
    const char *config_file;
    const char *jwt_key_file;
    const char *token_auth_file;
    const char *origins[SERVER_ORIGINS_MAX];
    size_t origins_len;
    const char *hosts[SERVER_HOSTS_MAX];
    size_t hosts_len;
    bool insecure_allow_anonymous;
    int log_level;      /* lws bitmask: from -v, or --log-level as given */
    bool log_level_set; /* --log-level given */
    struct log log;     /* -v, --log-format */
    /* gateway mode and HTTPS */
    const char *kubeconfig, *context;
    bool in_cluster, pass_through_token;
    const char *tls_cert_file, *tls_key_file, *client_ca_file;
    /* authorization and audit (admit.h) */
    const char *rbac_files[ADMIT_RBAC_FILES_MAX];
    size_t rbac_files_len;
    const char *audit_path, *audit_policy_file;
    unsigned audit_maxsize_mb, audit_maxbackup;
    bool audit_required;
    struct config_flags file_flags; /* the --config file's flags: (their strings live here) */
    uint64_t shutdown_grace_ms;     /* SIGTERM: how long open sessions get to finish */
    const char *recording_dir;      /* sessions recorded as asciicast v2 files here */
    uint64_t ping_interval_ms;      /* keepalive of every WebSocket, both sides (0: off) */
    uint64_t session_grace_ms;      /* a dropped web terminal waits this long for a resume */
    bool terminate_on_revoke;       /* a reloaded policy ends the sessions it no longer allows */
    bool recording_all, record_input, recording_required;
    uint64_t recording_max_bytes;
    bool screen_model_off; /* --screen-model off */
    struct oidc_opts oidc; /* --oidc-*: issuer_url NULL when off */
    /* browser sign-in (signin.h): redirect_url NULL when off */
    struct signin_opts signin;
    uint64_t session_idle_ms, session_max_age_ms;
};

static void main_usage(FILE *out)
{
    fprintf(
        out,
        "usage: podterm [flags]\n"
        "  --listen HOST:PORT          address to serve on (default " MAIN_DEFAULT_LISTEN
        "; port 0: any free port)\n"
        "  --config FILE               YAML: any of these flags under flags: (the command "
        "line wins),\n"
        "                              local pods under pods: (default: default/local, "
        "container shell)\n"
        "  --jwt-key-file FILE         accept JWT bearer tokens: HMAC secret (HS256/384/512) "
        "or PEM public key (RS*/ES*)\n"
        "  --token-auth-file FILE      accept static tokens: CSV token,user,uid,\"g1,g2\"\n"
        "  --allowed-origin ORIGIN     also accept browser requests from this origin "
        "(repeatable)\n"
        "  --allowed-host NAME         also answer requests whose Host is NAME (repeatable; "
        "default:\n"
        "                              localhost, *.localhost and IP addresses only, unless "
        "authentication\n"
        "                              is on and no --allowed-host is given)\n"
        "  --insecure-allow-anonymous  serve without authentication on a non-loopback "
        "address\n"
        "  -v, --v N                   log verbosity: 0 start-up and errors, 1 (default) also "
        "a line per\n"
        "                              request and per session, 5+ also libwebsockets' notices\n"
        "  --log-format FORMAT         text (default) or json: one object per line (ts, level, "
        "msg, auditID, ...)\n"
        "  --log-level N               libwebsockets log bitmask, overriding what -v sets"
        " (default 3: errors,\n"
        "                              warnings)\n"
        "  --shutdown-grace DURATION   on SIGTERM, how long open sessions get to finish before "
        "they are\n"
        "                              closed (Go duration such as 25s or 1m30s, or seconds; "
        "default 25s)\n"
        "  --tls-cert-file FILE        serve HTTPS with this PEM certificate (chain allowed; "
        "reloaded when it changes)\n"
        "  --tls-private-key-file FILE the certificate's PEM private key\n"
        "  --client-ca-file FILE       with TLS, accept only clients whose certificate this "
        "PEM CA bundle signed;\n"
        "                              the certificate's CN is the user, each O a group\n"
        "OpenID Connect (ID tokens as bearer tokens, as kube-apiserver's --oidc-* flags):\n"
        "  --oidc-issuer-url URL       accept ID tokens of this issuer (https://; its keys are "
        "fetched from\n"
        "                              URL/.well-known/openid-configuration and its jwks_uri)\n"
        "  --oidc-client-id ID         the audience the tokens must be for\n"
        "  --oidc-username-claim C     the claim that names the user (default sub)\n"
        "  --oidc-username-prefix P    put before user names (default: the issuer URL and # "
        "unless the\n"
        "                              claim is email; - for none)\n"
        "  --oidc-groups-claim C       the claim that lists the user's groups (default: none)\n"
        "  --oidc-groups-prefix P      put before group names\n"
        "  --oidc-required-claim K=V   the token must hold claim K with value V (repeatable)\n"
        "  --oidc-ca-file FILE         PEM CA bundle for the issuer's TLS (default: the system's)\n"
        "  --oidc-signing-algs A,B     algorithms accepted (default RS256; RS*, PS*, ES*)\n"
        "browser sign-in (OpenID Connect code flow with PKCE; needs --oidc-issuer-url):\n"
        "  --oidc-redirect-url URL     turn it on: podterm's https://HOST[:PORT]/oauth2/callback "
        "as registered\n"
        "                              with the provider (http:// only without TLS, on "
        "loopback)\n"
        "  --oidc-client-secret-file F the client secret (client_secret_basic); default: a "
        "public client\n"
        "  --oidc-scopes \"S1 S2\"       scopes asked for (default \"openid email profile\"; "
        "add groups\n"
        "                              if the provider puts the groups claim behind one)\n"
        "  --session-idle-timeout D    a sign-in session unused this long ends (default 1h)\n"
        "  --session-max-age D         a sign-in session ends this long after sign-in "
        "(default 12h)\n"
        "authorization and audit:\n"
        "  --authorization-rbac-file P Kubernetes RBAC objects (Role, ClusterRole, RoleBinding,\n"
        "                              ClusterRoleBinding) and podterm ExecPolicy: a YAML/JSON "
        "file or a\n"
        "                              folder of them (repeatable; reloaded when they change)\n"
        "  --terminate-on-revoke       end live sessions a reloaded policy, token file or JWT "
        "key, or a\n"
        "                              browser sign-out no longer allows\n"
        "  --audit-log-path FILE       audit.k8s.io/v1 Event lines to FILE (- for stdout)\n"
        "  --audit-log-maxsize MB      rotate the audit log at this size (default 0: never)\n"
        "  --audit-log-maxbackup N     rotated audit logs kept (default 0: all)\n"
        "  --audit-policy-file FILE    audit.k8s.io/v1 Policy (default: Metadata for every "
        "request)\n"
        "  --audit-log-required        refuse requests (503) while the audit log cannot be "
        "written\n"
        "sessions:\n"
        "  --ping-interval DURATION    ping every WebSocket, client and upstream side, this "
        "often, and close\n"
        "                              one that sent nothing for as long after a ping (default "
        "20s; 0: never)\n"
        "  --session-grace DURATION    keep a web terminal's session this long after its "
        "connection drops,\n"
        "                              for the page to resume it (default 60s; 0: off)\n"
        "  --recording-dir DIR         record every tty exec/attach as DIR/<session id>.cast "
        "(asciicast v2)\n"
        "  --recording-all             record non-tty sessions too\n"
        "  --record-input              record what users type as well (off by default: "
        "passwords)\n"
        "  --recording-max-bytes N     largest recording file; reaching it ends the recording "
        "(not the\n"
        "                              session) with a marker (default 64 MiB)\n"
        "  --recording-required        refuse sessions (503) while recordings cannot be "
        "written, and end\n"
        "                              open ones whose recording fails\n"
        "  --screen-model on|off       keep each tty session's screen on the server, to repaint "
        "it for\n"
        "                              watchers and resume (default on; off: no repaint for "
        "watchers and\n"
        "                              resume, for operators who prefer the CPU)\n"
        "gateway mode (proxy a real cluster instead of local pods):\n"
        "  --kubeconfig FILE           cluster credentials (default: $KUBECONFIG, then "
        "~/.kube/config)\n"
        "  --context NAME              kubeconfig context (default: current-context)\n"
        "  --in-cluster                use the pod's service account\n"
        "  --pass-through-token        send the client's bearer token to the cluster instead "
        "of podterm's\n"
        "                              credentials with Impersonate-User/-Group\n"
        "  --version, --help\n");
}

static int main_parse_listen(const char *arg, struct main_flags *f)
{
    const char *colon = strrchr(arg, ':');
    if (!colon || colon == arg || (size_t)(colon - arg) >= sizeof(f->host))
        return -1;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535 || colon[1] == '\0')
        return -1;
    memcpy(f->host, arg, colon - arg);
    f->host[colon - arg] = '\0';
    f->port = (int)port;
    return 0;
}

/* Version, commit and the libraries actually loaded, for bug reports. */
static void main_print_version(void)
{
    printf("podterm " PODTERM_VERSION " (commit " PODTERM_COMMIT ")\n"
           "libwebsockets %s, libuv %s, %s, jansson %s, libfyaml %s, libjwt " PODTERM_LIBJWT_VERSION
           "\n",
           lws_get_library_version(), uv_version_string(), OpenSSL_version(OPENSSL_VERSION),
           jansson_version_str(), fy_library_version());
}

/* A count flag: a decimal number, 0 to 1000000. */
/* --recording-max-bytes: a byte count, no smaller than a header needs. */
static int main_parse_bytes(const char *arg, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    if (!arg[0] || arg[0] == '-' || *end || errno || v < RECORD_MAX_BYTES_MIN) {
        fprintf(stderr,
                "podterm: --recording-max-bytes wants a number of bytes from %d, got \"%s\"\n",
                RECORD_MAX_BYTES_MIN, arg);
        return -1;
    }
    *out = v;
    return 0;
}

static int main_parse_count(const char *arg, const char *flag, unsigned *out)
{
    char *end;
    long v = strtol(arg, &end, 10);
    if (!arg[0] || *end || v < 0 || v > 1000000) {
        fprintf(stderr, "podterm: %s wants a number from 0 to 1000000, got \"%s\"\n", flag, arg);
        return -1;
    }
    *out = (unsigned)v;
    return 0;
}

/* --shutdown-grace, --ping-interval: a Go duration ("25s", "1m30s", "500ms", "1.5s") or a
 * plain number of seconds. Numbers are digits and one '.', as Go's
 * time.ParseDuration reads them (no sign, exponent or hex). */
#define MAIN_GRACE_NUMBER_MAX 32
static int main_parse_duration(const char *arg, uint64_t *out_ms)
{
    double total = 0;
    const char *p = arg;
    bool bare = arg[strspn(arg, "0123456789.")] == '\0';
    do {
        size_t n = strspn(p, "0123456789.");
        char num[MAIN_GRACE_NUMBER_MAX];
        if (n == 0 || n >= sizeof(num))
            return -1;
        memcpy(num, p, n);
        num[n] = '\0';
        char *end;
        double v = strtod(num, &end);
        if (*end)
            return -1;
        p += n;
        double unit_ms = 1000; /* bare seconds */
        if (!bare) {
            if (strncmp(p, "ms", 2) == 0)
                unit_ms = 1, p += 2;
            else if (*p == 's')
                unit_ms = 1000, p++;
            else if (*p == 'm')
                unit_ms = 60000, p++;
            else if (*p == 'h')
                unit_ms = 3600000, p++;
            else
                return -1;
        }
        total += v * unit_ms;
    } while (*p);
    if (total > (double)MAIN_DURATION_MAX_MS)
        return -1;
    *out_ms = (uint64_t)total;
    return 0;
}

static bool main_gateway_mode(const struct main_flags *f)
{
    return f->kubeconfig || f->context || f->in_cluster;
}

static bool main_is_loopback(const char *host)
{
    return strncmp(host, "127.", 4) == 0 || strcmp(host, "localhost") == 0;
}

static int main_check_gateway_flags(const struct main_flags *f)
{
    if (!f->tls_cert_file != !f->tls_key_file) {
        fprintf(stderr, "podterm: --tls-cert-file and --tls-private-key-file go together\n");
        return -1;
    }
    if (f->client_ca_file && !f->tls_cert_file) {
        fprintf(stderr, "podterm: --client-ca-file needs --tls-cert-file and "
                        "--tls-private-key-file\n");
        return -1;
    }
    if (f->in_cluster && (f->kubeconfig || f->context)) {
        fprintf(stderr, "podterm: --in-cluster and --kubeconfig/--context exclude each other\n");
        return -1;
    }
    if (f->pass_through_token && !main_gateway_mode(f)) {
        fprintf(stderr, "podterm: --pass-through-token needs gateway mode (--kubeconfig, "
                        "--context or --in-cluster)\n");
        return -1;
    }
    if (f->audit_required && !f->audit_path) {
        fprintf(stderr, "podterm: --audit-log-required needs --audit-log-path\n");
        return -1;
    }
    if ((f->recording_all || f->record_input || f->recording_required || f->recording_max_bytes) &&
        !f->recording_dir) {
        fprintf(stderr, "podterm: --recording-all, --record-input, --recording-max-bytes and "
                        "--recording-required need --recording-dir\n");
        return -1;
    }
    /* A typo in the folder would otherwise show only in the audit of each
     * session (or, with --recording-required, as 503s). */
    struct stat st;
    if (f->recording_dir && (stat(f->recording_dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
                             access(f->recording_dir, W_OK | X_OK) != 0)) {
        fprintf(stderr, "podterm: --recording-dir %s: not a folder podterm can write to\n",
                f->recording_dir);
        return -1;
    }
    const struct oidc_opts *o = &f->oidc;
    if (!o->issuer_url &&
        (o->client_id || o->username_claim || o->username_prefix || o->groups_claim ||
         o->groups_prefix || o->required_claims_len || o->ca_file || o->signing_algs)) {
        fprintf(stderr, "podterm: the --oidc-* flags need --oidc-issuer-url\n");
        return -1;
    }
    const struct signin_opts *so = &f->signin;
    if (!so->redirect_url &&
        (so->client_secret_file || so->scopes || f->session_idle_ms || f->session_max_age_ms)) {
        fprintf(stderr, "podterm: --oidc-client-secret-file, --oidc-scopes, "
                        "--session-idle-timeout and --session-max-age are browser sign-in's: "
                        "they need --oidc-redirect-url\n");
        return -1;
    }
    if (so->redirect_url && !o->issuer_url) {
        fprintf(stderr, "podterm: --oidc-redirect-url needs --oidc-issuer-url\n");
        return -1;
    }
    /* The session cookie is a credential: over plain HTTP only on loopback. */
    if (so->redirect_url && !f->tls_cert_file && !main_is_loopback(f->host)) {
        fprintf(stderr, "podterm: browser sign-in (--oidc-redirect-url) without TLS is for "
                        "loopback only: its cookie is a credential; use --tls-cert-file\n");
        return -1;
    }
    if (main_gateway_mode(f) && f->file_flags.has_pods) {
        fprintf(stderr, "podterm: the --config file's pods: and namespaces: (local pods) do "
                        "not apply in gateway mode\n");
        return -1;
    }
    return 0;
}

/* Every flag; config_flags.c accepts the same names in the --config file's
 * flags: mapping (main_flag_specs), except those main_flag_file_only_cli names. */
static const struct option main_options[] = {
    {"listen", required_argument, 0, 'l'},
    {"config", required_argument, 0, 'c'},
    {"jwt-key-file", required_argument, 0, 'j'},
    {"token-auth-file", required_argument, 0, 't'},
    {"allowed-origin", required_argument, 0, 'o'},
    {"allowed-host", required_argument, 0, 'H'},
    {"insecure-allow-anonymous", no_argument, 0, 'A'},
    {"log-level", required_argument, 0, 'L'},
    {"kubeconfig", required_argument, 0, 'K'},
    {"context", required_argument, 0, 'C'},
    {"in-cluster", no_argument, 0, 'I'},
    {"pass-through-token", no_argument, 0, 'P'},
    {"tls-cert-file", required_argument, 0, 'T'},
    {"tls-private-key-file", required_argument, 0, 'k'},
    {"client-ca-file", required_argument, 0, 'a'},
    {"authorization-rbac-file", required_argument, 0, 'R'},
    {"v", required_argument, 0, 'v'},
    {"log-format", required_argument, 0, 'F'},
    {"audit-log-path", required_argument, 0, 'G'},
    {"audit-log-maxsize", required_argument, 0, 'M'},
    {"audit-log-maxbackup", required_argument, 0, 'B'},
    {"audit-policy-file", required_argument, 0, 'Y'},
    {"audit-log-required", no_argument, 0, 'Q'},
    {"shutdown-grace", required_argument, 0, 'g'},
    {"recording-dir", required_argument, 0, 'D'},
    {"ping-interval", required_argument, 0, 'p'},
    {"session-grace", required_argument, 0, 1004},
    {"terminate-on-revoke", no_argument, 0, 1005},
    {"recording-all", no_argument, 0, 1000},
    {"record-input", no_argument, 0, 1001},
    {"recording-max-bytes", required_argument, 0, 1002},
    {"recording-required", no_argument, 0, 1003},
    {"screen-model", required_argument, 0, 'S'},
    {"oidc-issuer-url", required_argument, 0, 1010},
    {"oidc-client-id", required_argument, 0, 1011},
    {"oidc-username-claim", required_argument, 0, 1012},
    {"oidc-username-prefix", required_argument, 0, 1013},
    {"oidc-groups-claim", required_argument, 0, 1014},
    {"oidc-groups-prefix", required_argument, 0, 1015},
    {"oidc-required-claim", required_argument, 0, 1016},
    {"oidc-ca-file", required_argument, 0, 1017},
    {"oidc-signing-algs", required_argument, 0, 1018},
    {"oidc-redirect-url", required_argument, 0, 1019},
    {"oidc-client-secret-file", required_argument, 0, 1020},
    {"oidc-scopes", required_argument, 0, 1021},
    {"session-idle-timeout", required_argument, 0, 1022},
    {"session-max-age", required_argument, 0, 1023},
    {"version", no_argument, 0, 'V'},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

/* Flags that may be given more than once (a list in the config file). */
static const char *const main_flags_repeatable[] = {
    "allowed-origin", "allowed-host", "authorization-rbac-file", "oidc-required-claim"};
/* Flags the config file cannot hold: the file itself, and the ones that
 * print and exit. */
static const char *const main_flags_cli_only[] = {"config", "version", "help"};

static bool main_name_in(const char *name, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

#define MAIN_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MAIN_OPTIONS_MAX 64 /* entries of main_options */

/* The config file's flags: every entry of main_options but the CLI-only ones. */
static size_t main_flag_specs(struct config_flag_spec *specs, size_t cap)
{
    size_t n = 0;
    for (const struct option *o = main_options; o->name && n < cap; o++) {
        if (main_name_in(o->name, main_flags_cli_only, MAIN_ARRAY_LEN(main_flags_cli_only)))
            continue;
        specs[n].name = o->name;
        specs[n].kind =
            o->has_arg == no_argument ? CONFIG_FLAG_SWITCH
            : main_name_in(o->name, main_flags_repeatable, MAIN_ARRAY_LEN(main_flags_repeatable))
                ? CONFIG_FLAG_LIST
                : CONFIG_FLAG_VALUE;
        n++;
    }
    return n;
}

/* The --config file named on the command line, found by getopt itself (so
 * "--conf FILE" and "--config=FILE" count as they do in the real parse),
 * or NULL. Nothing else is acted on, nothing is printed. */
static const char *main_config_path(int argc, char **argv)
{
    const char *path = NULL;
    int saved_opterr = opterr, c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, "v:", main_options, NULL)) != -1)
        if (c == 'c')
            path = optarg;
    opterr = saved_opterr;
    optind = 0; /* glibc: 0 starts a fresh scan */
    return path;
}

/* argv with the config file's flags put first, so the command line's own come
 * later and win. NULL (message printed) on error; else *argc_out is set and
 * the caller frees the array (its strings belong to argv and f->file_flags). */
static char **main_argv_with_file(int argc, char **argv, struct main_flags *f, int *argc_out)
{
    const char *path = main_config_path(argc, argv);
    if (path) {
        struct config_flag_spec specs[MAIN_OPTIONS_MAX];
        size_t nspecs = main_flag_specs(specs, MAIN_OPTIONS_MAX);
        char err[MAIN_ERR_MAX];
        if (config_flags_load(path, specs, nspecs, &f->file_flags, err, sizeof(err)) < 0) {
            fprintf(stderr, "podterm: %s\n", err);
            return NULL;
        }
    }
    size_t n = (size_t)argc + f->file_flags.len;
    char **all = calloc(n + 1, sizeof(*all));
    if (!all) {
        fprintf(stderr, "podterm: out of memory\n");
        config_flags_free(&f->file_flags);
        return NULL;
    }
    all[0] = argv[0];
    if (f->file_flags.len) /* args is NULL without a file */
        memcpy(all + 1, f->file_flags.args, f->file_flags.len * sizeof(*all));
    memcpy(all + 1 + f->file_flags.len, argv + 1, (size_t)(argc - 1) * sizeof(*all));
    *argc_out = (int)n;
    return all;
}

static int main_parse_args(int argc, char **argv, struct main_flags *f);

/* The exit status when the flags cannot be used: 2 for a usage error, 1 when
 * the --config file cannot be read or holds a bad flags: entry; 0 to go on. */
static int main_parse_flags(int argc, char **argv, struct main_flags *f)
{
    memset(f, 0, sizeof(*f));
    int all_argc;
    char **all = main_argv_with_file(argc, argv, f, &all_argc);
    if (!all)
        return 1; /* the file, not the usage: as for every other file podterm reads */
    int rc = main_parse_args(all_argc, all, f);
    free(all);
    if (rc < 0) {
        config_flags_free(&f->file_flags);
        return 2;
    }
    return 0;
}

/* The flags, from the file and then the command line (main_argv_with_file). */
static int main_parse_args(int argc, char **argv, struct main_flags *f)
{
    f->log_level = LLL_ERR | LLL_WARN;
    f->log.verbosity = LOG_V_DEFAULT;
    f->log.format = LOG_FORMAT_TEXT;
    f->log.out = stderr;
    f->shutdown_grace_ms = MAIN_SHUTDOWN_GRACE_MS;
    f->ping_interval_ms = MAIN_PING_INTERVAL_MS;
    f->session_grace_ms = MAIN_SESSION_GRACE_MS;
    main_parse_listen(MAIN_DEFAULT_LISTEN, f);
    int c;
    while ((c = getopt_long(argc, argv, "v:", main_options, NULL)) != -1) {
        switch (c) {
        case 'l':
            if (main_parse_listen(optarg, f) < 0) {
                fprintf(stderr, "podterm: --listen wants HOST:PORT, got \"%s\"\n", optarg);
                return -1;
            }
            break;
        case 'c':
            f->config_file = optarg;
            break;
        case 'j':
            f->jwt_key_file = optarg;
            break;
        case 't':
            f->token_auth_file = optarg;
            break;
        case 'o':
            if (f->origins_len == SERVER_ORIGINS_MAX) {
                fprintf(stderr, "podterm: at most %d --allowed-origin flags\n", SERVER_ORIGINS_MAX);
                return -1;
            }
            f->origins[f->origins_len++] = optarg;
            break;
        case 'H':
            if (f->hosts_len == SERVER_HOSTS_MAX) {
                fprintf(stderr, "podterm: at most %d --allowed-host flags\n", SERVER_HOSTS_MAX);
                return -1;
            }
            if (!optarg[0] || strspn(optarg, MAIN_HOST_NAME_CHARS) != strlen(optarg)) {
                fprintf(stderr,
                        "podterm: --allowed-host wants a host name without a port, got "
                        "\"%s\"\n",
                        optarg);
                return -1;
            }
            f->hosts[f->hosts_len++] = optarg;
            break;
        case 'A':
            f->insecure_allow_anonymous = true;
            break;
        case 'L':
            f->log_level = atoi(optarg);
            f->log_level_set = true;
            break;
        case 'v': {
            unsigned v;
            if (main_parse_count(optarg, "-v", &v) < 0)
                return -1;
            f->log.verbosity = (int)v;
            break;
        }
        case 'F':
            if (log_format_parse(optarg, &f->log.format) < 0) {
                fprintf(stderr, "podterm: --log-format wants text or json, got \"%s\"\n", optarg);
                return -1;
            }
            break;
        case 'K':
            f->kubeconfig = optarg;
            break;
        case 'C':
            f->context = optarg;
            break;
        case 'I':
            f->in_cluster = true;
            break;
        case 'P':
            f->pass_through_token = true;
            break;
        case 'T':
            f->tls_cert_file = optarg;
            break;
        case 'k':
            f->tls_key_file = optarg;
            break;
        case 'a':
            f->client_ca_file = optarg;
            break;
        case 'R':
            if (f->rbac_files_len == ADMIT_RBAC_FILES_MAX) {
                fprintf(stderr, "podterm: at most %d --authorization-rbac-file flags\n",
                        ADMIT_RBAC_FILES_MAX);
                return -1;
            }
            f->rbac_files[f->rbac_files_len++] = optarg;
            break;
        case 'G':
            f->audit_path = optarg;
            break;
        case 'M':
        case 'B':
            if (main_parse_count(optarg, c == 'M' ? "--audit-log-maxsize" : "--audit-log-maxbackup",
                                 c == 'M' ? &f->audit_maxsize_mb : &f->audit_maxbackup) < 0)
                return -1;
            break;
        case 'Y':
            f->audit_policy_file = optarg;
            break;
        case 'Q':
            f->audit_required = true;
            break;
        case 'g':
            if (main_parse_duration(optarg, &f->shutdown_grace_ms) < 0) {
                fprintf(stderr,
                        "podterm: --shutdown-grace wants a duration such as 25s, 2m or 500ms "
                        "(or seconds), up to 24h, got \"%s\"\n",
                        optarg);
                return -1;
            }
            break;
        case 'D':
            f->recording_dir = optarg;
            break;
        case 'p':
            if (main_parse_duration(optarg, &f->ping_interval_ms) < 0) {
                fprintf(stderr,
                        "podterm: --ping-interval wants a duration such as 20s or 1m (or "
                        "seconds; 0 turns pings off), up to 24h, got \"%s\"\n",
                        optarg);
                return -1;
            }
            break;
        case 1004:
            if (main_parse_duration(optarg, &f->session_grace_ms) < 0) {
                fprintf(stderr,
                        "podterm: --session-grace wants a duration such as 60s or 5m (or "
                        "seconds; 0 turns resume off), up to 24h, got \"%s\"\n",
                        optarg);
                return -1;
            }
            break;
        case 1005:
            f->terminate_on_revoke = true;
            break;
        case 1000:
            f->recording_all = true;
            break;
        case 1001:
            f->record_input = true;
            break;
        case 1002:
            if (main_parse_bytes(optarg, &f->recording_max_bytes) < 0)
                return -1;
            break;
        case 1003:
            f->recording_required = true;
            break;
        case 'S':
            if (strcmp(optarg, "on") != 0 && strcmp(optarg, "off") != 0) {
                fprintf(stderr, "podterm: --screen-model wants on or off, got \"%s\"\n", optarg);
                return -1;
            }
            f->screen_model_off = strcmp(optarg, "off") == 0;
            break;
        case 1010:
            f->oidc.issuer_url = optarg;
            break;
        case 1011:
            f->oidc.client_id = optarg;
            break;
        case 1012:
            f->oidc.username_claim = optarg;
            break;
        case 1013:
            f->oidc.username_prefix = optarg;
            break;
        case 1014:
            f->oidc.groups_claim = optarg;
            break;
        case 1015:
            f->oidc.groups_prefix = optarg;
            break;
        case 1016:
            if (f->oidc.required_claims_len == OIDC_REQUIRED_CLAIMS_MAX) {
                fprintf(stderr, "podterm: at most %d --oidc-required-claim flags\n",
                        OIDC_REQUIRED_CLAIMS_MAX);
                return -1;
            }
            f->oidc.required_claims[f->oidc.required_claims_len++] = optarg;
            break;
        case 1017:
            f->oidc.ca_file = optarg;
            break;
        case 1018:
            f->oidc.signing_algs = optarg;
            break;
        case 1019:
            f->signin.redirect_url = optarg;
            break;
        case 1020:
            f->signin.client_secret_file = optarg;
            break;
        case 1021:
            f->signin.scopes = optarg;
            break;
        case 1022:
        case 1023:
            if (main_parse_duration(optarg,
                                    c == 1022 ? &f->session_idle_ms : &f->session_max_age_ms) < 0 ||
                (c == 1022 ? f->session_idle_ms : f->session_max_age_ms) < 1000) {
                fprintf(stderr,
                        "podterm: --%s wants a duration of at least 1s such as 30m or 12h, got "
                        "\"%s\"\n",
                        c == 1022 ? "session-idle-timeout" : "session-max-age", optarg);
                return -1;
            }
            break;
        case 'V':
            main_print_version();
            exit(0);
        case 'h':
            main_usage(stdout);
            exit(0);
        default:
            main_usage(stderr);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "podterm: unexpected argument \"%s\"\n", argv[optind]);
        return -1;
    }
    /* klog's spirit: the more -v, the more of the library's own chatter. */
    if (!f->log_level_set)
        f->log_level = LLL_ERR | LLL_WARN | (f->log.verbosity >= 5 ? LLL_NOTICE : 0) |
                       (f->log.verbosity >= 8 ? LLL_INFO : 0);
    return main_check_gateway_flags(f);
}

/* 10 000 sessions need ~20 000 fds: take all the hard limit allows. */
static void main_raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

struct main_state {
    struct server *server;
    struct backend *backend; /* local mode */
    struct gateway *gateway; /* gateway mode (owns its backend) */
    uv_signal_t sigterm, sigint;
    struct oidc *oidc;     /* NULL: no --oidc-issuer-url */
    struct signin *signin; /* NULL: no --oidc-redirect-url */
    uint64_t shutdown_grace_ms;
    bool draining;
};

static void main_shutdown(struct main_state *st)
{
    uv_close((uv_handle_t *)&st->sigterm, NULL);
    uv_close((uv_handle_t *)&st->sigint, NULL);
    /* Closing them gave both signals their default action back, which would
     * kill the process in the middle of what remains (the audit log's last
     * lines, the children's end) if Ctrl-C is pressed again or a supervisor
     * repeats SIGTERM: from here on they are ignored. Nothing is spawned
     * after this, so no child inherits that. */
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signin_close(st->signin);         /* sign-ins waiting on the provider: 503 */
    oidc_close(st->oidc, NULL, NULL); /* no more key fetches */
    server_shutdown(st->server);
    /* Sessions are gone now: stop what they left (exec children get SIGHUP then
     * SIGKILL, attached main processes are killed). Done here, inside the
     * loop, because their handles keep the loop running until they close. */
    if (st->gateway)
        gateway_free(st->gateway); /* frees its backend too */
    else
        backend_free(st->backend);
}

static void main_on_drained(void *user)
{
    fprintf(stderr, "podterm: sessions ended, shutting down\n");
    main_shutdown(user);
}

/* SIGTERM drains (server_drain): readiness off, no new connections, open
 * sessions get the grace. SIGINT, a second signal, or nothing to drain:
 * shut down now. */
static void main_on_signal(uv_signal_t *sig, int signum)
{
    struct main_state *st = sig->data;
    const char *name = signum == SIGTERM ? "SIGTERM" : "SIGINT";
    if (signum == SIGTERM && !st->draining &&
        server_drain(st->server, st->shutdown_grace_ms, main_on_drained, st)) {
        st->draining = true;
        fprintf(stderr, "podterm: SIGTERM, draining: open sessions get %llu ms\n",
                (unsigned long long)st->shutdown_grace_ms);
        return;
    }
    fprintf(stderr, "podterm: %s, shutting down\n", name);
    main_shutdown(st);
}

static int main_serve(const struct main_flags *f, struct config_cluster *cluster, struct auth *auth)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    char err[MAIN_ERR_MAX];
    struct gateway *gw = NULL;
    /* The metrics live as long as the loop; admission, the server and the
     * gateway borrow them. */
    struct metrics metrics;
    metrics_init(&metrics, main_gateway_mode(f));
    /* Started first: its keys are fetched while the rest starts up. */
    struct oidc *oidc = NULL;
    if (f->oidc.issuer_url && !(oidc = oidc_new(&loop, &f->oidc, err, sizeof(err)))) {
        fprintf(stderr, "podterm: %s\n", err);
        uv_loop_close(&loop);
        return 1;
    }
    struct signin *signin = NULL;
    if (f->signin.redirect_url) {
        struct signin_opts so = f->signin;
        so.tls = f->tls_cert_file != NULL;
        so.idle_timeout_s = (unsigned)(f->session_idle_ms / 1000);
        so.max_age_s = (unsigned)(f->session_max_age_ms / 1000);
        if (!(signin = signin_new(&loop, oidc, &so, err, sizeof(err)))) {
            fprintf(stderr, "podterm: %s\n", err);
            oidc_close(oidc, NULL, NULL);
            uv_run(&loop, UV_RUN_DEFAULT);
            oidc_free(oidc);
            uv_loop_close(&loop);
            return 1;
        }
    }
    if (main_gateway_mode(f)) {
        struct gateway_opts go = {
            .kubeconfig = f->kubeconfig,
            .context = f->context,
            .in_cluster = f->in_cluster,
            .pass_through_token = f->pass_through_token,
            .metrics = &metrics,
            .ping_interval_ms = f->ping_interval_ms,
        };
        if (!(gw = gateway_new(&loop, &go, err, sizeof(err)))) {
            fprintf(stderr, "podterm: %s\n", err);
            oidc_close(oidc, NULL, NULL);
            uv_run(&loop, UV_RUN_DEFAULT);
            signin_free(signin);
            oidc_free(oidc);
            uv_loop_close(&loop);
            return 1;
        }
    }
    struct admit_opts ao = {
        .auth = auth,
        .jwt_key_file = f->jwt_key_file,
        .token_auth_file = f->token_auth_file,
        .keep_credentials = f->terminate_on_revoke,
        .oidc = oidc,
        .signin = signin,
        .allowed_hosts = f->hosts,
        .allowed_hosts_len = f->hosts_len,
        .allowed_origins = f->origins,
        .allowed_origins_len = f->origins_len,
        .cluster = gw ? NULL : cluster,
        .rbac_files = f->rbac_files,
        .rbac_files_len = f->rbac_files_len,
        .audit_path = f->audit_path,
        .audit_maxsize_mb = f->audit_maxsize_mb,
        .audit_maxbackup = f->audit_maxbackup,
        .audit_policy_file = f->audit_policy_file,
        .audit_required = f->audit_required,
        .gateway = gw != NULL,
        .pass_through = f->pass_through_token,
        .log = &f->log,
        .metrics = &metrics,
        .recording_dir = f->recording_dir,
        .recording_all = f->recording_all,
        .recording_required = f->recording_required,
    };
    struct admit *admit = admit_new(&loop, &ao, err, sizeof(err));
    if (!admit) {
        fprintf(stderr, "podterm: %s\n", err);
        if (gw)
            gateway_free(gw);
        oidc_close(oidc, NULL, NULL);
        uv_run(&loop, UV_RUN_DEFAULT);
        signin_free(signin);
        oidc_free(oidc);
        uv_loop_close(&loop);
        return 1;
    }
    struct backend *backend = gw ? gateway_backend(gw) : local_backend_new(&loop, cluster);
    struct server_opts opts = {
        .admit = admit,
        .listen_host = f->host,
        .listen_port = f->port,
        .cluster = cluster,
        .backend = backend,
        .auth = auth,
        .allowed_origins_len = f->origins_len,
        .log_level = f->log_level,
        .gateway = gw,
        .tls_cert_file = f->tls_cert_file,
        .tls_key_file = f->tls_key_file,
        .client_ca_file = f->client_ca_file,
        .policy_configured = f->rbac_files_len > 0,
        .audit_configured = f->audit_path != NULL,
        .recording_dir = f->recording_dir,
        .ping_interval_ms = f->ping_interval_ms,
        .session_grace_ms = f->session_grace_ms,
        .terminate_on_revoke = f->terminate_on_revoke,
        .recording_all = f->recording_all,
        .record_input = f->record_input,
        .recording_max_bytes = f->recording_max_bytes,
        .recording_required = f->recording_required,
        .screen_model = !f->screen_model_off,
    };
    memcpy(opts.allowed_origins, f->origins, sizeof(f->origins));
    memcpy(opts.allowed_hosts, f->hosts, sizeof(f->hosts));
    opts.allowed_hosts_len = f->hosts_len;
    struct main_state st = {0};
    st.server = backend ? server_new(&loop, &opts, err, sizeof(err)) : NULL;
    if (!st.server) {
        fprintf(stderr, "podterm: %s\n", backend ? err : "cannot start the local backend");
        if (gw)
            gateway_free(gw);
        else
            backend_free(backend);
        admit_close(admit, NULL, NULL);
        oidc_close(oidc, NULL, NULL);
        uv_run(&loop, UV_RUN_DEFAULT);
        admit_free(admit);
        signin_free(signin);
        oidc_free(oidc);
        uv_loop_close(&loop);
        return 1;
    }
    st.backend = backend;
    st.gateway = gw;
    st.oidc = oidc;
    st.signin = signin;
    st.shutdown_grace_ms = f->shutdown_grace_ms;
    uv_signal_init(&loop, &st.sigterm);
    uv_signal_init(&loop, &st.sigint);
    st.sigterm.data = st.sigint.data = &st;
    uv_signal_start(&st.sigterm, main_on_signal, SIGTERM);
    uv_signal_start(&st.sigint, main_on_signal, SIGINT);
    if (gw)
        fprintf(stderr, "podterm: gateway to %s\n", gateway_describe(gw));
    fprintf(stderr, "podterm: serving %s\n", server_url(st.server));
    uv_run(&loop, UV_RUN_DEFAULT); /* until a signal shuts everything down */
    server_free(st.server);
    /* Every request has ended and been audited: write out what the audit
     * log still holds, then close it. */
    admit_close(admit, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    admit_free(admit);
    signin_free(signin);
    oidc_free(oidc);
    int rc = uv_loop_close(&loop);
    if (rc != 0)
        fprintf(stderr, "podterm: event loop closed with handles open (%s)\n", uv_strerror(rc));
    return 0;
}

/* podterm mint-token --jwt-key-file FILE [--sub USER] [--group G]... [--ttl S] [--alg ALG]:
 * print a signed JWT, for wscat and scripts (the README's examples). */
static int main_mint_token(int argc, char **argv)
{
    static const struct option opts[] = {
        {"jwt-key-file", required_argument, 0, 'j'}, {"sub", required_argument, 0, 's'},
        {"group", required_argument, 0, 'g'},        {"ttl", required_argument, 0, 't'},
        {"alg", required_argument, 0, 'a'},          {0, 0, 0, 0},
    };
    const char *key = NULL, *sub = "admin", *alg = NULL;
    const char *groups[AUTH_GROUPS_MAX];
    size_t ngroups = 0;
    long ttl = 3600;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'j')
            key = optarg;
        else if (c == 's')
            sub = optarg;
        else if (c == 'g' && ngroups < AUTH_GROUPS_MAX)
            groups[ngroups++] = optarg;
        else if (c == 't')
            ttl = strtol(optarg, NULL, 10);
        else if (c == 'a')
            alg = optarg;
        else {
            fprintf(stderr, "usage: podterm mint-token --jwt-key-file FILE [--sub USER] "
                            "[--group G]... [--ttl SECONDS] [--alg HS512|RS256|...]\n");
            return 2;
        }
    }
    if (!key) {
        fprintf(stderr, "podterm mint-token: --jwt-key-file is required\n");
        return 2;
    }
    char token[AUTH_TOKEN_MAX], err[AUTH_ERR_MAX];
    if (auth_jwt_mint(key, alg, sub, groups, ngroups, ttl, time(NULL), token, sizeof(token), err,
                      sizeof(err)) < 0) {
        fprintf(stderr, "podterm mint-token: %s\n", err);
        return 1;
    }
    printf("%s\n", token);
    return 0;
}

/* Everything after the flags; main frees what the flags hold on every path. */
static int main_run(struct main_flags *f)
{
    signal(SIGPIPE, SIG_IGN); /* a vanished peer is an error code, not a crash */
    /* A file-size limit (RLIMIT_FSIZE) reached by a recording or the audit
     * log is a write error (EFBIG) to report, not a reason to die. */
    signal(SIGXFSZ, SIG_IGN);
    main_raise_fd_limit();

    char err[MAIN_ERR_MAX];
    struct auth *auth = auth_new(f->jwt_key_file, f->token_auth_file, err, sizeof(err));
    if (!auth) {
        fprintf(stderr, "podterm: %s\n", err);
        return 1;
    }
    /* With --pass-through-token the cluster authenticates every request. */
    if (!auth_enabled(auth) && !f->oidc.issuer_url && !f->pass_through_token &&
        !main_is_loopback(f->host) && !f->insecure_allow_anonymous) {
        fprintf(stderr,
                "podterm: refusing to serve shells without authentication on %s: use "
                "--jwt-key-file, --token-auth-file or --oidc-issuer-url, listen on 127.0.0.1, or "
                "pass "
                "--insecure-allow-anonymous\n",
                f->host);
        auth_free(auth);
        return 1;
    }
    /* A --config file with only flags: leaves local mode its default pod. */
    bool pods_file = f->config_file && f->file_flags.has_pods;
    struct config_cluster *cluster = pods_file
                                         ? config_cluster_load(f->config_file, err, sizeof(err))
                                         : config_cluster_default();
    if (!cluster) {
        fprintf(stderr, "podterm: %s\n", pods_file ? err : "out of memory");
        auth_free(auth);
        return 1;
    }
    int rc = main_serve(f, cluster, auth);
    config_cluster_free(cluster);
    auth_free(auth);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "mint-token") == 0)
        return main_mint_token(argc - 1, argv + 1);
    struct main_flags f;
    int usage_rc = main_parse_flags(argc, argv, &f);
    if (usage_rc != 0)
        return usage_rc;
    int rc = main_run(&f);
    config_flags_free(&f.file_flags);
    return rc;
}
