/* credentials.h - the bearer token podterm presents to the API server, from
 * whichever source the kube_target names: a static token, a token file
 * (re-read when it changes: bound service-account tokens rotate hourly), or
 * an exec credential plugin (run, cached until its expirationTimestamp, run
 * again after a 401). Client certificates need no refreshing and are
 * configured on the TLS context by kube_client.c. */
#ifndef PODTERM_GATEWAY_CREDENTIALS_H
#define PODTERM_GATEWAY_CREDENTIALS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <uv.h>

#include "backend/kube/kubeconfig.h"

#define KUBE_TOKEN_MAX 8192              /* one bearer token */
#define KUBE_EXEC_OUTPUT_MAX (64 * 1024) /* an ExecCredential on the plugin's stdout */
#define KUBE_EXEC_TIMEOUT_MS 30000       /* a plugin that takes longer is killed */
/* After the plugin exits, how long its stdout may stay open (held by a
 * process it left behind) before its process group is killed. */
#define KUBE_EXEC_EOF_GRACE_MS 2000
#define KUBE_EXEC_EXPIRY_SLACK_S 10 /* refresh a little before expiry, as client-go does */

struct kube_creds;

/* A caller waiting for a token; embedded in the caller's struct. */
struct kube_creds_req {
    void (*done)(struct kube_creds_req *req, const char *token, const char *err);
    struct kube_creds_req *next;
};

/* Borrows loop and target; both outlive it. */
struct kube_creds *kube_creds_new(uv_loop_t *loop, const struct kube_target *target);
/* Kills a running plugin; pending requests are completed with an error. */
void kube_creds_free(struct kube_creds *c);

/* The current token into out (KUBE_TOKEN_MAX + 1 bytes; "" when the target has
 * no token source). Returns 0 when out is filled now, 1 when req->done will
 * be called later (an exec plugin runs), -1 with a message in out on error. */
int kube_creds_get(struct kube_creds *c, struct kube_creds_req *req, char *out, size_t out_cap);
/* Forget a pending request (its owner goes away). */
void kube_creds_cancel(struct kube_creds *c, struct kube_creds_req *req);
/* The API server said 401: an exec plugin's cached token is dropped, so the
 * next get runs the plugin again. */
void kube_creds_invalidate(struct kube_creds *c);

/* Parse an ExecCredential (pure; for tests). Returns 0 and fills token and
 * expiry (0: none), or -1 with a message in err. */
int kube_exec_credential_parse(const char *json, size_t len, char *token, size_t token_cap,
                               time_t *expiry, char *err, size_t err_cap);

#endif
