/* oidc.c - the issuer's keys kept fresh (oidc.h): discovery, then JWKS,
 * one fetch at a time, on a single timer.
 *
 *   start-up ----> fetching --ok----> keys loaded, next refresh in OIDC_REFRESH_MS
 *                     |  \--failed--> old keys kept, retry in 1s, 2s, ... OIDC_RETRY_MAX_MS
 *   unknown kid --/ (if the last fetch began OIDC_KID_REFRESH_MIN_MS ago or more)
 *
 * The rate limit on unknown kids is what stands between a client sending
 * made-up kids and a flood of requests to the identity provider. */
#include "oidc/oidc_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#define OIDC_DISCOVERY_PATH "/.well-known/openid-configuration"

enum oidc_stage { OIDC_IDLE, OIDC_DISCOVERY, OIDC_JWKS };

struct oidc {
    uv_loop_t *loop;
    struct oidc_config cfg;
    SSL_CTX *ctx;
    struct oidc_keyset keys; /* len 0 until the first JWKS */
    enum oidc_stage stage;
    struct oidc_fetch *fetch;
    char jwks_uri[OIDC_URL_MAX];
    struct oidc_endpoints endpoints; /* browser sign-in's */
    bool have_endpoints;
    uv_timer_t timer;
    uint64_t last_start_ms;
    bool started;
    uint64_t retry_ms;
    char reason[OIDC_REASON_MAX];
    void (*close_cb)(void *);
    void *close_user;
};

static void oidc_refresh(struct oidc *o);

static void oidc_on_timer(uv_timer_t *t)
{
    oidc_refresh(t->data);
}

static void oidc_failed(struct oidc *o, const char *why)
{
    o->stage = OIDC_IDLE;
    o->fetch = NULL;
    snprintf(o->reason, sizeof(o->reason), "%s", why);
    fprintf(stderr, "podterm: oidc: %s (%s; retrying in %llu ms)\n", why,
            o->keys.len ? "keeping the keys loaded before" : "OIDC tokens are refused until then",
            (unsigned long long)o->retry_ms);
    uv_timer_start(&o->timer, oidc_on_timer, o->retry_ms, 0);
    o->retry_ms = o->retry_ms * 2 > OIDC_RETRY_MAX_MS ? OIDC_RETRY_MAX_MS : o->retry_ms * 2;
}

static void oidc_on_jwks(void *user, const char *body, size_t len, const char *err)
{
    struct oidc *o = user;
    if (!body) {
        oidc_failed(o, err);
        return;
    }
    struct oidc_keyset fresh;
    char perr[OIDC_ERR_MAX + OIDC_URL_MAX];
    if (oidc_jwks_parse(body, len, &fresh, perr, sizeof(perr)) < 0) {
        char msg[sizeof(perr) + OIDC_URL_MAX + 16];
        snprintf(msg, sizeof(msg), "%s: %s", o->jwks_uri, perr);
        oidc_failed(o, msg);
        return;
    }
    bool first = !o->keys.len;
    oidc_keyset_clear(&o->keys);
    o->keys = fresh;
    o->stage = OIDC_IDLE;
    o->fetch = NULL;
    o->reason[0] = '\0';
    o->retry_ms = OIDC_RETRY_MIN_MS;
    if (first)
        fprintf(stderr, "podterm: oidc: %zu signing key(s) of %s loaded\n", o->keys.len,
                o->cfg.issuer);
    uv_timer_start(&o->timer, oidc_on_timer, OIDC_REFRESH_MS, 0);
}

static void oidc_on_discovery(void *user, const char *body, size_t len, const char *err)
{
    struct oidc *o = user;
    char perr[OIDC_ERR_MAX + OIDC_URL_MAX];
    if (!body) {
        oidc_failed(o, err);
        return;
    }
    if (oidc_discovery_parse(body, len, o->cfg.issuer, o->jwks_uri, sizeof(o->jwks_uri), perr,
                             sizeof(perr)) < 0) {
        oidc_failed(o, perr);
        return;
    }
    /* Browser sign-in needs two more endpoints; a provider without them
     * still serves bearer tokens (sign-in then answers 503 and says why). */
    struct oidc_endpoints ep;
    if (oidc_discovery_endpoints(body, len, &ep, perr, sizeof(perr)) == 0) {
        o->endpoints = ep;
        o->have_endpoints = true;
    } else if (!o->have_endpoints) {
        fprintf(stderr, "podterm: oidc: %s (browser sign-in is unavailable)\n", perr);
    }
    o->stage = OIDC_JWKS;
    if (!(o->fetch = oidc_fetch_start(o->loop, o->ctx, o->jwks_uri, oidc_on_jwks, o)))
        oidc_failed(o, "cannot start fetching the JWKS");
}

static void oidc_refresh(struct oidc *o)
{
    if (o->stage != OIDC_IDLE || o->close_cb)
        return;
    uv_timer_stop(&o->timer);
    char url[OIDC_URL_MAX + sizeof(OIDC_DISCOVERY_PATH)];
    size_t n = strlen(o->cfg.issuer);
    if (n && o->cfg.issuer[n - 1] == '/')
        n--; /* as kube-apiserver: the issuer with its trailing slash trimmed */
    snprintf(url, sizeof(url), "%.*s%s", (int)n, o->cfg.issuer, OIDC_DISCOVERY_PATH);
    o->last_start_ms = uv_now(o->loop);
    o->started = true;
    o->stage = OIDC_DISCOVERY;
    if (!(o->fetch = oidc_fetch_start(o->loop, o->ctx, url, oidc_on_discovery, o)))
        oidc_failed(o, "cannot start fetching the discovery document");
}

static SSL_CTX *oidc_ssl_ctx(const char *ca_file, char *err, size_t err_cap)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        snprintf(err, err_cap, "TLS: cannot create a context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    int ok = ca_file ? X509_STORE_load_file(SSL_CTX_get_cert_store(ctx), ca_file)
                     : SSL_CTX_set_default_verify_paths(ctx);
    ERR_clear_error();
    if (ok != 1) {
        snprintf(err, err_cap, "--oidc-ca-file %s: no PEM certificate could be read",
                 ca_file ? ca_file : "(system)");
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    return ctx;
}

struct oidc *oidc_new(uv_loop_t *loop, const struct oidc_opts *opts, char *err, size_t err_cap)
{
    struct oidc *o = calloc(1, sizeof(*o));
    if (!o) {
        snprintf(err, err_cap, "out of memory");
        return NULL;
    }
    if (oidc_config_init(&o->cfg, opts, err, err_cap) < 0 ||
        !(o->ctx = oidc_ssl_ctx(opts->ca_file, err, err_cap))) {
        free(o);
        return NULL;
    }
    o->loop = loop;
    o->retry_ms = OIDC_RETRY_MIN_MS;
    snprintf(o->reason, sizeof(o->reason), "fetching the keys of %s", o->cfg.issuer);
    uv_timer_init(loop, &o->timer);
    o->timer.data = o;
    oidc_refresh(o);
    return o;
}

static void oidc_timer_closed(uv_handle_t *h)
{
    struct oidc *o = h->data;
    if (o->close_cb)
        o->close_cb(o->close_user);
}

static void oidc_no_cb(void *user)
{
    (void)user;
}

void oidc_close(struct oidc *o, void (*close_cb)(void *), void *user)
{
    if (!o || o->close_cb)
        return;
    o->close_cb = close_cb ? close_cb : oidc_no_cb;
    o->close_user = user;
    oidc_fetch_cancel(o->fetch);
    o->fetch = NULL;
    o->stage = OIDC_IDLE;
    uv_close((uv_handle_t *)&o->timer, oidc_timer_closed);
}

void oidc_free(struct oidc *o)
{
    if (!o)
        return;
    oidc_keyset_clear(&o->keys);
    SSL_CTX_free(o->ctx);
    free(o);
}

bool oidc_ready(const struct oidc *o, char *reason, size_t cap)
{
    if (o->keys.len)
        return true;
    if (reason && cap)
        snprintf(reason, cap, "%s", o->reason);
    return false;
}

int oidc_token_check(struct oidc *o, const char *token, time_t now, struct auth_identity *id)
{
    char kid[OIDC_KID_MAX];
    int rc = oidc_verify(&o->cfg, &o->keys, token, now, id, kid);
    if (rc == OIDC_ERR_UNKNOWN_KID && o->stage == OIDC_IDLE &&
        (!o->started || uv_now(o->loop) - o->last_start_ms >= OIDC_KID_REFRESH_MIN_MS))
        oidc_refresh(o); /* the provider may have rotated its keys */
    switch (rc) {
    case OIDC_OK:
        return AUTH_OK;
    case OIDC_ERR_MALFORMED:
        return AUTH_ERR_MALFORMED;
    case OIDC_ERR_EXPIRED:
    case OIDC_ERR_NOT_YET:
        return AUTH_ERR_EXPIRED;
    default:
        return AUTH_ERR_INVALID;
    }
}

const struct oidc_endpoints *oidc_endpoints_get(const struct oidc *o)
{
    return o->have_endpoints && o->keys.len ? &o->endpoints : NULL;
}

const char *oidc_client_id(const struct oidc *o)
{
    return o->cfg.client_id;
}

struct oidc_fetch *oidc_token_request(struct oidc *o, const char *form, const char *authorization,
                                      oidc_fetch_cb cb, void *user)
{
    if (!o->have_endpoints || o->close_cb)
        return NULL;
    return oidc_fetch_post(o->loop, o->ctx, o->endpoints.token, form, authorization, cb, user);
}

int oidc_id_token_check(struct oidc *o, const char *token, const char *nonce, time_t now,
                        struct auth_identity *id, char *why, size_t cap)
{
    char kid[OIDC_KID_MAX];
    int rc = oidc_verify(&o->cfg, &o->keys, token, now, id, kid);
    if (rc == OIDC_OK && !oidc_claim_is(token, "nonce", nonce)) {
        auth_identity_clear(id);
        if (why && cap)
            snprintf(why, cap, "its nonce is not the one this sign-in sent");
        return AUTH_ERR_INVALID;
    }
    if (why && cap)
        snprintf(why, cap, "%s", oidc_verify_strerror(rc));
    if (rc == OIDC_ERR_UNKNOWN_KID && o->stage == OIDC_IDLE &&
        (!o->started || uv_now(o->loop) - o->last_start_ms >= OIDC_KID_REFRESH_MIN_MS))
        oidc_refresh(o);
    return rc == OIDC_OK                                      ? AUTH_OK
           : rc == OIDC_ERR_EXPIRED || rc == OIDC_ERR_NOT_YET ? AUTH_ERR_EXPIRED
                                                              : AUTH_ERR_INVALID;
}
