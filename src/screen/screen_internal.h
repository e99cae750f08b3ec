/* screen_internal.h - the pieces of the screen model (screen.h) and what
 * its tests and fuzz target look at. */
#ifndef PODTERM_SCREEN_INTERNAL_H
#define PODTERM_SCREEN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vterm.h>

#include "screen/screen.h"

/* ---- screen_modes.c: the modes and title libvterm keeps private ----
 *
 * libvterm 0.1.4 applies DECCKM, keypad, bracketed paste, mouse modes,
 * auto-wrap, origin mode and the scroll region, but has no public getter for
 * them, and loses an OSC title split across two writes. This small VT500
 * style parser reads the same bytes for those alone. It also says when the
 * stream is between sequences (ground), which screen.c needs to defer text. */
#define SCREEN_PARAMS_MAX 16
#define SCREEN_PARAM_MAX 65535u
/* libvterm 0.1.4 writes past its 16 CSI arguments (a crash, found by
 * fuzz_screen): a CSI reaching this many separators is cut for libvterm
 * (screen.c) and ignored here. */
#define SCREEN_VTERM_SEPS_MAX 16u

/* DEC private modes kept, as bits of screen_modes.dec. */
enum screen_dec_mode {
    SCREEN_DEC_CKM = 1u << 0,          /* ?1 application cursor keys */
    SCREEN_DEC_OM = 1u << 1,           /* ?6 origin mode */
    SCREEN_DEC_AWM = 1u << 2,          /* ?7 auto-wrap */
    SCREEN_DEC_TCEM = 1u << 3,         /* ?25 cursor visible */
    SCREEN_DEC_LRMM = 1u << 4,         /* ?69 left/right margins (only to know they may be set) */
    SCREEN_DEC_MOUSE_X10 = 1u << 5,    /* ?9 */
    SCREEN_DEC_MOUSE_VT200 = 1u << 6,  /* ?1000 clicks */
    SCREEN_DEC_MOUSE_BTN = 1u << 7,    /* ?1002 drags */
    SCREEN_DEC_MOUSE_ANY = 1u << 8,    /* ?1003 all motion */
    SCREEN_DEC_FOCUS = 1u << 9,        /* ?1004 focus events */
    SCREEN_DEC_MOUSE_UTF8 = 1u << 10,  /* ?1005 */
    SCREEN_DEC_MOUSE_SGR = 1u << 11,   /* ?1006 */
    SCREEN_DEC_MOUSE_URXVT = 1u << 12, /* ?1015 */
    SCREEN_DEC_PASTE = 1u << 13,       /* ?2004 bracketed paste */
    SCREEN_DEC_ALT = 1u << 14,         /* ?47, ?1047 or ?1049 seen set */
};
/* ANSI modes kept, as bits of screen_modes.ansi. */
enum screen_ansi_mode {
    SCREEN_ANSI_IRM = 1u << 0, /* 4 insert */
    SCREEN_ANSI_LNM = 1u << 1, /* 20 LF also returns */
};

enum screen_parse_state {
    SCREEN_PARSE_GROUND,
    SCREEN_PARSE_ESC,
    SCREEN_PARSE_ESC_INTER,
    SCREEN_PARSE_CSI,
    SCREEN_PARSE_OSC,
    SCREEN_PARSE_STR, /* DCS, SOS, PM, APC: skipped */
};

struct screen_modes {
    uint32_t dec, ansi;
    bool keypad;          /* DECKPAM (ESC =) */
    unsigned rows;        /* the screen's height, for DECSTBM's defaults */
    unsigned top, bottom; /* DECSTBM, 1-based; 0,0: the whole screen */
    bool region_seen;     /* a DECSTBM since the last resize, even one ignored here
                           * (libvterm 0.1.4 keeps a bottom past the screen's) */
    bool region_set;      /* libvterm may hold a region other than the whole screen */
    char title[SCREEN_TITLE_MAX + 1];
    size_t title_len;
    /* parser */
    enum screen_parse_state state;
    bool str_esc; /* ESC seen inside a string: ST when '\' follows */
    uint8_t leader, inter;
    unsigned params[SCREEN_PARAMS_MAX];
    size_t nparams;
    bool param_open;
    unsigned seps; /* ';' and ':' in this CSI */
    bool overlong; /* this CSI reached SCREEN_VTERM_SEPS_MAX: libvterm must not see the rest */
    uint8_t osc[SCREEN_TITLE_MAX + 8];
    size_t osc_len;
    bool osc_over;
};

void screen_modes_init(struct screen_modes *m, unsigned rows);
/* Every byte of the stream, in order. */
void screen_modes_feed(struct screen_modes *m, const uint8_t *data, size_t len);
/* Between sequences: printable text and CR/LF leave the parser as it is,
 * so the caller may skip it over them. */
static inline bool screen_modes_ground(const struct screen_modes *m)
{
    return m->state == SCREEN_PARSE_GROUND;
}
/* The terminal was resized: the scroll region ends (as in xterm). */
void screen_modes_resize(struct screen_modes *m, unsigned rows);

/* ---- screen.c ---- */
/* The longest SGR or EL deferred with the text (longer ones go the slow way). */
#define SCREEN_CARRY_MAX 48u
struct screen {
    VTerm *vt; /* NULL until the first output or a resize */
    VTermScreen *vts;
    unsigned cols, rows;
    bool alt_enabled; /* libvterm's alternate buffer is allocated */
    bool alt_active;  /* libvterm's ALTSCREEN property */
    size_t vt_bytes;  /* held by libvterm now (its allocator) */
    struct screen_modes modes;
    /* Text not yet given to libvterm (see screen.c: deferred text). */
    uint8_t *pending;
    size_t pending_len, pending_cap;
    uint8_t carry[SCREEN_CARRY_MAX]; /* the start of an SGR or EL split across writes */
    size_t carry_len;
    bool defer;  /* deferred text may be trimmed (default on) */
    bool failed; /* an allocation failed: the model is stale */
    /* Hibernating (screen_hibernate): no libvterm, the screen kept as its
     * repaint, which wakes it on the next output or resize. */
    uint8_t *image;
    size_t image_len;
};

/* The model with every deferred byte applied (NULL before any output). */
VTermScreen *screen_vterm(struct screen *s);
/* Apply the deferred text; -1 when out of memory. */
int screen_flush(struct screen *s);
/* Deferred text is trimmed (screen.c); 0 turns it off (tests, fuzzing). */
void screen_set_defer(struct screen *s, bool on);

#endif
