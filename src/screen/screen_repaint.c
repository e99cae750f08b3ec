/* screen_repaint.c - the bytes that paint the model's screen on a freshly
 * reset terminal of the same size (screen.h).
 *
 * Order: every mode set to its value explicitly (never RIS, ESC c, which
 * clears xterm.js' scrollback), SGR reset and a cleared screen; the
 * alternate screen entered when active; the cells row by row, each run of
 * erased cells with a colour or attribute erased again with that pen (ECH),
 * so that blank stays blank and a coloured erase stays one; then the scroll
 * region and origin mode (both move the cursor home, hence after the
 * cells), the pen in effect, the cursor and its visibility, the title. */
#include <stdio.h>
#include <string.h>

#include "screen/screen_internal.h"

/* Modes, title, pen and cursor around the cells. */
#define SCREEN_REPAINT_FIXED_MAX 1024u

struct screen_out {
    uint8_t *buf;
    size_t cap, len;
};

static void out_bytes(struct screen_out *o, const void *p, size_t n)
{
    if (o->len < o->cap) {
        size_t room = o->cap - o->len;
        memcpy(o->buf + o->len, p, n < room ? n : room);
    }
    o->len += n;
}

static void out_str(struct screen_out *o, const char *str)
{
    out_bytes(o, str, strlen(str));
}

static void out_fmt(struct screen_out *o, const char *fmt, unsigned a, unsigned b)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof(tmp), fmt, a, b);
    if (n > 0)
        out_bytes(o, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static void out_utf8(struct screen_out *o, uint32_t cp)
{
    uint8_t b[4];
    size_t n;
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        cp = 0xfffd;
    if (cp < 0x80) {
        b[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (uint8_t)(0xc0 | cp >> 6);
        b[1] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (uint8_t)(0xe0 | cp >> 12);
        b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
        b[2] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (uint8_t)(0xf0 | cp >> 18);
        b[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
        b[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
        b[3] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 4;
    }
    out_bytes(o, b, n);
}

/* ---- the pen ---- */

struct screen_pen {
    VTermScreenCellAttrs attrs;
    VTermColor fg, bg;
};

static bool pen_color_equal(const VTermColor *a, const VTermColor *b)
{
    if ((a->type & VTERM_COLOR_DEFAULT_MASK) || (b->type & VTERM_COLOR_DEFAULT_MASK))
        return (a->type & VTERM_COLOR_DEFAULT_MASK) == (b->type & VTERM_COLOR_DEFAULT_MASK);
    return vterm_color_is_equal(a, b);
}

static bool pen_equal(const struct screen_pen *a, const struct screen_pen *b)
{
    return a->attrs.bold == b->attrs.bold && a->attrs.underline == b->attrs.underline &&
           a->attrs.italic == b->attrs.italic && a->attrs.blink == b->attrs.blink &&
           a->attrs.reverse == b->attrs.reverse && a->attrs.strike == b->attrs.strike &&
           a->attrs.font == b->attrs.font && pen_color_equal(&a->fg, &b->fg) &&
           pen_color_equal(&a->bg, &b->bg);
}

static bool pen_is_default(const struct screen_pen *p)
{
    return !p->attrs.bold && !p->attrs.underline && !p->attrs.italic && !p->attrs.blink &&
           !p->attrs.reverse && !p->attrs.strike && !p->attrs.font &&
           VTERM_COLOR_IS_DEFAULT_FG(&p->fg) && VTERM_COLOR_IS_DEFAULT_BG(&p->bg);
}

/* 30-37/90-97 (40/100 for the background) for the 16 colours, 38;5;N for
 * the rest of the 256, 38;2;R;G;B for RGB: each as the application wrote it,
 * as libvterm keeps it. A sequence of its own for each colour: one SGR with
 * every attribute and two RGB colours has more than the 16 arguments
 * libvterm takes (screen_internal.h). */
static void pen_color_sgr(struct screen_out *o, const VTermColor *c, unsigned base, bool is_fg)
{
    if (is_fg ? VTERM_COLOR_IS_DEFAULT_FG(c) : VTERM_COLOR_IS_DEFAULT_BG(c))
        return;
    if (VTERM_COLOR_IS_INDEXED(c)) {
        unsigned idx = c->indexed.idx;
        if (idx < 8)
            out_fmt(o, "\x1b[%um", base + idx, 0);
        else if (idx < 16)
            out_fmt(o, "\x1b[%um", base + 60 + idx - 8, 0);
        else
            out_fmt(o, "\x1b[%u;5;%um", base + 8, idx);
    } else {
        out_fmt(o, "\x1b[%u;2;%u", base + 8, c->rgb.red);
        out_fmt(o, ";%u;%um", c->rgb.green, c->rgb.blue);
    }
}

static void pen_sgr(struct screen_out *o, const struct screen_pen *p)
{
    out_str(o, "\x1b[0");
    if (p->attrs.bold)
        out_str(o, ";1");
    if (p->attrs.italic)
        out_str(o, ";3");
    if (p->attrs.underline == VTERM_UNDERLINE_SINGLE)
        out_str(o, ";4");
    else if (p->attrs.underline == VTERM_UNDERLINE_DOUBLE)
        out_str(o, ";21");
    else if (p->attrs.underline == VTERM_UNDERLINE_CURLY)
        out_str(o, ";4:3");
    if (p->attrs.blink)
        out_str(o, ";5");
    if (p->attrs.reverse)
        out_str(o, ";7");
    if (p->attrs.strike)
        out_str(o, ";9");
    if (p->attrs.font)
        out_fmt(o, ";%u", 10 + p->attrs.font, 0);
    out_str(o, "m");
    pen_color_sgr(o, &p->fg, 30, true);
    pen_color_sgr(o, &p->bg, 40, false);
}

static void pen_of_cell(struct screen_pen *p, const VTermScreenCell *cell)
{
    memset(p, 0, sizeof(*p));
    p->attrs.bold = cell->attrs.bold;
    p->attrs.underline = cell->attrs.underline;
    p->attrs.italic = cell->attrs.italic;
    p->attrs.blink = cell->attrs.blink;
    p->attrs.reverse = cell->attrs.reverse;
    p->attrs.strike = cell->attrs.strike;
    p->attrs.font = cell->attrs.font;
    p->fg = cell->fg;
    p->bg = cell->bg;
}

static void pen_of_state(struct screen_pen *p, VTermState *st)
{
    VTermValue v;
    memset(p, 0, sizeof(*p));
    vterm_state_get_penattr(st, VTERM_ATTR_BOLD, &v);
    p->attrs.bold = v.boolean ? 1 : 0;
    vterm_state_get_penattr(st, VTERM_ATTR_UNDERLINE, &v);
    p->attrs.underline = (unsigned)v.number & 3u;
    vterm_state_get_penattr(st, VTERM_ATTR_ITALIC, &v);
    p->attrs.italic = v.boolean ? 1 : 0;
    vterm_state_get_penattr(st, VTERM_ATTR_BLINK, &v);
    p->attrs.blink = v.boolean ? 1 : 0;
    vterm_state_get_penattr(st, VTERM_ATTR_REVERSE, &v);
    p->attrs.reverse = v.boolean ? 1 : 0;
    vterm_state_get_penattr(st, VTERM_ATTR_STRIKE, &v);
    p->attrs.strike = v.boolean ? 1 : 0;
    vterm_state_get_penattr(st, VTERM_ATTR_FONT, &v);
    p->attrs.font = (unsigned)v.number & 15u;
    vterm_state_get_penattr(st, VTERM_ATTR_FOREGROUND, &v);
    p->fg = v.color;
    vterm_state_get_penattr(st, VTERM_ATTR_BACKGROUND, &v);
    p->bg = v.color;
}

/* ---- modes ---- */

static const struct {
    unsigned mode;
    uint32_t bit;
} screen_dec_modes[] = {
    {25, SCREEN_DEC_TCEM},          {1, SCREEN_DEC_CKM},          {7, SCREEN_DEC_AWM},
    {1004, SCREEN_DEC_FOCUS},       {2004, SCREEN_DEC_PASTE},     {9, SCREEN_DEC_MOUSE_X10},
    {1000, SCREEN_DEC_MOUSE_VT200}, {1002, SCREEN_DEC_MOUSE_BTN}, {1003, SCREEN_DEC_MOUSE_ANY},
    {1005, SCREEN_DEC_MOUSE_UTF8},  {1006, SCREEN_DEC_MOUSE_SGR}, {1015, SCREEN_DEC_MOUSE_URXVT},
};

/* Every mode off first (a terminal that had others set), the ones set
 * after: among the mouse modes the last one set wins. */
static void repaint_modes(struct screen_out *o, const struct screen_modes *m)
{
    out_str(o, "\x1b[?6l\x1b[?69l\x1b[4l\x1b[20l");
    for (size_t i = 0; i < sizeof(screen_dec_modes) / sizeof(screen_dec_modes[0]); i++)
        out_fmt(o, "\x1b[?%ul", screen_dec_modes[i].mode, 0);
    for (size_t i = 0; i < sizeof(screen_dec_modes) / sizeof(screen_dec_modes[0]); i++)
        if (m->dec & screen_dec_modes[i].bit)
            out_fmt(o, "\x1b[?%uh", screen_dec_modes[i].mode, 0);
    out_str(o, m->keypad ? "\x1b=" : "\x1b>");
    if (m->ansi & SCREEN_ANSI_IRM)
        out_str(o, "\x1b[4h");
    if (m->ansi & SCREEN_ANSI_LNM)
        out_str(o, "\x1b[20h");
}

/* ---- cells ---- */

static void repaint_row(struct screen_out *o, VTermScreen *vts, unsigned row, unsigned cols,
                        struct screen_pen *cur)
{
    bool positioned = false;
    unsigned col = 0;
    while (col < cols) {
        VTermScreenCell cell;
        vterm_screen_get_cell(vts, (VTermPos){.row = (int)row, .col = (int)col}, &cell);
        struct screen_pen pen;
        pen_of_cell(&pen, &cell);
        if (cell.chars[0] == 0) {
            /* a run of erased cells with one pen */
            unsigned n = 1;
            while (col + n < cols) {
                VTermScreenCell next;
                vterm_screen_get_cell(vts, (VTermPos){.row = (int)row, .col = (int)(col + n)},
                                      &next);
                struct screen_pen np;
                pen_of_cell(&np, &next);
                if (next.chars[0] != 0 || !pen_equal(&np, &pen))
                    break;
                n++;
            }
            if (!pen_is_default(&pen)) {
                if (!positioned)
                    out_fmt(o, "\x1b[%u;%uH", row + 1, col + 1);
                positioned = true;
                if (!pen_equal(&pen, cur)) {
                    pen_sgr(o, &pen);
                    *cur = pen;
                }
                out_fmt(o, "\x1b[%uX", n, 0);
                if (col + n < cols)
                    out_fmt(o, "\x1b[%uC", n, 0);
            } else if (positioned && col + n < cols) {
                out_fmt(o, "\x1b[%uC", n, 0);
            }
            col += n;
            continue;
        }
        if (cell.chars[0] == (uint32_t)-1) { /* right half of a wide character */
            col++;
            continue;
        }
        if (!positioned)
            out_fmt(o, "\x1b[%u;%uH", row + 1, col + 1);
        positioned = true;
        if (!pen_equal(&pen, cur)) {
            pen_sgr(o, &pen);
            *cur = pen;
        }
        for (size_t i = 0; i < VTERM_MAX_CHARS_PER_CELL && cell.chars[i]; i++)
            out_utf8(o, cell.chars[i]);
        /* A combining mark libvterm left alone in a cell joins the cell
         * before on the terminal, and the cursor does not move: what
         * follows is positioned again (box drawing, common and never
         * combining, is spared the extra bytes). */
        if (cell.width == 1 && cell.chars[0] >= 0x300 &&
            !(cell.chars[0] >= 0x2500 && cell.chars[0] <= 0x25ff))
            positioned = false;
        col += cell.width > 0 ? (unsigned)cell.width : 1;
    }
}

static void repaint_cells(struct screen_out *o, struct screen *s)
{
    struct screen_pen cur;
    memset(&cur, 0, sizeof(cur));
    cur.fg.type = VTERM_COLOR_DEFAULT_FG;
    cur.bg.type = VTERM_COLOR_DEFAULT_BG;
    if (!s->vts)
        return;
    for (unsigned row = 0; row < s->rows; row++)
        repaint_row(o, s->vts, row, s->cols, &cur);
}

/* ---- the whole ---- */

size_t screen_repaint_bound(const struct screen *s)
{
    return (size_t)s->rows * s->cols * SCREEN_REPAINT_CELL_MAX + (size_t)s->rows * 16 +
           SCREEN_REPAINT_FIXED_MAX + SCREEN_TITLE_MAX;
}

long screen_repaint(struct screen *s, uint8_t *out, size_t cap)
{
    if (s->image) { /* hibernating: the repaint it was put to sleep with */
        if (cap)
            memcpy(out, s->image, s->image_len < cap ? s->image_len : cap);
        return (long)s->image_len;
    }
    if (screen_flush(s) < 0)
        return -1;
    struct screen_out o = {out, cap, 0};
    const struct screen_modes *m = &s->modes;
    /* Start from a known state whatever the terminal had: no margins, no
     * region, primary screen, auto-wrap off while painting, default pen. */
    out_str(&o, "\x1b[!p\x1b[?1049l\x1b[r\x1b[?6l\x1b[?7l\x1b[0m\x1b[H\x1b[2J");
    if (s->alt_active)
        out_str(&o, "\x1b[?1049h\x1b[H\x1b[2J");
    repaint_cells(&o, s);
    repaint_modes(&o, m);
    if (m->top || m->bottom) {
        unsigned top = m->top ? m->top : 1;
        unsigned bottom = m->bottom ? m->bottom : s->rows;
        if (top < bottom && bottom <= s->rows)
            out_fmt(&o, "\x1b[%u;%ur", top, bottom);
    }
    if (m->dec & SCREEN_DEC_OM)
        out_str(&o, "\x1b[?6h");
    if (s->vts) {
        VTermState *st = vterm_obtain_state(s->vt);
        struct screen_pen pen;
        pen_of_state(&pen, st);
        pen_sgr(&o, &pen);
        VTermPos pos;
        vterm_state_get_cursorpos(st, &pos);
        /* libvterm 0.1.4 can leave the cursor above the screen after a
         * resize (found by fuzz_screen): the repaint puts it on the screen */
        unsigned row = pos.row < 0                    ? 0
                       : (unsigned)pos.row >= s->rows ? s->rows - 1
                                                      : (unsigned)pos.row;
        unsigned col = pos.col < 0                    ? 0
                       : (unsigned)pos.col >= s->cols ? s->cols - 1
                                                      : (unsigned)pos.col;
        /* in origin mode CUP counts from the region's top */
        if ((m->dec & SCREEN_DEC_OM) && m->top > 1 && row + 1 >= m->top)
            row -= m->top - 1;
        out_fmt(&o, "\x1b[%u;%uH", row + 1, col + 1);
    } else {
        out_str(&o, "\x1b[0m\x1b[H");
    }
    if (m->title_len) {
        out_str(&o, "\x1b]2;");
        out_bytes(&o, m->title, m->title_len);
        out_str(&o, "\x07");
    }
    return (long)o.len;
}
