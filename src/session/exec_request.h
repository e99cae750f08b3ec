/* exec_request.h - turn an exec/attach URL into a validated request, or into
 * the exact metav1.Status error the apiserver would answer, in the
 * apiserver's order of checks (PROTOCOL.md 1.1-1.2). Pure: no lws, no I/O. */
#ifndef PODTERM_EXEC_REQUEST_H
#define PODTERM_EXEC_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "http/http_request.h"

#define EXEC_ARGV_MAX 1024    /* command= values of one request */
#define EXEC_MESSAGE_MAX 1024 /* an error message */

struct exec_request {
    bool attach;
    bool want_stdin, want_stdout, want_stderr, tty;
    /* Names only: the backend finds the pod again (local) or the upstream
     * has it (gateway); a session needs nothing else of them. */
    char ns[CONFIG_NAME_MAX + 1];
    char pod[CONFIG_NAME_MAX + 1];
    char container[CONFIG_NAME_MAX + 1];
    char **argv; /* NULL-terminated copies; NULL for attach */
    size_t argc;
    struct backend_stream *prepared; /* gateway mode: the upstream stream (backend.h) */
};

/* The error to answer instead, when validation fails. */
struct exec_error {
    int code;           /* HTTP status */
    const char *reason; /* metav1 StatusReason */
    char message[EXEC_MESSAGE_MAX];
    char details_name[CONFIG_NAME_MAX + 1]; /* "" for no details */
    const char *details_kind;               /* NULL for no details */
};

/* Is this path an exec or attach subresource? Fills ns/pod (decoded path
 * segments, bounded) and attach. Returns false for any other path. */
bool exec_path_parse(const char *path, char *ns, size_t ns_cap, char *pod, size_t pod_cap,
                     bool *attach);

/* Validate an exec/attach request against the cluster. items: the decoded
 * query (http_query_decode), the same the admission checked. Returns 0 and fills
 * req (free with exec_request_clear), or -1 and fills err. */
int exec_request_build(const struct config_cluster *cluster, const char *ns, const char *pod,
                       bool attach, const struct http_query_item *items, size_t nitems,
                       struct exec_request *req, struct exec_error *err);
/* Copy argv[0, argc) into req->argv (NULL-terminated, argc set). -1 when
 * out of memory: then req->argv is NULL and req->argc 0. */
int exec_request_argv_copy(struct exec_request *req, const char *const *argv, size_t argc);
void exec_request_clear(struct exec_request *req);

#endif
