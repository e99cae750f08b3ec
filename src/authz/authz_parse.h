/* authz_parse.h - one policy load in progress, and the YAML walking helpers
 * the object parsers share (authz_yaml.c). Only the loader's files include it.
 *
 * Errors are "file:line: reason" (libfyaml marks are 0-based; people count
 * from 1). Aliases are followed, never expanded into copies, and every node
 * visited counts against AUTHZ_NODES_MAX, so a few lines of nested aliases
 * ("billion laughs") end in an error instead of gigabytes. */
#ifndef PODTERM_AUTHZ_PARSE_H
#define PODTERM_AUTHZ_PARSE_H

#include "authz/authz_internal.h"

#include <libfyaml.h>

#define AUTHZ_SHOWN_MAX 64 /* bytes of a user's value echoed in an error */

enum authz_obj_kind {
    AUTHZ_KIND_ROLE,
    AUTHZ_KIND_CLUSTER_ROLE,
    AUTHZ_KIND_ROLE_BINDING,
    AUTHZ_KIND_CLUSTER_ROLE_BINDING,
    AUTHZ_KIND_EXEC_POLICY,
    AUTHZ_KIND_COUNT,
};

/* One parsed object, listed until the load sorts them into struct authz. */
struct authz_obj {
    enum authz_obj_kind kind;
    bool builtin;
    size_t seq; /* load order: a duplicate is reported at the later one */
    union {
        struct authz_role role;
        struct authz_binding binding;
        struct authz_exec_policy policy;
    } u;
    struct authz_obj *next;
};

struct authz_parse {
    struct authz_arena *arena;
    const char *path; /* the file being read (arena copy) */
    char *err;
    size_t err_cap;
    size_t visits;  /* nodes visited in all files: what the arena may grow to */
    size_t objects; /* objects parsed from all files */
    bool builtin;   /* parsing the built-in bootstrap policy */
    size_t seq;
    struct authz_obj *objs;
};

/* Write "path:line: message" to p->err; returns -1 so callers can `return authz_fail(...)`. */
int authz_fail(struct authz_parse *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The 1-based line where a node starts, or fallback. */
int authz_line(struct fy_node *n, int fallback);

/* Follow n if it is an alias and count the visit; -1 (error set) when the
 * alias names nothing or the load visits more than AUTHZ_NODES_MAX nodes. */
int authz_deref(struct authz_parse *p, struct fy_node **n, int line);

/* Absent, or a plain null scalar (~, null, empty). n already dereferenced. */
bool authz_is_null(struct fy_node *n);

typedef int (*authz_field_fn)(struct authz_parse *p, struct fy_node *value, int line, void *obj);

struct authz_field {
    const char *key;
    authz_field_fn fn; /* NULL: a known field podterm does not use */
};

/* Walk a mapping, calling the field's fn for each key. Unknown keys are an
 * error naming the expected ones, unless any_key (metadata: all of
 * ObjectMeta is allowed and ignored). */
int authz_mapping(struct authz_parse *p, struct fy_node *n, int line, const char *what,
                  const struct authz_field *fields, size_t nfields, bool any_key, void *obj);

/* A non-null scalar's text, at most max bytes, no NUL; copied into the arena. */
int authz_string(struct authz_parse *p, struct fy_node *n, int line, const char *what, size_t max,
                 const char **out);
/* A list of strings (null: empty), at most AUTHZ_LIST_MAX of at most max bytes. */
int authz_strlist(struct authz_parse *p, struct fy_node *n, int line, const char *what, size_t max,
                  struct authz_strs *out);
/* YAML 1.2 core true/false. */
int authz_bool(struct authz_parse *p, struct fy_node *n, int line, const char *what, bool *out);
/* The items of a list (null: none), at most max_items, into a new array of
 * n dereferenced nodes; *len gets the count. */
int authz_items(struct authz_parse *p, struct fy_node *n, int line, const char *what,
                size_t max_items, struct fy_node ***items, size_t *len);

/* Append a new object of kind to p->objs; NULL (error set) past AUTHZ_OBJECTS_MAX. */
struct authz_obj *authz_obj_new(struct authz_parse *p, enum authz_obj_kind kind, int line);

/* ---- object parsers: the mapping root of one document of that kind ---- */

struct authz_meta {
    const char *name;
    const char *ns;
    int name_line; /* the object's line in errors: where its name is */
};

int authz_meta_parse(struct authz_parse *p, struct fy_node *v, int line, void *obj);

int authz_subjects_parse(struct authz_parse *p, struct fy_node *v, int line, const char *what,
                         bool namespaced, const struct authz_subject **out, size_t *len);

int authz_parse_role(struct authz_parse *p, struct fy_node *root, int line, bool cluster);
int authz_parse_binding(struct authz_parse *p, struct fy_node *root, int line, bool cluster);
int authz_parse_exec_policy(struct authz_parse *p, struct fy_node *root, int line);

/* Go duration ("90s", "1h30m", "1.5h") into whole seconds, at most 30 days. */
int authz_duration_parse(const char *s, unsigned *out_s);

/* Sort the parsed objects into authz's arrays, drop a built-in object a
 * file redefines, refuse other duplicates, resolve roleRefs (authz_model.c). */
int authz_model_build(struct authz_parse *p, struct authz *authz);

#endif
