/* api_cast.c - reading a recording's header and exit marker (api_session.h).
 * Pure: bytes in, a struct api_session out. The files are podterm's own,
 * but anyone who can write the recording directory can put bytes there, so
 * every field is checked against the bound of what it stands for. */
#include "api/api_session.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define API_CAST_EXIT_PREFIX "exit "
#define API_CAST_CODE_DIGITS_MAX 10 /* an int's decimal digits */

static bool api_hex_lower(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool api_session_id_valid(const char *name, size_t len)
{
    if (len != AUDIT_ID_LEN)
        return false;
    for (size_t i = 0; i < len; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? name[i] != '-' : !api_hex_lower(name[i]))
            return false;
    }
    return true;
}

bool api_cast_name_parse(const char *name, char *id)
{
    size_t n = strlen(name);
    if (n != API_CAST_NAME_LEN || memcmp(name + AUDIT_ID_LEN, ".cast", 5) != 0 ||
        !api_session_id_valid(name, AUDIT_ID_LEN))
        return false;
    memcpy(id, name, AUDIT_ID_LEN);
    id[AUDIT_ID_LEN] = '\0';
    return true;
}

void api_session_clear(struct api_session *s)
{
    json_decref(s->command);
    memset(s, 0, sizeof(*s));
    s->exit_code = -1;
}

/* A string member that fits cap with its NUL (and has none inside). */
static bool api_cast_str(json_t *o, const char *key, char *out, size_t cap)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        return false;
    size_t n = json_string_length(v);
    const char *p = json_string_value(v);
    if (n >= cap || memchr(p, '\0', n))
        return false;
    memcpy(out, p, n + 1);
    return true;
}

static bool api_cast_argv(json_t *o, struct api_session *s)
{
    json_t *argv = json_object_get(o, "command");
    if (!json_is_array(argv) || json_array_size(argv) > API_CAST_ARGV_MAX)
        return false;
    size_t i;
    json_t *w;
    json_array_foreach(argv, i, w)
    {
        if (!json_is_string(w))
            return false;
    }
    s->command = json_incref(argv);
    return true;
}

static bool api_cast_podterm(json_t *pt, const char *id, struct api_session *s)
{
    char kind[8];
    json_t *tty = json_object_get(pt, "tty"), *in = json_object_get(pt, "stdin");
    if (!json_is_object(pt) || !api_cast_str(pt, "id", s->id, sizeof(s->id)) ||
        strcmp(s->id, id) != 0 || !api_cast_str(pt, "user", s->user, sizeof(s->user)) ||
        !api_cast_str(pt, "kind", kind, sizeof(kind)) ||
        (strcmp(kind, "exec") != 0 && strcmp(kind, "attach") != 0) ||
        !api_cast_str(pt, "namespace", s->ns, sizeof(s->ns)) ||
        !api_cast_str(pt, "pod", s->pod, sizeof(s->pod)) ||
        !api_cast_str(pt, "container", s->container, sizeof(s->container)) ||
        !json_is_boolean(tty) || !json_is_boolean(in))
        return false;
    s->attach = strcmp(kind, "attach") == 0;
    s->tty = json_is_true(tty);
    s->stdin_open = json_is_true(in);
    return api_cast_argv(pt, s);
}

enum api_cast_rc api_cast_header_parse(const char *head, size_t len, const char *id,
                                       struct api_session *s)
{
    api_session_clear(s);
    if (len > API_CAST_HEADER_MAX)
        len = API_CAST_HEADER_MAX;
    const char *nl = memchr(head, '\n', len);
    if (!nl)
        return API_CAST_INVALID;
    json_error_t err;
    json_t *h = json_loadb(head, (size_t)(nl - head), JSON_REJECT_DUPLICATES, &err);
    if (!h)
        /* jansson says nothing that tells a malformed line from no memory;
         * a header that does not parse is not listed either way. */
        return API_CAST_INVALID;
    json_t *version = json_object_get(h, "version"), *ts = json_object_get(h, "timestamp");
    bool ok = json_is_object(h) && json_is_integer(version) && json_integer_value(version) == 2 &&
              json_is_integer(ts) && json_integer_value(ts) >= 0 &&
              api_cast_podterm(json_object_get(h, "podterm"), id, s);
    if (ok)
        s->started = json_integer_value(ts);
    json_decref(h);
    if (!ok) {
        api_session_clear(s);
        return API_CAST_INVALID;
    }
    return API_CAST_OK;
}

/* "exit <code>: <reason>": code an int (-1 for none), reason printable. */
static bool api_cast_exit_text(const char *t, size_t n, struct api_session *s)
{
    size_t pl = strlen(API_CAST_EXIT_PREFIX), i = pl;
    if (n <= pl || memcmp(t, API_CAST_EXIT_PREFIX, pl) != 0)
        return false;
    bool neg = t[i] == '-';
    i += neg;
    size_t d0 = i;
    long long code = 0;
    while (i < n && t[i] >= '0' && t[i] <= '9' && i - d0 < API_CAST_CODE_DIGITS_MAX)
        code = code * 10 + (t[i++] - '0');
    if (i == d0 || code > INT_MAX || i + 2 >= n || t[i] != ':' || t[i + 1] != ' ')
        return false;
    i += 2;
    size_t rl = n - i;
    if (rl > API_CAST_REASON_MAX)
        return false;
    for (size_t k = i; k < n; k++)
        if (t[k] < 0x21 || t[k] > 0x7e)
            return false;
    s->exit_code = (int)(neg ? -code : code);
    memcpy(s->end_reason, t + i, rl);
    s->end_reason[rl] = '\0';
    s->has_exit = true;
    return true;
}

void api_cast_tail_parse(const char *tail, size_t len, bool whole, struct api_session *s)
{
    s->has_exit = false;
    s->exit_code = -1;
    s->end_reason[0] = '\0';
    if (len > API_CAST_TAIL_MAX) {
        tail += len - API_CAST_TAIL_MAX;
        len = API_CAST_TAIL_MAX;
        whole = false;
    }
    /* A file that ends mid-line (a crash) has no marker as its last line. */
    if (len < 2 || tail[len - 1] != '\n')
        return;
    size_t end = len - 1, start = end;
    while (start > 0 && tail[start - 1] != '\n')
        start--;
    if (start == 0 && !whole)
        return; /* the line began before what was read: longer than a marker */
    json_t *ev = json_loadb(tail + start, end - start, JSON_REJECT_DUPLICATES, NULL);
    json_t *t = json_array_get(ev, 0), *code = json_array_get(ev, 1), *text = json_array_get(ev, 2);
    if (json_is_array(ev) && json_array_size(ev) == 3 && json_is_number(t) &&
        json_is_string(code) && strcmp(json_string_value(code), "m") == 0 && json_is_string(text))
        api_cast_exit_text(json_string_value(text), json_string_length(text), s);
    json_decref(ev);
}
