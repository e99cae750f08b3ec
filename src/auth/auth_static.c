/* auth_static.c - kube-apiserver's --token-auth-file: a CSV of
 *   token,user,uid[,"group1,group2"]
 * parsed as Go's encoding/csv reads it there (RFC 4180 quoting, leading spaces
 * of a field trimmed, blank lines skipped, columns after the fourth ignored,
 * groups split on ','), with three differences that turn kube-apiserver's
 * warnings into errors: an empty token, an empty user and a duplicate token
 * stop the load. Quoted newlines are not supported.
 *
 * Only SHA-256 digests of the tokens are kept, and a check compares the digest
 * of the presented token with every entry with CRYPTO_memcmp: the time taken
 * says nothing about which entry, or how much of one, matched. Messages name
 * the file and line, never a token. */
#include "auth/auth_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "util/util_file.h"
#include "util/util_token.h"

#define CSV_COLUMNS_USED 4 /* token, user, uid, groups */

struct csv_line {
    const char *path;
    int line;
    char *err;
    size_t err_cap;
};

static int csv_fail(const struct csv_line *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int csv_fail(const struct csv_line *l, const char *fmt, ...)
{
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(l->err, l->err_cap, "%s:%d: %s", l->path, l->line, msg);
    return -1;
}

bool auth_name_is_valid(const char *s, size_t len, bool allow_empty)
{
    if (len >= AUTH_NAME_MAX || (len == 0 && !allow_empty))
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

static int static_digest(const char *token, size_t len, unsigned char out[32])
{
    unsigned int n = 0;
    return EVP_Digest(token, len, out, &n, EVP_sha256(), NULL) == 1 && n == 32 ? 0 : -1;
}

/* Split one line (no newline) into fields, unquoting into scratch. Fields
 * beyond CSV_COLUMNS_USED are parsed (their syntax must be right) and dropped. */
static int csv_fields(const struct csv_line *l, const char *s, char *scratch,
                      char *fields[CSV_COLUMNS_USED], size_t *nfields)
{
    *nfields = 0;
    for (;;) {
        while (*s == ' ' || *s == '\t')
            s++;
        char *out = scratch;
        if (*s == '"') {
            for (s++;; s++) {
                if (!*s)
                    return csv_fail(l, "unterminated quoted field");
                if (*s == '"' && s[1] != '"')
                    break;
                *scratch++ = *s;
                s += *s == '"'; /* "" is one quote */
            }
            s++;
            if (*s && *s != ',')
                return csv_fail(l, "text after a closing quote");
        } else {
            for (; *s && *s != ','; s++) {
                if (*s == '"')
                    return csv_fail(l, "bare \" in an unquoted field");
                *scratch++ = *s;
            }
        }
        *scratch++ = '\0';
        if (*nfields < CSV_COLUMNS_USED)
            fields[*nfields] = out;
        (*nfields)++;
        if (!*s++)
            return 0;
    }
}

static int static_groups_parse(const struct csv_line *l, char *list, struct auth_static_entry *e)
{
    if (!(e->groups = calloc(AUTH_GROUPS_MAX, sizeof(char *))))
        return csv_fail(l, "out of memory");
    for (char *g = list, *next; g; g = next) {
        next = strchr(g, ',');
        if (next)
            *next++ = '\0';
        if (!*g)
            continue; /* "a,,b" or a trailing comma: no empty group names */
        if (e->groups_len == AUTH_GROUPS_MAX)
            return csv_fail(l, "more than %d groups", AUTH_GROUPS_MAX);
        if (!auth_name_is_valid(g, strlen(g), false))
            return csv_fail(l, "a group name is longer than %d bytes or has control characters",
                            AUTH_NAME_MAX - 1);
        if (!(e->groups[e->groups_len++] = strdup(g)))
            return csv_fail(l, "out of memory");
    }
    return 0;
}

static int static_entry_parse(const struct csv_line *l, char *fields[CSV_COLUMNS_USED], size_t n,
                              struct auth_static_entry *e)
{
    if (n < 3)
        return csv_fail(l, "needs at least 3 columns (token, user name, uid), found %zu", n);
    size_t tlen = strlen(fields[0]);
    if (tlen == 0 || tlen > AUTH_TOKEN_MAX)
        return csv_fail(l, "the token is empty or longer than %d bytes", AUTH_TOKEN_MAX);
    if (!util_token_is_valid(fields[0], tlen))
        return csv_fail(l, "the token has a character other than visible ASCII (0x21-0x7E)");
    if (!auth_name_is_valid(fields[1], strlen(fields[1]), false))
        return csv_fail(l, "the user name is empty, longer than %d bytes or has control characters",
                        AUTH_NAME_MAX - 1);
    if (!auth_name_is_valid(fields[2], strlen(fields[2]), true))
        return csv_fail(l, "the uid is longer than %d bytes or has control characters",
                        AUTH_NAME_MAX - 1);
    e->line = l->line;
    if (static_digest(fields[0], tlen, e->digest) < 0)
        return csv_fail(l, "cannot hash the token");
    if (!(e->user = strdup(fields[1])) || !(e->uid = strdup(fields[2])))
        return csv_fail(l, "out of memory");
    return n > 3 ? static_groups_parse(l, fields[3], e) : 0;
}

static bool static_line_blank(const char *s)
{
    s += strspn(s, " \t");
    return !*s;
}

static int static_lines_parse(const char *path, char *buf, struct auth_static *st, char *err,
                              size_t err_cap)
{
    size_t len = strlen(buf), lines = 1;
    for (const char *nl = buf; (nl = strchr(nl, '\n')); nl++)
        lines++;
    size_t cap = lines < AUTH_STATIC_TOKENS_MAX ? lines : AUTH_STATIC_TOKENS_MAX;
    char *scratch = malloc(len + 1);
    if (!scratch || !(st->entries = calloc(cap, sizeof(*st->entries)))) {
        free(scratch);
        snprintf(err, err_cap, "%s: out of memory", path);
        return -1;
    }
    struct csv_line l = {path, 0, err, err_cap};
    int rc = 0;
    for (char *s = buf, *next; s && rc == 0; s = next) {
        l.line++;
        if ((next = strchr(s, '\n')))
            *next++ = '\0';
        size_t n = strlen(s);
        if (n && s[n - 1] == '\r')
            s[n - 1] = '\0';
        if (static_line_blank(s))
            continue;
        char *fields[CSV_COLUMNS_USED];
        if (st->len == cap)
            rc = csv_fail(&l, "more than %d tokens", AUTH_STATIC_TOKENS_MAX);
        else if ((rc = csv_fields(&l, s, scratch, fields, &n)) == 0)
            rc = static_entry_parse(&l, fields, n, &st->entries[st->len++]);
    }
    OPENSSL_clear_free(scratch, len + 1);
    return rc;
}

static int static_entry_cmp(const void *a, const void *b)
{
    const struct auth_static_entry *x = a, *y = b;
    int c = memcmp(x->digest, y->digest, sizeof(x->digest));
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* Sorting reorders entries, which is harmless: a check visits all of them. */
static int static_duplicates_check(const char *path, struct auth_static *st, char *err,
                                   size_t err_cap)
{
    qsort(st->entries, st->len, sizeof(*st->entries), static_entry_cmp);
    for (size_t i = 1; i < st->len; i++)
        if (memcmp(st->entries[i - 1].digest, st->entries[i].digest, 32) == 0) {
            snprintf(err, err_cap, "%s:%d: duplicate token (also on line %d)", path,
                     st->entries[i].line, st->entries[i - 1].line);
            return -1;
        }
    return 0;
}

int auth_static_load(const char *path, struct auth_static *st, char *err, size_t err_cap)
{
    memset(st, 0, sizeof(*st));
    size_t len = 0;
    char *buf;
    if (util_file_read(path, AUTH_TOKEN_FILE_MAX, &buf, &len, err, err_cap) < 0)
        return -1;
    int rc = -1;
    if (memchr(buf, '\0', len))
        snprintf(err, err_cap, "%s: contains a NUL byte", path);
    else
        rc = static_lines_parse(path, buf, st, err, err_cap);
    OPENSSL_clear_free(buf, len);
    if (rc == 0 && st->len == 0) {
        snprintf(err, err_cap, "%s: no tokens", path);
        rc = -1;
    }
    if (rc == 0)
        rc = static_duplicates_check(path, st, err, err_cap);
    if (rc < 0)
        auth_static_clear(st);
    return rc;
}

void auth_static_clear(struct auth_static *st)
{
    for (size_t i = 0; st->entries && i < st->len; i++) {
        struct auth_static_entry *e = &st->entries[i];
        free(e->user);
        free(e->uid);
        for (size_t g = 0; e->groups && g < e->groups_len; g++)
            free(e->groups[g]);
        free(e->groups);
    }
    free(st->entries);
    memset(st, 0, sizeof(*st));
}

int auth_static_check(const struct auth_static *st, const char *token, struct auth_identity *id)
{
    unsigned char d[32];
    if (static_digest(token, strlen(token), d) < 0)
        return AUTH_ERR_INVALID;
    size_t hit = 0; /* 1 + index of the match; tokens are unique, so at most one */
    for (size_t i = 0; i < st->len; i++)
        hit += (size_t)(CRYPTO_memcmp(d, st->entries[i].digest, sizeof(d)) == 0) * (i + 1);
    if (!hit)
        return AUTH_ERR_INVALID;
    const struct auth_static_entry *e = &st->entries[hit - 1];
    memset(id, 0, sizeof(*id));
    memcpy(id->user, e->user, strlen(e->user) + 1); /* lengths checked at load */
    memcpy(id->uid, e->uid, strlen(e->uid) + 1);
    for (size_t g = 0; g < e->groups_len; g++)
        if (auth_identity_add_group(id, e->groups[g], strlen(e->groups[g])) < 0) {
            auth_identity_clear(id); /* out of memory: refused, never fewer groups */
            return AUTH_ERR_INVALID;
        }
    return AUTH_OK;
}
