/* screen_modes.c - the modes, scroll region and title of a terminal stream,
 * which libvterm applies but does not let us read (screen_internal.h).
 *
 * A VT500-style parser reduced to what it keeps: DECSET/DECRST (CSI ? Pm
 * h/l), SM/RM (CSI Pm h/l), DECSTBM (CSI Pt;Pb r), DECSTR (CSI ! p), RIS
 * (ESC c), DECKPAM/DECKPNM (ESC = / ESC >) and OSC 0/2. It follows
 * libvterm's parser where the two could disagree on where a sequence ends:
 * C0 controls inside CSI run without ending it, ESC starts a new sequence,
 * CAN and SUB abandon one, BEL or ESC \ end a string. */
#include <string.h>

#include "screen/screen_internal.h"

static const uint32_t SCREEN_DEC_DEFAULTS = SCREEN_DEC_AWM | SCREEN_DEC_TCEM;

void screen_modes_init(struct screen_modes *m, unsigned rows)
{
    memset(m, 0, sizeof(*m));
    m->rows = rows;
    m->dec = SCREEN_DEC_DEFAULTS;
}

/* DECSTR, as xterm.js (the web terminal) does it: cursor keys, keypad,
 * origin and insert mode, the margins back to their defaults, the cursor
 * shown, auto-wrap on; mouse, paste and focus reporting stay. libvterm
 * 0.1.4 ignores DECSTR (its cells are not affected either way). */
static void screen_modes_soft_reset(struct screen_modes *m)
{
    m->dec &= ~(SCREEN_DEC_CKM | SCREEN_DEC_OM);
    m->dec |= SCREEN_DEC_AWM | SCREEN_DEC_TCEM;
    m->ansi &= ~SCREEN_ANSI_IRM;
    m->keypad = false;
    m->top = m->bottom = 0;
}

/* RIS: every mode back to its default, the title kept (as xterm.js). */
static void screen_modes_hard_reset(struct screen_modes *m)
{
    m->dec = SCREEN_DEC_DEFAULTS;
    m->ansi = 0;
    m->keypad = false;
    m->top = m->bottom = 0;
}

static uint32_t screen_dec_bit(unsigned mode)
{
    switch (mode) {
    case 1:
        return SCREEN_DEC_CKM;
    case 6:
        return SCREEN_DEC_OM;
    case 7:
        return SCREEN_DEC_AWM;
    case 25:
        return SCREEN_DEC_TCEM;
    case 69:
        return SCREEN_DEC_LRMM;
    case 9:
        return SCREEN_DEC_MOUSE_X10;
    case 1000:
        return SCREEN_DEC_MOUSE_VT200;
    case 1002:
        return SCREEN_DEC_MOUSE_BTN;
    case 1003:
        return SCREEN_DEC_MOUSE_ANY;
    case 1004:
        return SCREEN_DEC_FOCUS;
    case 1005:
        return SCREEN_DEC_MOUSE_UTF8;
    case 1006:
        return SCREEN_DEC_MOUSE_SGR;
    case 1015:
        return SCREEN_DEC_MOUSE_URXVT;
    case 2004:
        return SCREEN_DEC_PASTE;
    case 47:
    case 1047:
    case 1049:
        return SCREEN_DEC_ALT;
    default:
        return 0;
    }
}

/* The mouse reporting modes exclude each other (the last one set wins), as
 * do the encodings. */
static const uint32_t SCREEN_DEC_MOUSE_TRACKING =
    SCREEN_DEC_MOUSE_X10 | SCREEN_DEC_MOUSE_VT200 | SCREEN_DEC_MOUSE_BTN | SCREEN_DEC_MOUSE_ANY;
static const uint32_t SCREEN_DEC_MOUSE_ENCODING =
    SCREEN_DEC_MOUSE_UTF8 | SCREEN_DEC_MOUSE_SGR | SCREEN_DEC_MOUSE_URXVT;

static void screen_modes_dec_set(struct screen_modes *m, unsigned mode, bool on)
{
    uint32_t bit = screen_dec_bit(mode);
    if (!bit)
        return;
    if (on && (bit & SCREEN_DEC_MOUSE_TRACKING))
        m->dec &= ~SCREEN_DEC_MOUSE_TRACKING;
    if (on && (bit & SCREEN_DEC_MOUSE_ENCODING))
        m->dec &= ~SCREEN_DEC_MOUSE_ENCODING;
    m->dec = on ? m->dec | bit : m->dec & ~bit;
}

static void screen_modes_csi(struct screen_modes *m, uint8_t final)
{
    if (m->inter == '!' && final == 'p' && !m->leader) {
        screen_modes_soft_reset(m);
        return;
    }
    if (m->inter)
        return;
    if (final == 'h' || final == 'l') {
        bool on = final == 'h';
        for (size_t i = 0; i < m->nparams; i++) {
            if (m->leader == '?')
                screen_modes_dec_set(m, m->params[i], on);
            else if (!m->leader && (m->params[i] == 4 || m->params[i] == 20)) {
                uint32_t bit = m->params[i] == 4 ? SCREEN_ANSI_IRM : SCREEN_ANSI_LNM;
                m->ansi = on ? m->ansi | bit : m->ansi & ~bit;
            }
        }
    } else if (final == 'r' && !m->leader) {
        /* as xterm: missing or 0 is the edge, a bottom past the screen is
         * its last row, and a region of fewer than two rows is ignored */
        m->region_seen = true;
        /* libvterm keeps what it was given here, even what xterm ignores:
         * only an explicit reset makes its region the whole screen again */
        m->region_set = m->nparams > 0 && (m->params[0] || (m->nparams > 1 && m->params[1]));
        unsigned top = m->nparams > 0 && m->params[0] ? m->params[0] : 1;
        unsigned bottom = m->nparams > 1 && m->params[1] ? m->params[1] : m->rows;
        if (bottom > m->rows)
            bottom = m->rows;
        if (top < bottom) {
            bool full = top == 1 && bottom == m->rows;
            m->top = full ? 0 : top;
            m->bottom = full ? 0 : bottom;
        }
    }
}

static void screen_modes_title_take(struct screen_modes *m)
{
    /* "0;" or "2;" then the title; anything else (icon name, colours,
     * hyperlinks, clipboard) is not kept. */
    if (m->osc_len < 2 || (m->osc[0] != '0' && m->osc[0] != '2') || m->osc[1] != ';')
        return;
    size_t n = m->osc_len - 2;
    if (n > SCREEN_TITLE_MAX)
        n = SCREEN_TITLE_MAX;
    /* Cut at a UTF-8 boundary, and keep no control bytes: the title is
     * written back inside an OSC. */
    while (n > 0 && n < m->osc_len - 2 && (m->osc[2 + n] & 0xc0) == 0x80)
        n--;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = m->osc[2 + i];
        if (c >= 0x20 && c != 0x7f)
            m->title[o++] = (char)c;
    }
    m->title[o] = '\0';
    m->title_len = o;
}

static void screen_modes_esc(struct screen_modes *m, uint8_t c)
{
    switch (c) {
    case '[':
        m->state = SCREEN_PARSE_CSI;
        m->leader = m->inter = 0;
        m->nparams = 0;
        m->seps = 0;
        m->overlong = false;
        m->param_open = false;
        return;
    case ']':
        m->state = SCREEN_PARSE_OSC;
        m->osc_len = 0;
        m->osc_over = false;
        return;
    case 'P':
    case 'X':
    case '^':
    case '_':
        m->state = SCREEN_PARSE_STR;
        return;
    case '=':
        m->keypad = true;
        break;
    case '>':
        m->keypad = false;
        break;
    case 'c':
        screen_modes_hard_reset(m);
        m->region_set = false; /* libvterm's RIS resets its region too */
        break;
    default:
        break;
    }
    m->state = SCREEN_PARSE_GROUND;
}

static void screen_modes_csi_byte(struct screen_modes *m, uint8_t c)
{
    if (c >= '0' && c <= '9') {
        if (!m->param_open) {
            if (m->nparams < SCREEN_PARAMS_MAX)
                m->params[m->nparams++] = 0;
            m->param_open = true;
        }
        unsigned *p = &m->params[m->nparams - 1];
        *p = *p * 10 + (unsigned)(c - '0');
        if (*p > SCREEN_PARAM_MAX)
            *p = SCREEN_PARAM_MAX;
    } else if (c == ';' || c == ':') {
        if (++m->seps >= SCREEN_VTERM_SEPS_MAX)
            m->overlong = true;
        if (!m->param_open && m->nparams < SCREEN_PARAMS_MAX)
            m->params[m->nparams++] = 0;
        m->param_open = false;
    } else if (c >= 0x3c && c <= 0x3f) {
        m->leader = c;
    } else if (c >= 0x20 && c <= 0x2f) {
        m->inter = c;
    } else if (c >= 0x40 && c <= 0x7e) {
        if (!m->overlong)
            screen_modes_csi(m, c);
        m->state = SCREEN_PARSE_GROUND;
    }
}

static void screen_modes_byte(struct screen_modes *m, uint8_t c)
{
    if (c == 0x18 || c == 0x1a) { /* CAN, SUB */
        m->state = SCREEN_PARSE_GROUND;
        return;
    }
    if (m->state == SCREEN_PARSE_OSC || m->state == SCREEN_PARSE_STR) {
        if (m->str_esc) {
            m->str_esc = false;
            if (c == '\\') {
                if (m->state == SCREEN_PARSE_OSC)
                    screen_modes_title_take(m);
                m->state = SCREEN_PARSE_GROUND;
                return;
            }
            /* ESC then anything else: the string ends, a new escape starts */
            if (m->state == SCREEN_PARSE_OSC)
                screen_modes_title_take(m);
            m->state = SCREEN_PARSE_ESC;
            screen_modes_byte(m, c);
            return;
        }
        if (c == 0x1b) {
            m->str_esc = true;
        } else if (c == 0x07) {
            if (m->state == SCREEN_PARSE_OSC)
                screen_modes_title_take(m);
            m->state = SCREEN_PARSE_GROUND;
        } else if (m->state == SCREEN_PARSE_OSC && c >= 0x20) {
            if (m->osc_len < sizeof(m->osc))
                m->osc[m->osc_len++] = c;
        }
        return;
    }
    if (c == 0x1b) {
        m->state = SCREEN_PARSE_ESC;
        m->inter = 0;
        return;
    }
    if (c < 0x20 || c == 0x7f)
        return; /* C0 controls run without ending a sequence */
    if (c >= 0x80) {
        /* as libvterm: a byte of UTF-8 inside a CSI ends it, one inside an
         * escape is skipped */
        if (m->state == SCREEN_PARSE_CSI)
            m->state = SCREEN_PARSE_GROUND;
        return;
    }
    switch (m->state) {
    case SCREEN_PARSE_ESC:
        if (c >= 0x20 && c <= 0x2f) {
            m->state = SCREEN_PARSE_ESC_INTER;
            return;
        }
        screen_modes_esc(m, c);
        return;
    case SCREEN_PARSE_ESC_INTER:
        /* as libvterm 0.1.4: '[', ']' and 'P' start a CSI, an OSC and a
         * DCS even after intermediates (found by fuzz_screen: a CSI this
         * parser missed reached libvterm's argument overflow) */
        if (c == '[' || c == ']' || c == 'P')
            screen_modes_esc(m, c);
        else if (c >= 0x30)
            m->state = SCREEN_PARSE_GROUND;
        return;
    case SCREEN_PARSE_CSI:
        screen_modes_csi_byte(m, c);
        return;
    default:
        return;
    }
}

void screen_modes_feed(struct screen_modes *m, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        /* Text in ground state changes nothing kept here. */
        if (m->state == SCREEN_PARSE_GROUND && data[i] != 0x1b)
            continue;
        screen_modes_byte(m, data[i]);
        if (m->state != SCREEN_PARSE_CSI)
            m->overlong = false;
    }
}

void screen_modes_resize(struct screen_modes *m, unsigned rows)
{
    /* as xterm and xterm.js: a resize ends the scroll region */
    m->rows = rows;
    m->top = m->bottom = 0;
    m->region_seen = m->region_set = false;
}
