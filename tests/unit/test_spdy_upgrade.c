/* test_spdy_upgrade.c - the remotecommand version of a SPDY exec upgrade
 * (src/spdy/spdy_upgrade.h): the heads real kubectls send, Go's rules for
 * the header (one value per line, trimmed, any case of the name), and the
 * refusal's text within its buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "spdy/spdy_upgrade.h"

static int negotiate(const char *head, char *offers, size_t cap)
{
    return spdy_upgrade_negotiate(head, strlen(head), offers, cap);
}

/* kubectl 1.29-1.33's SPDY request (1.29 captured by tests/interop/test_spdy.py). */
static const char KUBECTL_129[] =
    "POST /api/v1/namespaces/default/pods/local/exec?command=true HTTP/1.1\r\n"
    "Host: 127.0.0.1\r\nUser-Agent: kubectl/v1.29.0\r\nConnection: Upgrade\r\n"
    "Upgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v5.channel.k8s.io\r\n"
    "X-Stream-Protocol-Version: v4.channel.k8s.io\r\n"
    "X-Stream-Protocol-Version: v3.channel.k8s.io\r\n"
    "X-Stream-Protocol-Version: v2.channel.k8s.io\r\n"
    "X-Stream-Protocol-Version: channel.k8s.io\r\n\r\n";

static const char KUBECTL_127[] =
    "POST /api/v1/namespaces/default/pods/local/exec?command=true HTTP/1.1\r\n"
    "Host: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"
    "X-Stream-Protocol-Version: v4.channel.k8s.io\r\n"
    "X-Stream-Protocol-Version: v3.channel.k8s.io\r\n"
    "X-Stream-Protocol-Version: v2.channel.k8s.io\r\n"
    "X-Stream-Protocol-Version: channel.k8s.io\r\n\r\n";

static void test_kubectl_offers(void **state)
{
    (void)state;
    char offers[SPDY_UPGRADE_OFFER_TEXT];
    assert_int_equal(negotiate(KUBECTL_129, offers, sizeof(offers)), SPDY_VERSION_V5);
    assert_string_equal(offers, "[v5.channel.k8s.io v4.channel.k8s.io v3.channel.k8s.io "
                                "v2.channel.k8s.io channel.k8s.io]");
    assert_int_equal(negotiate(KUBECTL_127, NULL, 0), SPDY_VERSION_V4);
    assert_string_equal(spdy_version_name(SPDY_VERSION_V5), "v5.channel.k8s.io");
    assert_string_equal(spdy_version_name(SPDY_VERSION_V1), "channel.k8s.io");
}

static void test_client_order_wins(void **state)
{
    (void)state;
    assert_int_equal(negotiate("POST / HTTP/1.1\r\nX-Stream-Protocol-Version: v2.channel.k8s.io\r\n"
                               "X-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n",
                               NULL, 0),
                     SPDY_VERSION_V2);
    assert_int_equal(negotiate("POST / HTTP/1.1\r\nX-Stream-Protocol-Version: v9.channel.k8s.io\r\n"
                               "X-Stream-Protocol-Version: channel.k8s.io\r\n\r\n",
                               NULL, 0),
                     SPDY_VERSION_V1);
}

static void test_go_header_rules(void **state)
{
    (void)state;
    /* any case of the name, spaces and tabs trimmed */
    assert_int_equal(negotiate("POST / HTTP/1.1\r\nx-STREAM-protocol-version:\t v3.channel.k8s.io "
                               "\t\r\n\r\n",
                               NULL, 0),
                     SPDY_VERSION_V3);
    /* a comma list on one line is one (unknown) value, as in Go */
    char offers[64];
    assert_int_equal(negotiate("POST / HTTP/1.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io, "
                               "channel.k8s.io\r\n\r\n",
                               offers, sizeof(offers)),
                     SPDY_UPGRADE_NO_MATCH);
    assert_string_equal(offers, "[v4.channel.k8s.io, channel.k8s.io]");
    /* the request line is not a header */
    assert_int_equal(
        negotiate("X-Stream-Protocol-Version: v4.channel.k8s.io\r\nHost: x\r\n\r\n", NULL, 0),
        SPDY_UPGRADE_NONE);
    /* a prefix of the name is another header */
    assert_int_equal(
        negotiate("POST / HTTP/1.1\r\nX-Stream-Protocol: v4.channel.k8s.io\r\n\r\n", NULL, 0),
        SPDY_UPGRADE_NONE);
}

static void test_none_and_no_match(void **state)
{
    (void)state;
    char offers[64];
    assert_int_equal(negotiate("POST / HTTP/1.1\r\nHost: x\r\n\r\n", offers, sizeof(offers)),
                     SPDY_UPGRADE_NONE);
    assert_string_equal(offers, "[]");
    assert_int_equal(negotiate("POST / HTTP/1.1\r\nX-Stream-Protocol-Version: foo\r\n"
                               "X-Stream-Protocol-Version: \r\n\r\n",
                               offers, sizeof(offers)),
                     SPDY_UPGRADE_NO_MATCH);
    assert_string_equal(offers, "[foo ]");
}

static void test_offer_text_bounded(void **state)
{
    (void)state;
    char head[4096];
    int n = snprintf(head, sizeof(head), "POST / HTTP/1.1\r\n");
    for (int i = 0; i < 40; i++) /* more lines than SPDY_UPGRADE_OFFERS_MAX */
        n += snprintf(head + n, sizeof(head) - (size_t)n, "X-Stream-Protocol-Version: v%d\r\n", i);
    snprintf(head + n, sizeof(head) - (size_t)n, "\r\n");
    for (size_t cap = 8; cap < 40; cap++) {
        char offers[48];
        memset(offers, 'Z', sizeof(offers));
        assert_int_equal(negotiate(head, offers, cap), SPDY_UPGRADE_NO_MATCH);
        assert_int_equal(strlen(offers), cap - 1); /* filled, and never past cap */
        assert_int_equal(offers[cap], 'Z');
        assert_memory_equal(offers + cap - 5, "...]", 4);
    }
    char offers[SPDY_UPGRADE_OFFER_TEXT];
    negotiate(head, offers, sizeof(offers));
    assert_string_equal(offers, "[v0 v1 v2 v3 v4 v5 v6 v7 v8 v9 v10 v11 v12 v13 v14 v15]");
    /* control bytes shown as '?' */
    negotiate("POST / HTTP/1.1\r\nX-Stream-Protocol-Version: a\x01\x7f"
              "b\r\n\r\n",
              offers, sizeof(offers));
    assert_string_equal(offers, "[a??b]");
    /* a buffer too small to say anything is left alone */
    char tiny[4] = "abc";
    assert_int_equal(negotiate(KUBECTL_127, tiny, sizeof(tiny)), SPDY_VERSION_V4);
    assert_string_equal(tiny, "abc");
}

static void test_is_spdy(void **state)
{
    (void)state;
    const char *ok = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                     "upgrade: spdy/3.1\r\n\r\n";
    assert_true(spdy_upgrade_is_spdy(ok, strlen(ok)));
    assert_true(spdy_upgrade_is_spdy(KUBECTL_127, strlen(KUBECTL_127)));
    const char *ws = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";
    assert_false(spdy_upgrade_is_spdy(ws, strlen(ws)));
    /* only an Upgrade header counts, not the status line or another header */
    const char *other = "HTTP/1.1 101 SPDY/3.1\r\nX-Upgrade: SPDY/3.1\r\nUpgrade: SPDY/3\r\n\r\n";
    assert_false(spdy_upgrade_is_spdy(other, strlen(other)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kubectl_offers),     cmocka_unit_test(test_client_order_wins),
        cmocka_unit_test(test_go_header_rules),    cmocka_unit_test(test_none_and_no_match),
        cmocka_unit_test(test_offer_text_bounded), cmocka_unit_test(test_is_spdy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
