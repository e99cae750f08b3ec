/* yaml_node.c - typed reads of one node, with the error texts every loader
 * shares: "WHAT must be a string", "WHAT has no value", ... */
#include "yaml/yaml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int yaml_node_line(struct fy_node *n, int fallback)
{
    if (!n)
        return fallback;
    if (fy_node_is_scalar(n)) {
        struct fy_token *t = fy_node_get_scalar_token(n);
        const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
        return m ? m->line + 1 : fallback;
    }
    void *it = NULL; /* a collection: where its first entry starts */
    if (fy_node_is_mapping(n)) {
        struct fy_node_pair *pair = fy_node_mapping_iterate(n, &it);
        return pair ? yaml_node_line(fy_node_pair_key(pair), fallback) : fallback;
    }
    return yaml_node_line(fy_node_sequence_iterate(n, &it), fallback);
}

bool yaml_is_null(struct fy_node *n)
{
    if (!n)
        return true;
    if (!fy_node_is_scalar(n) || fy_node_is_alias(n) || fy_node_get_style(n) != FYNS_PLAIN)
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

const char *yaml_kind_name(enum fy_node_type t)
{
    return t == FYNT_MAPPING ? "a mapping" : t == FYNT_SEQUENCE ? "a list" : "a string";
}

int yaml_kind_check(const struct yaml_src *src, struct fy_node *n, int line, const char *what,
                    enum fy_node_type want)
{
    if (n && fy_node_is_alias(n))
        return yaml_fail(src, line, "%s: YAML aliases are not supported", what);
    if (!n || fy_node_get_type(n) != want)
        return yaml_fail(src, line, "%s must be %s", what, yaml_kind_name(want));
    return 0;
}

int yaml_deref(const struct yaml_src *src, struct fy_node **n, int line, size_t *visits, size_t max,
               const char *max_name)
{
    if (*n && fy_node_is_alias(*n)) {
        struct fy_node *target = fy_node_resolve_alias(*n);
        if (!target)
            return yaml_fail(src, line, "a YAML alias names no anchor (or a cycle)");
        *n = target;
    }
    if (++*visits > max)
        return yaml_fail(src, line, "more than %zu YAML nodes (%s): aliases expand too far", max,
                         max_name);
    return 0;
}

int yaml_scalar_get(const struct yaml_src *src, struct fy_node *n, int line, const char *what,
                    size_t max, const char **s, size_t *len)
{
    if (yaml_kind_check(src, n, line, what, FYNT_SCALAR) < 0)
        return -1;
    *len = 0;
    *s = fy_node_get_scalar(n, len);
    if (!*s || yaml_is_null(n)) /* null is an error, not a silent "" */
        return yaml_fail(src, line, "%s has no value", what);
    if (memchr(*s, '\0', *len))
        return yaml_fail(src, line, "%s contains a NUL byte", what);
    if (*len > max)
        return yaml_fail(src, line, "%s is longer than %zu bytes", what, max);
    return 0;
}

int yaml_string_dup(const struct yaml_src *src, struct fy_node *n, int line, const char *what,
                    size_t max, char **out)
{
    const char *s;
    size_t len;
    line = yaml_node_line(n, line);
    if (yaml_scalar_get(src, n, line, what, max, &s, &len) < 0)
        return -1;
    char *copy = strndup(s, len);
    if (!copy)
        return yaml_fail(src, line, "out of memory");
    free(*out);
    *out = copy;
    return 0;
}

static bool yaml_word_is(const char *s, const char *lower, const char *title, const char *upper)
{
    return !strcmp(s, lower) || !strcmp(s, title) || !strcmp(s, upper);
}

int yaml_bool_get(const struct yaml_src *src, struct fy_node *n, int line, const char *what,
                  bool *out)
{
    bool scalar = n && fy_node_is_scalar(n) && !fy_node_is_alias(n);
    const char *s = scalar ? fy_node_get_scalar0(n) : NULL;
    bool plain = scalar && fy_node_get_style(n) == FYNS_PLAIN;
    if (plain && s && yaml_word_is(s, "true", "True", "TRUE"))
        *out = true;
    else if (plain && s && yaml_word_is(s, "false", "False", "FALSE"))
        *out = false;
    else
        return yaml_fail(src, line, "%s must be true or false", what);
    return 0;
}

int yaml_key_get(const struct yaml_src *src, struct fy_node *key, int line, const char *what,
                 const char **k, size_t *klen)
{
    *klen = 0;
    if (!key || !fy_node_is_scalar(key) || fy_node_is_alias(key) ||
        !(*k = fy_node_get_scalar(key, klen)))
        return yaml_fail(src, line, "keys of %s must be strings", what);
    return 0;
}

static const char *yaml_table_key(const void *table, size_t stride, size_t i)
{
    const char *const *key = (const void *)((const char *)table + i * stride);
    return *key;
}

size_t yaml_key_index(const void *table, size_t stride, size_t n, const char *k, size_t klen)
{
    size_t i = 0;
    while (i < n) {
        const char *key = yaml_table_key(table, stride, i);
        if (strlen(key) == klen && !memcmp(k, key, klen))
            break;
        i++;
    }
    return i;
}

int yaml_key_unknown(const struct yaml_src *src, int line, const char *noun, const char *k,
                     size_t klen, const char *what, const void *table, size_t stride, size_t n)
{
    /* Whole names only: a long table (podterm's flags) ends in ", ..." rather
     * than in half a name. */
    static const char more[] = ", ...";
    char expected[YAML_KEYS_SHOWN_MAX];
    size_t off = 0;
    expected[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *key = yaml_table_key(table, stride, i);
        size_t need = (i ? 2 : 0) + strlen(key);
        if (off + need + sizeof(more) > sizeof(expected)) {
            memcpy(expected + off, more, sizeof(more));
            break;
        }
        off += (size_t)snprintf(expected + off, sizeof(expected) - off, "%s%s", i ? ", " : "", key);
    }
    return yaml_fail(src, line, "unknown %s \"%.*s\" in %s (expected %s)", noun,
                     (int)(klen < YAML_SHOWN_MAX ? klen : YAML_SHOWN_MAX), k ? k : "", what,
                     expected);
}

int yaml_mapping_walk(const struct yaml_src *src, struct fy_node *n, int line, const char *what,
                      const char *noun, const void *table, size_t stride, size_t nfields,
                      yaml_pair_fn fn, void *ctx)
{
    if (yaml_kind_check(src, n, line, what, FYNT_MAPPING) < 0)
        return -1;
    void *it = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(n, &it))) {
        struct fy_node *key = fy_node_pair_key(pair);
        int kline = yaml_node_line(key, line);
        const char *k;
        size_t klen;
        if (yaml_key_get(src, key, kline, what, &k, &klen) < 0)
            return -1;
        size_t i = yaml_key_index(table, stride, nfields, k, klen);
        if (i == nfields)
            return yaml_key_unknown(src, kline, noun, k, klen, what, table, stride, nfields);
        if (fn(ctx, i, fy_node_pair_value(pair), kline) < 0)
            return -1;
    }
    return 0;
}
