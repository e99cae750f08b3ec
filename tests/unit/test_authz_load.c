/* test_authz_load.c - policy sources: objects pasted from `kubectl get -o
 * yaml` (a Role with all its server fields, a `kind: List` of
 * ClusterRoleBindings), folders read in name order, multi-document files,
 * anchors and aliases; and every refusal as "file:line: reason" with the
 * right line, leaving nothing behind (ASan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "unit_tmpdir.h"
#include "fixtures/authz/authz_fixtures.h"

#define WANT_MAX 2048 /* an expected message: a path and a reason */

static void expect_allowed(const struct authz *a, const struct auth_identity *id,
                           struct authz_attrs at, const char *reason)
{
    struct authz_decision d;
    authz_check(a, id, &at, &d);
    if (!d.allowed)
        print_error("denied: %s %s/%s in %s\n", at.verb, at.resource, at.subresource, at.ns);
    assert_true(d.allowed);
    assert_string_equal(d.reason, reason);
}

static void expect_denied(const struct authz *a, const struct auth_identity *id,
                          struct authz_attrs at)
{
    struct authz_decision d;
    authz_check(a, id, &at, &d);
    assert_false(d.allowed);
}

/* ---- what loads ---- */

static void test_pasted(void **state)
{
    char role[UNIT_TMPDIR_PATH_MAX], crbs[UNIT_TMPDIR_PATH_MAX];
    snprintf(role, sizeof(role), "%s", fx_authz_path("pasted/role-pod-exec.yaml"));
    snprintf(crbs, sizeof(crbs), "%s", fx_authz_path("pasted/clusterrolebindings.yaml"));
    const char *binding = unit_tmpdir_write(
        "rb.yaml", "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\n"
                   "metadata: {name: team-a-exec, namespace: team-a}\n"
                   "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-exec}\n"
                   "subjects: [{kind: Group, name: team-a}]\n");
    const char *paths[] = {role, crbs, binding};
    char err[AUTHZ_ERR_MAX] = "";
    struct authz *a = authz_load(paths, 3, err, sizeof(err));
    if (!a)
        print_error("%s\n", err);
    assert_non_null(a);
    struct auth_identity dev = fx_id("ann", "team-a", "system:authenticated", NULL);
    expect_allowed(a, &dev, fx_res("create", "", "team-a", "pods", "exec", "web"),
                   "RBAC: allowed by RoleBinding \"team-a-exec/team-a\" of Role \"pod-exec\" to "
                   "Group \"team-a\"");
    expect_allowed(a, &dev, fx_res("get", "", "team-a", "pods", "attach", "web"),
                   "RBAC: allowed by RoleBinding \"team-a-exec/team-a\" of Role \"pod-exec\" to "
                   "Group \"team-a\"");
    expect_denied(a, &dev, fx_res("create", "", "team-b", "pods", "exec", "web"));
    expect_denied(a, &dev, fx_res("delete", "", "team-a", "pods", "", "web"));
    /* the List's system:discovery replaced the built-in one, same name and effect */
    expect_allowed(a, &dev, fx_url("get", "/apis"),
                   "RBAC: allowed by ClusterRoleBinding \"system:discovery\" of ClusterRole "
                   "\"system:discovery\" to Group \"system:authenticated\"");
    /* cluster-admin and pod-reader are not defined: their bindings grant nothing */
    struct auth_identity admin = fx_id("root", "system:masters", "system:authenticated", NULL);
    struct authz_decision d;
    struct authz_attrs at = fx_res("delete", "", "", "nodes", "", "n1");
    authz_check(a, &admin, &at, &d);
    assert_false(d.allowed);
    assert_string_equal(d.reason,
                        "RBAC: clusterrole.rbac.authorization.k8s.io \"cluster-admin\" not found");
    authz_free(a);
}

static void test_folder(void **state)
{
    char dir[UNIT_TMPDIR_PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", fx_authz_path("folder"));
    const char *paths[] = {dir};
    char err[AUTHZ_ERR_MAX] = "";
    struct authz *a = authz_load(paths, 1, err, sizeof(err));
    if (!a)
        print_error("%s\n", err);
    assert_non_null(a);
    struct auth_identity dev = fx_id("ann", "devs", NULL);
    expect_allowed(a, &dev, fx_res("create", "", "dev", "pods", "exec", "web"),
                   "RBAC: allowed by RoleBinding \"devs-exec/dev\" of Role \"exec\" to Group "
                   "\"devs\"");
    expect_allowed(a, &dev, fx_res("watch", "", "dev", "pods", "log", ""),
                   "RBAC: allowed by RoleBinding \"devs-read/dev\" of ClusterRole \"pod-reader\" "
                   "to Group \"devs\"");
    authz_free(a);
}

/* Files of a folder are read in name order ("10" before "9"): the later
 * definition is the one reported as the duplicate. */
static void test_folder_order(void **state)
{
    char dir[UNIT_TMPDIR_PATH_MAX], want[WANT_MAX];
    snprintf(dir, sizeof(dir), "%s/order", unit_dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    const char *role = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\n"
                       "metadata: {name: x}\nrules: []\n";
    unit_tmpdir_write("order/9.yaml", role);
    unit_tmpdir_write("order/10.yml", role);
    unit_tmpdir_write("order/notes.txt", "not read");
    char sub[WANT_MAX];
    snprintf(sub, sizeof(sub), "%s/sub.yaml", dir);
    assert_int_equal(mkdir(sub, 0700), 0); /* a folder named like a file: skipped */
    const char *paths[] = {dir};
    char err[AUTHZ_ERR_MAX] = "";
    assert_null(authz_load(paths, 1, err, sizeof(err)));
    snprintf(want, sizeof(want),
             "%s/9.yaml:3: Role \"default/x\" is already defined at %s/10.yml:3", dir, dir);
    assert_string_equal(err, want);
}

/* Anchors and aliases resolve (a subject list shared by two bindings). */
static void test_aliases(void **state)
{
    struct authz *a = fx_authz_must(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\n"
        "rules: [&rule {verbs: &verbs [get, list], apiGroups: [\"\"], resources: [pods]}]\n---\n"
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: b}\n"
        "roleRef: &ref {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: r}\n"
        "subjects: &who [{kind: User, name: alice}]\n");
    struct auth_identity alice = fx_id("alice", NULL);
    expect_allowed(a, &alice, fx_res("list", "", "x", "pods", "", ""),
                   "RBAC: allowed by ClusterRoleBinding \"b\" of ClusterRole \"r\" to User "
                   "\"alice\"");
    authz_free(a);
    a = fx_authz_must("apiVersion: v1\nkind: List\nitems:\n"
                      "- &role\n  apiVersion: rbac.authorization.k8s.io/v1\n  kind: Role\n"
                      "  metadata: {name: r, namespace: a}\n"
                      "  rules: [{verbs: [get], apiGroups: [\"\"], resources: &res [pods]}]\n"
                      "- apiVersion: rbac.authorization.k8s.io/v1\n  kind: Role\n"
                      "  metadata: {name: r, namespace: b}\n"
                      "  rules: [{verbs: [list], apiGroups: [\"\"], resources: *res}]\n");
    authz_free(a);
}

/* Roles without a namespace are in "default"; empty documents are skipped;
 * a ClusterRoleBinding's namespace is ignored. */
static void test_defaults(void **state)
{
    struct authz *a = fx_authz_must(
        "---\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r}\n"
        "rules: [{verbs: [get], apiGroups: [\"\"], resources: [pods]}]\n---\n"
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b}\n"
        "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}\n"
        "subjects: [{kind: User, name: alice, apiGroup: \"\"}]\n---\n"
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\n"
        "metadata: {name: c, namespace: ignored}\n"
        "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: none}\n"
        "subjects: []\n...\n");
    struct auth_identity alice = fx_id("alice", NULL);
    expect_allowed(a, &alice, fx_res("get", "", "default", "pods", "", ""),
                   "RBAC: allowed by RoleBinding \"b/default\" of Role \"r\" to User \"alice\"");
    expect_denied(a, &alice, fx_res("get", "", "kube-system", "pods", "", ""));
    authz_free(a);
}

/* ---- what is refused ---- */

struct bad_case {
    const char *yaml;
    const char *want; /* after "<path>:" */
};

#define RV1_NAME "rbac.authorization.k8s.io/v1"
#define RV1 "apiVersion: " RV1_NAME "\n"
#define ROLE RV1 "kind: Role\nmetadata: {name: r}\n"
#define CROLE RV1 "kind: ClusterRole\nmetadata: {name: r}\n"
#define RB RV1 "kind: RoleBinding\nmetadata: {name: b}\n"
#define CRB RV1 "kind: ClusterRoleBinding\nmetadata: {name: b}\n"
#define REF "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: r}\n"

static const struct bad_case bad_cases[] = {
    {"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n",
     "2: kind \"Pod\" is not supported (expected Role, ClusterRole, RoleBinding, "
     "ClusterRoleBinding, ExecPolicy or List)"},
    {"apiVersion: rbac.authorization.k8s.io/v1beta1\nkind: Role\nmetadata: {name: r}\n",
     "1: apiVersion \"rbac.authorization.k8s.io/v1beta1\" is not supported for Role (expected "
     "rbac.authorization.k8s.io/v1)"},
    {"apiVersion: podterm.dev/v1\nkind: ExecPolicy\n",
     "1: apiVersion \"podterm.dev/v1\" is not supported for ExecPolicy (expected "
     "podterm.dev/v1alpha1)"},
    {"# a comment\n" RV1 "metadata: {name: r}\n", "2: the object has no kind"},
    {"kind: Role\nmetadata: {name: r}\n", "1: the object has no apiVersion"},
    {"- a\n- b\n", "1: a document must be a mapping"},
    {"", "1: no objects in the file"},
    {"# only comments\n---\n", "1: no objects in the file"},
    {ROLE "rules: {verbs: [get]}\n", "4: rules must be a list"},
    {ROLE "rules:\n- verbs: get\n  apiGroups: [\"\"]\n", "5: verbs must be a list"},
    {ROLE "rules:\n- apiGroups: [\"\"]\n  resources: [pods]\n",
     "5: rule has no verbs: verbs must contain at least one value"},
    {ROLE "rules:\n- verbs: [get]\n  resources: [pods]\n",
     "5: rule has no apiGroups: resource rules must supply at least one api group"},
    {ROLE "rules:\n- verbs: [get]\n  apiGroups: [\"\"]\n",
     "5: rule has no resources: resource rules must supply at least one resource"},
    {ROLE "rules:\n- verbs: [get]\n  nonResourceURLs: [/x]\n",
     "5: nonResourceURLs in a Role: namespaced rules cannot apply to non-resource URLs"},
    {CROLE "rules:\n- verbs: [get]\n  nonResourceURLs: [/x]\n  resources: [pods]\n",
     "5: rules cannot apply to both regular resources and non-resource URLs"},
    {ROLE "rules:\n- verbs: [get]\n  verb: [list]\n",
     "6: unknown field \"verb\" in rule (expected verbs, apiGroups, resources, resourceNames, "
     "nonResourceURLs)"},
    {ROLE "rules:\n- verbs: [get, [list]]\n", "5: an item of verbs must be a string"},
    {ROLE "rules:\n- verbs: [get, ~]\n", "5: an item of verbs has no value"},
    {CROLE "aggregationRule:\n  clusterRoleSelectors:\n  - matchLabels: {a: b}\nrules: []\n",
     "4: aggregationRule is not supported: list the rules"},
    {ROLE "aggregationRule: {}\n",
     "4: unknown field \"aggregationRule\" in a Role (expected apiVersion, kind, metadata, rules)"},
    {ROLE "status: {}\n",
     "4: unknown field \"status\" in a Role (expected apiVersion, kind, metadata, rules)"},
    {RV1 "kind: Role\nmetadata: {namespace: dev}\n", "1: metadata.name is required"},
    {RV1 "kind: Role\nmetadata: []\n", "3: metadata must be a mapping"},
    {RV1 "kind: Role\nmetadata:\n  name: r\n  namespace: Dev\n",
     "5: metadata.namespace \"Dev\" is not a DNS-1123 label"},
    {RV1 "kind: Role\nmetadata:\n  name: a/b\n",
     "4: metadata.name \"a/b\" may not be '.', '..' or contain '/' or '%'"},
    {RV1 "kind: Role\nmetadata:\n  name: \"\"\n",
     "4: metadata.name \"\" may not be '.', '..' or contain '/' or '%'"},
    {CRB "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}\n",
     "4: roleRef.kind must be ClusterRole"},
    {RB "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Group, name: r}\n",
     "4: roleRef.kind must be Role or ClusterRole"},
    {RB "roleRef: {apiGroup: rbac.authorization.k8s.io/v1, kind: Role, name: r}\n",
     "4: roleRef.apiGroup must be rbac.authorization.k8s.io"},
    {RB "roleRef: {kind: Role, name: r}\n",
     "4: roleRef.apiGroup must be rbac.authorization.k8s.io"},
    {RB "subjects: []\n", "1: roleRef is required"},
    {RB "roleRef: {apiGroup: rbac.authorization.k8s.io, name: r}\n", "4: roleRef has no kind"},
    {RB "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role}\n", "4: roleRef has no name"},
    {ROLE "rules:\n- verbs: [get]\n  ? [a]\n  : b\n", "6: keys of rule must be strings"},
    {RB REF "subjects:\n- {kind: Users, name: a}\n",
     "6: subject kind \"Users\" is not User, Group or ServiceAccount"},
    {RB REF "subjects:\n- {kind: User}\n", "6: subject has no name"},
    {RB REF "subjects:\n- {name: a}\n", "6: subject has no kind (User, Group or ServiceAccount)"},
    {RB REF "subjects:\n- {kind: Group, name: a, apiGroup: x.io}\n",
     "6: a Group subject's apiGroup must be rbac.authorization.k8s.io"},
    {RB REF "subjects:\n- kind: ServiceAccount\n  name: a\n  apiGroup: rbac.authorization.k8s.io\n",
     "8: a ServiceAccount subject's apiGroup must be \"\""},
    {RB REF "subjects:\n- kind: ServiceAccount\n  name: A_b\n",
     "7: ServiceAccount name \"A_b\" is not a DNS-1123 subdomain"},
    {CRB REF "subjects:\n- kind: ServiceAccount\n  name: a\n",
     "6: ServiceAccount subject \"a\" needs a namespace here"},
    {RB REF "subjects:\n- {kind: User, name: a, uid: x}\n",
     "6: unknown field \"uid\" in subject (expected kind, apiGroup, name, namespace)"},
    {ROLE "rules: []\n---\n" ROLE, "8: Role \"default/r\" is already defined at "},
    {"apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: List\n  items: []\n",
     "5: kind \"List\" is not supported in a List (expected Role, ClusterRole, RoleBinding, "
     "ClusterRoleBinding, ExecPolicy)"},
    {"apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n",
     "5: kind \"Secret\" is not supported in a List (expected Role, ClusterRole, RoleBinding, "
     "ClusterRoleBinding, ExecPolicy)"},
    {"apiVersion: v1\nkind: List\nitems: {}\n", "3: items must be a list"},
    {ROLE "rules: [\n", "5: YAML syntax: "},
    {ROLE "rules: *nothing\n", "4: a YAML alias names no anchor (or a cycle)"},
    {ROLE "rules: []\nrules: []\n", "5: YAML syntax: "},
    {ROLE "x: &r {verbs: [get]}\nrules:\n- <<: *r\n  apiGroups: [\"\"]\n",
     "4: unknown field \"x\" in a Role (expected apiVersion, kind, metadata, rules)"},
    {ROLE "rules:\n- <<: {verbs: [get]}\n  apiGroups: [\"\"]\n",
     "5: YAML merge keys (<<) are not supported in rule: repeat the fields"},
    {ROLE "rules:\n- verbs: [g\xc3]\n", "5: the file is not UTF-8"},
    {ROLE "rules: [\"a\0b\"]\n", "4: the file holds a NUL byte"},
};

static void test_bad(void **state)
{
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        char err[AUTHZ_ERR_MAX], want[WANT_MAX];
        memset(err, 'x', sizeof(err));
        /* NUL bytes inside: write the whole literal */
        const char *yaml = bad_cases[i].yaml;
        size_t len = strlen(yaml);
        if (strstr(bad_cases[i].want, "NUL byte"))
            len += 1 + strlen(yaml + len + 1);
        char path[UNIT_TMPDIR_PATH_MAX];
        snprintf(path, sizeof(path), "%s/bad.yaml", unit_dir);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        assert_int_equal(fwrite(yaml, 1, len, f), len);
        fclose(f);
        const char *paths[] = {path};
        struct authz *a = authz_load(paths, 1, err, sizeof(err));
        snprintf(want, sizeof(want), "%s:%s", path, bad_cases[i].want);
        if (a || strncmp(err, want, strlen(want)) != 0)
            print_error("case %zu:\n got  %s\n want %s\n", i, a ? "(loaded)" : err, want);
        assert_null(a);
        assert_int_equal(strncmp(err, want, strlen(want)), 0);
    }
}

/* Bounds: every list and string has one; over it is an error, never a cut. */
static void test_bounds(void **state)
{
    size_t cap = 64 * 1024;
    char *yaml = malloc(cap), err[AUTHZ_ERR_MAX];
    assert_non_null(yaml);
    size_t off = (size_t)snprintf(yaml, cap, ROLE "rules:\n");
    for (int i = 0; i <= AUTHZ_RULES_MAX; i++)
        off += (size_t)snprintf(yaml + off, cap - off,
                                "- {verbs: [get], apiGroups: [\"\"], "
                                "resources: [p]}\n");
    assert_null(fx_authz_load_text("big.yaml", yaml, err, sizeof(err)));
    assert_non_null(strstr(err, "big.yaml:4: rules has 1001 items, more than 1000"));
    off = (size_t)snprintf(yaml, cap, ROLE "rules:\n- verbs: [");
    for (int i = 0; i <= AUTHZ_LIST_MAX; i++)
        off += (size_t)snprintf(yaml + off, cap - off, "%sv", i ? "," : "");
    snprintf(yaml + off, cap - off, "]\n");
    assert_null(fx_authz_load_text("big.yaml", yaml, err, sizeof(err)));
    assert_non_null(strstr(err, "big.yaml:5: verbs has 1001 items, more than 1000"));
    snprintf(yaml, cap, RV1 "kind: Role\nmetadata:\n  name: %0254d\n", 0);
    assert_null(fx_authz_load_text("big.yaml", yaml, err, sizeof(err)));
    assert_non_null(strstr(err, "big.yaml:4: metadata.name is longer than 253 bytes"));
    /* a billion laughs through the schema: 1000 verbs x 1000 rules x 10 objects,
     * a few KiB of aliases; stopped by the visit bound, not by memory */
    off = (size_t)snprintf(yaml, cap, "apiVersion: v1\nkind: List\nmetadata:\n  v: &v [");
    for (int i = 0; i < AUTHZ_LIST_MAX; i++)
        off += (size_t)snprintf(yaml + off, cap - off, "%sa", i ? "," : "");
    off +=
        (size_t)snprintf(yaml + off, cap - off,
                         "]\n  r: &r {verbs: *v, apiGroups: [\"\"], resources: *v}\n  rs: &rs [");
    for (int i = 0; i < AUTHZ_RULES_MAX; i++)
        off += (size_t)snprintf(yaml + off, cap - off, "%s*r", i ? "," : "");
    off += (size_t)snprintf(yaml + off, cap - off,
                            "]\n  o: &o {apiVersion: rbac.authorization.k8s.io/v1, kind: "
                            "ClusterRole, metadata: {name: x}, rules: *rs}\nitems: [");
    for (int i = 0; i < 10; i++)
        off += (size_t)snprintf(yaml + off, cap - off, "%s*o", i ? "," : "");
    snprintf(yaml + off, cap - off, "]\n");
    struct authz *a = fx_authz_load_text("laughs.yaml", yaml, err, sizeof(err));
    free(yaml);
    if (a)
        print_error("loaded\n");
    else
        print_error("%s\n", err);
    assert_null(a);
    assert_non_null(strstr(err, "laughs.yaml:4: more than 2097152 YAML nodes (AUTHZ_NODES_MAX): "
                                "aliases expand too far"));
}

static void test_sources(void **state)
{
    char err[AUTHZ_ERR_MAX], want[WANT_MAX];
    assert_null(authz_load(NULL, 0, err, sizeof(err)));
    assert_string_equal(err, "no RBAC policy file given");
    char path[UNIT_TMPDIR_PATH_MAX];
    snprintf(path, sizeof(path), "%s/absent.yaml", unit_dir);
    const char *paths[] = {path};
    assert_null(authz_load(paths, 1, err, sizeof(err)));
    snprintf(want, sizeof(want), "%s: No such file or directory", path);
    assert_string_equal(err, want);
    snprintf(path, sizeof(path), "%s/empty", unit_dir);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_null(authz_load(paths, 1, err, sizeof(err)));
    snprintf(want, sizeof(want), "%s: no *.yaml, *.yml or *.json files in the folder", path);
    assert_string_equal(err, want);
}

/* `kubectl get rolebindings -o yaml` in a namespace without any prints an
 * empty List: it loads (it used to be "no objects in the file"). */
static void test_empty_list(void **state)
{
    struct authz *a = fx_authz_must("apiVersion: v1\nitems: []\nkind: List\n"
                                    "metadata:\n  resourceVersion: \"\"\n");
    authz_free(a);
}

/* More policy files in a folder than AUTHZ_FILES_MAX is refused whole, even
 * when most names are folders (skipped): reading only some of them would
 * be a policy nobody wrote. */
static void test_folder_too_many(void **state)
{
    char dir[UNIT_TMPDIR_PATH_MAX], sub[WANT_MAX], want[WANT_MAX];
    snprintf(dir, sizeof(dir), "%s/many", unit_dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    for (int i = 0; i <= AUTHZ_FILES_MAX; i++) {
        snprintf(sub, sizeof(sub), "%s/d%03d.yaml", dir, i);
        assert_int_equal(mkdir(sub, 0700), 0);
    }
    unit_tmpdir_write("many/role.yaml", "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\n"
                                        "metadata: {name: x}\n");
    const char *paths[] = {dir};
    char err[AUTHZ_ERR_MAX] = "";
    struct authz *a = authz_load(paths, 1, err, sizeof(err));
    authz_free(a);
    snprintf(want, sizeof(want), "%s: more than %d policy files (AUTHZ_FILES_MAX)", dir,
             AUTHZ_FILES_MAX);
    assert_string_equal(err, want);
}

/* More than AUTHZ_OBJECTS_MAX objects in all files is refused. */
static void test_objects_max(void **state)
{
    size_t cap = (AUTHZ_OBJECTS_MAX + 1) * 128 + 128, off = 0;
    char *yaml = malloc(cap), err[AUTHZ_ERR_MAX] = "";
    assert_non_null(yaml);
    for (int i = 0; i <= AUTHZ_OBJECTS_MAX; i++) { /* two Lists: one may not hold them all */
        if (i % (AUTHZ_OBJECTS_MAX / 2) == 0 && i < AUTHZ_OBJECTS_MAX)
            off += (size_t)snprintf(yaml + off, cap - off, "%sapiVersion: v1\nkind: List\nitems:\n",
                                    i ? "---\n" : "");
        off += (size_t)snprintf(yaml + off, cap - off,
                                "- {apiVersion: " RV1_NAME ", kind: Role, metadata: {name: r%d}}\n",
                                i);
    }
    struct authz *a = fx_authz_load_text("many.yaml", yaml, err, sizeof(err));
    free(yaml);
    authz_free(a);
    assert_null(a);
    assert_non_null(strstr(err, "many.yaml:10008: more than 10000 objects in all policy files "
                                "(AUTHZ_OBJECTS_MAX)"));
}

/* The node bound holds for the whole load: files that each stay under it
 * cannot add up to more (each used to start from zero). */
static void test_nodes_all_files(void **state)
{
    size_t cap = 64 * 1024, off;
    char *yaml = malloc(cap), err[AUTHZ_ERR_MAX] = "", paths_store[2][UNIT_TMPDIR_PATH_MAX];
    assert_non_null(yaml);
    for (int f = 0; f < 2; f++) {
        off = (size_t)snprintf(yaml, cap, "apiVersion: v1\nkind: List\nmetadata:\n  v: &v [");
        for (int i = 0; i < AUTHZ_LIST_MAX; i++)
            off += (size_t)snprintf(yaml + off, cap - off, "%sa", i ? "," : "");
        off += (size_t)snprintf(yaml + off, cap - off,
                                "]\n  r: &r {verbs: *v, apiGroups: [\"\"], resources: *v}\n"
                                "items:\n- apiVersion: rbac.authorization.k8s.io/v1\n"
                                "  kind: ClusterRole\n  metadata: {name: r%d}\n  rules: [",
                                f);
        for (int i = 0; i < 550; i++) /* 550 x 2000 strings: 1.1 M nodes per file */
            off += (size_t)snprintf(yaml + off, cap - off, "%s*r", i ? "," : "");
        snprintf(yaml + off, cap - off, "]\n");
        char name[32];
        snprintf(name, sizeof(name), "half%d.yaml", f);
        snprintf(paths_store[f], sizeof(paths_store[f]), "%s", unit_tmpdir_write(name, yaml));
    }
    free(yaml);
    const char *paths[] = {paths_store[0], paths_store[1]};
    struct authz *a = authz_load(paths, 2, err, sizeof(err));
    authz_free(a);
    assert_null(a);
    assert_non_null(strstr(err, "half1.yaml:"));
    assert_non_null(strstr(err, ": more than 2097152 YAML nodes (AUTHZ_NODES_MAX)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pasted),          cmocka_unit_test(test_folder),
        cmocka_unit_test(test_folder_order),    cmocka_unit_test(test_aliases),
        cmocka_unit_test(test_defaults),        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_bounds),          cmocka_unit_test(test_sources),
        cmocka_unit_test(test_empty_list),      cmocka_unit_test(test_folder_too_many),
        cmocka_unit_test(test_nodes_all_files), cmocka_unit_test(test_objects_max),
    };
    return cmocka_run_group_tests(tests, unit_tmpdir_setup, unit_tmpdir_teardown);
}
