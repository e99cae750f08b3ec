/* exec_request.c - exec/attach URL -> validated request or apiserver Status.
 *
 * The order of checks is the apiserver's (PROTOCOL.md 1.2): parameter
 * decoding, pod lookup, container resolution; then podterm's own pre-upgrade
 * checks (some stream requested, a command for exec), which upstream only
 * reports from the kubelet or the runtime. */
#include "session/exec_request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"

#define EXEC_PATH_PREFIX "/api/v1/namespaces/"

/* Copy one path segment [s, s+len) into out if it fits and is non-empty. */
static bool segment_copy(const char *s, size_t len, char *out, size_t cap)
{
    if (len == 0 || len >= cap)
        return false;
    memcpy(out, s, len);
    out[len] = '\0';
    return true;
}

bool exec_path_parse(const char *path, char *ns, size_t ns_cap, char *pod, size_t pod_cap,
                     bool *attach)
{
    size_t plen = strlen(EXEC_PATH_PREFIX);
    if (strncmp(path, EXEC_PATH_PREFIX, plen) != 0)
        return false;
    const char *p = path + plen;
    const char *slash = strchr(p, '/');
    if (!slash || strncmp(slash, "/pods/", 6) != 0 || !segment_copy(p, slash - p, ns, ns_cap))
        return false;
    p = slash + 6;
    slash = strchr(p, '/');
    if (!slash || !segment_copy(p, slash - p, pod, pod_cap))
        return false;
    if (strcmp(slash, "/exec") == 0)
        *attach = false;
    else if (strcmp(slash, "/attach") == 0)
        *attach = true;
    else
        return false;
    return true;
}

static bool item_is(const struct http_query_item *it, const char *key)
{
    return it->key_len == strlen(key) && memcmp(it->key, key, it->key_len) == 0;
}

/* First occurrence of a boolean parameter decides (runtime.Convert_Slice_string_To_bool). */
static void bool_param(const struct http_query_item *it, const char *key, bool *seen, bool *value)
{
    if (*seen || !item_is(it, key))
        return;
    *seen = true;
    char buf[16];
    size_t n = it->value ? it->value_len : 0;
    if (n >= sizeof(buf)) {
        *value = true; /* longer than "false": can only be true */
        return;
    }
    memcpy(buf, it->value ? it->value : "", n);
    buf[n] = '\0';
    *value = proto_query_bool(buf);
}

static void error_set(struct exec_error *err, int code, const char *reason, const char *name,
                      const char *kind, const char *fmt, const char *a, const char *b)
{
    err->code = code;
    err->reason = reason;
    snprintf(err->message, sizeof(err->message), fmt, a, b);
    snprintf(err->details_name, sizeof(err->details_name), "%s", name ? name : "");
    err->details_kind = kind;
}

/* "[c1 c2]": the container names, as Go prints a []string. */
static void container_list(const struct config_pod *pod, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    used += snprintf(out, cap, "[");
    for (size_t i = 0; i < pod->containers_len && used < cap; i++)
        used += snprintf(out + used, cap - used, "%s%s", i ? " " : "", pod->containers[i].name);
    if (used < cap)
        snprintf(out + used, cap - used, "]");
}

static int container_resolve(const struct config_pod *pod, const char *name, size_t name_len,
                             bool given, struct exec_request *req, struct exec_error *err)
{
    if (!given || name_len == 0) {
        if (pod->containers_len == 1) {
            snprintf(req->container, sizeof(req->container), "%s", pod->containers[0].name);
            return 0;
        }
        if (pod->containers_len == 0) {
            error_set(err, 400, "BadRequest", NULL, NULL,
                      "a container name must be specified for pod %s%s", pod->name, "");
            return -1;
        }
        char list[EXEC_MESSAGE_MAX / 2];
        container_list(pod, list, sizeof(list));
        error_set(err, 400, "BadRequest", NULL, NULL,
                  "a container name must be specified for pod %s, choose one of: %s", pod->name,
                  list);
        return -1;
    }
    char cname[CONFIG_NAME_MAX + 1];
    snprintf(cname, sizeof(cname), "%.*s", (int)name_len, name);
    const struct config_container *c =
        name_len <= CONFIG_NAME_MAX ? config_container_find(pod, cname) : NULL;
    if (!c) {
        error_set(err, 400, "BadRequest", NULL, NULL, "container %s is not valid for pod %s", cname,
                  pod->name);
        return -1;
    }
    snprintf(req->container, sizeof(req->container), "%s", c->name);
    return 0;
}

static int argv_collect(const struct http_query_item *items, size_t nitems,
                        struct exec_request *req, struct exec_error *err)
{
    size_t argc = 0;
    for (size_t i = 0; i < nitems; i++)
        argc += item_is(&items[i], "command");
    if (argc > EXEC_ARGV_MAX) {
        error_set(err, 400, "BadRequest", NULL, NULL, "too many command arguments (limit %s)%s",
                  "1024", "");
        return -1;
    }
    req->argv = calloc(argc + 1, sizeof(char *));
    if (!req->argv)
        return -1;
    for (size_t i = 0; i < nitems; i++) {
        if (!item_is(&items[i], "command"))
            continue;
        size_t n = items[i].value ? items[i].value_len : 0;
        char *arg = malloc(n + 1);
        if (!arg)
            return -1;
        memcpy(arg, items[i].value ? items[i].value : "", n);
        arg[n] = '\0';
        req->argv[req->argc++] = arg;
    }
    return 0;
}

int exec_request_build(const struct config_cluster *cluster, const char *ns, const char *pod,
                       bool attach, const struct http_query_item *items, size_t nitems,
                       struct exec_request *req, struct exec_error *err)
{
    memset(req, 0, sizeof(*req));
    memset(err, 0, sizeof(*err));
    req->attach = attach;
    bool seen_in = false, seen_out = false, seen_err = false, seen_tty = false;
    bool seen_container = false;
    const char *cname = NULL;
    size_t cname_len = 0;
    for (size_t i = 0; i < nitems; i++) {
        bool_param(&items[i], "stdin", &seen_in, &req->want_stdin);
        bool_param(&items[i], "stdout", &seen_out, &req->want_stdout);
        bool_param(&items[i], "stderr", &seen_err, &req->want_stderr);
        bool_param(&items[i], "tty", &seen_tty, &req->tty);
        if (!seen_container && item_is(&items[i], "container")) {
            seen_container = true;
            cname = items[i].value;
            cname_len = items[i].value ? items[i].value_len : 0;
        }
    }

    const struct config_pod *p = config_pod_find(cluster, ns, pod);
    if (!p) {
        error_set(err, 404, "NotFound", pod, "pods", "pods \"%s\" not found%s", pod, "");
        return -1;
    }
    snprintf(req->ns, sizeof(req->ns), "%s", p->ns);
    snprintf(req->pod, sizeof(req->pod), "%s", p->name);
    if (container_resolve(p, cname, cname_len, seen_container, req, err) < 0)
        return -1;
    if (!req->want_stdin && !req->want_stdout && !req->want_stderr) {
        error_set(err, 400, "BadRequest", NULL, NULL,
                  "you must specify at least 1 of stdin, stdout, stderr%s%s", "", "");
        return -1;
    }
    if (attach)
        return 0;
    if (argv_collect(items, nitems, req, err) < 0) {
        exec_request_clear(req);
        if (err->code == 0)
            error_set(err, 500, "InternalError", NULL, NULL, "out of memory%s%s", "", "");
        return -1;
    }
    if (req->argc == 0) {
        exec_request_clear(req);
        error_set(err, 400, "BadRequest", NULL, NULL,
                  "you must specify at least one command for the container%s%s", "", "");
        return -1;
    }
    return 0;
}

int exec_request_argv_copy(struct exec_request *req, const char *const *argv, size_t argc)
{
    req->argv = calloc(argc + 1, sizeof(char *));
    if (!req->argv)
        return -1;
    for (size_t i = 0; i < argc; i++) {
        /* Stop at the first failure: argv stays NULL-terminated after the
         * copies made, which exec_request_clear frees; never a hole. */
        if (!(req->argv[i] = strdup(argv[i]))) {
            exec_request_clear(req);
            return -1;
        }
        req->argc++;
    }
    return 0;
}

void exec_request_clear(struct exec_request *req)
{
    if (req->argv) {
        for (size_t i = 0; i < req->argc; i++)
            free(req->argv[i]);
        free(req->argv);
    }
    req->argv = NULL;
    req->argc = 0;
}
