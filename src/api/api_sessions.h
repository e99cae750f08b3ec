/* api_sessions.h - the sessions API (group podterm.dev, version v1alpha1),
 * served by podterm itself in both modes:
 *
 *   GET /apis/podterm.dev/v1alpha1                        APIResourceList
 *   GET /apis/podterm.dev/v1alpha1/sessions               SessionList
 *   GET /apis/podterm.dev/v1alpha1/sessions/{id}           Session
 *   GET /apis/podterm.dev/v1alpha1/sessions/{id}/recording the .cast bytes
 *
 * Sessions are live ones (the server's session list, api_live.c) and ended
 * ones, known from their recordings only (api_recordings.c reads
 * --recording-dir, api_cast.c parses a file). Access is RBAC on resource
 * "sessions" of group "podterm.dev"; where RBAC denies get or list, the
 * admission lets the request through "owner only" (admission.owner_only)
 * and the answer holds the requester's own sessions only. */
#ifndef PODTERM_API_SESSIONS_H
#define PODTERM_API_SESSIONS_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/api_session.h"

#define API_SESSIONS_GROUP "podterm.dev"
#define API_SESSIONS_VERSION "v1alpha1"
#define API_SESSIONS_PREFIX "/apis/" API_SESSIONS_GROUP
/* Directory entries one list looks at, and recordings it reads (the newest
 * by mtime): a list costs at most API_RECORDINGS_LIST_MAX small reads of a
 * header and a tail, whatever the directory holds. */
#define API_RECORDINGS_SCAN_MAX 20000
#define API_RECORDINGS_LIST_MAX 500
/* A GET of a recording is streamed by the front door (api_stream.c); what
 * lws answers itself (HEAD, or when the stream could not start) is read
 * whole up to this size (the recorder's default cap), a 413 beyond it. */
#define API_RECORDING_SERVE_MAX (64u << 20)

struct server;
struct session_view;

/* api_sessions.c: the paths above. Returns 1 when it answered, 0 when the
 * path is not one of them, -1 to close. */
int api_sessions_handle(struct server *server, struct lws *wsi, const char *path);

/* The sessions API's refusals, also for the upgrades of a live session
 * (session_watch.c): a Status about one session, whose details name the
 * group as the apiserver's do for a resource outside the core group (id
 * NULL: no name); its NotFound; and the Forbidden RBAC gave an "owner
 * only" request (admission_message(adm), word for word). 1 answered, -1 to close. */
struct admission;
int api_session_status(struct lws *wsi, int code, const char *reason, const char *message,
                       const char *id);
int api_session_not_found(struct lws *wsi, const char *id);
int api_session_forbidden(struct lws *wsi, const struct admission *adm);

/* Find a session, live or recorded: 1 found (s filled), 0 not, -1 out of
 * memory. */
int api_session_lookup(struct server *server, const char *id, struct api_session *s);

/* api_stream.c: the front door's hand-over of a GET of a recording the
 * requester may read (front.c): true when it took fd and adm and streams
 * the file (bounded buffer, idle timeout) off lws; false, and nothing
 * taken, when lws is to answer (a Status, or another method). */
bool api_recording_stream_take(struct server *server, int fd, struct admission *adm);

/* api_live.c: a running session (a view from session_list_snapshot) as
 * the API shows it; false when it has no admission to say who runs it. */
bool api_live_session(const struct session_view *v, struct api_session *out);
/* The running session with this id: true and *out filled, else false. */
bool api_live_find(struct server *server, const char *id, struct api_session *out);
/* All running sessions' views (newest first) in a new array for free();
 * NULL with *n 0 when there are none or no memory. */
struct session_view *api_live_views(struct server *server, size_t *n);

/* api_recordings.c: the files of --recording-dir. */
/* The newest recordings' ids (API_RECORDINGS_LIST_MAX at most), newest
 * first, in a new array for free(); -1 when the directory cannot be read. */
long api_recordings_newest(const char *dir, char (**ids)[AUDIT_ID_LEN + 1]);
/* Read <dir>/<id>.cast's header and end into s (cleared first): 0, -1 when
 * there is no such regular file (absent, a symlink, a directory ...), -2
 * when it is not a podterm recording, -3 when out of memory. */
int api_recording_read(const char *dir, const char *id, struct api_session *s);
/* The whole file into a new buffer for free(): 0; -1 absent (as above);
 * -2 larger than API_RECORDING_SERVE_MAX; -3 out of memory or unreadable. */
int api_recording_load(const char *dir, const char *id, char **out, size_t *len);
/* Open <dir>/<id>.cast for reading (O_NOFOLLOW, O_NONBLOCK, O_CLOEXEC): the
 * fd of a regular file, st filled; -1 otherwise. */
struct stat;
int api_recording_open(const char *dir, const char *id, struct stat *st);
/* Is there a recording of this id (a regular file; dir NULL: no)? */
bool api_recording_exists(const char *dir, const char *id);

#endif
