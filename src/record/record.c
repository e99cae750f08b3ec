/* record.c - a session's recording: the tap that turns what flows into
 * asciicast lines (record.h). */
#include "record/record.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admit/admit.h"
#include "record/record_enc.h"
#include "record/record_writer.h"
#include "session/exec_request.h"
#include "session/session.h"

#define RECORD_FILE_FLAGS (O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW)
#define RECORD_SUFFIX ".cast"
#define RECORD_NAME_MAX (AUDIT_ID_LEN + sizeof(RECORD_SUFFIX))
/* Kept free below the size cap for the last line ("recording stopped: ..."
 * or the exit marker), so the file never passes the cap. */
#define RECORD_LAST_LINE_RESERVE RECORD_MARKER_LINE_MAX
#define RECORD_WHY_TEXT_MAX (RECORD_WHY_MAX + 64)
#define RECORD_END_MESSAGE_MAX (RECORD_WHY_TEXT_MAX + 128)
/* With --recording-required the session's output is held (the process
 * waits) once this much waits for the disk: the rest of the buffer still
 * takes the chunk being encoded, whatever its bytes (6 per byte at worst). */
#define RECORD_HOLD_AT (RECORD_BUF_MAX / 2)

struct record {
    uv_loop_t *loop;
    struct record_opts opts;
    struct admission *adm;   /* until the session's end (the admission's tap comes after ours) */
    struct session *session; /* to end it when recording is required and fails */
    struct record_writer *w; /* NULL once handed over to close itself */
    struct record_enc enc;
    char path[PATH_MAX];
    char name[RECORD_NAME_MAX];
    uint64_t start_ns; /* uv_hrtime at the start: event times count from here */
    bool header_written;
    bool stopped; /* nothing more is recorded */
    bool halted;  /* appends refused: waiting for the writer to say why */
    bool holding; /* the session's output is held until the disk catches up */
    /* the header's facts, copied: the session's own copy is gone at its end */
    struct record_header header;
    char id[AUDIT_ID_LEN + 1];
    char user[AUTH_NAME_MAX];
    char ns[CONFIG_NAME_MAX + 1], pod[CONFIG_NAME_MAX + 1], container[CONFIG_NAME_MAX + 1];
    char **argv;
    size_t argc; /* of argv, as far as it was copied */
};

static double record_now(const struct record *r)
{
    return (double)(uv_hrtime() - r->start_ns) / 1e9;
}

static void record_free(struct record *r)
{
    if (r->argv)
        for (size_t i = 0; i < r->argc; i++)
            free(r->argv[i]);
    free(r->argv);
    free(r);
}

/* ---- stopping ---- */

static void record_write_marker(struct record *r, const char *label)
{
    char line[RECORD_MARKER_LINE_MAX];
    int n = record_enc_marker(record_now(r), label, line, sizeof(line));
    if (n > 0)
        record_writer_append(r->w, line, (size_t)n);
}

/* The recording ends before the session: a last marker, the admission
 * told; with --recording-required a failure ends the session too (only
 * ever from the writer's callback, outside the session's own steps). */
static void record_stop(struct record *r, const char *why, bool failure, bool disk_error)
{
    if (r->stopped)
        return;
    r->stopped = true;
    char label[RECORD_WHY_TEXT_MAX + 32];
    snprintf(label, sizeof(label), "recording stopped: %s", why);
    record_write_marker(r, label);
    snprintf(label, sizeof(label), "stopped: %s", why);
    admission_recording_set(r->adm, label, disk_error);
    if (failure && r->opts.required && r->session) {
        char msg[RECORD_END_MESSAGE_MAX];
        snprintf(msg, sizeof(msg),
                 "podterm: this session cannot be recorded (%s) and recording is required: "
                 "the session ends",
                 why);
        session_end_error(r->session, "error", msg);
    }
}

static void record_release(struct record *r)
{
    if (r->holding && r->session)
        session_output_hold(r->session, false);
    r->holding = false;
}

static void record_writer_failed(void *user, const char *why, bool disk_error)
{
    struct record *r = user;
    record_stop(r, why, true, disk_error);
    record_release(r); /* the session ends or goes on unrecorded: never wait for a dead disk */
}

/* A write went through: a held session may read again (from the loop). */
static void record_writer_wrote(void *user)
{
    struct record *r = user;
    if (r->holding && record_writer_pending(r->w) < RECORD_HOLD_AT)
        record_release(r);
}

/* ---- lines ---- */

static int record_emit(void *user, const char *line, size_t len)
{
    struct record *r = user;
    if (r->stopped || r->halted)
        return 1;
    if (record_writer_bytes(r->w) + len + RECORD_LAST_LINE_RESERVE > r->opts.max_bytes) {
        char why[RECORD_WHY_TEXT_MAX];
        snprintf(why, sizeof(why), "size limit of %llu bytes reached",
                 (unsigned long long)r->opts.max_bytes);
        record_stop(r, why, false, false);
        return 1;
    }
    if (record_writer_append(r->w, line, len) < 0) {
        r->halted = true; /* the writer reports why from its callback */
        return 1;
    }
    /* A required recording loses nothing: past the mark the process waits
     * for the disk. Without --recording-required the session never waits;
     * a disk that stays behind stops the recording instead. */
    if (r->opts.required && !r->holding && r->session &&
        record_writer_pending(r->w) >= RECORD_HOLD_AT) {
        r->holding = true;
        session_output_hold(r->session, true);
    }
    return 0;
}

static void record_header_write(struct record *r, unsigned width, unsigned height)
{
    r->header_written = true;
    r->header.width = width;
    r->header.height = height;
    size_t len;
    char *line = record_enc_header(&r->header, &len);
    if (!line) {
        record_stop(r, "out of memory", false, false);
        return;
    }
    /* The header is always written, cap or not: a file without one is no recording. */
    if (record_writer_append(r->w, line, len) < 0)
        r->halted = true;
    free(line);
}

/* ---- the tap ---- */

static void record_tap_output(void *user, int channel, const uint8_t *data, size_t len)
{
    struct record *r = user;
    if (r->stopped)
        return;
    if (!r->header_written)
        record_header_write(r, RECORD_DEFAULT_WIDTH, RECORD_DEFAULT_HEIGHT);
    record_enc_data(&r->enc, channel == 2 ? RECORD_STREAM_STDERR : RECORD_STREAM_STDOUT,
                    record_now(r), data, len, record_emit, r);
}

static void record_tap_input(void *user, const uint8_t *data, size_t len)
{
    struct record *r = user;
    if (r->stopped || !r->opts.input)
        return;
    if (!r->header_written)
        record_header_write(r, RECORD_DEFAULT_WIDTH, RECORD_DEFAULT_HEIGHT);
    record_enc_data(&r->enc, RECORD_STREAM_STDIN, record_now(r), data, len, record_emit, r);
}

static void record_tap_resize(void *user, unsigned width, unsigned height)
{
    struct record *r = user;
    if (r->stopped)
        return;
    if (!r->header_written) { /* the first size the client sets is the header's */
        record_header_write(r, width, height);
        return;
    }
    char line[64];
    int n = record_enc_resize(record_now(r), width, height, line, sizeof(line));
    if (n > 0)
        record_emit(r, line, (size_t)n);
}

/* The writer flushed and closed the file: the admission may finish now. */
static void record_closed(void *user, const char *why)
{
    struct record *r = user;
    if (why && !r->stopped) {
        char label[RECORD_WHY_TEXT_MAX + 32];
        snprintf(label, sizeof(label), "stopped: %s", why);
        admission_recording_set(r->adm, label, true);
    }
    admission_release(r->adm);
    record_free(r);
}

static void record_tap_end(void *user, int exit_code, const char *reason)
{
    struct record *r = user;
    r->session = NULL;
    if (!r->stopped) {
        if (!r->header_written)
            record_header_write(r, RECORD_DEFAULT_WIDTH, RECORD_DEFAULT_HEIGHT);
        double t = record_now(r);
        record_enc_finish(&r->enc, t, record_emit, r);
        if (!r->stopped) {
            char label[RECORD_LABEL_MAX];
            snprintf(label, sizeof(label), "exit %d: %s", exit_code, reason ? reason : "");
            char line[RECORD_MARKER_LINE_MAX];
            int n = record_enc_marker(t, label, line, sizeof(line));
            /* within the reserve kept under the cap */
            if (n > 0 && !r->halted)
                record_writer_append(r->w, line, (size_t)n);
        }
    }
    if (r->halted && !r->stopped)
        admission_recording_set(r->adm, "stopped: lines were lost (the disk fell behind or failed)",
                                false);
    /* The audit's ResponseComplete waits for the file (admission_hold):
     * the last writes may still fail, and the event must say so. */
    record_writer_close(r->w, record_closed, r);
}

static const struct session_tap_ops record_tap_ops = {
    .input = record_tap_input,
    .output = record_tap_output,
    .resize = record_tap_resize,
    .end = record_tap_end,
};

/* ---- opening ---- */

static int record_copy_facts(struct record *r, const struct admission *adm,
                             const struct exec_request *req)
{
    snprintf(r->id, sizeof(r->id), "%s", adm->audit_id);
    snprintf(r->user, sizeof(r->user), "%s",
             adm->user.user[0] ? adm->user.user : "system:anonymous");
    snprintf(r->ns, sizeof(r->ns), "%s", req->ns);
    snprintf(r->pod, sizeof(r->pod), "%s", req->pod);
    snprintf(r->container, sizeof(r->container), "%s", req->container);
    if (req->argc && !(r->argv = calloc(req->argc, sizeof(char *))))
        return -1;
    for (size_t i = 0; i < req->argc; i++) {
        if (!(r->argv[i] = strdup(req->argv[i])))
            return -1;
        r->argc = i + 1;
    }
    r->header = (struct record_header){
        .timestamp = (int64_t)time(NULL),
        .id = r->id,
        .user = r->user,
        .kind = req->attach ? "attach" : "exec",
        .ns = r->ns,
        .pod = r->pod,
        .container = r->container,
        .argv = (const char *const *)r->argv,
        .argc = req->argc,
        .tty = req->tty,
        .stdin_open = req->want_stdin,
    };
    return 0;
}

/* Not recorded after all (the admission says why): 0, or 1 to refuse. */
static int record_open_failed(const struct record_opts *o, struct admission *adm, const char *why,
                              char *err, size_t err_cap)
{
    char label[RECORD_WHY_TEXT_MAX + 32];
    snprintf(label, sizeof(label), "stopped: %s", why);
    admission_recording_set(adm, label, true);
    if (!o->required)
        return 0;
    snprintf(err, err_cap,
             "this session cannot be recorded (%s) and podterm runs with --recording-required",
             why);
    return 1;
}

int record_open(uv_loop_t *loop, const struct record_opts *o, struct admission *adm,
                const struct exec_request *req, struct record **out, char *err, size_t err_cap)
{
    *out = NULL;
    if (!o->dir || !adm || (!req->tty && !o->all))
        return 0;
    struct record *r = calloc(1, sizeof(*r));
    if (!r || record_copy_facts(r, adm, req) < 0) {
        if (r)
            record_free(r);
        return record_open_failed(o, adm, "out of memory", err, err_cap);
    }
    r->loop = loop;
    r->opts = *o;
    if (!r->opts.max_bytes)
        r->opts.max_bytes = RECORD_MAX_BYTES_DEFAULT;
    r->adm = adm;
    record_enc_init(&r->enc);
    snprintf(r->name, sizeof(r->name), "%s" RECORD_SUFFIX, adm->audit_id);
    int n = snprintf(r->path, sizeof(r->path), "%s/%s", o->dir, r->name);
    /* A blocking open, on purpose: the refusal it may cause must come
     * before the 101, and creating one file is one metadata operation. */
    int fd = n > 0 && (size_t)n < sizeof(r->path)
                 ? open(r->path, RECORD_FILE_FLAGS, RECORD_FILE_MODE)
                 : (errno = ENAMETOOLONG, -1);
    if (fd < 0) {
        char why[RECORD_WHY_TEXT_MAX];
        snprintf(why, sizeof(why), "cannot create %s: %s", r->name, strerror(errno));
        record_free(r);
        return record_open_failed(o, adm, why, err, err_cap);
    }
    if (!(r->w = record_writer_new(loop, fd, record_writer_failed, record_writer_wrote, r))) {
        unlink(r->path);
        record_free(r);
        return record_open_failed(o, adm, "out of memory", err, err_cap);
    }
    r->start_ns = uv_hrtime();
    admission_recording_set(adm, r->name, false);
    admission_hold(adm); /* until the file is closed: record_closed */
    *out = r;
    return 0;
}

void record_abandon(struct record *r)
{
    if (!r)
        return;
    unlink(r->path);
    admission_recording_set(r->adm, "", false);
    admission_release(r->adm);
    record_writer_close(r->w, NULL, NULL);
    record_free(r);
}

void record_attach(struct record *r, struct session *session)
{
    if (!r)
        return;
    r->session = session;
    if (session_tap_add(session, &record_tap_ops, r) < 0) {
        struct admission *adm = r->adm;
        record_abandon(r);
        admission_recording_set(adm, "stopped: no room for the recorder's tap", false);
    }
}
