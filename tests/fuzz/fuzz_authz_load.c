/* fuzz_authz_load.c - libFuzzer target for the RBAC and ExecPolicy loader
 * (authz_load: YAML documents and Lists through libfyaml into the policy
 * model), and for the checks run on whatever it accepts. The input is the
 * policy file.
 *
 * Invariants: a load either fails with a non-empty, NUL-terminated message
 * starting with the file's path, or yields a model that keeps authz.h's
 * promises: each kind sorted by (namespace, name) without duplicates, the
 * built-in bootstrap bindings present, lists within their bounds, every
 * resolved roleRef pointing at the role of that name. Then the RBAC check,
 * the Forbidden message, the rules review and the ExecPolicy check run on
 * it with reasons NUL-terminated within their buffers. Alias bombs show up
 * as timeouts or out-of-memory reports. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authz/authz_internal.h"
#include "fuzz_memfile.h"

#define FUZZ_IN_MAX (64 * 1024)

static struct fuzz_memfile file;

static int key_cmp(const char *ns_a, const char *a, const char *ns_b, const char *b)
{
    int c = strcmp(ns_a ? ns_a : "", ns_b ? ns_b : "");
    return c ? c : strcmp(a, b);
}

static void check_rule(const struct authz_rule *r)
{
    const struct authz_strs *lists[] = {&r->verbs, &r->api_groups, &r->resources,
                                        &r->resource_names, &r->urls};
    for (size_t i = 0; i < 5; i++) {
        if (lists[i]->n > AUTHZ_LIST_MAX)
            __builtin_trap();
        for (size_t k = 0; k < lists[i]->n; k++)
            if (!lists[i]->v[k] || strlen(lists[i]->v[k]) > AUTHZ_STRING_MAX)
                __builtin_trap();
    }
    if (r->verbs.n == 0 || (r->urls.n && (r->resources.n || r->api_groups.n)))
        __builtin_trap();
}

static void check_roles(const struct authz_role *r, size_t n, bool cluster)
{
    for (size_t i = 0; i < n; i++) {
        if (!r[i].name || (cluster != !r[i].ns) || r[i].rules_len > AUTHZ_RULES_MAX ||
            (i && key_cmp(r[i - 1].ns, r[i - 1].name, r[i].ns, r[i].name) >= 0))
            __builtin_trap();
        for (size_t k = 0; k < r[i].rules_len; k++)
            check_rule(&r[i].rules[k]);
    }
}

static void check_bindings(const struct authz *a, const struct authz_binding *b, size_t n,
                           bool cluster)
{
    for (size_t i = 0; i < n; i++) {
        if (!b[i].name || !b[i].role_name || (cluster != !b[i].ns) ||
            b[i].subjects_len > AUTHZ_LIST_MAX || (cluster && !b[i].ref_cluster_role) ||
            (i && key_cmp(b[i - 1].ns, b[i - 1].name, b[i].ns, b[i].name) >= 0))
            __builtin_trap();
        const struct authz_role *want =
            authz_role_find(a, b[i].ref_cluster_role ? NULL : b[i].ns, b[i].role_name);
        if (b[i].role != want)
            __builtin_trap();
    }
}

static void check_model(const struct authz *a)
{
    check_roles(a->roles, a->roles_len, false);
    check_roles(a->cluster_roles, a->cluster_roles_len, true);
    check_bindings(a, a->role_bindings, a->role_bindings_len, false);
    check_bindings(a, a->cluster_role_bindings, a->cluster_role_bindings_len, true);
    if (a->cluster_role_bindings_len < 3) /* the bootstrap bindings are always there */
        __builtin_trap();
    for (size_t i = 0; i < a->exec_policies_len; i++)
        if (a->exec_policies[i].subjects_len == 0 ||
            a->exec_policies[i].max_duration_s > AUTHZ_DURATION_MAX_S ||
            a->exec_policies[i].idle_timeout_s > AUTHZ_DURATION_MAX_S ||
            (i && strcmp(a->exec_policies[i - 1].name, a->exec_policies[i].name) >= 0))
            __builtin_trap();
}

static void check_string(const char *s, size_t cap)
{
    if (strnlen(s, cap) == cap)
        __builtin_trap();
}

/* Run every check on the model with identities and requests its own names
 * suggest, so the matchers see what the file holds. */
static void exercise(const struct authz *a)
{
    struct auth_identity id;
    memset(&id, 0, sizeof(id));
    strcpy(id.user, "system:serviceaccount:default:x");
    id.groups[0] = "system:authenticated"; /* borrowed strings: never cleared */
    id.groups_len = 1;
    if (a->cluster_role_bindings_len && a->cluster_role_bindings[0].subjects_len) {
        const char *name = a->cluster_role_bindings[0].subjects[0].name;
        if (strlen(name) < AUTH_NAME_MAX) {
            strcpy(id.user, name);
            id.groups[1] = (char *)name;
            id.groups_len = 2;
        }
    }
    const char *ns = a->roles_len ? a->roles[0].ns : "default";
    struct authz_attrs reqs[] = {
        {"create", true, "", ns, "pods", "exec", "web", ""},
        {"get", false, "", "", "", "", "", "/version"},
        {"list", true, "apps", "", "deployments", "", "", ""},
    };
    for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
        struct authz_decision d;
        authz_check(a, &id, &reqs[i], &d);
        check_string(d.reason, sizeof(d.reason));
        char msg[AUTHZ_REASON_MAX * 2];
        authz_forbidden_message(&id, &reqs[i], d.reason, msg, sizeof(msg));
        check_string(msg, sizeof(msg));
    }
    free(authz_rules_json(a, &id, ns));
    const char *argv[] = {"ls", "-l"};
    struct authz_label labels[] = {{"app", "web"}};
    struct authz_exec ex = {ns, "p", labels, 1, "app", false, argv, 2, true, true};
    struct authz_exec_decision ed;
    authz_exec_check(a, &id, &ex, &ed);
    check_string(ed.reason, sizeof(ed.reason));
    ex.labels_len = AUTHZ_LABELS_UNKNOWN;
    authz_exec_check(a, &id, &ex, &ed);
    check_string(ed.reason, sizeof(ed.reason));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_IN_MAX)
        return 0;
    const char *path = fuzz_memfile_set(&file, data, size);
    char err[AUTHZ_ERR_MAX];
    memset(err, 'x', sizeof(err));
    struct authz *a = authz_load(&path, 1, err, sizeof(err));
    if (!a) {
        if (strnlen(err, sizeof(err)) == sizeof(err) || strncmp(err, path, strlen(path)) != 0)
            __builtin_trap();
        return 0;
    }
    check_model(a);
    exercise(a);
    authz_free(a);
    return 0;
}
