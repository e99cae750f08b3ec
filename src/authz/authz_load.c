/* authz_load.c - read the policy sources: files, folders of *.yaml, *.yml
 * and *.json read in name order, each holding YAML documents that are one
 * object or a `kind: List` of them, and hand each object to its parser by
 * apiVersion and kind. The built-in bootstrap policy is read first, through
 * the same parser, so it obeys the same rules as a pasted file. */
#include "authz/authz_parse.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/util_file.h"
#include "util/util_utf8.h"

#define PATH_MAX_LEN 4096 /* a policy file's path */
#define RBAC_V1 "rbac.authorization.k8s.io/v1"
#define PODTERM_V1ALPHA1 "podterm.dev/v1alpha1"
#define BUILTIN_PATH "<built-in policy>"

/* ---- one document ---- */

struct type_meta {
    const char *api_version, *kind;
    int api_line, kind_line;
};

static int type_api_version(struct authz_parse *p, struct fy_node *v, int line, void *obj)
{
    struct type_meta *t = obj;
    t->api_line = authz_line(v, line);
    return authz_string(p, v, line, "apiVersion", AUTHZ_STRING_MAX, &t->api_version);
}

static int type_kind(struct authz_parse *p, struct fy_node *v, int line, void *obj)
{
    struct type_meta *t = obj;
    t->kind_line = authz_line(v, line);
    return authz_string(p, v, line, "kind", AUTHZ_STRING_MAX, &t->kind);
}

static const struct {
    const char *kind, *api_version;
} load_kinds[] = {
    {"Role", RBAC_V1},
    {"ClusterRole", RBAC_V1},
    {"RoleBinding", RBAC_V1},
    {"ClusterRoleBinding", RBAC_V1},
    {"ExecPolicy", PODTERM_V1ALPHA1},
    {"List", "v1"},
};

static int load_object(struct authz_parse *p, struct fy_node *root, int line, bool in_list);

static int load_list_items(struct authz_parse *p, struct fy_node *v, int line, void *obj)
{
    struct fy_node **items;
    size_t n;
    if (authz_items(p, v, line, "items", AUTHZ_OBJECTS_MAX, &items, &n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (load_object(p, items[i], authz_line(items[i], line), true) < 0)
            return -1;
    return 0;
}

static int load_list(struct authz_parse *p, struct fy_node *root, int line)
{
    static const struct authz_field fields[] = {
        {"apiVersion", NULL}, {"kind", NULL}, {"metadata", NULL}, {"items", load_list_items}};
    return authz_mapping(p, root, line, "a List", fields, 4, false, NULL);
}

static int load_dispatch(struct authz_parse *p, struct fy_node *root, int line, size_t k)
{
    switch (k) {
    case 0:
    case 1:
        return authz_parse_role(p, root, line, k == 1);
    case 2:
    case 3:
        return authz_parse_binding(p, root, line, k == 3);
    case 4:
        return authz_parse_exec_policy(p, root, line);
    default:
        return load_list(p, root, line);
    }
}

static int load_object(struct authz_parse *p, struct fy_node *root, int line, bool in_list)
{
    static const struct authz_field fields[] = {{"apiVersion", type_api_version},
                                                {"kind", type_kind}};
    struct type_meta t = {0};
    if (authz_deref(p, &root, line) < 0)
        return -1;
    if (authz_mapping(p, root, line, in_list ? "a List item" : "a document", fields, 2, true, &t) <
        0)
        return -1;
    if (!t.kind)
        return authz_fail(p, line, "the object has no kind");
    if (!t.api_version)
        return authz_fail(p, line, "the object has no apiVersion");
    size_t n = sizeof(load_kinds) / sizeof(load_kinds[0]);
    size_t k = 0;
    while (k < n && strcmp(load_kinds[k].kind, t.kind))
        k++;
    if (k == n || (in_list && k == n - 1))
        return authz_fail(p, t.kind_line,
                          "kind \"%.*s\" is not supported%s (expected Role, ClusterRole, "
                          "RoleBinding, ClusterRoleBinding, ExecPolicy%s)",
                          AUTHZ_SHOWN_MAX, t.kind, in_list ? " in a List" : "",
                          in_list ? "" : " or List");
    if (strcmp(load_kinds[k].api_version, t.api_version))
        return authz_fail(p, t.api_line,
                          "apiVersion \"%.*s\" is not supported for %s (expected %s)",
                          AUTHZ_SHOWN_MAX, t.api_version, t.kind, load_kinds[k].api_version);
    return load_dispatch(p, root, line, k);
}

/* ---- one file ---- */

static struct fy_diag *load_diag_new(void)
{
    struct fy_diag_cfg dc;
    fy_diag_cfg_default(&dc);
    dc.fp = NULL; /* collected and reported by us, never printed by libfyaml */
    struct fy_diag *diag = fy_diag_create(&dc);
    if (diag)
        fy_diag_set_collect_errors(diag, true);
    return diag;
}

static int load_syntax_fail(struct authz_parse *p, struct fy_diag *diag)
{
    void *it = NULL;
    struct fy_diag_error *e = fy_diag_errors_iterate(diag, &it);
    if (!e)
        return authz_fail(p, 1, "not valid YAML");
    return authz_fail(p, e->line > 0 ? e->line : 1, "YAML syntax: %s", e->msg);
}

/* YAML is Unicode without NUL, and libfyaml loops or crashes on some
 * malformed UTF-8 and NUL bytes: refuse either before it parses anything. */
static int load_text_check(struct authz_parse *p, const char *buf, size_t len)
{
    size_t bad = len;
    bool utf8 = util_utf8_valid((const uint8_t *)buf, len, &bad);
    const char *nul = memchr(buf, '\0', len);
    if (utf8 && !nul)
        return 0;
    if (nul && (size_t)(nul - buf) < bad)
        bad = (size_t)(nul - buf);
    int line = 1;
    for (size_t i = 0; i < bad; i++)
        line += buf[i] == '\n';
    return authz_fail(p, line, buf[bad] ? "the file is not UTF-8" : "the file holds a NUL byte");
}

/* Every document in turn; an empty one ("---" alone) is skipped. */
static int load_documents(struct authz_parse *p, struct fy_parser *fyp, struct fy_diag *diag)
{
    size_t objects = 0;
    for (;;) {
        struct fy_document *doc = fy_parse_load_document(fyp);
        if (!doc)
            break;
        struct fy_node *root = fy_document_root(doc);
        bool empty = authz_is_null(root);
        objects += !empty; /* an empty List counts: kubectl prints one for no objects */
        int rc = empty ? 0 : load_object(p, root, authz_line(root, 1), false);
        fy_parse_document_destroy(fyp, doc);
        if (rc < 0)
            return -1;
    }
    if (fy_diag_errors_iterate(diag, &(void *){NULL}))
        return load_syntax_fail(p, diag);
    if (objects == 0)
        return authz_fail(p, 1, "no objects in the file");
    return 0;
}

static int load_text(struct authz_parse *p, const char *buf, size_t len)
{
    if (load_text_check(p, buf, len) < 0)
        return -1;
    struct fy_diag *diag = load_diag_new();
    struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET | FYPCF_DEFAULT_VERSION_1_2, .diag = diag};
    struct fy_parser *fyp = diag ? fy_parser_create(&cfg) : NULL;
    int rc = -1;
    if (!fyp || fy_parser_set_string(fyp, buf, len) != 0)
        authz_fail(p, 1, "cannot start the YAML parser");
    else
        rc = load_documents(p, fyp, diag);
    if (fyp)
        fy_parser_destroy(fyp);
    if (diag)
        fy_diag_destroy(diag);
    return rc;
}

static int load_file(struct authz_parse *p, const char *path, size_t *files)
{
    if (++*files > AUTHZ_FILES_MAX) {
        snprintf(p->err, p->err_cap, "%s: more than %d policy files (AUTHZ_FILES_MAX)", path,
                 AUTHZ_FILES_MAX);
        return -1;
    }
    if (!(p->path = authz_arena_strndup(p->arena, path, strlen(path)))) {
        snprintf(p->err, p->err_cap, "%s: out of memory", path);
        return -1;
    }
    char *buf;
    size_t len;
    int rc = util_file_read(path, AUTHZ_FILE_MAX, &buf, &len, p->err, p->err_cap);
    if (rc == -EFBIG) /* the limit by name, so the message says what to change */
        snprintf(p->err, p->err_cap, "%s: larger than 4 MiB (AUTHZ_FILE_MAX)", path);
    if (rc < 0)
        return -1;
    rc = load_text(p, buf, len);
    free(buf);
    return rc;
}

/* ---- folders ---- */

static bool load_name_wanted(const char *name)
{
    static const char *const exts[] = {".yaml", ".yml", ".json"};
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        size_t e = strlen(exts[i]);
        if (n > e && !strcmp(name + n - e, exts[i]))
            return true;
    }
    return false;
}

static int load_str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The folder's policy file names, sorted; more than AUTHZ_FILES_MAX is an
 * error. */
static int load_dir_names(struct authz_parse *p, const char *dir, char ***names, size_t *n)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(p->err, p->err_cap, "%s: %s", dir, strerror(errno));
        return -1;
    }
    *names = authz_arena_alloc(p->arena, AUTHZ_FILES_MAX * sizeof(char *));
    *n = 0;
    struct dirent *e;
    bool too_many = false;
    while (*names && !too_many && (e = readdir(d))) {
        if (!load_name_wanted(e->d_name))
            continue;
        too_many = *n == AUTHZ_FILES_MAX;
        if (!too_many &&
            !((*names)[(*n)++] = authz_arena_strndup(p->arena, e->d_name, strlen(e->d_name))))
            *names = NULL;
    }
    closedir(d);
    if (too_many) { /* refused whole: reading some would be a policy nobody wrote */
        snprintf(p->err, p->err_cap, "%s: more than %d policy files (AUTHZ_FILES_MAX)", dir,
                 AUTHZ_FILES_MAX);
        return -1;
    }
    if (!*names) {
        snprintf(p->err, p->err_cap, "%s: out of memory", dir);
        return -1;
    }
    qsort(*names, *n, sizeof(char *), load_str_cmp);
    return 0;
}

static int load_dir(struct authz_parse *p, const char *dir, size_t *files)
{
    char **names;
    size_t n, read = 0;
    if (load_dir_names(p, dir, &names, &n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX_LEN];
        struct stat st;
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= sizeof(path)) {
            snprintf(p->err, p->err_cap, "%s: the path is too long", dir);
            return -1;
        }
        if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
            continue; /* a folder named x.yaml: kubectl -f does not descend either */
        if (load_file(p, path, files) < 0)
            return -1;
        read++;
    }
    if (read == 0) {
        snprintf(p->err, p->err_cap, "%s: no *.yaml, *.yml or *.json files in the folder", dir);
        return -1;
    }
    return 0;
}

static int load_source(struct authz_parse *p, const char *path, size_t *files)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(p->err, p->err_cap, "%s: %s", path, strerror(errno));
        return -1;
    }
    return S_ISDIR(st.st_mode) ? load_dir(p, path, files) : load_file(p, path, files);
}

/* ---- the whole load ---- */

static int load_builtin(struct authz_parse *p)
{
    const char *text = authz_builtin_yaml();
    p->builtin = true;
    p->path = BUILTIN_PATH;
    int rc = load_text(p, text, strlen(text));
    p->builtin = false;
    return rc;
}

struct authz *authz_load(const char *const *paths, size_t n, char *err, size_t err_cap)
{
    if (err_cap)
        err[0] = '\0';
    if (n == 0 || !paths) {
        if (err_cap)
            snprintf(err, err_cap, "no RBAC policy file given");
        return NULL;
    }
    struct authz *authz = calloc(1, sizeof(*authz));
    if (!authz) {
        if (err_cap)
            snprintf(err, err_cap, "out of memory");
        return NULL;
    }
    struct authz_parse p = {.arena = &authz->arena, .err = err, .err_cap = err_cap};
    size_t files = 0;
    int rc = load_builtin(&p);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = paths[i] ? load_source(&p, paths[i], &files)
                      : (snprintf(err, err_cap, "policy source %zu is NULL", i), -1);
    if (rc == 0)
        rc = authz_model_build(&p, authz);
    if (rc < 0) {
        authz_free(authz);
        return NULL;
    }
    return authz;
}

void authz_free(struct authz *authz)
{
    if (!authz)
        return;
    authz_arena_free(&authz->arena);
    free(authz);
}
