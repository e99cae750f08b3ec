/* yaml.h - the plumbing every YAML file podterm reads shares: the local pods
 * (config/), RBAC and ExecPolicy (authz/) and the audit Policy (audit/).
 *
 * Each loader walks its own document; this module does what comes before and
 * around that walk, the same way for all of them:
 *   - the file is read whole with a named size bound (yaml_file_read);
 *   - bytes that are not UTF-8, or NUL, are refused before libfyaml sees them
 *     (libfyaml 0.8 loops forever on some malformed UTF-8 and crashes on
 *     some NUL bytes);
 *   - libfyaml's diagnostics are collected, never printed (a syntax error
 *     quotes the line, which may hold a secret), and the first one becomes
 *     "file:line: YAML syntax: reason";
 *   - typed reads of one node (a string with a bound, a boolean) with the
 *     same error texts in every loader.
 *
 * Errors are "file:line: reason" written to the caller's buffer; every
 * function that can fail returns -1 after writing it, 0 on success. Lines
 * are 1-based (libfyaml marks are 0-based; people count from 1). */
#ifndef PODTERM_YAML_H
#define PODTERM_YAML_H

#include <libfyaml.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define YAML_MSG_MAX 512        /* one reason, before "file:line: " goes in front */
#define YAML_SHOWN_MAX 64       /* bytes of a user's value (a key) echoed in an error */
#define YAML_KEYS_SHOWN_MAX 256 /* the "(expected a, b, c)" list of an unknown key */

/* Where errors go: the file's name as shown, and the caller's buffer (err
 * may be NULL or err_cap 0: then nothing is written). */
struct yaml_src {
    const char *path;
    char *err;
    size_t err_cap;
};

/* Write "path:line: message" (line 1 when line < 1); returns -1 so callers
 * can `return yaml_fail(...)`. */
int yaml_fail(const struct yaml_src *src, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int yaml_vfail(const struct yaml_src *src, int line, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* ---- reading and parsing (yaml_read.c) ---- */

/* src->path into a new NUL-terminated buffer for free(), at most max bytes.
 * NULL on failure with src->err set: util_file_read's message, or for a
 * larger file "PATH: larger than <limit>", limit naming the bound so that
 * the message says what to change ("4 MiB (CONFIG_FILE_MAX)"). */
char *yaml_file_read(const struct yaml_src *src, size_t max, const char *limit, size_t *len);

/* 0 when buf is UTF-8 without NUL bytes; else -1 with "the file is not
 * UTF-8" or "the file holds a NUL byte" at the line of the first bad byte. */
int yaml_text_check(const struct yaml_src *src, const char *buf, size_t len);

/* Called with each document's root; returns 0 or -1 (error set). */
typedef int (*yaml_root_fn)(void *ctx, struct fy_node *root);

/* Exactly one document: its root goes to fn. No document at all is
 * "empty_msg" at line 1; a second non-empty document is an error (it would
 * be silently ignored); a trailing empty "---" is fine, and so is a null
 * one ("~") when null_second_ok. */
int yaml_parse_single(const struct yaml_src *src, const char *buf, size_t len,
                      const char *empty_msg, bool null_second_ok, yaml_root_fn fn, void *ctx);

/* Every document in turn, each root to fn (NULL roots too); stops at the
 * first error. A syntax error after the last good document is reported
 * after the documents before it were walked. */
int yaml_parse_each(const struct yaml_src *src, const char *buf, size_t len, yaml_root_fn fn,
                    void *ctx);

/* ---- nodes (yaml_node.c) ---- */

/* The 1-based line where a node starts: a scalar's own token, a collection's
 * first entry, else fallback (the key's line, for an empty collection).
 * Aliases are not followed: their own line is the one a person looks at. */
int yaml_node_line(struct fy_node *n, int fallback);

/* Absent, or a plain null scalar: "", "~", "null", "Null", "NULL". */
bool yaml_is_null(struct fy_node *n);

/* "a string", "a list" or "a mapping". */
const char *yaml_kind_name(enum fy_node_type t);

/* n is of type want. Aliases are refused rather than resolved: resolving
 * copies nodes, and a few lines of nested aliases can expand to gigabytes
 * ("billion laughs"); "WHAT: YAML aliases are not supported". Otherwise
 * "WHAT must be a string|a list|a mapping". */
int yaml_kind_check(const struct yaml_src *src, struct fy_node *n, int line, const char *what,
                    enum fy_node_type want);

/* For a loader that follows aliases instead: follow *n if it is an alias
 * and count the visit in *visits, refusing more than max visits (max_name
 * is the bound's name, for the message), so that nested aliases end in an
 * error instead of an endless walk. */
int yaml_deref(const struct yaml_src *src, struct fy_node **n, int line, size_t *visits, size_t max,
               const char *max_name);

/* A scalar's text (not NUL-terminated, *len bytes, owned by the document):
 * not an alias, not null ("WHAT has no value"), no NUL byte ("WHAT contains
 * a NUL byte"), at most max bytes ("WHAT is longer than MAX bytes"). */
int yaml_scalar_get(const struct yaml_src *src, struct fy_node *n, int line, const char *what,
                    size_t max, const char **s, size_t *len);

/* yaml_scalar_get, then a malloc'd copy into *out (the old *out is freed
 * once the new one exists). line is taken from n when it has one. */
int yaml_string_dup(const struct yaml_src *src, struct fy_node *n, int line, const char *what,
                    size_t max, char **out);

/* YAML 1.2 core booleans only: plain true/True/TRUE or false/False/FALSE;
 * "yes"/"on" are strings in 1.2, and a quoted "true" is a string in every
 * version. Anything else: "WHAT must be true or false". */
int yaml_bool_get(const struct yaml_src *src, struct fy_node *n, int line, const char *what,
                  bool *out);

/* A mapping key's text: a non-alias scalar, else "keys of WHAT must be
 * strings". */
int yaml_key_get(const struct yaml_src *src, struct fy_node *key, int line, const char *what,
                 const char **k, size_t *klen);

/* Loaders describe a mapping with a table of entries, each beginning with
 * its key (`const char *key` as the first member), stride bytes apart. */

/* The index of k in the table, or n when it is not there. */
size_t yaml_key_index(const void *table, size_t stride, size_t n, const char *k, size_t klen);

/* "unknown NOUN \"K\" in WHAT (expected a, b, c)", K cut at YAML_SHOWN_MAX
 * bytes. */
int yaml_key_unknown(const struct yaml_src *src, int line, const char *noun, const char *k,
                     size_t klen, const char *what, const void *table, size_t stride, size_t n);

/* Called by yaml_mapping_walk for each key, with i its index in the table. */
typedef int (*yaml_pair_fn)(void *ctx, size_t i, struct fy_node *value, int key_line);

/* Each pair of mapping n (not an alias: "WHAT must be a mapping" else) in
 * order: the key must be a string in the table, else "keys of WHAT must be
 * strings" or the yaml_key_unknown message with noun; then fn. Stops at the
 * first error. */
int yaml_mapping_walk(const struct yaml_src *src, struct fy_node *n, int line, const char *what,
                      const char *noun, const void *table, size_t stride, size_t nfields,
                      yaml_pair_fn fn, void *ctx);

#endif
