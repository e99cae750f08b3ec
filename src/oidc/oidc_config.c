/* oidc_config.c - the --oidc-* flags into a struct oidc_config, with
 * kube-apiserver's defaults (pkg/kubeapiserver/options/authentication.go):
 * the username claim is sub; its prefix, when not given, is the issuer URL
 * and "#" unless the claim is email; "-" means no prefix. Signing algorithms
 * are RS256 unless listed, and only asymmetric ones exist here: none and
 * HS* cannot be named, so an HMAC "signed" with a public key never checks. */
#include "oidc/oidc_internal.h"

#include <stdio.h>
#include <string.h>

#include "auth/auth_internal.h"

static const char *const oidc_alg_names[OIDC_ALGS_MAX] = {
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
};

enum oidc_alg oidc_alg_parse(const char *name)
{
    for (int i = 0; name && i < OIDC_ALGS_MAX; i++)
        if (strcmp(name, oidc_alg_names[i]) == 0)
            return (enum oidc_alg)i;
    return OIDC_ALG_INVALID;
}

const char *oidc_alg_name(enum oidc_alg alg)
{
    return alg >= 0 && alg < OIDC_ALGS_MAX ? oidc_alg_names[alg] : "invalid";
}

static int oidc_copy(char *out, size_t cap, const char *in, const char *flag, char *err,
                     size_t err_cap)
{
    size_t n = strlen(in);
    /* auth_name_is_valid bounds every value to a name's length too: the
     * message names the tighter bound (the issuer's buffer is larger). */
    size_t bound = cap < AUTH_NAME_MAX ? cap : AUTH_NAME_MAX;
    if (n >= cap || !auth_name_is_valid(in, n, true)) {
        snprintf(err, err_cap, "%s: longer than %zu bytes or has control characters", flag,
                 bound - 1);
        return -1;
    }
    memcpy(out, in, n + 1);
    return 0;
}

static int oidc_algs_parse(struct oidc_config *c, const char *list, char *err, size_t err_cap)
{
    char buf[128];
    if (strlen(list) >= sizeof(buf)) {
        snprintf(err, err_cap, "--oidc-signing-algs: too long");
        return -1;
    }
    strcpy(buf, list);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        enum oidc_alg a = oidc_alg_parse(t);
        if (a == OIDC_ALG_INVALID) {
            snprintf(err, err_cap,
                     "--oidc-signing-algs: \"%.32s\" is not one of RS256, RS384, RS512, PS256, "
                     "PS384, PS512, ES256, ES384, ES512",
                     t);
            return -1;
        }
        bool dup = false;
        for (size_t i = 0; i < c->algs_len; i++)
            dup = dup || c->algs[i] == a;
        if (!dup)
            c->algs[c->algs_len++] = a;
    }
    if (!c->algs_len) {
        snprintf(err, err_cap, "--oidc-signing-algs: empty");
        return -1;
    }
    return 0;
}

static int oidc_required_parse(struct oidc_config *c, const char *kv, char *err, size_t err_cap)
{
    const char *eq = strchr(kv, '=');
    size_t klen = eq ? (size_t)(eq - kv) : 0;
    if (!eq || !klen || klen >= OIDC_CLAIM_MAX) {
        snprintf(err, err_cap, "--oidc-required-claim wants key=value, got \"%.64s\"", kv);
        return -1;
    }
    memcpy(c->required[c->required_len].name, kv, klen);
    c->required[c->required_len].name[klen] = '\0';
    if (oidc_copy(c->required[c->required_len].value, AUTH_NAME_MAX, eq + 1,
                  "--oidc-required-claim", err, err_cap) < 0)
        return -1;
    c->required_len++;
    return 0;
}

int oidc_config_init(struct oidc_config *c, const struct oidc_opts *o, char *err, size_t err_cap)
{
    memset(c, 0, sizeof(*c));
    struct oidc_url u;
    if (!o->issuer_url || oidc_url_parse(o->issuer_url, &u) < 0 || strchr(o->issuer_url, '?')) {
        snprintf(err, err_cap,
                 "--oidc-issuer-url wants an https:// URL without query, "
                 "fragment or user info");
        return -1;
    }
    if (!o->client_id || !o->client_id[0]) {
        snprintf(err, err_cap, "--oidc-issuer-url and --oidc-client-id go together");
        return -1;
    }
    const char *uclaim = o->username_claim ? o->username_claim : "sub";
    if (oidc_copy(c->issuer, sizeof(c->issuer), o->issuer_url, "--oidc-issuer-url", err, err_cap) <
            0 ||
        oidc_copy(c->client_id, sizeof(c->client_id), o->client_id, "--oidc-client-id", err,
                  err_cap) < 0 ||
        oidc_copy(c->username_claim, sizeof(c->username_claim), uclaim, "--oidc-username-claim",
                  err, err_cap) < 0 ||
        oidc_copy(c->groups_claim, sizeof(c->groups_claim), o->groups_claim ? o->groups_claim : "",
                  "--oidc-groups-claim", err, err_cap) < 0 ||
        oidc_copy(c->groups_prefix, sizeof(c->groups_prefix),
                  o->groups_prefix ? o->groups_prefix : "", "--oidc-groups-prefix", err,
                  err_cap) < 0)
        return -1;
    if (!c->username_claim[0]) {
        snprintf(err, err_cap, "--oidc-username-claim: empty");
        return -1;
    }
    /* kube-apiserver's rule, kept for the names RBAC bindings already use. */
    char prefix[AUTH_NAME_MAX];
    const char *p = o->username_prefix ? o->username_prefix : "";
    if (!p[0] && strcmp(uclaim, "email") != 0) {
        if ((size_t)snprintf(prefix, sizeof(prefix), "%s#", o->issuer_url) >= sizeof(prefix)) {
            snprintf(err, err_cap, "--oidc-issuer-url: too long for a user name prefix");
            return -1;
        }
        p = prefix;
    }
    if (strcmp(p, "-") == 0)
        p = "";
    if (oidc_copy(c->username_prefix, sizeof(c->username_prefix), p, "--oidc-username-prefix", err,
                  err_cap) < 0)
        return -1;
    for (size_t i = 0; i < o->required_claims_len && i < OIDC_REQUIRED_CLAIMS_MAX; i++)
        if (oidc_required_parse(c, o->required_claims[i], err, err_cap) < 0)
            return -1;
    return oidc_algs_parse(c, o->signing_algs ? o->signing_algs : "RS256", err, err_cap);
}
