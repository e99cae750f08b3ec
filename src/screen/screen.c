/* screen.c - the screen model: libvterm fed with a session's output, with
 * its memory counted and bounded (screen.h).
 *
 * Deferred text. libvterm costs ~60 ns a byte on plain text at 80x24 (more
 * on bigger screens: every line that scrolls moves the whole buffer), which
 * would cap a tty session at ~15 MB/s where the PTY gives ~70. But a fast
 * stream is mostly text that scrolls away before anyone looks. So printable
 * ASCII, CR, LF, SGR and EL met between other sequences are kept in a
 * bounded buffer instead of parsed; when it fills, the part of it that
 * cannot reach the screen is dropped unparsed, and the rest goes to
 * libvterm before anything else does (any other byte, a resize, a repaint). Dropping a prefix is
 * exact when what follows starts from the same cursor column and scrolls
 * every row of the screen away:
 *  - cut just before a CR (the column is 0 after it) followed by at least
 *    2 x rows line advances (LF, or a wrap at the right margin): at most
 *    rows-1 of them bring the cursor to the bottom, rows more scroll out
 *    every row the dropped bytes could have touched; the SGRs of the
 *    dropped part that make the pen at the cut are kept (SGR and EL move
 *    no cursor; they are counted as ending a pending wrap, to count low);
 *  - or, with no CR, LF or sequence at all, cut a multiple of the width
 *    (the column and a pending wrap are then what they were) leaving at
 *    least 2 x rows + 1 full widths of text, with auto-wrap on.
 * Both need the scroll region to be the whole screen, no left/right margin
 * mode and no LNM; deferring without dropping is always exact. The fuzz
 * target checks the result against libvterm fed every byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "screen/screen_internal.h"

/* The deferred text buffer: room for twice what a cut keeps, within
 * these bounds (a screen too big for the upper one is fed directly). */
#define SCREEN_PENDING_MIN (16u * 1024u)
#define SCREEN_PENDING_MAX (256u * 1024u)
/* The allocator's header before each block, to count frees. */
#define SCREEN_ALLOC_HEADER 16u

/* libvterm's cell buffers (36 bytes a cell: 69 KiB at 80x24) are mapped
 * on their own, so that a model that hibernates gives the memory back to
 * the system at once: glibc keeps blocks under its 128 KiB mmap threshold
 * in the heap, where freeing them does not lower the RSS. Not under the
 * sanitizers, whose allocator must see every block to check it. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SCREEN_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define SCREEN_SANITIZED 1
#endif
#ifdef SCREEN_SANITIZED
#define SCREEN_MMAP_MIN SIZE_MAX
#else
#define SCREEN_MMAP_MIN (16u * 1024u)
#endif

static void *screen_alloc(size_t size, void *allocdata)
{
    struct screen *s = allocdata;
    size_t total = size + SCREEN_ALLOC_HEADER;
    uint8_t *p;
    if (size >= SCREEN_MMAP_MIN) {
        p = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return NULL;
    } else if (!(p = calloc(1, total))) {
        return NULL;
    }
    memcpy(p, &size, sizeof(size));
    s->vt_bytes += size;
    return p + SCREEN_ALLOC_HEADER;
}

static void screen_alloc_free(void *ptr, void *allocdata)
{
    struct screen *s = allocdata;
    if (!ptr)
        return;
    uint8_t *p = (uint8_t *)ptr - SCREEN_ALLOC_HEADER;
    size_t size;
    memcpy(&size, p, sizeof(size));
    s->vt_bytes -= size;
    if (size >= SCREEN_MMAP_MIN)
        munmap(p, size + SCREEN_ALLOC_HEADER);
    else
        free(p);
}

static VTermAllocatorFunctions screen_allocator = {screen_alloc, screen_alloc_free};

static int screen_on_termprop(VTermProp prop, VTermValue *val, void *user)
{
    struct screen *s = user;
    if (prop == VTERM_PROP_ALTSCREEN)
        s->alt_active = val->boolean;
    return 1;
}

static const VTermScreenCallbacks screen_callbacks = {.settermprop = screen_on_termprop};

static unsigned screen_clamp(unsigned v, unsigned min, unsigned max)
{
    return v < min ? min : v > max ? max : v;
}

struct screen *screen_new(unsigned width, unsigned height)
{
    struct screen *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->cols = screen_clamp(width, SCREEN_COLS_MIN, SCREEN_COLS_MAX);
    s->rows = screen_clamp(height, 1, SCREEN_ROWS_MAX);
    s->defer = true;
    screen_modes_init(&s->modes, s->rows);
    return s;
}

void screen_free(struct screen *s)
{
    if (!s)
        return;
    if (s->vt)
        vterm_free(s->vt);
    free(s->pending);
    free(s->image);
    free(s);
}

int screen_hibernate(struct screen *s)
{
    if (s->failed || !s->vt || s->carry_len || !screen_modes_ground(&s->modes))
        return 0; /* nothing to give back, or a sequence the repaint would lose */
    long n = screen_repaint(s, NULL, 0);
    uint8_t *image = n > 0 ? malloc((size_t)n) : NULL;
    if (!image || screen_repaint(s, image, (size_t)n) != n) {
        free(image);
        return -1;
    }
    vterm_free(s->vt);
    s->vt = NULL;
    s->vts = NULL;
    s->vt_bytes = 0;
    s->alt_enabled = s->alt_active = false; /* the image enters it again */
    free(s->pending);
    s->pending = NULL;
    s->pending_len = s->pending_cap = 0;
    s->image = image;
    s->image_len = (size_t)n;
    return 0;
}

/* Output or a resize after hibernating: a fresh libvterm fed the image. */
static int screen_wake(struct screen *s)
{
    uint8_t *image = s->image;
    size_t n = s->image_len;
    s->image = NULL;
    s->image_len = 0;
    int rc = screen_feed(s, image, n);
    free(image);
    return rc;
}

/* libvterm's cells are allocated on the first output: an idle session
 * holds none. */
static int screen_vt_create(struct screen *s)
{
    s->vt = vterm_new_with_allocator((int)s->rows, (int)s->cols, &screen_allocator, s);
    if (!s->vt) {
        s->failed = true;
        return -1;
    }
    vterm_set_utf8(s->vt, 1);
    s->vts = vterm_obtain_screen(s->vt);
    vterm_screen_set_callbacks(s->vts, &screen_callbacks, s);
    /* libvterm 0.1.4 loops forever on REP (CSI b) before any character was
     * printed (found by fuzz_screen; a program's first bytes could hang the
     * server): one is printed, then the screen reset. A REP first thing
     * then repeats that "x" where a terminal repeats nothing. */
    vterm_screen_reset(s->vts, 1);
    /* in the last cell, where no later combining mark can join it (libvterm
     * remembers where the last character went) */
    char prime[32];
    int n = snprintf(prime, sizeof(prime), "\x1b[%u;%uHx", s->rows, s->cols);
    if (n > 0 && (size_t)n < sizeof(prime))
        vterm_input_write(s->vt, prime, (size_t)n);
    vterm_screen_reset(s->vts, 1);
    return 0;
}

static void screen_vt_write(struct screen *s, const uint8_t *data, size_t len)
{
    /* The alternate buffer costs a second screen of cells: allocated only
     * once an application asks for it (the modes parser has seen the
     * request in these bytes, before libvterm gets them). */
    if (!s->alt_enabled && (s->modes.dec & SCREEN_DEC_ALT)) {
        vterm_screen_enable_altscreen(s->vts, 1);
        s->alt_enabled = true;
    }
    vterm_input_write(s->vt, (const char *)data, len);
}

int screen_flush(struct screen *s)
{
    if (s->pending_len && s->vt)
        screen_vt_write(s, s->pending, s->pending_len);
    s->pending_len = 0;
    return s->failed ? -1 : 0;
}

static bool screen_byte_deferrable(uint8_t c)
{
    return (c >= 0x20 && c < 0x7f) || c == '\r' || c == '\n';
}

/* The longest SGR or EL deferred with the text (longer ones go the slow way). */
#define SCREEN_DEFER_SEQ_MAX SCREEN_CARRY_MAX

/* A complete SGR (CSI Pm m) or EL (CSI Ps K) at p: its length; 0 for
 * anything else; SCREEN_SEQ_PARTIAL when [p, p+len) is the start of one.
 * Both change no cursor position and nothing the modes parser keeps, so
 * they may wait in the deferred text: coloured output (ls, grep,
 * compilers) stays fast. At most SCREEN_VTERM_SEPS_MAX - 1 separators
 * (libvterm's limit). */
#define SCREEN_SEQ_PARTIAL ((size_t)-1)

static size_t screen_seq_scan(const uint8_t *p, size_t len)
{
    if (len < 1 || p[0] != 0x1b)
        return 0;
    if (len < 2)
        return SCREEN_SEQ_PARTIAL;
    if (p[1] != '[')
        return 0;
    unsigned seps = 0;
    for (size_t i = 2; i < SCREEN_DEFER_SEQ_MAX; i++) {
        if (i >= len)
            return SCREEN_SEQ_PARTIAL;
        uint8_t c = p[i];
        if (c == ';' || c == ':') {
            if (++seps >= SCREEN_VTERM_SEPS_MAX)
                return 0;
        } else if (c == 'm' || (c == 'K' && seps == 0)) {
            return i + 1;
        } else if (c < '0' || c > '9') {
            return 0;
        }
    }
    return 0;
}

static size_t screen_seq_deferrable(const uint8_t *p, size_t len)
{
    size_t n = screen_seq_scan(p, len);
    return n == SCREEN_SEQ_PARTIAL ? 0 : n;
}

/* An SGR that starts from the default pen (its first parameter is 0 or
 * empty): the pen after it does not depend on any before. */
static bool screen_sgr_resets(const uint8_t *p, size_t n)
{
    return p[n - 1] == 'm' &&
           (p[2] == 'm' || p[2] == ';' || (p[2] == '0' && (p[3] == ';' || p[3] == 'm')));
}

static bool screen_can_drop(const struct screen *s)
{
    const struct screen_modes *m = &s->modes;
    return s->defer && !(m->dec & SCREEN_DEC_LRMM) && !(m->ansi & SCREEN_ANSI_LNM) &&
           !m->region_set;
}

/* One step of the line-advance count over deferred text: the byte or
 * deferred sequence at p[*i]. Counted low: an LF, SGR or EL in the
 * pending-wrap state is taken to clear it. */
static inline void screen_count_step(const struct screen *s, const uint8_t *p, size_t len,
                                     size_t *i, size_t *col, size_t *adv)
{
    uint8_t c = p[*i];
    if (c == 0x1b) {
        size_t n = screen_seq_deferrable(p + *i, len - *i);
        *i += n ? n : 1;
        if (*col >= s->cols)
            *col = s->cols - 1;
        return;
    }
    (*i)++;
    if (c == '\r') {
        *col = 0;
    } else if (c == '\n') {
        (*adv)++;
        if (*col >= s->cols)
            *col = s->cols - 1;
    } else {
        if (*col >= s->cols && (s->modes.dec & SCREEN_DEC_AWM)) {
            (*adv)++;
            *col = 0;
        }
        if (*col < s->cols)
            (*col)++;
    }
}

/* Where to cut: the last CR with at least 2 x rows line advances after it
 * (0: none). */
static size_t screen_cut_at_cr(const struct screen *s, const uint8_t *p, size_t len)
{
    size_t need = 2 * (size_t)s->rows;
    const uint8_t *cr = memchr(p, '\r', len);
    if (!cr)
        return 0;
    size_t first = (size_t)(cr - p);
    /* pass 1: advances from the first CR to the end */
    size_t adv = 0, col = 0;
    for (size_t i = first; i < len;)
        screen_count_step(s, p, len, &i, &col, &adv);
    if (adv < need)
        return 0;
    /* pass 2: the last CR with at least `need` advances after it */
    size_t total = adv, cut = 0;
    adv = 0;
    col = 0;
    for (size_t i = first; i < len && total - adv >= need;) {
        if (p[i] == '\r')
            cut = i;
        screen_count_step(s, p, len, &i, &col, &adv);
    }
    return cut;
}

/* With no CR, LF or sequence at all: a multiple of the width. */
static size_t screen_cut_in_text(const struct screen *s, const uint8_t *p, size_t len)
{
    if (!(s->modes.dec & SCREEN_DEC_AWM))
        return 0;
    if (memchr(p, '\r', len) || memchr(p, '\n', len) || memchr(p, 0x1b, len))
        return 0;
    size_t keep = (2 * (size_t)s->rows + 1) * s->cols;
    if (len <= keep)
        return 0;
    return (len - keep) / s->cols * s->cols;
}

/* The SGRs of p[0, cut) that make the pen at cut: those from the last one
 * that starts from the default pen on. Returns their total length, or
 * (size_t)-1 when more than max; with move, also moves them to the front
 * (only once the cut is decided: it overwrites the prefix). */
static size_t screen_keep_pen(uint8_t *p, size_t cut, size_t max, bool move)
{
    size_t from = 0;
    for (const uint8_t *e = memchr(p, 0x1b, cut); e;
         e = memchr(e + 1, 0x1b, cut - (size_t)(e + 1 - p))) {
        size_t n = screen_seq_deferrable(e, cut - (size_t)(e - p));
        if (n && screen_sgr_resets(e, n))
            from = (size_t)(e - p);
        if (e + 1 >= p + cut)
            break;
    }
    size_t kept = 0;
    for (size_t i = from; i < cut;) {
        const uint8_t *e = memchr(p + i, 0x1b, cut - i);
        if (!e)
            break;
        i = (size_t)(e - p);
        size_t n = screen_seq_deferrable(p + i, cut - i);
        if (n && p[i + n - 1] == 'm') {
            if (kept + n > max)
                return (size_t)-1;
            if (move)
                memmove(p + kept, p + i, n);
            kept += n;
        }
        i += n ? n : 1;
    }
    return kept;
}

/* The pending buffer is full: drop what cannot reach the screen, or give
 * it all to libvterm. */
static void screen_pending_trim(struct screen *s)
{
    size_t cut = 0, kept = 0;
    if (screen_can_drop(s)) {
        cut = screen_cut_at_cr(s, s->pending, s->pending_len);
        if (cut)
            kept = screen_keep_pen(s->pending, cut, s->pending_cap / 8, false);
        else
            cut = screen_cut_in_text(s, s->pending, s->pending_len);
    }
    if (kept != (size_t)-1 && cut >= kept + s->pending_cap / 4) {
        if (kept)
            screen_keep_pen(s->pending, cut, kept, true);
        memmove(s->pending + kept, s->pending + cut, s->pending_len - cut);
        s->pending_len -= cut - kept;
    } else {
        screen_flush(s);
    }
}

static size_t screen_pending_cap(const struct screen *s)
{
    size_t want = 2 * (2 * (size_t)s->rows + 2) * ((size_t)s->cols + 2);
    return want < SCREEN_PENDING_MIN ? SCREEN_PENDING_MIN : want;
}

static int screen_defer(struct screen *s, const uint8_t *data, size_t len)
{
    if (!s->defer || screen_pending_cap(s) > SCREEN_PENDING_MAX) {
        screen_vt_write(s, data, len);
        return 0;
    }
    if (!s->pending) {
        s->pending_cap = screen_pending_cap(s);
        s->pending = malloc(s->pending_cap);
        if (!s->pending) {
            s->failed = true;
            return -1;
        }
    }
    while (len > 0) {
        if (s->pending_len == s->pending_cap)
            screen_pending_trim(s);
        size_t n = s->pending_cap - s->pending_len;
        if (n > len)
            n = len;
        memcpy(s->pending + s->pending_len, data, n);
        s->pending_len += n;
        data += n;
        len -= n;
    }
    return 0;
}

/* An over-long CSI ends, for libvterm, with this: an intermediate and a
 * final no function has, so that it is ignored. */
#define SCREEN_CSI_CUT "/~"

/* Bytes that are not deferred text, through the modes parser and on to
 * libvterm, up to where text between sequences starts again. Returns how
 * many were taken. */
static size_t screen_feed_sequences(struct screen *s, const uint8_t *data, size_t len)
{
    size_t i = 0, j = 0; /* data[i..j) goes to libvterm */
    do {
        uint8_t c = data[j];
        bool dropping = s->modes.overlong;
        screen_modes_feed(&s->modes, &c, 1);
        if (dropping) {
            /* the rest of a cut CSI and its final byte; an ESC, CAN or SUB
             * that ends it otherwise still goes to libvterm */
            if (s->modes.state == SCREEN_PARSE_CSI || (c >= 0x40 && c <= 0x7e))
                i = j + 1;
        } else if (s->modes.overlong) {
            screen_vt_write(s, data + i, j - i);
            screen_vt_write(s, (const uint8_t *)SCREEN_CSI_CUT, sizeof(SCREEN_CSI_CUT) - 1);
            i = j + 1;
        }
        j++;
    } while (j < len && !(screen_modes_ground(&s->modes) && screen_byte_deferrable(data[j])));
    if (j > i)
        screen_vt_write(s, data + i, j - i);
    return j;
}

/* The start of an SGR or EL the output split across writes waits in
 * s->carry for the rest, so that the split does not flush the deferred
 * text; what turns out to be something else takes the usual way. */
static void screen_carry_flush(struct screen *s)
{
    if (!s->carry_len)
        return;
    size_t n = s->carry_len;
    s->carry_len = 0;
    screen_flush(s);
    for (size_t i = 0; i < n;)
        i += screen_feed_sequences(s, s->carry + i, n - i);
}

/* Bytes of data completing the carried sequence; returns how many it took. */
static size_t screen_carry_take(struct screen *s, const uint8_t *data, size_t len)
{
    size_t took = 0;
    while (took < len && s->carry_len < sizeof(s->carry)) {
        s->carry[s->carry_len++] = data[took++];
        size_t n = screen_seq_scan(s->carry, s->carry_len);
        if (n == SCREEN_SEQ_PARTIAL)
            continue;
        if (n == s->carry_len) {
            s->carry_len = 0;
            screen_defer(s, s->carry, n);
        } else {
            screen_carry_flush(s);
        }
        return took;
    }
    if (s->carry_len == sizeof(s->carry))
        screen_carry_flush(s);
    return took;
}

int screen_feed(struct screen *s, const uint8_t *data, size_t len)
{
    /* No cells for nothing: a session's first, empty, output frame must
     * not cost an idle session the model's memory. */
    if (len == 0)
        return s->failed ? -1 : 0;
    if (s->image && screen_wake(s) < 0)
        return -1;
    if (s->failed || (!s->vt && screen_vt_create(s) < 0))
        return -1;
    size_t i = 0;
    while (i < len) {
        if (screen_modes_ground(&s->modes)) {
            if (s->carry_len) {
                i += screen_carry_take(s, data + i, len - i);
                continue;
            }
            size_t j = i;
            while (j < len) {
                size_t n = screen_byte_deferrable(data[j]) ? 1
                           : data[j] == 0x1b               ? screen_seq_scan(data + j, len - j)
                                                           : 0;
                if (n == SCREEN_SEQ_PARTIAL && s->defer) {
                    /* the rest comes with the next write */
                    if (j > i && screen_defer(s, data + i, j - i) < 0)
                        return -1;
                    memcpy(s->carry, data + j, len - j);
                    s->carry_len = len - j;
                    return s->failed ? -1 : 0;
                }
                if (!n || n == SCREEN_SEQ_PARTIAL)
                    break;
                j += n;
            }
            if (j > i) {
                if (screen_defer(s, data + i, j - i) < 0)
                    return -1;
                i = j;
                continue;
            }
        }
        /* Anything else: libvterm gets what was deferred first, then these
         * bytes up to the next text between sequences. */
        screen_flush(s);
        i += screen_feed_sequences(s, data + i, len - i);
    }
    return s->failed ? -1 : 0;
}

/* Bytes of our own for libvterm between two of the output's: a sequence
 * the output left unfinished is abandoned first (CAN), in libvterm and in
 * the modes parser alike. */
static void screen_vt_inject(struct screen *s, const char *cmd, size_t len)
{
    if (!screen_modes_ground(&s->modes)) {
        screen_modes_feed(&s->modes, (const uint8_t *)"\x18", 1);
        vterm_input_write(s->vt, "\x18", 1);
    }
    screen_feed_sequences(s, (const uint8_t *)cmd, len);
}

/* Put libvterm's cursor at row, col (0-based), clamped to the screen. */
static void screen_vt_cursor_set(struct screen *s, int row, int col)
{
    row = row < 0 ? 0 : row >= (int)s->rows ? (int)s->rows - 1 : row;
    col = col < 0 ? 0 : col >= (int)s->cols ? (int)s->cols - 1 : col;
    char cmd[32];
    int n = snprintf(cmd, sizeof(cmd), "\x1b[%d;%dH", row + 1, col + 1);
    if (n > 0 && (size_t)n < sizeof(cmd))
        screen_vt_inject(s, cmd, (size_t)n);
}

/* A resize ends any scroll region, as in xterm and xterm.js. libvterm 0.1.4
 * keeps one that no longer fits and then scrolls with a negative length (a
 * crash, found by fuzz_screen), so it is told before it resizes: DECSTBM
 * with no arguments, then the cursor put back (DECSTBM moves it home). */
static void screen_vt_region_reset(struct screen *s)
{
    VTermPos pos;
    vterm_state_get_cursorpos(vterm_obtain_state(s->vt), &pos);
    screen_vt_inject(s, "\x1b[r", 3);
    screen_vt_cursor_set(s, pos.row, pos.col);
}

/* libvterm 0.1.4 can leave the cursor off the screen after a resize (a row
 * above it), and the next erase there writes through NULL (a crash, found
 * by fuzz_screen): the cursor goes to the nearest cell. */
static void screen_vt_cursor_fit(struct screen *s)
{
    VTermPos pos;
    vterm_state_get_cursorpos(vterm_obtain_state(s->vt), &pos);
    if (pos.row < 0 || pos.row >= (int)s->rows || pos.col < 0 || pos.col >= (int)s->cols)
        screen_vt_cursor_set(s, pos.row, pos.col);
}

int screen_resize(struct screen *s, unsigned width, unsigned height)
{
    if (s->failed)
        return -1;
    unsigned cols = screen_clamp(width, SCREEN_COLS_MIN, SCREEN_COLS_MAX);
    unsigned rows = screen_clamp(height, 1, SCREEN_ROWS_MAX);
    if (cols == s->cols && rows == s->rows)
        return 0;
    if (s->image && screen_wake(s) < 0)
        return -1;
    screen_carry_flush(s);
    screen_flush(s);
    if (s->vt && s->modes.region_seen)
        screen_vt_region_reset(s);
    /* the deferred text's room depends on the size */
    free(s->pending);
    s->pending = NULL;
    s->pending_cap = 0;
    s->cols = cols;
    s->rows = rows;
    screen_modes_resize(&s->modes, rows);
    if (s->vt) {
        vterm_set_size(s->vt, (int)rows, (int)cols);
        screen_vt_cursor_fit(s);
    }
    return s->failed ? -1 : 0;
}

VTermScreen *screen_vterm(struct screen *s)
{
    if (s->image)
        screen_wake(s);
    screen_flush(s);
    return s->vts;
}

void screen_set_defer(struct screen *s, bool on)
{
    screen_carry_flush(s);
    screen_flush(s);
    s->defer = on;
}

void screen_size(const struct screen *s, unsigned *width, unsigned *height)
{
    *width = s->cols;
    *height = s->rows;
}

size_t screen_memory(const struct screen *s)
{
    return sizeof(*s) + s->vt_bytes + (s->pending ? s->pending_cap : 0) + s->image_len;
}
