/* authz_yaml.c - the typed reads every policy object parser shares: a
 * string, a list of strings, a boolean, a mapping checked against a table of
 * keys, each with its bound and each error naming file and line. The node
 * checks and error texts are src/yaml's; what is RBAC's own is that aliases
 * are followed (and counted) rather than refused, and that strings go into
 * the policy's arena. */
#include "authz/authz_parse.h"

#include <stdio.h>
#include <string.h>

int authz_fail(struct authz_parse *p, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    yaml_vfail(&p->src, line, fmt, ap);
    va_end(ap);
    return -1;
}

int authz_deref(struct authz_parse *p, struct fy_node **n, int line)
{
    return yaml_deref(&p->src, n, line, &p->visits, AUTHZ_NODES_MAX, "AUTHZ_NODES_MAX");
}

int authz_mapping(struct authz_parse *p, struct fy_node *n, int line, const char *what,
                  const struct authz_field *fields, size_t nfields, bool any_key, void *obj)
{
    if (authz_deref(p, &n, line) < 0 || yaml_kind_check(&p->src, n, line, what, FYNT_MAPPING) < 0)
        return -1;
    void *it = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(n, &it))) {
        struct fy_node *key = fy_node_pair_key(pair);
        int kline = yaml_node_line(key, line);
        const char *k;
        size_t klen;
        if (authz_deref(p, &key, kline) < 0 ||
            yaml_key_get(&p->src, key, kline, what, &k, &klen) < 0)
            return -1;
        size_t i = yaml_key_index(fields, sizeof(*fields), nfields, k, klen);
        if (i == nfields) {
            if (any_key)
                continue;
            if (klen == 2 && !memcmp(k, "<<", 2)) /* resolving merges copies nodes */
                return authz_fail(p, kline,
                                  "YAML merge keys (<<) are not supported in %s: "
                                  "repeat the fields",
                                  what);
            return yaml_key_unknown(&p->src, kline, "field", k, klen, what, fields, sizeof(*fields),
                                    nfields);
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
    line = yaml_node_line(n, line);
    if (authz_deref(p, &n, line) < 0)
        return -1;
    if (yaml_is_null(n))
        return authz_fail(p, line, "%s has no value", what);
    const char *s;
    size_t len;
    if (yaml_scalar_get(&p->src, n, line, what, max, &s, &len) < 0)
        return -1;
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
    if (yaml_is_null(n))
        return 0;
    if (yaml_kind_check(&p->src, n, line, what, FYNT_SEQUENCE) < 0)
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
    line = yaml_node_line(n, line);
    if (authz_deref(p, &n, line) < 0)
        return -1;
    return yaml_bool_get(&p->src, n, line, what, out);
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
