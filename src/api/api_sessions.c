/* api_sessions.c - the sessions API's answers (api_sessions.h): discovery,
 * the list, one session and its recording, each with the apiserver's shapes
 * (Status, List, APIResourceList), so kubectl get --raw and the client
 * libraries read them as any other group's.
 *
 * "Owner only" (the admission let a get or list through that RBAC denied):
 * a list holds the requester's own sessions; a get or a recording of any
 * other id, existing or not, is the Forbidden RBAC gave, word for word, so
 * the answer says nothing of other people's sessions. */
#include "server/server_internal.h"

#include "api/api.h"
#include "api/api_json.h"
#include "api/api_sessions.h"
#include "server/http_reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admit/admit.h"
#include "session/session.h"

#define API_SESSIONS_GV API_SESSIONS_GROUP "/" API_SESSIONS_VERSION
#define API_SESSIONS_TIME_MAX 32 /* "2006-01-02T15:04:05Z" */
#define API_SESSIONS_MESSAGE_MAX 256
#define API_RECORDING_HEADERS_MAX 256
#define API_BAD_ID "a session name is its id: a lowercase UUID (8-4-4-4-12 hexadecimal digits)"

/* ---- JSON pieces ---- */

static json_t *api_time(int64_t t)
{
    char buf[API_SESSIONS_TIME_MAX];
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm))
        return NULL;
    return json_string(buf);
}

static json_t *api_session_json(const struct api_session *s, bool with_type)
{
    json_t *o = json_object();
    if (with_type) {
        o = api_json_put(o, "kind", json_string("Session"));
        o = api_json_put(o, "apiVersion", json_string(API_SESSIONS_GV));
    }
    o = api_json_put(
        o, "metadata",
        api_json_put(json_pack("{s:s}", "name", s->id), "creationTimestamp", api_time(s->started)));
    json_t *spec = json_pack("{s:s, s:s, s:s, s:s}", "user", s->user, "namespace", s->ns, "pod",
                             s->pod, "container", s->container);
    spec = api_json_put(spec, "command", s->command ? json_copy(s->command) : json_array());
    spec = api_json_put(spec, "tty", json_boolean(s->tty));
    spec = api_json_put(spec, "stdin", json_boolean(s->stdin_open));
    spec = api_json_put(spec, "kind", json_string(s->attach ? "attach" : "exec"));
    o = api_json_put(o, "spec", spec);
    json_t *st = json_pack("{s:s}", "phase", s->running ? "Running" : "Ended");
    st = api_json_put(st, "started", api_time(s->started));
    if (!s->running) {
        st = api_json_put(st, "ended", api_time(s->ended));
        if (s->has_exit) {
            st = api_json_put(st, "exitCode", json_integer(s->exit_code));
            st = api_json_put(st, "endReason", json_string(s->end_reason));
        }
    }
    st = api_json_put(st, "watchers", json_integer(s->watchers));
    st = api_json_put(st, "recorded", json_boolean(s->recorded));
    return api_json_put(o, "status", st);
}

int api_session_status(struct lws *wsi, int code, const char *reason, const char *message,
                       const char *id)
{
    json_t *details = json_object();
    if (id)
        details = api_json_put(details, "name", json_string(id));
    details = api_json_put(details, "group", json_string(API_SESSIONS_GROUP));
    details = api_json_put(details, "kind", json_string("sessions"));
    json_t *st = json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s}", "kind", "Status", "apiVersion", "v1",
                           "metadata", "status", "Failure", "message", message, "reason", reason);
    st = api_json_put(st, "details", details);
    st = api_json_put(st, "code", json_integer(code));
    return api_send(wsi, code, st);
}

int api_session_not_found(struct lws *wsi, const char *id)
{
    char msg[API_SESSIONS_MESSAGE_MAX];
    snprintf(msg, sizeof(msg), "sessions.%s \"%s\" not found", API_SESSIONS_GROUP, id);
    return api_session_status(wsi, 404, "NotFound", msg, id);
}

int api_session_forbidden(struct lws *wsi, const struct admission *adm)
{
    return api_session_status(wsi, 403, "Forbidden", admission_message(adm),
                              adm->details_name[0] ? adm->details_name : NULL);
}

/* ---- discovery ---- */

static int api_sessions_group(struct lws *wsi)
{
    return api_send(wsi, 200,
                    json_pack("{s:s, s:s, s:s, s:[{s:s, s:s}], s:{s:s, s:s}}", "kind", "APIGroup",
                              "apiVersion", "v1", "name", API_SESSIONS_GROUP, "versions",
                              "groupVersion", API_SESSIONS_GV, "version", API_SESSIONS_VERSION,
                              "preferredVersion", "groupVersion", API_SESSIONS_GV, "version",
                              API_SESSIONS_VERSION));
}

/* One subresource's entry: reached with get (WebSocket upgrades included,
 * as exec's are listed with the verbs RBAC checks). */
static json_t *api_subresource(const char *name)
{
    return json_pack("{s:s, s:s, s:b, s:s, s:[s]}", "name", name, "singularName", "", "namespaced",
                     0, "kind", "Session", "verbs", "get");
}

static int api_sessions_resources(struct lws *wsi)
{
    json_t *list = json_pack("[{s:s, s:s, s:b, s:s, s:[s, s]}]", "name", "sessions", "singularName",
                             "session", "namespaced", 0, "kind", "Session", "verbs", "get", "list");
    static const char *const subs[] = {"sessions/recording", "sessions/watch", "sessions/join",
                                       "sessions/resume"};
    for (size_t i = 0; list && i < sizeof(subs) / sizeof(subs[0]); i++)
        list = api_json_push(list, api_subresource(subs[i]));
    return api_send(wsi, 200,
                    api_json_put(json_pack("{s:s, s:s, s:s}", "kind", "APIResourceList",
                                           "apiVersion", "v1", "groupVersion", API_SESSIONS_GV),
                                 "resources", list));
}

/* ---- the list ---- */

static int api_id_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static bool api_visible(const struct admission *adm, const struct api_session *s)
{
    return !adm->owner_only || strcmp(s->user, adm->user.user) == 0;
}

/* The live sessions into items; their ids, sorted, into *live_ids (for the
 * recordings to skip: a running session's file is that session). */
static json_t *api_sessions_live(struct server *server, const struct admission *adm, json_t *items,
                                 char (**live_ids)[AUDIT_ID_LEN + 1], size_t *live_n)
{
    size_t n;
    struct session_view *v = api_live_views(server, &n);
    *live_ids = malloc((n ? n : 1) * sizeof(**live_ids));
    *live_n = 0;
    if (!*live_ids) {
        free(v);
        json_decref(items);
        return NULL;
    }
    struct api_session s = {0};
    for (size_t i = 0; i < n && items; i++) {
        if (!api_live_session(&v[i], &s))
            continue;
        memcpy((*live_ids)[(*live_n)++], s.id, sizeof(s.id));
        if (!api_visible(adm, &s))
            continue;
        s.recorded = api_recording_exists(server->opts.recording_dir, s.id);
        items = api_json_push(items, api_session_json(&s, false));
    }
    api_session_clear(&s);
    free(v);
    qsort(*live_ids, *live_n, sizeof(**live_ids), api_id_cmp);
    return items;
}

static json_t *api_sessions_ended(const char *dir, const struct admission *adm, json_t *items,
                                  char (*live_ids)[AUDIT_ID_LEN + 1], size_t live_n)
{
    char(*ids)[AUDIT_ID_LEN + 1] = NULL;
    long n = dir ? api_recordings_newest(dir, &ids) : 0;
    struct api_session s = {0};
    for (long i = 0; i < n && items; i++) {
        if (bsearch(ids[i], live_ids, live_n, sizeof(*live_ids), api_id_cmp))
            continue;
        int rc = api_recording_read(dir, ids[i], &s);
        if (rc == -3) {
            json_decref(items);
            items = NULL;
        } else if (rc == 0 && api_visible(adm, &s)) {
            items = api_json_push(items, api_session_json(&s, false));
        }
    }
    api_session_clear(&s);
    free(ids);
    return items;
}

static int api_sessions_list(struct server *server, struct lws *wsi, const struct admission *adm)
{
    char(*live_ids)[AUDIT_ID_LEN + 1] = NULL;
    size_t live_n = 0;
    json_t *items = api_sessions_live(server, adm, json_array(), &live_ids, &live_n);
    items = api_sessions_ended(server->opts.recording_dir, adm, items, live_ids, live_n);
    free(live_ids);
    return api_send(wsi, 200,
                    json_pack("{s:s, s:s, s:{}, s:o}", "kind", "SessionList", "apiVersion",
                              API_SESSIONS_GV, "metadata", "items", items));
}

/* ---- one session ---- */

int api_session_lookup(struct server *server, const char *id, struct api_session *s)
{
    const char *dir = server->opts.recording_dir;
    if (api_live_find(server, id, s)) {
        s->recorded = api_recording_exists(dir, id);
        return 1;
    }
    int rc = dir ? api_recording_read(dir, id, s) : -1;
    return rc == 0 ? 1 : rc == -3 ? -1 : 0;
}

static int api_recording_send(struct server *server, struct lws *wsi, const char *id)
{
    char *body = NULL;
    size_t len = 0;
    const char *dir = server->opts.recording_dir;
    int rc = dir ? api_recording_load(dir, id, &body, &len) : -1;
    char msg[API_SESSIONS_MESSAGE_MAX];
    if (rc == -1) {
        snprintf(msg, sizeof(msg), "session \"%s\" has no recording", id);
        return api_session_status(wsi, 404, "NotFound", msg, id);
    }
    if (rc == -2) {
        snprintf(msg, sizeof(msg),
                 "the recording is larger than %u bytes, the most podterm serves: read %s.cast "
                 "in the recording directory",
                 API_RECORDING_SERVE_MAX, id);
        return api_session_status(wsi, 413, "RequestEntityTooLarge", msg, id);
    }
    if (rc < 0)
        return api_session_status(wsi, 500, "InternalError", "the recording could not be read", id);
    char headers[API_RECORDING_HEADERS_MAX];
    snprintf(headers, sizeof(headers),
             "cache-control: no-store\r\nx-content-type-options: nosniff\r\n"
             "content-disposition: attachment; filename=\"%s.cast\"\r\n",
             id);
    int wr = http_reply(wsi, 200, "application/x-asciicast", headers, body, len);
    free(body);
    return wr < 0 ? -1 : 1;
}

static int api_session_one(struct server *server, struct lws *wsi, const struct admission *adm,
                           const char *id, bool recording)
{
    if (!api_session_id_valid(id, strlen(id)))
        return adm->owner_only ? api_session_forbidden(wsi, adm)
               : http_reply_status(wsi, 400, "BadRequest", API_BAD_ID, NULL, NULL) < 0 ? -1
                                                                                       : 1;
    struct api_session s = {0};
    int found = api_session_lookup(server, id, &s);
    int rc;
    if (found < 0)
        rc = api_session_status(wsi, 500, "InternalError", "out of memory", id);
    else if (adm->owner_only && (!found || !api_visible(adm, &s)))
        rc = api_session_forbidden(wsi, adm);
    else if (!found)
        rc = api_session_not_found(wsi, id);
    else if (recording)
        rc = api_recording_send(server, wsi, id);
    else
        rc = api_send(wsi, 200, api_session_json(&s, true));
    api_session_clear(&s);
    return rc;
}

/* ---- routing ---- */

#define API_NOT_FOUND "the server could not find the requested resource"

/* Every path under the group is answered here, also in gateway mode (where
 * anything not answered would be refused as a relay's path). */
static int api_plain_status(struct lws *wsi, int code, const char *reason, const char *message)
{
    return http_reply_status(wsi, code, reason, message, NULL, NULL) < 0 ? -1 : 1;
}

/* The path after API_SESSIONS_PREFIX, one segment at a time. */
static bool api_seg(const char **p, const char *lit)
{
    size_t n = strlen(lit);
    if (strncmp(*p, lit, n) != 0 || ((*p)[n] != '/' && (*p)[n] != '\0'))
        return false;
    *p += n;
    return true;
}

static bool api_at_end(const char *p)
{
    return p[0] == '\0' || (p[0] == '/' && p[1] == '\0');
}

int api_sessions_handle(struct server *server, struct lws *wsi, const char *path)
{
    const char *p = path;
    if (!api_seg(&p, API_SESSIONS_PREFIX))
        return 0;
    const char *method = http_method(wsi);
    if (!method || (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0))
        return api_plain_status(wsi, 405, "MethodNotAllowed",
                                "the server does not allow this method on the requested resource");
    if (api_at_end(p))
        return api_sessions_group(wsi);
    if (!api_seg(&p, "/" API_SESSIONS_VERSION))
        return api_plain_status(wsi, 404, "NotFound", API_NOT_FOUND);
    if (api_at_end(p))
        return api_sessions_resources(wsi);
    if (!api_seg(&p, "/sessions"))
        return api_plain_status(wsi, 404, "NotFound", API_NOT_FOUND);
    struct upgrade_offer *offer = server_offer_take(server, wsi);
    const struct admission *adm = offer && offer->type == WSI_DATA_OFFER ? offer->admission : NULL;
    if (!adm) /* every request is admitted: without one, no answer could be right */
        return api_session_status(wsi, 500, "InternalError", "the request was not admitted", NULL);
    if (strcmp(adm->attrs.verb, "watch") == 0)
        return api_session_status(wsi, 405, "MethodNotAllowed",
                                  "watching sessions is not supported", NULL);
    if (api_at_end(p))
        return api_sessions_list(server, wsi, adm);
    char id[AUDIT_ID_LEN + 2];
    const char *seg = p + 1, *slash = strchr(seg, '/');
    size_t n = slash ? (size_t)(slash - seg) : strlen(seg);
    if (n > AUDIT_ID_LEN)
        n = AUDIT_ID_LEN + 1; /* too long: kept too long, so it is refused */
    memcpy(id, seg, n);
    id[n] = '\0';
    if (!slash || api_at_end(slash))
        return api_session_one(server, wsi, adm, id, false);
    const char *sub = slash;
    if (api_seg(&sub, "/recording") && api_at_end(sub))
        return api_session_one(server, wsi, adm, id, true);
    return api_plain_status(wsi, 404, "NotFound", API_NOT_FOUND);
}
