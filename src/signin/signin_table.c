/* signin_table.c - the two bounded tables of browser sign-in, sans-I/O:
 * logins under way (SIGNIN_PENDING_MAX, each for SIGNIN_PENDING_TTL_S) and
 * sign-in sessions (SIGNIN_SESSIONS_MAX, each until its idle timeout or
 * max age). A full table drops its oldest entry rather than refuse: a
 * flood of sign-ins costs the flooder's own entries first, and memory stays
 * bounded whatever a client does. */
#include "signin/signin_internal.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

int signin_table_init(struct signin_table *t, unsigned idle_s, unsigned max_age_s)
{
    memset(t, 0, sizeof(*t));
    t->sessions = calloc(SIGNIN_SESSIONS_MAX, sizeof(*t->sessions));
    t->next_id = 1;
    t->idle_s = idle_s;
    t->max_age_s = max_age_s;
    return t->sessions ? 0 : -1;
}

void signin_table_free(struct signin_table *t)
{
    for (size_t i = 0; t->sessions && i < SIGNIN_SESSIONS_MAX; i++)
        if (t->sessions[i].used)
            signin_session_remove(t, &t->sessions[i]);
    free(t->sessions);
    OPENSSL_cleanse(t->pending, sizeof(t->pending));
    t->sessions = NULL;
}

struct signin_pending *signin_pending_add(struct signin_table *t, time_t now)
{
    struct signin_pending *slot = NULL;
    for (size_t i = 0; i < SIGNIN_PENDING_MAX; i++) {
        struct signin_pending *p = &t->pending[i];
        if (p->used && now - p->created > SIGNIN_PENDING_TTL_S)
            p->used = false; /* expired: the slot is free again */
        if (!p->used) {
            slot = p;
            break;
        }
        if (!slot || p->created < slot->created)
            slot = p;
    }
    OPENSSL_cleanse(slot, sizeof(*slot));
    slot->used = true;
    slot->created = now;
    return slot;
}

enum signin_take_rc signin_pending_take(struct signin_table *t, const char *state, size_t n,
                                        const char *binding, size_t binding_len, time_t now,
                                        struct signin_pending *out)
{
    if (!signin_token_valid(state, n))
        return SIGNIN_TAKE_UNKNOWN;
    for (size_t i = 0; i < SIGNIN_PENDING_MAX; i++) {
        struct signin_pending *p = &t->pending[i];
        if (!p->used || !signin_token_equal(p->state, state))
            continue;
        if (now - p->created > SIGNIN_PENDING_TTL_S) {
            OPENSSL_cleanse(p, sizeof(*p));
            return SIGNIN_TAKE_UNKNOWN;
        }
        /* Kept when another browser brings it: whoever saw the state (a
         * log, a shoulder) cannot use it up for the one who started it. */
        if (!binding || !signin_token_valid(binding, binding_len) ||
            !signin_token_equal(p->binding, binding))
            return SIGNIN_TAKE_BINDING;
        *out = *p;
        OPENSSL_cleanse(p, sizeof(*p));
        return SIGNIN_TAKE_OK;
    }
    return SIGNIN_TAKE_UNKNOWN;
}

static bool signin_session_expired(const struct signin_table *t, const struct signin_session *s,
                                   time_t now)
{
    return now - s->last_use >= (time_t)t->idle_s || now - s->created >= (time_t)t->max_age_s;
}

void signin_session_remove(struct signin_table *t, struct signin_session *s)
{
    (void)t;
    if (s->id_token) {
        OPENSSL_cleanse(s->id_token, strlen(s->id_token));
        free(s->id_token);
    }
    auth_identity_clear(&s->user);
    OPENSSL_cleanse(s, sizeof(*s));
}

struct signin_session *signin_session_add(struct signin_table *t, const struct auth_identity *user,
                                          const char *id_token, time_t now)
{
    struct signin_session *slot = NULL;
    for (size_t i = 0; i < SIGNIN_SESSIONS_MAX; i++) {
        struct signin_session *s = &t->sessions[i];
        if (s->used && signin_session_expired(t, s, now))
            signin_session_remove(t, s);
        if (!s->used) {
            slot = s;
            break;
        }
        if (!slot || s->created < slot->created)
            slot = s;
    }
    if (slot->used)
        signin_session_remove(t, slot); /* the oldest goes */
    char *copy = id_token ? strdup(id_token) : NULL;
    if (id_token && !copy)
        return NULL;
    if (!signin_token_new(slot->cookie) || !signin_token_new(slot->csrf) ||
        auth_identity_copy(&slot->user, user) < 0) {
        free(copy);
        OPENSSL_cleanse(slot, sizeof(*slot));
        return NULL;
    }
    slot->used = true;
    slot->id = t->next_id++;
    slot->created = slot->last_use = now;
    slot->id_token = copy;
    return slot;
}

struct signin_session *signin_session_find(struct signin_table *t, const char *cookie, size_t n,
                                           time_t now, bool *expired)
{
    *expired = false;
    if (!signin_token_valid(cookie, n))
        return NULL;
    for (size_t i = 0; i < SIGNIN_SESSIONS_MAX; i++) {
        struct signin_session *s = &t->sessions[i];
        if (!s->used || !signin_token_equal(s->cookie, cookie))
            continue;
        if (signin_session_expired(t, s, now)) {
            signin_session_remove(t, s);
            *expired = true;
            return NULL;
        }
        s->last_use = now;
        return s;
    }
    return NULL;
}

const struct signin_session *signin_session_by_id(const struct signin_table *t, uint64_t id,
                                                  time_t now)
{
    for (size_t i = 0; i < SIGNIN_SESSIONS_MAX; i++) {
        const struct signin_session *s = &t->sessions[i];
        if (s->used && s->id == id)
            return signin_session_expired(t, s, now) ? NULL : s;
    }
    return NULL;
}

size_t signin_session_count(const struct signin_table *t)
{
    size_t n = 0;
    for (size_t i = 0; i < SIGNIN_SESSIONS_MAX; i++)
        n += t->sessions[i].used;
    return n;
}
