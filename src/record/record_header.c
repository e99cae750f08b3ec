/* record_header.c - the asciicast v2 header line (record_enc.h): the
 * session's facts in the contract's key order, strings made UTF-8, and the
 * command as a person would type it (Python's shlex.join). */
#include "record/record_enc.h"
#include "util/util_json.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define RECORD_SHELL_SAFE "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-"
#define RECORD_TERM "xterm-256color" /* what the web UI's xterm.js and kubectl's terminals are */

/* One word, quoted only when it needs it: '' for empty, 'a b' with each
 * ' written as '"'"'. Returns the bytes written to out (room: 5 * n + 2). */
static size_t record_quote_word(const char *w, char *out)
{
    size_t n = strlen(w);
    if (n && strspn(w, RECORD_SHELL_SAFE) == n) {
        memcpy(out, w, n);
        return n;
    }
    size_t o = 0;
    out[o++] = '\'';
    for (size_t i = 0; i < n; i++) {
        if (w[i] == '\'') {
            memcpy(out + o, "'\"'\"'", 5);
            o += 5;
        } else {
            out[o++] = w[i];
        }
    }
    out[o++] = '\'';
    return o;
}

char *record_command_text(const char *const *argv, size_t argc)
{
    size_t cap = 1;
    for (size_t i = 0; i < argc; i++)
        cap += 5 * strlen(argv[i]) + 3;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < argc; i++) {
        if (i)
            out[o++] = ' ';
        o += record_quote_word(argv[i], out + o);
    }
    out[o] = '\0';
    return out;
}

/* A JSON string of any bytes, repaired to UTF-8. */
static json_t *record_json_text(const char *s)
{
    if (!s)
        s = "";
    size_t n = strlen(s);
    char *buf = malloc(3 * n + 1);
    if (!buf)
        return NULL;
    size_t len = record_utf8_repair((const uint8_t *)s, n, buf);
    json_t *j = json_stringn_nocheck(buf, len);
    free(buf);
    return j;
}

/* Adds key: value to o; false when value is NULL (out of memory). */
static bool record_set(json_t *o, const char *key, json_t *value)
{
    return value && json_object_set_new_nocheck(o, key, value) == 0;
}

static json_t *record_podterm_object(const struct record_header *h)
{
    json_t *p = json_object(), *argv = json_array();
    if (!p || !argv) {
        json_decref(p);
        json_decref(argv);
        return NULL;
    }
    size_t argc = h->argc < RECORD_HEADER_ARGV_MAX ? h->argc : RECORD_HEADER_ARGV_MAX;
    bool ok = true;
    for (size_t i = 0; i < argc && ok; i++) {
        json_t *w = record_json_text(h->argv[i]);
        ok = w && json_array_append_new(argv, w) == 0;
    }
    ok = ok && record_set(p, "id", record_json_text(h->id)) &&
         record_set(p, "user", record_json_text(h->user)) &&
         record_set(p, "kind", record_json_text(h->kind)) &&
         record_set(p, "namespace", record_json_text(h->ns)) &&
         record_set(p, "pod", record_json_text(h->pod)) &&
         record_set(p, "container", record_json_text(h->container));
    if (!ok || !record_set(p, "command", argv)) {
        if (!ok)
            json_decref(argv);
        json_decref(p);
        return NULL;
    }
    if (!record_set(p, "tty", json_boolean(h->tty)) ||
        !record_set(p, "stdin", json_boolean(h->stdin_open))) {
        json_decref(p);
        return NULL;
    }
    return p;
}

static json_t *record_header_object(const struct record_header *h)
{
    json_t *o = json_object(), *env = json_object();
    size_t argc = h->argc < RECORD_HEADER_ARGV_MAX ? h->argc : RECORD_HEADER_ARGV_MAX;
    char *command = record_command_text(h->argv, argc);
    const char *ns = h->ns ? h->ns : "", *pod = h->pod ? h->pod : "",
               *container = h->container ? h->container : "";
    size_t title_cap = strlen(ns) + strlen(pod) + strlen(container) + 3;
    char *title = malloc(title_cap);
    bool ok = o && env && command && title;
    if (ok) {
        snprintf(title, title_cap, "%s/%s/%s", ns, pod, container);
        ok = record_set(o, "version", json_integer(2)) &&
             record_set(o, "width", json_integer(h->width)) &&
             record_set(o, "height", json_integer(h->height)) &&
             record_set(o, "timestamp", json_integer(h->timestamp)) &&
             record_set(o, "command", record_json_text(command)) &&
             record_set(o, "title", record_json_text(title)) &&
             record_set(env, "TERM", json_string(RECORD_TERM));
        if (ok) {
            ok = record_set(o, "env", env); /* jansson takes env even when this fails */
            env = NULL;
        }
        ok = ok && record_set(o, "podterm", record_podterm_object(h));
    }
    free(command);
    free(title);
    json_decref(env);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

char *record_enc_header(const struct record_header *h, size_t *len)
{
    json_t *o = record_header_object(h);
    if (!o)
        return NULL;
    /* Not compact: ", " and ": " as asciinema itself writes headers. All
     * of it or none (util_json.h): never a header without "width". */
    char *line = util_json_text(o, JSON_PRESERVE_ORDER, true, len);
    json_decref(o);
    return line;
}
