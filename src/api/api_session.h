/* api_session.h - one session as the sessions API shows it, live or ended,
 * and the pure reading of a recording file (api_cast.c) that an ended one
 * is known from.
 *
 * The recording contract (one file per recorded session,
 * <recording-dir>/<session id>.cast, asciicast v2): line 1 is a header
 * object whose "podterm" member says who ran what; the last line of a
 * session that ended while recording is the marker
 * [t, "m", "exit <code>: <reason>"]. A file may end mid-line (a crash) or
 * lack the marker (live, or cut by its size cap): that is not an error.
 *
 * Sans-I/O: the parser reads bytes the caller read (a bounded head and a
 * bounded tail of the file) and fills a struct api_session. */
#ifndef PODTERM_API_SESSION_H
#define PODTERM_API_SESSION_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "config/config.h"

/* The first line (the header) is read up to this many bytes: a header that
 * is longer (an argv of many kilobytes) makes the file unlisted. */
#define API_CAST_HEADER_MAX (64 * 1024)
/* The end of the file read for the exit marker: the marker line is short,
 * a longer last line is output, not a marker. */
#define API_CAST_TAIL_MAX 4096
#define API_CAST_ARGV_MAX 1024               /* command words kept (EXEC_ARGV_MAX) */
#define API_CAST_REASON_MAX 63               /* an end reason: "exit", "client-closed", ... */
#define API_CAST_NAME_LEN (AUDIT_ID_LEN + 5) /* "<uuid>.cast" */

struct api_session {
    char id[AUDIT_ID_LEN + 1]; /* the admission's audit id, a lowercase UUID */
    char user[AUTH_NAME_MAX];
    bool attach; /* kind: attach, else exec */
    char ns[CONFIG_NAME_MAX + 1];
    char pod[CONFIG_NAME_MAX + 1];
    char container[CONFIG_NAME_MAX + 1];
    json_t *command; /* argv, an array of strings (owned; NULL: none known) */
    bool tty, stdin_open;
    int64_t started; /* unix seconds */
    /* Where it stands. */
    bool running;  /* in the live registry */
    bool recorded; /* a recording file exists */
    int64_t ended; /* unix seconds (the recording's mtime); 0: not ended */
    bool has_exit; /* the recording's last line is the exit marker */
    int exit_code; /* -1: none */
    char end_reason[API_CAST_REASON_MAX + 1];
    unsigned watchers;
};

/* Is name a session id (a lowercase UUID, what audit_id_new makes)? */
bool api_session_id_valid(const char *name, size_t len);
/* Is name "<session id>.cast"? Fills id (AUDIT_ID_LEN + 1) when it is. */
bool api_cast_name_parse(const char *name, char *id);

enum api_cast_rc {
    API_CAST_OK = 0,
    API_CAST_INVALID = -1, /* not a podterm recording header */
    API_CAST_NOMEM = -2,
};

/* Parse head, the first len bytes of a recording (at most
 * API_CAST_HEADER_MAX; the header line must end within them), into s
 * (cleared first; command allocated). The header's podterm.id must be id:
 * a renamed file does not speak for another session. */
enum api_cast_rc api_cast_header_parse(const char *head, size_t len, const char *id,
                                       struct api_session *s);

/* Read the exit marker from tail, the last len bytes of the file (at most
 * API_CAST_TAIL_MAX; whole says they are the whole file). Sets has_exit,
 * exit_code and end_reason when the file's last complete line is
 * [t, "m", "exit <code>: <reason>"] and the file ends with its newline. */
void api_cast_tail_parse(const char *tail, size_t len, bool whole, struct api_session *s);

/* Free what s owns (its command) and zero it. */
void api_session_clear(struct api_session *s);

#endif
