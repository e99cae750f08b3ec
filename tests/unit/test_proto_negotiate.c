/* test_proto_negotiate.c - subprotocol selection and the bearer token item
 * (PROTOCOL.md 2.3, 2.5; checklist 2, 3, 24): a table of offers as header
 * lines, the result each must give, and the limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proto/proto.h"

#define TOK PROTO_TOKEN_PREFIX
#define LINES_MAX 3

struct offer_case {
    const char *lines[LINES_MAX];
    int rc;
    enum proto_kind kind;
    const char *token; /* NULL: no token expected */
};

static size_t case_nlines(const struct offer_case *c)
{
    size_t n = 0;
    while (n < LINES_MAX && c->lines[n])
        n++;
    return n;
}

static const struct offer_case CASES[] = {
    /* one item of each supported name */
    {{"channel.k8s.io"}, PROTO_OK, PROTO_KIND_CHANNEL, NULL},
    {{"base64.channel.k8s.io"}, PROTO_OK, PROTO_KIND_BASE64, NULL},
    {{"v4.channel.k8s.io"}, PROTO_OK, PROTO_KIND_V4, NULL},
    {{"v4.base64.channel.k8s.io"}, PROTO_OK, PROTO_KIND_V4_BASE64, NULL},
    {{"v5.channel.k8s.io"}, PROTO_OK, PROTO_KIND_V5, NULL},
    {{"v1.flow.podterm.dev"}, PROTO_OK, PROTO_KIND_PODTERM, NULL},
    /* checklist 2: v5 wins wherever it stands; otherwise the client's order */
    {{"base64.channel.k8s.io, v5.channel.k8s.io"}, PROTO_OK, PROTO_KIND_V5, NULL},
    {{"channel.k8s.io, v4.channel.k8s.io"}, PROTO_OK, PROTO_KIND_CHANNEL, NULL},
    {{"v4.channel.k8s.io,channel.k8s.io"}, PROTO_OK, PROTO_KIND_V4, NULL},
    {{"v1.flow.podterm.dev,v5.channel.k8s.io"}, PROTO_OK, PROTO_KIND_V5, NULL},
    {{"v1.flow.podterm.dev,v4.channel.k8s.io"}, PROTO_OK, PROTO_KIND_PODTERM, NULL},
    /* client-node's offer, one line */
    {{"v5.channel.k8s.io,v4.channel.k8s.io,v3.channel.k8s.io,v2.channel.k8s.io,channel.k8s.io"},
     PROTO_OK,
     PROTO_KIND_V5,
     NULL},
    /* checklist 3 and other unsupported offers */
    {{"foo.example"}, PROTO_ERR_NO_MATCH, PROTO_KIND_NONE, NULL},
    {{"v3.channel.k8s.io,v2.channel.k8s.io"}, PROTO_ERR_NO_MATCH, PROTO_KIND_NONE, NULL},
    {{"V5.CHANNEL.K8S.IO"}, PROTO_ERR_NO_MATCH, PROTO_KIND_NONE, NULL}, /* exact match */
    {{"v5.channel.k8s.io.x"}, PROTO_ERR_NO_MATCH, PROTO_KIND_NONE, NULL},
    {{"v5.channel.k8s.io x"}, PROTO_ERR_NO_MATCH, PROTO_KIND_NONE, NULL},
    {{","}, PROTO_ERR_NO_MATCH, PROTO_KIND_NONE, NULL},
    /* trimming (spaces and tabs only) and empty items */
    {{" \tv4.channel.k8s.io\t ,\tfoo "}, PROTO_OK, PROTO_KIND_V4, NULL},
    {{"foo,, ,v4.base64.channel.k8s.io"}, PROTO_OK, PROTO_KIND_V4_BASE64, NULL},
    {{",,channel.k8s.io,,"}, PROTO_OK, PROTO_KIND_CHANNEL, NULL},
    /* without a token only the first line counts */
    {{"foo", "v4.channel.k8s.io"}, PROTO_ERR_NO_MATCH, PROTO_KIND_NONE, NULL},
    {{"channel.k8s.io", "v5.channel.k8s.io"}, PROTO_OK, PROTO_KIND_CHANNEL, NULL},
    {{"v4.channel.k8s.io", "foo", "v5.channel.k8s.io"}, PROTO_OK, PROTO_KIND_V4, NULL},
    /* checklist 24: token plus another item; "abc" is YWJj */
    {{TOK "YWJj, v4.channel.k8s.io"}, PROTO_OK, PROTO_KIND_V4, "abc"},
    {{"v4.channel.k8s.io, " TOK "YWJj"}, PROTO_OK, PROTO_KIND_V4, "abc"},
    {{TOK "YWJj,v5.channel.k8s.io,v4.channel.k8s.io"}, PROTO_OK, PROTO_KIND_V5, "abc"},
    {{"  " TOK "YWJj\t, channel.k8s.io"}, PROTO_OK, PROTO_KIND_CHANNEL, "abc"},
    {{TOK "YWJjZA,v4.channel.k8s.io"}, PROTO_OK, PROTO_KIND_V4, "abcd"}, /* no padding */
    {{TOK "YWI,v4.channel.k8s.io"}, PROTO_OK, PROTO_KIND_V4, "ab"},
    {{TOK "Pj4_,v4.channel.k8s.io"}, PROTO_OK, PROTO_KIND_V4, ">>?"}, /* URL alphabet */
    /* visible ASCII only (issue 18 finding 4): UTF-8 é, CR LF, space, DEL */
    {{TOK "w6k,v4.channel.k8s.io"}, PROTO_ERR_TOKEN_ENCODING, PROTO_KIND_NONE, NULL},
    {{TOK "eA0KSW1wZXJzb25hdGUtVXNlcjogYWRtaW4,v4.channel.k8s.io"},
     PROTO_ERR_TOKEN_ENCODING,
     PROTO_KIND_NONE,
     NULL}, /* "x\r\nImpersonate-User: admin" */
    {{TOK "YSBi,v4.channel.k8s.io"}, PROTO_ERR_TOKEN_ENCODING, PROTO_KIND_NONE, NULL}, /* "a b" */
    {{TOK "YX8,v4.channel.k8s.io"}, PROTO_ERR_TOKEN_ENCODING, PROTO_KIND_NONE, NULL},  /* a DEL */
    {{TOK "YQ0,v4.channel.k8s.io"}, PROTO_ERR_TOKEN_ENCODING, PROTO_KIND_NONE, NULL},  /* a CR */
    {{TOK "IX4,v4.channel.k8s.io"}, PROTO_OK, PROTO_KIND_V4, "!~"},
    /* with a token, the remaining items of every line, in order */
    {{TOK "YWJj", "v4.channel.k8s.io"}, PROTO_OK, PROTO_KIND_V4, "abc"},
    {{"foo", TOK "YWJj", "channel.k8s.io"}, PROTO_OK, PROTO_KIND_CHANNEL, "abc"},
    {{"channel.k8s.io", TOK "YWJj, v5.channel.k8s.io"}, PROTO_OK, PROTO_KIND_V5, "abc"},
    {{"base64.channel.k8s.io", TOK "YWJj", "v4.channel.k8s.io"},
     PROTO_OK,
     PROTO_KIND_BASE64,
     "abc"},
    /* the token subprotocol alone, on one line or with empty items */
    {{TOK "YWJj"}, PROTO_ERR_TOKEN_ALONE, PROTO_KIND_NONE, NULL},
    {{TOK "YWJj, ,"}, PROTO_ERR_TOKEN_ALONE, PROTO_KIND_NONE, NULL},
    {{"", TOK "YWJj"}, PROTO_ERR_TOKEN_ALONE, PROTO_KIND_NONE, NULL},
    /* two token items, on one line or two */
    {{TOK "YWJj," TOK "YWJj,v4.channel.k8s.io"}, PROTO_ERR_TOKEN_TWICE, PROTO_KIND_NONE, NULL},
    {{TOK "YWJj,v4.channel.k8s.io", TOK "eHl6"}, PROTO_ERR_TOKEN_TWICE, PROTO_KIND_NONE, NULL},
    /* bad encodings */
    {{TOK "YWJj=,v4.channel.k8s.io"}, PROTO_ERR_TOKEN_ENCODING, PROTO_KIND_NONE, NULL},
    {{TOK "YQ==,v4.channel.k8s.io"}, PROTO_ERR_TOKEN_ENCODING, PROTO_KIND_NONE, NULL},
    {{TOK ",v4.channel.k8s.io"}, PROTO_ERR_TOKEN_ENCODING, PROTO_KIND_NONE, NULL}, /* empty */
    {{TOK "YWJ+,v4.channel.k8s.io"}, PROTO_ERR_TOKEN_ENCODING, PROTO_KIND_NONE, NULL},
    {{TOK "YWJjY,v4.channel.k8s.io"}, PROTO_ERR_TOKEN_ENCODING, PROTO_KIND_NONE, NULL},
    {{TOK "YW Jj,v4.channel.k8s.io"}, PROTO_ERR_TOKEN_ENCODING, PROTO_KIND_NONE, NULL},
    {{TOK "_w,v4.channel.k8s.io"}, PROTO_ERR_TOKEN_ENCODING, PROTO_KIND_NONE, NULL},   /* 0xFF */
    {{TOK "7aCA,v4.channel.k8s.io"}, PROTO_ERR_TOKEN_ENCODING, PROTO_KIND_NONE, NULL}, /* D800 */
    {{TOK "AA,v4.channel.k8s.io"}, PROTO_ERR_TOKEN_ENCODING, PROTO_KIND_NONE, NULL},   /* NUL */
    /* the apiserver checks the token item before asking for another item */
    {{TOK "!!"}, PROTO_ERR_TOKEN_ENCODING, PROTO_KIND_NONE, NULL},
    /* a good token and nothing supported: authenticated, then 403 */
    {{TOK "YWJj, foo"}, PROTO_ERR_NO_MATCH, PROTO_KIND_NONE, NULL},
    /* near misses of the prefix are ordinary items */
    {{"base64url.bearer.authorization.k8s.io, v4.channel.k8s.io"}, PROTO_OK, PROTO_KIND_V4, NULL},
    {{"Base64url.bearer.authorization.k8s.io.YWJj"}, PROTO_ERR_NO_MATCH, PROTO_KIND_NONE, NULL},
};

static void test_negotiate_table(void **state)
{
    for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
        const struct offer_case *c = &CASES[i];
        static struct proto_negotiation n;
        memset(&n, 0x5a, sizeof(n));
        int rc = proto_negotiate(c->lines, case_nlines(c), &n);
        if (rc != c->rc || (rc == PROTO_OK && n.kind != c->kind))
            fail_msg("case %zu (%s): rc %d kind %d, want rc %d kind %d", i, c->lines[0], rc,
                     (int)n.kind, c->rc, (int)c->kind);
        assert_true(n.offered);
        assert_int_equal(n.has_token, c->token != NULL);
        if (c->token)
            assert_string_equal(n.token, c->token);
        if (rc != PROTO_OK)
            assert_int_equal(n.token[0], '\0'); /* a refused offer keeps no secret */
    }
}

static void test_negotiate_absent(void **state)
{
    static struct proto_negotiation n;
    assert_int_equal(proto_negotiate(NULL, 0, &n), PROTO_OK);
    assert_false(n.offered);
    assert_false(n.has_token);
    assert_int_equal(n.kind, PROTO_KIND_NONE);
    assert_string_equal(proto_kind_name(n.kind), "");
}

/* A token of len bytes of 'a', as a token item. */
static void token_item(char *out, size_t len)
{
    static uint8_t raw[PROTO_TOKEN_MAX + 8];
    memset(raw, 'a', len);
    strcpy(out, TOK);
    char *p = out + strlen(out);
    size_t n = proto_base64_encode(raw, len, p);
    while (n > 0 && p[n - 1] == '=')
        n--; /* base64url without padding; 'a'* has no '+' or '/' */
    strcpy(p + n, ",v4.channel.k8s.io");
}

static void test_negotiate_token_max(void **state)
{
    static char item[PROTO_OFFER_MAX];
    static struct proto_negotiation n;
    const char *lines[1] = {item};
    token_item(item, PROTO_TOKEN_MAX);
    assert_int_equal(proto_negotiate(lines, 1, &n), PROTO_OK);
    assert_int_equal(strlen(n.token), PROTO_TOKEN_MAX);
    token_item(item, PROTO_TOKEN_MAX + 1);
    assert_int_equal(proto_negotiate(lines, 1, &n), PROTO_ERR_TOKEN_ENCODING);
    assert_false(n.has_token);
}

static void test_negotiate_limits(void **state)
{
    static char big[PROTO_OFFER_MAX + 2];
    static struct proto_negotiation n;
    const char *lines[2] = {big, big};
    memset(big, 'a', PROTO_OFFER_MAX);
    big[PROTO_OFFER_MAX] = '\0';
    assert_int_equal(proto_negotiate(lines, 1, &n), PROTO_ERR_NO_MATCH); /* at the limit */
    big[PROTO_OFFER_MAX] = 'a';
    big[PROTO_OFFER_MAX + 1] = '\0';
    assert_int_equal(proto_negotiate(lines, 1, &n), PROTO_ERR_TOO_LONG);
    big[PROTO_OFFER_MAX / 2 + 1] = '\0'; /* two lines add up past the limit */
    assert_int_equal(proto_negotiate(lines, 2, &n), PROTO_ERR_TOO_LONG);

    /* PROTO_ITEMS_MAX items are considered, one more is refused */
    char many[PROTO_ITEMS_MAX * 4 + 32] = "";
    for (int i = 0; i < PROTO_ITEMS_MAX - 1; i++)
        strcat(many, "x,");
    strcat(many, "v4.channel.k8s.io");
    lines[0] = many;
    assert_int_equal(proto_negotiate(lines, 1, &n), PROTO_OK);
    assert_int_equal(n.kind, PROTO_KIND_V4);
    strcat(many, ",y");
    assert_int_equal(proto_negotiate(lines, 1, &n), PROTO_ERR_TOO_LONG);
    /* empty items do not count */
    strcpy(many, ",,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,v5.channel.k8s.io");
    assert_int_equal(proto_negotiate(lines, 1, &n), PROTO_OK);
}

/* The CSRF item: kept as sent beside the bearer and resume items, never
 * selected, one only, base64url of 1..PROTO_CSRF_MAX characters. */
static void test_negotiate_csrf(void **state)
{
    (void)state;
    struct proto_negotiation n;
    const char *ok[] = {PROTO_CSRF_PREFIX "a-b_C9, v5.channel.k8s.io"};
    assert_int_equal(proto_negotiate(ok, 1, &n), PROTO_OK);
    assert_true(n.has_csrf);
    assert_string_equal(n.csrf, "a-b_C9");
    assert_int_equal(n.kind, PROTO_KIND_V5);
    const char *alone[] = {PROTO_CSRF_PREFIX "abc"};
    assert_int_equal(proto_negotiate(alone, 1, &n), PROTO_ERR_NO_MATCH);
    const char *twice[] = {PROTO_CSRF_PREFIX "a, " PROTO_CSRF_PREFIX "b, v5.channel.k8s.io"};
    assert_int_equal(proto_negotiate(twice, 1, &n), PROTO_ERR_TOKEN_TWICE);
    assert_false(n.has_csrf);
    const char *bad[] = {PROTO_CSRF_PREFIX "a.b, v5.channel.k8s.io"};
    assert_int_equal(proto_negotiate(bad, 1, &n), PROTO_ERR_TOKEN_ENCODING);
    assert_int_equal(n.csrf[0], '\0');
    const char *empty[] = {PROTO_CSRF_PREFIX ", v5.channel.k8s.io"};
    assert_int_equal(proto_negotiate(empty, 1, &n), PROTO_ERR_TOKEN_ENCODING);
    char line[PROTO_CSRF_MAX + 64];
    snprintf(line, sizeof(line), "%s%0*d, v4.channel.k8s.io", PROTO_CSRF_PREFIX, PROTO_CSRF_MAX + 1,
             0);
    const char *long_[] = {line};
    assert_int_equal(proto_negotiate(long_, 1, &n), PROTO_ERR_TOKEN_ENCODING);
}

static void test_kind_names(void **state)
{
    for (int k = PROTO_KIND_CHANNEL; k < PROTO_KIND_COUNT; k++) {
        const char *name = proto_kind_name((enum proto_kind)k);
        assert_int_equal(proto_kind_from_name(name, strlen(name)), k);
    }
    assert_string_equal(proto_kind_name(PROTO_KIND_V5), "v5.channel.k8s.io");
    assert_string_equal(proto_kind_name(PROTO_KIND_PODTERM), PROTO_FLOW_NAME);
    assert_string_equal(proto_kind_name(PROTO_KIND_COUNT), "");
    assert_int_equal(proto_kind_from_name("", 0), -1); /* no client can offer "" */
    assert_int_equal(proto_kind_from_name("v5.channel.k8s.iox", 17), PROTO_KIND_V5); /* len */
    assert_int_equal(proto_kind_from_name("v2.channel.k8s.io", 17), -1);
}

static void test_kind_properties(void **state)
{
    /* kind: base64, JSON status, close signal (PROTOCOL.md 2.2) */
    static const bool WANT[PROTO_KIND_COUNT][3] = {
        [PROTO_KIND_NONE] = {false, false, false},    [PROTO_KIND_CHANNEL] = {false, false, false},
        [PROTO_KIND_BASE64] = {true, false, false},   [PROTO_KIND_V4] = {false, true, false},
        [PROTO_KIND_V4_BASE64] = {true, true, false}, [PROTO_KIND_V5] = {false, true, true},
        [PROTO_KIND_PODTERM] = {false, true, true},
    };
    for (int k = 0; k < PROTO_KIND_COUNT; k++) {
        assert_int_equal(proto_kind_is_base64((enum proto_kind)k), WANT[k][0]);
        assert_int_equal(proto_frame_is_text((enum proto_kind)k), WANT[k][0]);
        assert_int_equal(proto_kind_has_json_status((enum proto_kind)k), WANT[k][1]);
        assert_int_equal(proto_kind_has_close_signal((enum proto_kind)k), WANT[k][2]);
    }
}

static void test_query_bool(void **state)
{
    static const char *const FALSE_VALUES[] = {"0", "false", "False", "FALSE", "fAlSe"};
    static const char *const TRUE_VALUES[] = {"",   "1",      "true",   "True", "yes", "no",
                                              "00", " false", "false ", "f",    "off"};
    for (size_t i = 0; i < sizeof(FALSE_VALUES) / sizeof(FALSE_VALUES[0]); i++)
        assert_false(proto_query_bool(FALSE_VALUES[i]));
    for (size_t i = 0; i < sizeof(TRUE_VALUES) / sizeof(TRUE_VALUES[0]); i++)
        assert_true(proto_query_bool(TRUE_VALUES[i]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_negotiate_table),     cmocka_unit_test(test_negotiate_absent),
        cmocka_unit_test(test_negotiate_token_max), cmocka_unit_test(test_negotiate_limits),
        cmocka_unit_test(test_kind_names),          cmocka_unit_test(test_kind_properties),
        cmocka_unit_test(test_query_bool),          cmocka_unit_test(test_negotiate_csrf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
