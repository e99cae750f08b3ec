/* authz_yaml.c - the typed reads every policy object parser shares: a
 * string, a list of strings, a boolean, a mapping checked against a table of
 * keys, each with its bound and each error naming file and line. */
#include "authz/authz_parse.h"

#include <stdio.h>
#include <string.h>

int authz_fail(struct authz_parse *p, int line, const char *fmt, ...)
{
    char msg[AUTHZ_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (p->err_cap)
        snprintf(p->err, p->err_cap, "%s:%d: %s", p->path, line > 0 ? line : 1, msg);
    return -1;
}

/* A scalar's own token, a collection's first entry, else fallback (the key's
 * line, for an empty collection). Aliases are not followed here: their own
 * line is the one a person would look at. */
int authz_line(struct fy_node *n, int fallback)
{
    if (!n)
        return fallback;
    if (fy_node_is_scalar(n)) {
        struct fy_token *t = fy_node_get_scalar_token(n);
        const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
        return m ? m->line + 1 : fallback;
    }
    void *it = NULL;
    if (fy_node_is_mapping(n)) {
        struct fy_node_pair *pair = fy_node_mapping_iterate(n, &it);
        return pair ? authz_line(fy_node_pair_key(pair), fallback) : fallback;
    }
    return authz_line(fy_node_sequence_iterate(n, &it), fallback);
}

int authz_deref(struct authz_parse *p, struct fy_node **n, int line)
{
    if (*n && fy_node_is_alias(*n)) {
        struct fy_node *target = fy_node_resolve_alias(*n);
        if (!target)
            return authz_fail(p, line, "a YAML alias names no anchor (or a cycle)");
        *n = target;
    }
    if (++p->visits > AUTHZ_NODES_MAX)
        return authz_fail(p, line,
                          "more than %u YAML nodes (AUTHZ_NODES_MAX): aliases expand "
                          "too far",
                          AUTHZ_NODES_MAX);
    return 0;
}

bool authz_is_null(struct fy_node *n)
{
    if (!n)
        return true;
    if (!fy_node_is_scalar(n) || fy_node_get_style(n) != FYNS_PLAIN)
        return false;
    size_t len = 0;
    const char *s = fy_node_get_scalar(n, &len);
    if (!s)
        return true;
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
    for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
        if (len == strlen(nulls[i]) && memcmp(s, nulls[i], len) == 0)
            return true;
    return false;
}

static const char *yaml_kind_name(enum fy_node_type t)
{
    return t == FYNT_MAPPING ? "a mapping" : t == FYNT_SEQUENCE ? "a list" : "a string";
}

static int yaml_want(struct authz_parse *p, struct fy_node *n, int line, const char *what,
                     enum fy_node_type want)
{
    if (!n || fy_node_get_type(n) != want)
        return authz_fail(p, line, "%s must be %s", what, yaml_kind_name(want));
    return 0;
}

static void yaml_expected(const struct authz_field *fields, size_t n, char *buf, size_t cap)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++)
        authz_append(buf, cap, &off, "%s%s", i ? ", " : "", fields[i].key);
}

int authz_mapping(struct authz_parse *p, struct fy_node *n, int line, const char *what,
                  const struct authz_field *fields, size_t nfields, bool any_key, void *obj)
{
    if (authz_deref(p, &n, line) < 0 || yaml_want(p, n, line, what, FYNT_MAPPING) < 0)
        return -1;
    void *it = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(n, &it))) {
        struct fy_node *key = fy_node_pair_key(pair);
        int kline = authz_line(key, line);
        if (authz_deref(p, &key, kline) < 0)
            return -1;
        if (!key || !fy_node_is_scalar(key))
            return authz_fail(p, kline, "keys of %s must be strings", what);
        size_t klen = 0;
        const char *k = fy_node_get_scalar(key, &klen);
        size_t i = 0;
        while (i < nfields && !(strlen(fields[i].key) == klen && !memcmp(k, fields[i].key, klen)))
            i++;
        if (i == nfields) {
            if (any_key)
                continue;
            if (klen == 2 && !memcmp(k, "<<", 2)) /* resolving merges copies nodes */
                return authz_fail(p, kline,
                                  "YAML merge keys (<<) are not supported in %s: "
                                  "repeat the fields",
                                  what);
            char expected[256];
            yaml_expected(fields, nfields, expected, sizeof(expected));
            return authz_fail(p, kline, "unknown field \"%.*s\" in %s (expected %s)",
                              (int)(klen < AUTHZ_SHOWN_MAX ? klen : AUTHZ_SHOWN_MAX), k ? k : "",
                              what, expected);
        }
        struct fy_node *v = fy_node_pair_value(pair);
        if (fields[i].fn && fields[i].fn(p, v, kline, obj) < 0)
            return -1;
    }
    return 0;
}

int authz_string(struct authz_parse *p, struct fy_node *n, int line, const char *what, size_t max,
                 const char **out)
{
    line = authz_line(n, line);
    if (authz_deref(p, &n, line) < 0)
        return -1;
    if (authz_is_null(n))
        return authz_fail(p, line, "%s has no value", what);
    if (yaml_want(p, n, line, what, FYNT_SCALAR) < 0)
        return -1;
    size_t len = 0;
    const char *s = fy_node_get_scalar(n, &len);
    if (!s)
        return authz_fail(p, line, "%s has no value", what);
    if (memchr(s, '\0', len))
        return authz_fail(p, line, "%s contains a NUL byte", what);
    if (len > max)
        return authz_fail(p, line, "%s is longer than %zu bytes", what, max);
    char *d = authz_arena_strndup(p->arena, s, len);
    if (!d)
        return authz_fail(p, line, "out of memory");
    *out = d;
    return 0;
}

int authz_items(struct authz_parse *p, struct fy_node *n, int line, const char *what,
                size_t max_items, struct fy_node ***items, size_t *len)
{
    *items = NULL;
    *len = 0;
    if (authz_deref(p, &n, line) < 0)
        return -1;
    if (authz_is_null(n))
        return 0;
    if (yaml_want(p, n, line, what, FYNT_SEQUENCE) < 0)
        return -1;
    int count = fy_node_sequence_item_count(n);
    if (count < 0)
        return authz_fail(p, line, "%s must be a list", what);
    if ((size_t)count > max_items)
        return authz_fail(p, line, "%s has %d items, more than %zu", what, count, max_items);
    struct fy_node **v = authz_arena_alloc(p->arena, ((size_t)count + 1) * sizeof(*v));
    if (!v)
        return authz_fail(p, line, "out of memory");
    void *it = NULL;
    struct fy_node *item;
    size_t i = 0;
    while (i < (size_t)count && (item = fy_node_sequence_iterate(n, &it)))
        v[i++] = item;
    *items = v;
    *len = i;
    return 0;
}

int authz_strlist(struct authz_parse *p, struct fy_node *n, int line, const char *what, size_t max,
                  struct authz_strs *out)
{
    struct fy_node **items;
    size_t len;
    if (authz_items(p, n, line, what, AUTHZ_LIST_MAX, &items, &len) < 0)
        return -1;
    out->n = 0;
    out->v = authz_arena_alloc(p->arena, (len + 1) * sizeof(char *));
    if (!out->v)
        return authz_fail(p, line, "out of memory");
    char item_what[64];
    snprintf(item_what, sizeof(item_what), "an item of %s", what);
    for (size_t i = 0; i < len; i++)
        if (authz_string(p, items[i], line, item_what, max, (const char **)&out->v[out->n++]) < 0)
            return -1;
    return 0;
}

int authz_bool(struct authz_parse *p, struct fy_node *n, int line, const char *what, bool *out)
{
    line = authz_line(n, line);
    if (authz_deref(p, &n, line) < 0)
        return -1;
    const char *s = n && fy_node_is_scalar(n) ? fy_node_get_scalar0(n) : NULL;
    bool plain = n && fy_node_get_style(n) == FYNS_PLAIN;
    if (plain && s && (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")))
        *out = true;
    else if (plain && s && (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")))
        *out = false;
    else
        return authz_fail(p, line, "%s must be true or false", what);
    return 0;
}

struct authz_obj *authz_obj_new(struct authz_parse *p, enum authz_obj_kind kind, int line)
{
    if (!p->builtin && p->objects >= AUTHZ_OBJECTS_MAX) {
        authz_fail(p, line, "more than %d objects in all policy files (AUTHZ_OBJECTS_MAX)",
                   AUTHZ_OBJECTS_MAX);
        return NULL;
    }
    struct authz_obj *o = authz_arena_alloc(p->arena, sizeof(*o));
    if (!o) {
        authz_fail(p, line, "out of memory");
        return NULL;
    }
    p->objects += !p->builtin; /* the built-in policy does not use up the user's bound */
    o->kind = kind;
    o->builtin = p->builtin;
    o->seq = p->seq++;
    o->next = p->objs;
    p->objs = o;
    return o;
}
