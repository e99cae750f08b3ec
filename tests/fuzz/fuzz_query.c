/* fuzz_query.c - differential libFuzzer target for exec/attach query parsing.
 * The input's first byte picks exec or attach; the rest is a raw query string.
 *
 * The reference is a small reimplementation of Go's url.ParseQuery (Go 1.17+:
 * '&'-separated pairs, a pair holding ';' skipped whole, a pair whose key or
 * value has a bad %-escape skipped, '+' is a space) and of the apiserver's
 * conversions (the first value of a boolean or of container counts; "0" and
 * any case of "false" are false). Two podterm paths must agree with it:
 *  - the gateway: the head goes through head_rewrite (which applies the ';'
 *    rule), http_request_parse and gw_exec_desc, as in gateway mode;
 *  - local mode's exec_request_build, given the reference's items (lws does
 *    the splitting there, which is not a pure function to call).
 * Targets podterm refuses before parsing (a bad %-escape or %00 anywhere, a
 * control byte: head_target_valid and Go's net/http answer 400) are skipped. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "gateway/gw_route.h"
#include "http/http_request.h"
#include "proto/proto.h"
#include "session/exec_request.h"
#include "http/head_rewrite.h"

#define FUZZ_QUERY_MAX 8000 /* below HTTP_TARGET_MAX with the path */
#define FUZZ_ITEMS_MAX 4096 /* reference pairs kept */
#define FUZZ_PATH "/api/v1/namespaces/default/pods/local/exec"
#define FUZZ_HEAD_MAX (FUZZ_QUERY_MAX + 256)
#define GW_CONTAINER_CAP 254 /* sizeof(kube_stream_desc.container) */

struct ref_item {
    char *key, *val; /* NUL-terminated; no NUL inside (%00 is refused earlier) */
    size_t klen, vlen;
};

struct ref_query {
    struct ref_item items[FUZZ_ITEMS_MAX];
    size_t n;
    char arena[2 * FUZZ_QUERY_MAX + 2 * FUZZ_ITEMS_MAX];
    size_t used;
};

static int hexv(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Go's QueryUnescape into the arena: length, or -1 on a bad escape. */
static long go_unescape(struct ref_query *r, const char *s, size_t n)
{
    char *o = r->arena + r->used;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            if (i + 2 >= n || hexv(s[i + 1]) < 0 || hexv(s[i + 2]) < 0)
                return -1;
            o[k++] = (char)(hexv(s[i + 1]) * 16 + hexv(s[i + 2]));
            i += 2;
        } else {
            o[k++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    o[k] = '\0';
    r->used += k + 1;
    return (long)k;
}

static void go_parse_query(const char *q, size_t n, struct ref_query *r)
{
    r->n = 0;
    r->used = 0;
    for (size_t i = 0; i < n && r->n < FUZZ_ITEMS_MAX;) {
        size_t j = i;
        while (j < n && q[j] != '&')
            j++;
        const char *s = q + i;
        size_t len = j - i;
        i = j + 1;
        if (len == 0 || memchr(s, ';', len))
            continue;
        const char *eq = memchr(s, '=', len);
        size_t klen = eq ? (size_t)(eq - s) : len;
        size_t mark = r->used;
        struct ref_item *it = &r->items[r->n];
        long k = go_unescape(r, s, klen);
        it->key = r->arena + mark;
        long v = k < 0 ? -1 : go_unescape(r, eq ? eq + 1 : "", eq ? (size_t)(s + len - eq - 1) : 0);
        if (k < 0 || v < 0) {
            r->used = mark;
            continue;
        }
        it->klen = (size_t)k;
        it->val = it->key + k + 1;
        it->vlen = (size_t)v;
        r->n++;
    }
}

static const struct ref_item *ref_first(const struct ref_query *r, const char *key)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->items[i].key, key) == 0)
            return &r->items[i];
    return NULL;
}

/* k8s Convert_Slice_string_To_bool */
static bool ref_bool(const struct ref_query *r, const char *key)
{
    const struct ref_item *it = ref_first(r, key);
    if (!it)
        return false;
    if (strcmp(it->val, "0") == 0 || strlen(it->val) != 5)
        return strcmp(it->val, "0") != 0;
    static const char f[] = "false";
    for (int i = 0; i < 5; i++)
        if ((it->val[i] | 0x20) != f[i])
            return true;
    return false;
}

static size_t ref_commands(const struct ref_query *r, const struct ref_item **out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->items[i].key, "command") == 0) {
            if (n < cap)
                out[n] = &r->items[i];
            n++;
        }
    return n;
}

static bool plain_target(const char *q, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)q[i] <= ' ' || q[i] == 0x7f)
            return false;
    return true;
}

static struct config_cluster *cluster;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    cluster = config_cluster_default();
    return 0;
}

static void check_gateway(const char *head, size_t head_len, bool attach, const struct ref_query *r)
{
    static char out[FUZZ_HEAD_MAX + HEAD_REWRITE_SLACK + 32];
    static struct head_rewrite hr;
    size_t n = head_rewrite(head, head_len, head_len, out, sizeof(out), &hr);
    if (n == 0)
        __builtin_trap(); /* a short, plain head always fits */
    struct http_request gr;
    if (http_request_parse(out, n, &gr) != 0)
        __builtin_trap();
    struct kube_stream_desc *d = calloc(1, sizeof(*d));
    struct http_query q;
    if (http_query_decode(gr.query.p, gr.query.n, &q) != 0 || gw_exec_desc(&q, attach, d) != 0)
        __builtin_trap();
    http_query_free(&q);
    if (d->want_stdin != ref_bool(r, "stdin") || d->want_stdout != ref_bool(r, "stdout") ||
        d->want_stderr != ref_bool(r, "stderr") || d->tty != ref_bool(r, "tty"))
        __builtin_trap();
    const struct ref_item *c = ref_first(r, "container");
    /* Known difference, reported: when Go's first container value is empty
     * or too long for the gateway, the gateway takes a later one. */
    if (c && c->vlen > 0 && c->vlen < GW_CONTAINER_CAP && strcmp(d->container, c->val) != 0)
        __builtin_trap();
    if (!c && d->container[0])
        __builtin_trap();
    if (attach) {
        if (d->argv || d->argc)
            __builtin_trap();
    } else {
        static const struct ref_item *cmd[EXEC_ARGV_MAX];
        size_t nc = ref_commands(r, cmd, EXEC_ARGV_MAX);
        if (nc <= EXEC_ARGV_MAX) { /* more: see the report (the gateway keeps 1024) */
            if (d->argc != nc || d->argv[nc] != NULL)
                __builtin_trap();
            for (size_t i = 0; i < nc; i++)
                if (strcmp(d->argv[i], cmd[i]->val) != 0)
                    __builtin_trap();
        }
    }
    if (d->argv)
        for (size_t i = 0; i < d->argc; i++)
            free(d->argv[i]);
    free(d->argv);
    free(d);
}

static void check_local(bool attach, const struct ref_query *r)
{
    static struct http_query_item items[FUZZ_ITEMS_MAX];
    for (size_t i = 0; i < r->n; i++)
        items[i] = (struct http_query_item){r->items[i].key, r->items[i].klen, r->items[i].val,
                                            r->items[i].vlen};
    struct exec_request req;
    struct exec_error err;
    int rc = exec_request_build(cluster, "default", "local", attach, items, r->n, &req, &err);
    bool in = ref_bool(r, "stdin"), out = ref_bool(r, "stdout"), er = ref_bool(r, "stderr");
    const struct ref_item *c = ref_first(r, "container");
    bool container_ok = !c || c->vlen == 0 || strcmp(c->val, "shell") == 0;
    static const struct ref_item *cmd[EXEC_ARGV_MAX];
    size_t nc = ref_commands(r, cmd, EXEC_ARGV_MAX);
    bool want_ok = container_ok && (in || out || er) && (attach || (nc > 0 && nc <= EXEC_ARGV_MAX));
    if ((rc == 0) != want_ok)
        __builtin_trap();
    if (rc != 0) {
        if (err.code != 400 || strnlen(err.message, sizeof(err.message)) == sizeof(err.message) ||
            err.message[0] == '\0')
            __builtin_trap();
        if (req.argv)
            __builtin_trap(); /* nothing left to free on failure */
        return;
    }
    if (req.want_stdin != in || req.want_stdout != out || req.want_stderr != er ||
        req.tty != ref_bool(r, "tty") || strcmp(req.container->name, "shell") != 0)
        __builtin_trap();
    if (!attach) {
        if (req.argc != nc || req.argv[nc] != NULL)
            __builtin_trap();
        for (size_t i = 0; i < nc; i++)
            if (strcmp(req.argv[i], cmd[i]->val) != 0)
                __builtin_trap();
    }
    exec_request_clear(&req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size - 1 > FUZZ_QUERY_MAX)
        return 0;
    bool attach = data[0] & 1;
    const char *q = (const char *)data + 1;
    size_t qn = size - 1;
    if (!plain_target(q, qn))
        return 0;
    static char head[FUZZ_HEAD_MAX];
    int hn =
        snprintf(head, sizeof(head), "GET %s?%.*s HTTP/1.1\r\nHost: x\r\n\r\n",
                 attach ? "/api/v1/namespaces/default/pods/local/attach" : FUZZ_PATH, (int)qn, q);
    if (hn <= 0 || (size_t)hn >= sizeof(head))
        return 0;
    if (!head_target_valid(head, (size_t)hn))
        return 0; /* a 400 before any parsing, in both modes */
    static struct ref_query ref;
    go_parse_query(q, qn, &ref);
    if (ref.n == FUZZ_ITEMS_MAX)
        return 0;
    check_gateway(head, (size_t)hn, attach, &ref);
    check_local(attach, &ref);
    return 0;
}
