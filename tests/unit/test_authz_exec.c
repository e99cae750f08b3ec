/* test_authz_exec.c - ExecPolicy: which policies apply (subjects,
 * namespaces, pod labels known or not, containers), what each allows
 * (commands exact and prefix, attach, tty, readOnly), the limits combined to
 * the strictest, the reasons word for word, durations in Go's syntax, and
 * every refused policy as file:line: reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit_tmpdir.h"
#include "fixtures/authz/authz_fixtures.h"

#define WANT_MAX 2048

/* Declared for the loader in authz_parse.h; tested directly here. */
int authz_duration_parse(const char *s, unsigned *out_s);

#define EP "apiVersion: podterm.dev/v1alpha1\nkind: ExecPolicy\n"
#define META "metadata: {name: p}\n"
#define SUBJ "  subjects: [{kind: User, name: u}]\n"

static const char policies[] =
    EP "metadata: {name: prod-readonly}\nspec:\n"
       "  subjects: [{kind: Group, name: oncall}]\n"
       "  namespaces: [prod]\n"
       "  podSelector:\n    matchLabels: {app: web}\n"
       "    matchExpressions: [{key: tier, operator: NotIn, values: [db]}]\n"
       "  containers: [app]\n"
       "  commands:\n  - exact: [ls, -l]\n  - prefix: [cat]\n"
       "  readOnly: true\n  maxSessionDuration: 30m\n  idleTimeout: 5m\n"
       "---\n" EP "metadata: {name: all-tty}\nspec:\n"
       "  subjects: [{kind: Group, name: oncall}, {kind: User, name: root}]\n"
       "  tty: Required\n  maxSessionDuration: 1h30m\n  idleTimeout: 90s\n"
       "---\n" EP "metadata: {name: ci-no-tty}\nspec:\n"
       "  subjects: [{kind: ServiceAccount, name: runner, namespace: ci}]\n"
       "  podSelector:\n    matchExpressions:\n    - {key: team, operator: In, values: [a, b]}\n"
       "    - {key: legacy, operator: DoesNotExist}\n"
       "  tty: Forbidden\n  maxSessionDuration: 1.5h\n";

struct exec_case {
    const char *user, *group;
    const char *ns, *container;
    const char *labels; /* "k=v,k=v", NULL: unknown */
    bool attach, tty, want_stdin;
    const char *argv[4];
    bool allowed;
    const char *reason;
    unsigned max_s, idle_s;
    const char *max_by, *idle_by;
};

static size_t parse_labels(const char *spec, struct authz_label *out, char *store)
{
    if (!spec)
        return AUTHZ_LABELS_UNKNOWN;
    strcpy(store, spec);
    size_t n = 0;
    for (char *save = NULL, *kv = strtok_r(store, ",", &save); kv;
         kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        *eq = '\0';
        out[n++] = (struct authz_label){kv, eq + 1};
    }
    return n;
}

static void test_exec_grid(void **state)
{
    const struct exec_case cases[] = {
        /* every policy applying must allow: oncall in prod/web/app gets both */
        {"ann",
         "oncall",
         "prod",
         "app",
         "app=web,tier=fe",
         false,
         true,
         false,
         {"ls", "-l"},
         true,
         "ExecPolicy \"all-tty\", \"prod-readonly\"",
         1800,
         90,
         "prod-readonly",
         "all-tty"},
        {"ann",
         "oncall",
         "prod",
         "app",
         "app=web",
         false,
         true,
         false,
         {"cat", "/etc/hosts"},
         true,
         "ExecPolicy \"all-tty\", \"prod-readonly\"",
         1800,
         90,
         "prod-readonly",
         "all-tty"},
        {"ann",
         "oncall",
         "prod",
         "app",
         "app=web",
         false,
         true,
         false,
         {"cat"},
         true,
         "ExecPolicy \"all-tty\", \"prod-readonly\"",
         1800,
         90,
         "prod-readonly",
         "all-tty"},
        /* exact means exact */
        {"ann",
         "oncall",
         "prod",
         "app",
         "app=web",
         false,
         true,
         false,
         {"ls", "-l", "/"},
         false,
         "ExecPolicy \"prod-readonly\": command [\"ls\",\"-l\",\"/\"] is not in the allowed "
         "commands"},
        {"ann",
         "oncall",
         "prod",
         "app",
         "app=web",
         false,
         true,
         false,
         {"ls"},
         false,
         "ExecPolicy \"prod-readonly\": command [\"ls\"] is not in the allowed commands"},
        {"ann",
         "oncall",
         "prod",
         "app",
         "app=web",
         false,
         true,
         false,
         {"rm", "-rf", "/"},
         false,
         "ExecPolicy \"prod-readonly\": command [\"rm\",\"-rf\",\"/\"] is not in the allowed "
         "commands"},
        {"ann",
         "oncall",
         "prod",
         "app",
         "app=web",
         false,
         true,
         false,
         {"catx"},
         false,
         "ExecPolicy \"prod-readonly\": command [\"catx\"] is not in the allowed commands"},
        /* the first policy by name that refuses is named: all-tty before prod-readonly */
        {"ann",
         "oncall",
         "prod",
         "app",
         "app=web",
         false,
         false,
         false,
         {"rm"},
         false,
         "ExecPolicy \"all-tty\": a TTY is required"},
        {"ann",
         "oncall",
         "prod",
         "app",
         "app=web",
         false,
         true,
         true,
         {"ls", "-l"},
         false,
         "ExecPolicy \"prod-readonly\": stdin is not allowed (readOnly)"},
        /* attach runs no command: commands do not apply, readOnly does */
        {"ann",
         "oncall",
         "prod",
         "app",
         "app=web",
         true,
         true,
         false,
         {NULL},
         true,
         "ExecPolicy \"all-tty\", \"prod-readonly\"",
         1800,
         90,
         "prod-readonly",
         "all-tty"},
        {"ann",
         "oncall",
         "prod",
         "app",
         "app=web",
         true,
         true,
         true,
         {NULL},
         false,
         "ExecPolicy \"prod-readonly\": stdin is not allowed (readOnly)"},
        /* prod-readonly does not apply: other namespace, labels, container */
        {"ann",
         "oncall",
         "dev",
         "app",
         "app=web",
         false,
         true,
         true,
         {"rm"},
         true,
         "ExecPolicy \"all-tty\"",
         5400,
         90,
         "all-tty",
         "all-tty"},
        {"ann",
         "oncall",
         "prod",
         "app",
         "app=api",
         false,
         true,
         true,
         {"rm"},
         true,
         "ExecPolicy \"all-tty\"",
         5400,
         90,
         "all-tty",
         "all-tty"},
        {"ann",
         "oncall",
         "prod",
         "app",
         "app=web,tier=db",
         false,
         true,
         true,
         {"rm"},
         true,
         "ExecPolicy \"all-tty\"",
         5400,
         90,
         "all-tty",
         "all-tty"},
        {"ann",
         "oncall",
         "prod",
         "app",
         "",
         false,
         true,
         true,
         {"rm"},
         true,
         "ExecPolicy \"all-tty\"",
         5400,
         90,
         "all-tty",
         "all-tty"},
        {"ann",
         "oncall",
         "prod",
         "sidecar",
         "app=web",
         false,
         true,
         true,
         {"rm"},
         true,
         "ExecPolicy \"all-tty\"",
         5400,
         90,
         "all-tty",
         "all-tty"},
        /* labels unknown (gateway mode): a policy with a selector is taken to apply */
        {"ann",
         "oncall",
         "prod",
         "app",
         NULL,
         false,
         true,
         false,
         {"rm"},
         false,
         "ExecPolicy \"prod-readonly\": command [\"rm\"] is not in the allowed commands"},
        /* no policy applies: allowed, no limits, no names */
        {"bob",
         "devs",
         "prod",
         "app",
         "app=web",
         false,
         false,
         true,
         {"rm", "-rf", "/"},
         true,
         "",
         0,
         0,
         "",
         ""},
        {"root",
         "x",
         "prod",
         "app",
         "app=web",
         false,
         true,
         true,
         {"sh"},
         true,
         "ExecPolicy \"all-tty\"",
         5400,
         90,
         "all-tty",
         "all-tty"},
        /* ServiceAccount subjects, In and DoesNotExist */
        {"system:serviceaccount:ci:runner",
         "x",
         "ci",
         "c",
         "team=a",
         false,
         false,
         true,
         {"make"},
         true,
         "ExecPolicy \"ci-no-tty\"",
         5400,
         0,
         "ci-no-tty",
         ""},
        {"system:serviceaccount:ci:runner",
         "x",
         "ci",
         "c",
         "team=b",
         false,
         true,
         true,
         {"make"},
         false,
         "ExecPolicy \"ci-no-tty\": a TTY is forbidden"},
        {"system:serviceaccount:ci:runner",
         "x",
         "ci",
         "c",
         "team=c",
         false,
         true,
         true,
         {"make"},
         true,
         ""},
        {"system:serviceaccount:ci:runner",
         "x",
         "ci",
         "c",
         "team=a,legacy=",
         false,
         true,
         true,
         {"make"},
         true,
         ""},
        {"system:serviceaccount:ci:runner",
         "x",
         "ci",
         "c",
         NULL,
         false,
         true,
         true,
         {"make"},
         false,
         "ExecPolicy \"ci-no-tty\": a TTY is forbidden"},
        {"system:serviceaccount:other:runner",
         "x",
         "ci",
         "c",
         NULL,
         false,
         true,
         true,
         {"make"},
         true,
         ""},
    };
    struct authz *a = fx_authz_must(policies);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct exec_case *c = &cases[i];
        struct auth_identity id = fx_id(c->user, c->group, NULL);
        struct authz_label labels[8];
        char store[128];
        size_t argc = 0;
        while (argc < 4 && c->argv[argc])
            argc++;
        struct authz_exec ex = {.ns = c->ns,
                                .pod = "p",
                                .labels = labels,
                                .labels_len = parse_labels(c->labels, labels, store),
                                .container = c->container,
                                .attach = c->attach,
                                .argv = c->argv,
                                .argc = argc,
                                .tty = c->tty,
                                .want_stdin = c->want_stdin};
        struct authz_exec_decision d;
        memset(&d, 'x', sizeof(d));
        authz_exec_check(a, &id, &ex, &d);
        if (d.allowed != c->allowed || strcmp(d.reason, c->reason))
            print_error("case %zu: allowed %d reason %s\n", i, d.allowed, d.reason);
        assert_int_equal(d.allowed, c->allowed);
        assert_string_equal(d.reason, c->reason);
        assert_int_equal(d.max_duration_s, c->max_s);
        assert_int_equal(d.idle_timeout_s, c->idle_s);
        assert_string_equal(d.max_duration_policy, c->max_by ? c->max_by : "");
        assert_string_equal(d.idle_timeout_policy, c->idle_by ? c->idle_by : "");
    }
    authz_free(a);
}

/* A refused command is shown as JSON, cut safely. */
static void test_command_rendering(void **state)
{
    struct authz *a = fx_authz_must(EP "metadata: {name: p}\nspec:\n"
                                       "  subjects: [{kind: User, name: u}]\n"
                                       "  commands: []\n");
    struct auth_identity id = fx_id("u", NULL);
    char long_arg[300];
    memset(long_arg, 'a', sizeof(long_arg) - 1);
    long_arg[sizeof(long_arg) - 1] = '\0';
    const char *argv[] = {"sh", "-c", "echo \"hi\"\n\x1b[0m\xff", long_arg, "x", "y"};
    struct authz_exec ex = {.ns = "d", .pod = "p", .container = "c", .argv = argv, .argc = 3};
    struct authz_exec_decision d;
    authz_exec_check(a, &id, &ex, &d);
    assert_false(d.allowed);
    assert_string_equal(d.reason, "ExecPolicy \"p\": command [\"sh\",\"-c\",\"echo "
                                  "\\\"hi\\\"\\n\\u001B[0m\xef\xbf\xbd\"] is not in the allowed "
                                  "commands");
    ex.argc = 6;
    authz_exec_check(a, &id, &ex, &d);
    char want[WANT_MAX];
    snprintf(want, sizeof(want),
             "ExecPolicy \"p\": command [\"sh\",\"-c\",\"echo "
             "\\\"hi\\\"\\n\\u001B[0m\xef\xbf\xbd\",\"%.64s...\",\"x\",\"y\"] is not in the "
             "allowed commands",
             long_arg);
    assert_string_equal(d.reason, want);
    /* many arguments: cut at an argument, marked with ... */
    const char *many[AUTHZ_ARGV_MAX];
    for (size_t i = 0; i < AUTHZ_ARGV_MAX; i++)
        many[i] = long_arg;
    ex.argv = many;
    ex.argc = AUTHZ_ARGV_MAX;
    authz_exec_check(a, &id, &ex, &d);
    snprintf(want, sizeof(want),
             "ExecPolicy \"p\": command [\"%.64s...\",\"%.64s...\",...] is not in the allowed "
             "commands",
             long_arg, long_arg);
    assert_string_equal(d.reason, want);
    /* an empty command never matches an empty commands list either */
    ex.argc = 0;
    authz_exec_check(a, &id, &ex, &d);
    assert_string_equal(d.reason, "ExecPolicy \"p\": command [] is not in the allowed commands");
    authz_free(a);
}

/* Prefixed label keys, empty label values, explicit defaults. */
static void test_selector_forms(void **state)
{
    struct authz *a =
        fx_authz_must(EP META "spec:\n" SUBJ "  podSelector:\n"
                              "    matchLabels: {app.kubernetes.io/name: web, empty: \"\"}\n"
                              "  tty: Allowed\n  readOnly: false\n  commands: [{exact: [x]}]\n");
    authz_free(a);
    char err[AUTHZ_ERR_MAX];
    assert_null(fx_authz_load_text("nul.yaml", EP META "spec:\n" SUBJ "  containers: [\"a\\0b\"]\n",
                                   err, sizeof(err)));
    assert_non_null(strstr(err, "nul.yaml:6: an item of containers contains a NUL byte"));
    a = fx_authz_must(EP META "spec:\n" SUBJ "  podSelector:\n"
                              "    matchLabels: {app.kubernetes.io/name: web, empty: \"\"}\n");
    struct auth_identity id = fx_id("u", NULL);
    struct authz_label labels[] = {{"app.kubernetes.io/name", "web"}, {"empty", ""}};
    const char *argv[] = {"x"};
    struct authz_exec ex = {.ns = "d",
                            .pod = "p",
                            .labels = labels,
                            .labels_len = 2,
                            .container = "c",
                            .argv = argv,
                            .argc = 1};
    struct authz_exec_decision d;
    authz_exec_check(a, &id, &ex, &d);
    assert_string_equal(d.reason, "ExecPolicy \"p\"");
    ex.labels_len = 1;
    authz_exec_check(a, &id, &ex, &d);
    assert_string_equal(d.reason, "");
    authz_free(a);
}

/* NULL strings from a caller's slip read as "" instead of crashing. */
static void test_null_fields(void **state)
{
    struct authz *a = fx_authz_must(policies);
    struct auth_identity id = fx_id("ann", "oncall", NULL);
    struct authz_exec ex = {.labels_len = 3, .argc = 2, .tty = true};
    struct authz_exec_decision d;
    authz_exec_check(a, &id, &ex, &d);
    assert_true(d.allowed);
    assert_string_equal(d.reason, "ExecPolicy \"all-tty\"");
    authz_free(a);
}

static void test_durations(void **state)
{
    static const struct {
        const char *s;
        int rc;
        unsigned secs;
    } cases[] = {
        {"90s", 0, 90},
        {"5m", 0, 300},
        {"1h30m", 0, 5400},
        {"1.5h", 0, 5400},
        {"+2h", 0, 7200},
        {"0.5m", 0, 30},
        {"1h1h", 0, 7200},
        {"720h", 0, 2592000},
        {"2m0.5s", -4, 0},
        {"1.5s", -4, 0},
        {"720h1s", -2, 0},
        {"721h", -2, 0},
        {"99999999999h", -2, 0},
        {"0", -3, 0},
        {"0s", -3, 0},
        {"-5m", -3, 0},
        {"", -1, 0},
        {"5", -1, 0},
        {"5ms", -1, 0},
        {"5d", -1, 0},
        {"h", -1, 0},
        {".s", -1, 0},
        {"5 m", -1, 0},
        {"1.h", 0, 3600},
        {".5h", 0, 1800},
        {"1.0000000001h", -4, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned secs = 0;
        int rc = authz_duration_parse(cases[i].s, &secs);
        if (rc != cases[i].rc || secs != cases[i].secs)
            print_error("case %zu \"%s\": rc %d secs %u\n", i, cases[i].s, rc, secs);
        assert_int_equal(rc, cases[i].rc);
        assert_int_equal(secs, cases[i].secs);
    }
}

struct bad_case {
    const char *yaml;
    const char *want;
};

static const struct bad_case bad_cases[] = {
    {EP META "spec:\n  subjects: []\n", "5: subjects is empty (an ExecPolicy needs at least one)"},
    {EP META "spec:\n  tty: Required\n", "4: spec.subjects is required"},
    {EP META, "1: spec is required (with subjects)"},
    {EP META "spec:\n  subjects: [{kind: ServiceAccount, name: x}]\n",
     "5: ServiceAccount subject \"x\" needs a namespace here"},
    {EP META "spec:\n" SUBJ "  tty: required\n",
     "6: tty \"required\" is not Required, Forbidden or Allowed"},
    {EP META "spec:\n" SUBJ "  readOnly: yes\n", "6: readOnly must be true or false"},
    {EP META "spec:\n" SUBJ "  maxSessionDuration: 5d\n",
     "6: maxSessionDuration \"5d\" is not a duration like 90s, 5m or 1h30m"},
    {EP META "spec:\n" SUBJ "  idleTimeout: 721h\n",
     "6: idleTimeout \"721h\" is more than 30 days (720h)"},
    {EP META "spec:\n" SUBJ "  idleTimeout: 0s\n",
     "6: idleTimeout \"0s\" must be more than 0 (leave it out for no limit)"},
    {EP META "spec:\n" SUBJ "  idleTimeout: 1.5s\n",
     "6: idleTimeout \"1.5s\" is not a whole number of seconds"},
    {EP META "spec:\n" SUBJ "  podSelector:\n    matchExpressions:\n"
             "    - {key: a, operator: Equals, values: [b]}\n",
     "8: operator \"Equals\" is not In, NotIn, Exists or DoesNotExist"},
    {EP META "spec:\n" SUBJ "  podSelector:\n    matchExpressions:\n    - {key: a, operator: In}\n",
     "8: operator In needs values"},
    {EP META "spec:\n" SUBJ "  podSelector:\n    matchExpressions:\n"
             "    - {key: a, operator: Exists, values: [b]}\n",
     "8: operator Exists takes no values"},
    {EP META "spec:\n" SUBJ "  podSelector:\n    matchLabels: {\"bad key!\": x}\n",
     "7: label key \"bad key!\" is not a valid label key"},
    {EP META "spec:\n" SUBJ "  podSelector:\n    matchLabels: {app: \"-x\"}\n",
     "7: label value \"-x\" is not a valid label value"},
    {EP META "spec:\n" SUBJ "  podSelector:\n    matchLabel: {app: x}\n",
     "7: unknown field \"matchLabel\" in podSelector (expected matchLabels, matchExpressions)"},
    {EP META "spec:\n" SUBJ "  commands:\n  - exact: [ls]\n    prefix: [cat]\n",
     "7: a command needs exactly one of exact or prefix"},
    {EP META "spec:\n" SUBJ "  commands:\n  - {}\n",
     "6: a command needs exactly one of exact or prefix"},
    {EP META "spec:\n" SUBJ "  commands:\n  - prefix: []\n", "7: prefix is empty"},
    {EP META "spec:\n" SUBJ "  commands:\n  - exact: ls\n", "7: exact must be a list"},
    {EP META "spec:\n" SUBJ "  namespaces: []\n",
     "6: namespaces is empty (leave it out for every namespace)"},
    {EP META "spec:\n" SUBJ "  containers: []\n",
     "6: containers is empty (leave it out for every container)"},
    {EP META "spec:\n" SUBJ "  command: [ls]\n",
     "6: unknown field \"command\" in spec (expected subjects, namespaces, podSelector, "
     "containers, commands, tty, readOnly, maxSessionDuration, idleTimeout)"},
    {EP "metadata: {namespace: x}\nspec:\n" SUBJ, "1: metadata.name is required"},
    {EP META "spec:\n" SUBJ "  podSelector:\n    matchLabels: [app]\n",
     "7: matchLabels must be a mapping"},
    {EP META "spec:\n" SUBJ "  podSelector:\n    matchExpressions:\n    - {operator: Exists}\n",
     "8: matchExpressions entry has no key"},
    {EP META "spec:\n" SUBJ "  podSelector:\n    matchExpressions:\n    - {key: a}\n",
     "8: matchExpressions entry has no operator"},
    {EP META "spec:\n" SUBJ "  podSelector:\n    matchExpressions:\n"
             "    - {key: a, operator: In, values: [ok, \"a b\"]}\n",
     "8: label value \"a b\" is not a valid label value"},
    {EP META "spec:\n" SUBJ "  podSelector:\n    matchLabels: {\"Example.com/app\": x}\n",
     "7: label key \"Example.com/app\" is not a valid label key"},
    {EP META "spec:\n" SUBJ "  podSelector:\n    matchLabels: {\"example.com/\": x}\n",
     "7: label key \"example.com/\" is not a valid label key"},
    {EP META "spec:\n  subjects: [{kind: ServiceAccount, name: x, namespace: A}]\n",
     "5: subject namespace \"A\" is not a DNS-1123 label"},
    {EP META "spec: {subjects: [{kind: User, name: u}]}\n---\n" EP META
             "spec: {subjects: [{kind: User, name: v}]}\n",
     "8: ExecPolicy \"p\" is already defined at "},
};

static void test_bad_policies(void **state)
{
    int bad = 0;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        char err[AUTHZ_ERR_MAX], want[WANT_MAX];
        memset(err, 'x', sizeof(err));
        struct authz *a = fx_authz_load_text("bad.yaml", bad_cases[i].yaml, err, sizeof(err));
        snprintf(want, sizeof(want), "%s/bad.yaml:%s", unit_dir, bad_cases[i].want);
        if (a || strncmp(err, want, strlen(want)) != 0) {
            print_error("case %zu:\n got  %s\n want %s\n", i, a ? "(loaded)" : err, want);
            bad++;
        }
        authz_free(a);
    }
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exec_grid),   cmocka_unit_test(test_command_rendering),
        cmocka_unit_test(test_null_fields), cmocka_unit_test(test_selector_forms),
        cmocka_unit_test(test_durations),   cmocka_unit_test(test_bad_policies),
    };
    return cmocka_run_group_tests(tests, unit_tmpdir_setup, unit_tmpdir_teardown);
}
