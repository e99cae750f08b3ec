/* api_health.h - /livez, /readyz and /healthz as kube-apiserver answers
 * them (k8s.io/apiserver/pkg/server/healthz): the body is built here without
 * I/O (api_health_body), the request is answered in api_health.c. */
#ifndef PODTERM_API_HEALTH_H
#define PODTERM_API_HEALTH_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>

#define API_HEALTH_CHECKS_MAX 8
#define API_HEALTH_NAME_MAX 32
/* The longest body: every check failed, each line "[-]NAME failed: reason withheld\n". */
#define API_HEALTH_BODY_MAX (API_HEALTH_CHECKS_MAX * (API_HEALTH_NAME_MAX + 32) + 64)

struct api_health_check {
    const char *name; /* "ping", "policy", ...: at most API_HEALTH_NAME_MAX bytes */
    bool ok;
};

/* The body for endpoint ("livez", "readyz", "healthz"): "ok" when every check
 * passed and verbose is false; otherwise one line per check and the verdict
 * line. A failed check names itself only: the endpoint is public, so its
 * reason is withheld, as the apiserver withholds it. Returns the length
 * (the body is NUL-terminated), or 0 when cap is too small; *ok says whether
 * every check passed. */
size_t api_health_body(const char *endpoint, const struct api_health_check *checks, size_t n,
                       bool verbose, char *out, size_t cap, bool *ok);

struct server;
/* GET/HEAD /livez, /readyz, /healthz. Returns 1 when it answered, 0 when
 * path is none of them, -1 to close. */
int api_health_handle(struct server *server, struct lws *wsi, const char *path);

#endif
