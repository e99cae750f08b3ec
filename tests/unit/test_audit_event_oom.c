/* test_audit_event_oom.c - audit_event_line out of memory: every refused
 * allocation (podterm's own and jansson's, routed through unit_oom.h by
 * json_set_alloc_funcs) is NULL, never a line with a field missing: a
 * corrupt line in the audit log would pass for a true record. Every run
 * whose allocations all succeeded gives the exact line of the clean run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "audit/audit.h"
#include "unit_oom.h"

/* The real free for jansson: what it frees came from __wrap_malloc. */
static void oom_free(void *p)
{
    free(p);
}

struct event_case {
    const struct audit_event *ev;
    char *want; /* the line of a run without failures */
    size_t want_len;
    long refused; /* runs that returned NULL */
};

static void event_step(void *ctx)
{
    struct event_case *c = ctx;
    size_t len = 0;
    char *line = audit_event_line(c->ev, &len);
    if (unit_oom_hit() && !line) {
        c->refused++;
        return;
    }
    /* A line is only ever the whole line: jansson may absorb a failure of
     * its own (a hash table that stays small), podterm never passes on a
     * part of the event. */
    assert_non_null(line);
    assert_int_equal(len, c->want_len);
    assert_memory_equal(line, c->want, len);
    free(line);
}

/* Every part of an event that allocates: both users with groups, the
 * object, a failure status, annotations, and strings that need UTF-8
 * repair (their own buffer). */
static void test_event_line_out_of_memory(void **state)
{
    (void)state;
    /* Borrowed group strings: these identities are never cleared. */
    struct auth_identity alice = {.user = "alice",
                                  .uid = "uid-1",
                                  .groups = {"dev\xff", "system:authenticated"},
                                  .groups_len = 2};
    struct auth_identity gw = {
        .user = "gateway", .groups = {"system:serviceaccounts"}, .groups_len = 1};
    struct audit_event ev = {
        .audit_id = "0b5d6f4c-1c7e-4a9b-8f3e-2d1c0b9a8e7f",
        .level = AUDIT_LEVEL_METADATA,
        .stage = AUDIT_STAGE_RESPONSE_COMPLETE,
        .request_uri = "/api/v1/namespaces/default/pods/web/exec?command=sh",
        .verb = "create",
        .user = &gw,
        .impersonated = &alice,
        .source_ip = "127.0.0.1",
        .user_agent = "curl\xfe/8",
        .has_object_ref = true,
        .resource = "pods",
        .ns = "default",
        .name = "web",
        .subresource = "exec",
        .api_group = "apps",
        .api_version = "v1",
        .code = 403,
        .status_message = "forbidden",
        .status_reason = "Forbidden",
        .received = {1796020890, 123456789},
        .stage_ts = {1796020891, 7999},
        .annotations = {{"podterm.dev/exit-code", "0"}, {"authorization.k8s.io/decision", "deny"}},
        .annotations_len = 2,
    };
    json_set_alloc_funcs(__wrap_malloc, oom_free);
    struct event_case c = {.ev = &ev};
    c.want = audit_event_line(&ev, &c.want_len);
    assert_non_null(c.want);
    assert_string_equal(
        c.want,
        "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\","
        "\"auditID\":\"0b5d6f4c-1c7e-4a9b-8f3e-2d1c0b9a8e7f\",\"stage\":\"ResponseComplete\","
        "\"requestURI\":\"/api/v1/namespaces/default/pods/web/exec?command=sh\","
        "\"verb\":\"create\",\"user\":{\"username\":\"gateway\","
        "\"groups\":[\"system:serviceaccounts\"]},\"impersonatedUser\":{\"username\":\"alice\","
        "\"uid\":\"uid-1\",\"groups\":[\"dev\xef\xbf\xbd\",\"system:authenticated\"]},"
        "\"sourceIPs\":[\"127.0.0.1\"],\"userAgent\":\"curl\xef\xbf\xbd/8\","
        "\"objectRef\":{\"resource\":\"pods\",\"namespace\":\"default\",\"name\":\"web\","
        "\"apiGroup\":\"apps\",\"apiVersion\":\"v1\",\"subresource\":\"exec\"},"
        "\"responseStatus\":{\"metadata\":{},\"status\":\"Failure\",\"message\":\"forbidden\","
        "\"reason\":\"Forbidden\",\"code\":403},"
        "\"requestReceivedTimestamp\":\"2026-11-30T06:41:30.123456Z\","
        "\"stageTimestamp\":\"2026-11-30T06:41:31.000007Z\","
        "\"annotations\":{\"podterm.dev/exit-code\":\"0\","
        "\"authorization.k8s.io/decision\":\"deny\"}}\n");
    long allocations = unit_oom_sweep(event_step, &c);
    json_set_alloc_funcs(malloc, free);
    assert_true(allocations > 40);
    /* Nearly every refusal is reported: only jansson's own absorbed ones
     * may go unnoticed, and those still give the whole line. */
    assert_true(c.refused >= allocations - 4);
    free(c.want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_line_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
