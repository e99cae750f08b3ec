/* test_audit_event_edges.c - the edges of an audit Event line that no
 * request produces today but the encoder promises: absent strings, counts
 * past their bounds, levels and stages out of range, a Status with only a
 * reason, timestamps that cannot be written, annotations without keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "audit/audit.h"

static const struct timespec T0 = {1796020890, 123456789}; /* 2026-11-30T06:41:30.123456Z */

static struct audit_event bare_event(void)
{
    struct audit_event ev = {
        .audit_id = "11111111-2222-4333-8444-555555555555",
        .level = AUDIT_LEVEL_METADATA,
        .stage = AUDIT_STAGE_REQUEST_RECEIVED,
        .request_uri = "/version",
        .verb = "get",
        .received = T0,
        .stage_ts = T0,
    };
    return ev;
}

#define LINE_HEAD                                                                                  \
    "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\","               \
    "\"auditID\":\"11111111-2222-4333-8444-555555555555\","
#define LINE_TIMES                                                                                 \
    "\"requestReceivedTimestamp\":\"2026-11-30T06:41:30.123456Z\","                                \
    "\"stageTimestamp\":\"2026-11-30T06:41:30.123456Z\""

static void assert_line(const struct audit_event *ev, const char *want)
{
    char *line = audit_event_line(ev, NULL); /* the length is optional */
    assert_non_null(line);
    assert_string_equal(line, want);
    free(line);
}

/* NULL strings are "": the required ones are written empty, the optional
 * ones (source IP, user agent) left out. */
static void test_event_null_strings(void **state)
{
    struct audit_event ev = bare_event();
    ev.request_uri = NULL;
    ev.verb = NULL;
    assert_line(&ev, LINE_HEAD "\"stage\":\"RequestReceived\",\"requestURI\":\"\",\"verb\":\"\","
                               "\"user\":{}," LINE_TIMES "}\n");
}

/* A level past RequestResponse is written as Metadata, a stage past Panic
 * as Panic: never an index out of the name tables. */
static void test_event_level_and_stage_out_of_range(void **state)
{
    struct audit_event ev = bare_event();
    ev.level = (enum audit_level)7;
    ev.stage = (enum audit_stage)9;
    assert_line(&ev, LINE_HEAD "\"stage\":\"Panic\",\"requestURI\":\"/version\",\"verb\":\"get\","
                               "\"user\":{}," LINE_TIMES "}\n");
}

/* A reason without a message is still a failure. */
static void test_event_reason_only_is_failure(void **state)
{
    struct audit_event ev = bare_event();
    ev.code = 500;
    ev.status_message = "";
    ev.status_reason = "InternalError";
    assert_line(&ev, LINE_HEAD "\"stage\":\"RequestReceived\",\"requestURI\":\"/version\","
                               "\"verb\":\"get\",\"user\":{},\"responseStatus\":{\"metadata\":{},"
                               "\"status\":\"Failure\",\"reason\":\"InternalError\",\"code\":500},"
                               "\"requestReceivedTimestamp\":\"2026-11-30T06:41:30.123456Z\","
                               "\"stageTimestamp\":\"2026-11-30T06:41:30.123456Z\"}\n");
}

/* groups_len past AUTH_GROUPS_MAX writes the AUTH_GROUPS_MAX groups there are. */
static void test_event_groups_clamped(void **state)
{
    static struct auth_identity id = {.user = "u"};
    static char names[AUTH_GROUPS_MAX][16]; /* the identity borrows them */
    for (size_t i = 0; i < AUTH_GROUPS_MAX; i++) {
        snprintf(names[i], sizeof(names[i]), "g%zu", i);
        id.groups[i] = names[i];
    }
    id.groups_len = AUTH_GROUPS_MAX + 5;
    struct audit_event ev = bare_event();
    ev.user = &id;
    char *line = audit_event_line(&ev, NULL);
    assert_non_null(line);
    char last[64];
    snprintf(last, sizeof(last), "\"g%d\"]}", AUTH_GROUPS_MAX - 1);
    assert_non_null(strstr(line, last));
    size_t n = 0;
    for (const char *p = line; (p = strstr(p, "\"g")); p++)
        n += p[2] >= '0' && p[2] <= '9'; /* a group, not the "groups" key */
    assert_int_equal(n, AUTH_GROUPS_MAX);
    free(line);
}

/* A negative or out-of-range tv_nsec is written as .000000 rather than a
 * malformed fraction. */
static void test_event_bad_nanoseconds(void **state)
{
    struct audit_event ev = bare_event();
    ev.received.tv_nsec = -5000;
    ev.stage_ts.tv_nsec = 1000000000 + 5000;
    assert_line(&ev, LINE_HEAD "\"stage\":\"RequestReceived\",\"requestURI\":\"/version\","
                               "\"verb\":\"get\",\"user\":{},"
                               "\"requestReceivedTimestamp\":\"2026-11-30T06:41:30.000000Z\","
                               "\"stageTimestamp\":\"2026-11-30T06:41:30.000000Z\"}\n");
}

/* A time gmtime cannot represent makes no line (NULL), never a line
 * without its timestamp. */
static void test_event_unrepresentable_time(void **state)
{
    struct audit_event ev = bare_event();
    ev.stage_ts.tv_sec = INT64_MAX;
    size_t len = 99;
    assert_null(audit_event_line(&ev, &len));
}

/* Annotations without a key are skipped; when none is left there is no
 * "annotations" at all (omitempty); past AUDIT_ANNOTATIONS_MAX the count
 * is clamped. */
static void test_event_annotations_keyless_and_clamped(void **state)
{
    struct audit_event ev = bare_event();
    ev.annotations[0] = (struct audit_annotation){NULL, "x"};
    ev.annotations[1] = (struct audit_annotation){"", "y"};
    ev.annotations_len = 2;
    assert_line(&ev, LINE_HEAD "\"stage\":\"RequestReceived\",\"requestURI\":\"/version\","
                               "\"verb\":\"get\",\"user\":{}," LINE_TIMES "}\n");

    for (size_t i = 0; i < AUDIT_ANNOTATIONS_MAX; i++)
        ev.annotations[i] = (struct audit_annotation){"k", "v"};
    ev.annotations[0].key = "first";
    ev.annotations[AUDIT_ANNOTATIONS_MAX - 1].key = "last";
    ev.annotations_len = AUDIT_ANNOTATIONS_MAX + 3;
    assert_line(&ev, LINE_HEAD "\"stage\":\"RequestReceived\",\"requestURI\":\"/version\","
                               "\"verb\":\"get\",\"user\":{}," LINE_TIMES
                               ",\"annotations\":{\"first\":\"v\",\"k\":\"v\",\"last\":\"v\"}}\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_null_strings),
        cmocka_unit_test(test_event_level_and_stage_out_of_range),
        cmocka_unit_test(test_event_reason_only_is_failure),
        cmocka_unit_test(test_event_groups_clamped),
        cmocka_unit_test(test_event_bad_nanoseconds),
        cmocka_unit_test(test_event_unrepresentable_time),
        cmocka_unit_test(test_event_annotations_keyless_and_clamped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
