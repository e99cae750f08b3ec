/* test_audit_event.c - one audit.k8s.io/v1 Event line: every field parsed
 * back with jansson and compared, Go's omitempty rules (an empty "user",
 * no responseStatus at RequestReceived), failure status, impersonation,
 * annotations, RFC 3339 microsecond timestamps, strings that are not UTF-8
 * or too long, and the auditID's UUID shape. */
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

/* 2026-11-30T06:41:30.123456Z and 2026-11-30T06:41:31.000007Z */
static const struct timespec T_RECEIVED = {1796020890, 123456789};
static const struct timespec T_STAGE = {1796020891, 7999};

static struct auth_identity alice(void)
{
    struct auth_identity id = {.user = "alice",
                               .uid = "uid-1",
                               .groups = {"dev", "system:authenticated"}, /* borrowed */
                               .groups_len = 2};
    return id;
}

static struct audit_event exec_event(const struct auth_identity *user)
{
    struct audit_event ev = {
        .audit_id = "0b5d6f4c-1c7e-4a9b-8f3e-2d1c0b9a8e7f",
        .level = AUDIT_LEVEL_METADATA,
        .stage = AUDIT_STAGE_RESPONSE_COMPLETE,
        .request_uri = "/api/v1/namespaces/default/pods/web/exec?command=sh&stdin=true",
        .verb = "create",
        .user = user,
        .source_ip = "127.0.0.1",
        .user_agent = "kubectl/v1.33.0 (linux/amd64) kubernetes/abc",
        .has_object_ref = true,
        .resource = "pods",
        .ns = "default",
        .name = "web",
        .subresource = "exec",
        .api_group = "",
        .api_version = "v1",
        .code = 101,
        .received = T_RECEIVED,
        .stage_ts = T_STAGE,
    };
    return ev;
}

/* The line must end in exactly one '\n' and be one JSON object. */
static json_t *line_parse(const struct audit_event *ev)
{
    size_t len = 0;
    char *line = audit_event_line(ev, &len);
    assert_non_null(line);
    assert_int_equal(len, strlen(line));
    assert_true(len > 2);
    assert_int_equal(line[len - 1], '\n');
    assert_null(memchr(line, '\n', len - 1));
    json_error_t jerr;
    json_t *o = json_loadb(line, len, 0, &jerr);
    if (!o)
        fail_msg("not JSON: %s: %s", jerr.text, line);
    free(line);
    return o;
}

/* o and the JSON text want are equal (jansson compares objects key by key). */
static void assert_json(json_t *o, const char *want)
{
    json_error_t jerr;
    json_t *w = json_loads(want, 0, &jerr);
    if (!w)
        fail_msg("bad expectation: %s", jerr.text);
    if (!json_equal(o, w)) {
        char *got = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        char *exp = json_dumps(w, JSON_COMPACT | JSON_SORT_KEYS);
        print_error("got  %s\nwant %s\n", got, exp);
        free(got);
        free(exp);
        fail();
    }
    json_decref(w);
}

static void test_event_exec_complete(void **state)
{
    struct auth_identity id = alice();
    struct audit_event ev = exec_event(&id);
    ev.annotations[0] = (struct audit_annotation){"podterm.dev/exit-code", "0"};
    ev.annotations[1] = (struct audit_annotation){"podterm.dev/command", "[\"sh\",\"-c\",\"id\"]"};
    ev.annotations[2] = (struct audit_annotation){"authorization.k8s.io/decision", "allow"};
    ev.annotations_len = 3;
    json_t *o = line_parse(&ev);
    assert_json(o,
                "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\","
                "\"auditID\":\"0b5d6f4c-1c7e-4a9b-8f3e-2d1c0b9a8e7f\","
                "\"stage\":\"ResponseComplete\","
                "\"requestURI\":\"/api/v1/namespaces/default/pods/web/exec?command=sh&stdin=true\","
                "\"verb\":\"create\","
                "\"user\":{\"username\":\"alice\",\"uid\":\"uid-1\","
                "\"groups\":[\"dev\",\"system:authenticated\"]},"
                "\"sourceIPs\":[\"127.0.0.1\"],"
                "\"userAgent\":\"kubectl/v1.33.0 (linux/amd64) kubernetes/abc\","
                "\"objectRef\":{\"resource\":\"pods\",\"namespace\":\"default\",\"name\":\"web\","
                "\"apiVersion\":\"v1\",\"subresource\":\"exec\"},"
                "\"responseStatus\":{\"metadata\":{},\"code\":101},"
                "\"requestReceivedTimestamp\":\"2026-11-30T06:41:30.123456Z\","
                "\"stageTimestamp\":\"2026-11-30T06:41:31.000007Z\","
                "\"annotations\":{\"podterm.dev/exit-code\":\"0\","
                "\"podterm.dev/command\":\"[\\\"sh\\\",\\\"-c\\\",\\\"id\\\"]\","
                "\"authorization.k8s.io/decision\":\"allow\"}}");
    json_decref(o);
}

/* RequestReceived: no responseStatus; nobody known: "user":{}; no source
 * IP, user agent, object or annotations: all left out. */
static void test_event_request_received_minimal(void **state)
{
    struct audit_event ev = {
        .audit_id = "11111111-2222-4333-8444-555555555555",
        .level = AUDIT_LEVEL_METADATA,
        .stage = AUDIT_STAGE_REQUEST_RECEIVED,
        .request_uri = "/version",
        .verb = "get",
        .source_ip = "",
        .user_agent = "",
        .received = T_RECEIVED,
        .stage_ts = T_RECEIVED,
    };
    json_t *o = line_parse(&ev);
    assert_json(o, "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\","
                   "\"auditID\":\"11111111-2222-4333-8444-555555555555\","
                   "\"stage\":\"RequestReceived\",\"requestURI\":\"/version\",\"verb\":\"get\","
                   "\"user\":{},"
                   "\"requestReceivedTimestamp\":\"2026-11-30T06:41:30.123456Z\","
                   "\"stageTimestamp\":\"2026-11-30T06:41:30.123456Z\"}");
    json_decref(o);
}

/* A denial: the Status's failure fields; a user with no uid and no groups
 * keeps only its name. */
static void test_event_failure_status(void **state)
{
    struct auth_identity bob = {.user = "bob"};
    struct audit_event ev = exec_event(&bob);
    ev.code = 403;
    ev.status_reason = "Forbidden";
    ev.status_message = "pods \"web\" is forbidden: User \"bob\" cannot create resource "
                        "\"pods/exec\" in API group \"\" in the namespace \"default\"";
    ev.stage = AUDIT_STAGE_RESPONSE_STARTED;
    json_t *o = line_parse(&ev);
    assert_json(json_object_get(o, "responseStatus"),
                "{\"metadata\":{},\"status\":\"Failure\",\"message\":\"pods \\\"web\\\" is "
                "forbidden: User \\\"bob\\\" cannot create resource \\\"pods/exec\\\" in API "
                "group \\\"\\\" in the namespace \\\"default\\\"\",\"reason\":\"Forbidden\","
                "\"code\":403}");
    assert_json(json_object_get(o, "user"), "{\"username\":\"bob\"}");
    assert_string_equal(json_string_value(json_object_get(o, "stage")), "ResponseStarted");
    json_decref(o);
}

static void test_event_impersonated(void **state)
{
    struct auth_identity id = alice();
    struct auth_identity gw = {.user = "system:serviceaccount:podterm:gateway",
                               .groups = {"system:serviceaccounts"},
                               .groups_len = 1};
    struct audit_event ev = exec_event(&gw);
    ev.impersonated = &id;
    json_t *o = line_parse(&ev);
    assert_json(json_object_get(o, "user"),
                "{\"username\":\"system:serviceaccount:podterm:gateway\","
                "\"groups\":[\"system:serviceaccounts\"]}");
    assert_json(json_object_get(o, "impersonatedUser"),
                "{\"username\":\"alice\",\"uid\":\"uid-1\","
                "\"groups\":[\"dev\",\"system:authenticated\"]}");
    json_decref(o);
}

/* podterm logs no bodies: Request and RequestResponse are written as what
 * the event holds, Metadata. */
static void test_event_level_is_metadata(void **state)
{
    struct auth_identity id = alice();
    enum audit_level asked[] = {AUDIT_LEVEL_METADATA, AUDIT_LEVEL_REQUEST,
                                AUDIT_LEVEL_REQUEST_RESPONSE};
    for (size_t i = 0; i < 3; i++) {
        struct audit_event ev = exec_event(&id);
        ev.level = asked[i];
        json_t *o = line_parse(&ev);
        assert_string_equal(json_string_value(json_object_get(o, "level")), "Metadata");
        assert_null(json_object_get(o, "requestObject"));
        assert_null(json_object_get(o, "responseObject"));
        json_decref(o);
    }
}

/* Only the fields given go into objectRef (a cluster-scoped request has no
 * namespace; a named group appears as apiGroup). */
static void test_event_object_ref_omitempty(void **state)
{
    struct auth_identity id = alice();
    struct audit_event ev = exec_event(&id);
    ev.resource = "selfsubjectaccessreviews";
    ev.ns = "";
    ev.name = NULL;
    ev.subresource = "";
    ev.api_group = "authorization.k8s.io";
    ev.api_version = "v1";
    ev.code = 201;
    json_t *o = line_parse(&ev);
    assert_json(json_object_get(o, "objectRef"),
                "{\"resource\":\"selfsubjectaccessreviews\",\"apiGroup\":\"authorization.k8s.io\","
                "\"apiVersion\":\"v1\"}");
    assert_json(json_object_get(o, "responseStatus"), "{\"metadata\":{},\"code\":201}");
    json_decref(o);
}

/* Timestamps: always six digits, UTC "Z", at the edges of a second. */
static void test_event_timestamps(void **state)
{
    static const struct {
        struct timespec ts;
        const char *want;
    } cases[] = {
        {{0, 0}, "1970-01-01T00:00:00.000000Z"},
        {{1796020890, 999999999}, "2026-11-30T06:41:30.999999Z"},
        {{1796020890, 1000}, "2026-11-30T06:41:30.000001Z"},
        {{951782400, 500000000}, "2000-02-29T00:00:00.500000Z"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct audit_event ev = exec_event(NULL);
        ev.received = cases[i].ts;
        ev.stage_ts = cases[i].ts;
        json_t *o = line_parse(&ev);
        assert_string_equal(json_string_value(json_object_get(o, "requestReceivedTimestamp")),
                            cases[i].want);
        assert_string_equal(json_string_value(json_object_get(o, "stageTimestamp")), cases[i].want);
        json_decref(o);
    }
}

/* Bytes that are not UTF-8 become U+FFFD each (Go's encoder); a requestURI
 * longer than AUDIT_URI_MAX is cut there, never mid-character. */
static void test_event_bad_utf8_and_bounds(void **state)
{
    struct audit_event ev = exec_event(NULL);
    ev.user_agent = "curl\xff\xfe/1";
    char *uri = malloc(AUDIT_URI_MAX + 100);
    memset(uri, 'a', AUDIT_URI_MAX + 99);
    memcpy(uri + AUDIT_URI_MAX - 1, "\xc3\xa9", 2); /* é straddles the bound */
    uri[AUDIT_URI_MAX + 99] = '\0';
    ev.request_uri = uri;
    char *long_value = malloc(AUDIT_ANNOTATION_MAX + 10);
    memset(long_value, 'v', AUDIT_ANNOTATION_MAX + 9);
    long_value[AUDIT_ANNOTATION_MAX + 9] = '\0';
    ev.annotations[0] = (struct audit_annotation){"podterm.dev/command", long_value};
    ev.annotations_len = 1;
    json_t *o = line_parse(&ev);
    assert_string_equal(json_string_value(json_object_get(o, "userAgent")),
                        "curl\xef\xbf\xbd\xef\xbf\xbd/1");
    const char *got = json_string_value(json_object_get(o, "requestURI"));
    assert_int_equal(strlen(got), AUDIT_URI_MAX - 1);
    assert_int_equal(strspn(got, "a"), AUDIT_URI_MAX - 1);
    json_t *an = json_object_get(o, "annotations");
    assert_int_equal(strlen(json_string_value(json_object_get(an, "podterm.dev/command"))),
                     AUDIT_ANNOTATION_MAX);
    json_decref(o);
    free(uri);
    free(long_value);
}

static void test_audit_id_shape(void **state)
{
    char a[AUDIT_ID_LEN + 1], b[AUDIT_ID_LEN + 1];
    audit_id_new(a);
    audit_id_new(b);
    assert_int_equal(strlen(a), AUDIT_ID_LEN);
    assert_string_not_equal(a, b);
    for (size_t i = 0; i < AUDIT_ID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            assert_int_equal(a[i], '-');
        else
            assert_non_null(strchr("0123456789abcdef", a[i]));
    }
    assert_int_equal(a[14], '4');           /* version 4 */
    assert_non_null(strchr("89ab", a[19])); /* RFC 9562 variant */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_exec_complete),
        cmocka_unit_test(test_event_request_received_minimal),
        cmocka_unit_test(test_event_failure_status),
        cmocka_unit_test(test_event_impersonated),
        cmocka_unit_test(test_event_level_is_metadata),
        cmocka_unit_test(test_event_object_ref_omitempty),
        cmocka_unit_test(test_event_timestamps),
        cmocka_unit_test(test_event_bad_utf8_and_bounds),
        cmocka_unit_test(test_audit_id_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
