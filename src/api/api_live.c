/* api_live.c - the live session registry: what the sessions API shows of
 * the sessions running now. The server's session list (session.c) is the
 * registry; this reads it through session_list_snapshot and finds who runs
 * each session in its admission, which rides on the session as the audit's
 * tap (admit_tap.c): its audit id is the session's id. A later watch or
 * join finds its session the same way (struct session_view.session). */
#include "api/api_sessions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/admit.h"
#include "session/exec_request.h"
#include "session/session.h"

static const struct admission *api_live_admission(const struct session_view *v)
{
    for (size_t i = 0; i < v->taps_len; i++)
        if (v->taps[i].ops == &admission_tap_ops)
            return v->taps[i].user;
    return NULL;
}

bool api_live_session(const struct session_view *v, struct api_session *out)
{
    api_session_clear(out);
    const struct admission *adm = api_live_admission(v);
    if (!adm)
        return false;
    const struct exec_request *r = v->req;
    snprintf(out->id, sizeof(out->id), "%s", adm->audit_id);
    snprintf(out->user, sizeof(out->user), "%s", adm->user.user);
    snprintf(out->ns, sizeof(out->ns), "%s", r->ns);
    snprintf(out->pod, sizeof(out->pod), "%s", r->pod);
    snprintf(out->container, sizeof(out->container), "%s", r->container);
    out->attach = r->attach;
    out->tty = r->tty;
    out->stdin_open = r->want_stdin;
    out->started = adm->received.tv_sec;
    out->running = true;
    out->watchers = (unsigned)v->watchers;
    out->command = json_array();
    for (size_t i = 0; out->command && i < r->argc; i++)
        if (json_array_append_new(out->command, json_string(r->argv[i])) < 0) {
            json_decref(out->command);
            out->command = NULL;
        }
    return true;
}

struct session_view *api_live_views(struct server *server, size_t *n)
{
    *n = session_list_snapshot(server, NULL, 0);
    struct session_view *v = *n ? malloc(*n * sizeof(*v)) : NULL;
    if (!v) {
        *n = 0;
        return NULL;
    }
    *n = session_list_snapshot(server, v, *n);
    return v;
}

bool api_live_find(struct server *server, const char *id, struct api_session *out)
{
    size_t n;
    struct session_view *v = api_live_views(server, &n);
    bool found = false;
    for (size_t i = 0; i < n && !found; i++) {
        const struct admission *adm = api_live_admission(&v[i]);
        found = adm && strcmp(adm->audit_id, id) == 0 && api_live_session(&v[i], out);
    }
    free(v);
    return found;
}
