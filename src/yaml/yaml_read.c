/* yaml_read.c - from a file name to document roots: the bounded read, the
 * text check that keeps libfyaml away from bytes it mishandles, and the
 * parser whose diagnostics are collected instead of printed. */
#include "yaml/yaml.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util_file.h"
#include "util/util_utf8.h"

int yaml_vfail(const struct yaml_src *src, int line, const char *fmt, va_list ap)
{
    char msg[YAML_MSG_MAX];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (src->err && src->err_cap)
        snprintf(src->err, src->err_cap, "%s:%d: %s", src->path, line > 0 ? line : 1, msg);
    return -1;
}

int yaml_fail(const struct yaml_src *src, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    yaml_vfail(src, line, fmt, ap);
    va_end(ap);
    return -1;
}

char *yaml_file_read(const struct yaml_src *src, size_t max, const char *limit, size_t *len)
{
    char *buf = NULL;
    int rc = util_file_read(src->path, max, &buf, len, src->err, src->err_cap);
    if (rc == -EFBIG && src->err && src->err_cap)
        snprintf(src->err, src->err_cap, "%s: larger than %s", src->path, limit);
    return rc < 0 ? NULL : buf;
}

int yaml_text_check(const struct yaml_src *src, const char *buf, size_t len)
{
    size_t bad = len;
    bool utf8 = util_utf8_valid((const uint8_t *)buf, len, &bad);
    const char *nul = memchr(buf, '\0', len);
    if (utf8 && !nul)
        return 0;
    if (nul && (size_t)(nul - buf) < bad)
        bad = (size_t)(nul - buf);
    int line = 1;
    for (size_t i = 0; i < bad; i++)
        line += buf[i] == '\n';
    return yaml_fail(src, line, buf[bad] ? "the file is not UTF-8" : "the file holds a NUL byte");
}

/* A parser over buf and the diagnostics it collects. */
struct yaml_parser {
    struct fy_diag *diag;
    struct fy_parser *fyp;
};

static void yaml_parser_close(struct yaml_parser *yp)
{
    if (yp->fyp)
        fy_parser_destroy(yp->fyp);
    if (yp->diag)
        fy_diag_destroy(yp->diag);
}

/* The text check, then a parser reading buf as YAML 1.2. */
static int yaml_parser_open(struct yaml_parser *yp, const struct yaml_src *src, const char *buf,
                            size_t len)
{
    *yp = (struct yaml_parser){0};
    if (yaml_text_check(src, buf, len) < 0)
        return -1;
    struct fy_diag_cfg dc;
    fy_diag_cfg_default(&dc);
    dc.fp = NULL; /* collected and reported by us, never printed by libfyaml */
    yp->diag = fy_diag_create(&dc);
    if (yp->diag)
        fy_diag_set_collect_errors(yp->diag, true);
    struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET | FYPCF_DEFAULT_VERSION_1_2 | FYPCF_JSON_NONE,
                               .diag = yp->diag};
    yp->fyp = yp->diag ? fy_parser_create(&cfg) : NULL;
    if (!yp->fyp || fy_parser_set_string(yp->fyp, buf, len) != 0)
        return yaml_fail(src, 1, "cannot start the YAML parser");
    return 0;
}

static bool yaml_parser_has_errors(struct yaml_parser *yp)
{
    return fy_diag_errors_iterate(yp->diag, &(void *){NULL}) != NULL;
}

/* The first error libfyaml collected, as "path:line: YAML syntax: message". */
static int yaml_syntax_fail(const struct yaml_src *src, struct yaml_parser *yp)
{
    void *it = NULL;
    struct fy_diag_error *e = fy_diag_errors_iterate(yp->diag, &it);
    if (!e)
        return yaml_fail(src, 1, "not valid YAML");
    return yaml_fail(src, e->line > 0 ? e->line : 1, "YAML syntax: %s", e->msg);
}

/* Nothing but an empty document after the first one. */
static int yaml_rest_check(const struct yaml_src *src, struct yaml_parser *yp, bool null_ok)
{
    struct fy_document *doc = fy_parse_load_document(yp->fyp);
    struct fy_node *root = doc ? fy_document_root(doc) : NULL;
    size_t len = 0;
    if (root && fy_node_is_scalar(root) && !fy_node_is_alias(root) &&
        fy_node_get_style(root) == FYNS_PLAIN && fy_node_get_scalar(root, &len) && len == 0)
        root = NULL; /* "---" and nothing after it */
    if (root && null_ok && yaml_is_null(root))
        root = NULL;
    int line = yaml_node_line(root, 1);
    if (doc)
        fy_parse_document_destroy(yp->fyp, doc);
    if (root)
        return yaml_fail(src, line, "a second YAML document is not supported");
    if (yaml_parser_has_errors(yp))
        return yaml_syntax_fail(src, yp);
    return 0;
}

int yaml_parse_single(const struct yaml_src *src, const char *buf, size_t len,
                      const char *empty_msg, bool null_second_ok, yaml_root_fn fn, void *ctx)
{
    struct yaml_parser yp;
    int rc = yaml_parser_open(&yp, src, buf, len);
    struct fy_document *doc = rc == 0 ? fy_parse_load_document(yp.fyp) : NULL;
    if (rc == 0 && !doc)
        rc = yaml_parser_has_errors(&yp) ? yaml_syntax_fail(src, &yp)
                                         : yaml_fail(src, 1, "%s", empty_msg);
    if (doc) {
        rc = fn(ctx, fy_document_root(doc));
        fy_parse_document_destroy(yp.fyp, doc);
        if (rc == 0)
            rc = yaml_rest_check(src, &yp, null_second_ok);
    }
    yaml_parser_close(&yp);
    return rc;
}

int yaml_parse_each(const struct yaml_src *src, const char *buf, size_t len, yaml_root_fn fn,
                    void *ctx)
{
    struct yaml_parser yp;
    int rc = yaml_parser_open(&yp, src, buf, len);
    struct fy_document *doc;
    while (rc == 0 && (doc = fy_parse_load_document(yp.fyp))) {
        rc = fn(ctx, fy_document_root(doc));
        fy_parse_document_destroy(yp.fyp, doc);
    }
    if (rc == 0 && yaml_parser_has_errors(&yp))
        rc = yaml_syntax_fail(src, &yp);
    yaml_parser_close(&yp);
    return rc;
}
