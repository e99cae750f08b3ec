/* test_gateway_route.c - the gateway's path allowlist at its edges (a
 * trailing slash, empty, dot and over-long segments, more segments than a
 * pod's exec path, a path that is not absolute) and the exec description's
 * limits: more than GW_ARGV_MAX command= values or a container name longer
 * than a name can be are refused, never cut (admission decided on the whole
 * command; running its first 1024 words, or the default container instead
 * of the one named, would run something nobody checked). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend/kube/kube_backend.h"
#include "gateway/gw_route.h"
#include "http/http_request.h"

#define QUERY_MAX (16 * 1024)

static void test_allowlist_edges(void **state)
{
    (void)state;
    char ns[GW_NAME_MAX + 1], pod[GW_NAME_MAX + 1];
    bool attach = true;
#define M(p) gw_route_match(p, strlen(p), ns, pod, &attach)
    assert_int_equal(M("/api/"), GW_ROUTE_REST); /* "/api/" is "/api" */
    assert_int_equal(M("/api/v1/namespaces/d/pods/p/exec/"), GW_ROUTE_EXEC);
    assert_false(attach);
    assert_string_equal(ns, "d");
    assert_string_equal(pod, "p");
    assert_int_equal(M(""), GW_ROUTE_NONE);
    assert_int_equal(M("/"), GW_ROUTE_NONE);
    assert_int_equal(M("api/v1"), GW_ROUTE_NONE);   /* not absolute */
    assert_int_equal(M("/api//v1"), GW_ROUTE_NONE); /* an empty segment */
    assert_int_equal(M("/api/v1/namespaces/./pods"), GW_ROUTE_NONE);
    assert_int_equal(M("/api/v1/namespaces/.x/pods"), GW_ROUTE_REST); /* a name, not a dot */
    assert_int_equal(M("/api/v1/namespaces/d/pods/p/exec/x"), GW_ROUTE_NONE);
    assert_int_equal(M("/api/v1/namespaces/d/pods/p/exec/x/y"), GW_ROUTE_NONE); /* 9 segments */
    assert_int_equal(M("/api/v2"), GW_ROUTE_NONE);
    assert_int_equal(M("/apis/v1"), GW_ROUTE_NONE);
    assert_int_equal(M("/api/v1/nodes/n"), GW_ROUTE_NONE);
    assert_int_equal(M("/api/v1/namespaces/d/services/s"), GW_ROUTE_NONE);
    assert_int_equal(M("/x"), GW_ROUTE_NONE);
#undef M
    char longer[GW_NAME_MAX + 64];
    int n = snprintf(longer, sizeof(longer), "/api/v1/namespaces/%0*d", GW_NAME_MAX + 1, 0);
    assert_int_equal(gw_route_match(longer, (size_t)n, ns, pod, &attach), GW_ROUTE_NONE);
    assert_true(gw_path_is_api("/api/", 5));
    assert_false(gw_path_is_api("/apis2", 6));
    assert_false(gw_path_is_api("/versions", 9));
}

static int desc_of(const char *query, bool attach, struct kube_stream_desc *d)
{
    struct http_query q;
    assert_int_equal(http_query_decode(query, strlen(query), &q), 0);
    memset(d, 0, sizeof(*d));
    int rc = gw_exec_desc(&q, attach, d);
    http_query_free(&q);
    return rc;
}

static void desc_free(struct kube_stream_desc *d)
{
    for (size_t i = 0; d->argv && i < d->argc; i++)
        free(d->argv[i]);
    free(d->argv);
}

/* n command= values, then stdout. */
static char *commands(size_t n)
{
    char *q = malloc(QUERY_MAX);
    assert_non_null(q);
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(q + len, QUERY_MAX - len, "command=a%zu&", i);
    snprintf(q + len, QUERY_MAX - len, "stdout=1");
    return q;
}

static void test_command_limit_is_refused_not_cut(void **state)
{
    (void)state;
    struct kube_stream_desc d;
    char *q = commands(GW_ARGV_MAX);
    assert_int_equal(desc_of(q, false, &d), 0);
    assert_int_equal(d.argc, GW_ARGV_MAX);
    assert_string_equal(d.argv[GW_ARGV_MAX - 1], "a1023");
    assert_null(d.argv[GW_ARGV_MAX]);
    desc_free(&d);
    free(q);
    q = commands(GW_ARGV_MAX + 1);
    assert_int_equal(desc_of(q, false, &d), GW_EXEC_DESC_ARGV_MAX);
    desc_free(&d);
    free(q);
}

static void test_container_name_too_long_is_refused(void **state)
{
    (void)state;
    struct kube_stream_desc d;
    char q[GW_NAME_MAX + 64];
    snprintf(q, sizeof(q), "container=%0*d&stdout=1", GW_NAME_MAX, 7);
    assert_int_equal(desc_of(q, false, &d), 0); /* as long as a name can be */
    assert_int_equal(strlen(d.container), GW_NAME_MAX);
    desc_free(&d);
    snprintf(q, sizeof(q), "container=%0*d&stdout=1", GW_NAME_MAX + 1, 7);
    assert_int_equal(desc_of(q, true, &d), GW_EXEC_DESC_CONTAINER_LONG);
    /* Its start, for the refusal's message. */
    assert_int_equal(strlen(d.container), GW_NAME_MAX);
    assert_memory_equal(d.container, "0000", 4);
    desc_free(&d);
}

static void test_first_container_counts_attach_takes_no_command(void **state)
{
    (void)state;
    struct kube_stream_desc d;
    assert_int_equal(desc_of("container=c1&container=c2&command=ls&stdin&stdin=0", true, &d), 0);
    assert_string_equal(d.container, "c1");
    assert_true(d.attach);
    assert_null(d.argv); /* attach runs nothing */
    assert_int_equal(d.argc, 0);
    assert_true(d.want_stdin); /* a bare key is true, and the first counts */
    desc_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allowlist_edges),
        cmocka_unit_test(test_command_limit_is_refused_not_cut),
        cmocka_unit_test(test_container_name_too_long_is_refused),
        cmocka_unit_test(test_first_container_counts_attach_takes_no_command),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
