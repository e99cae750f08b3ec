/* test_proto_status.c - channel-3 Status payloads (PROTOCOL.md 3.6, checklist
 * 7-9) and HTTP Status bodies (1.2, checklist 22) as exact strings, escaped as
 * Go's encoding/json escapes them, and never lost to a small buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "proto/proto.h"

#define SUCCESS_JSON "{\"metadata\":{},\"status\":\"Success\"}"
#define EXIT_MSG "error executing command [sh -c exit 3], exit code 3"

static const enum proto_kind JSON_KINDS[] = {PROTO_KIND_V4, PROTO_KIND_V4_BASE64, PROTO_KIND_V5,
                                             PROTO_KIND_PODTERM};
static const enum proto_kind TEXT_KINDS[] = {PROTO_KIND_NONE, PROTO_KIND_CHANNEL,
                                             PROTO_KIND_BASE64};

/* The payload as a C string, or fail. */
static const char *status(enum proto_kind kind, enum proto_status_type type, int code,
                          const char *msg)
{
    static char out[PROTO_STATUS_MAX + 1];
    int n = proto_status_payload(kind, type, code, msg, out, PROTO_STATUS_MAX);
    assert_true(n >= 0);
    out[n] = '\0';
    return out;
}

static void test_status_success(void **state)
{
    for (size_t k = 0; k < 4; k++)
        assert_string_equal(status(JSON_KINDS[k], PROTO_STATUS_SUCCESS, 0, NULL), SUCCESS_JSON);
    /* checklist 9: pre-v4 says nothing on success */
    for (size_t k = 0; k < 3; k++) {
        char out[8];
        assert_int_equal(proto_status_payload(TEXT_KINDS[k], PROTO_STATUS_SUCCESS, 0, "x", out, 8),
                         0);
    }
}

static void test_status_exit(void **state)
{
    /* checklist 7 */
    for (size_t k = 0; k < 4; k++)
        assert_string_equal(
            status(JSON_KINDS[k], PROTO_STATUS_EXIT, 3, EXIT_MSG),
            "{\"metadata\":{},\"status\":\"Failure\",\"message\":\"command terminated with "
            "non-zero exit code: error executing command [sh -c exit 3], exit code "
            "3\",\"reason\":\"NonZeroExitCode\",\"details\":{\"causes\":[{\"reason\":"
            "\"ExitCode\",\"message\":\"3\"}]}}");
    assert_string_equal(
        status(PROTO_KIND_V5, PROTO_STATUS_EXIT, 255, "x"),
        "{\"metadata\":{},\"status\":\"Failure\",\"message\":\"command "
        "terminated with non-zero exit code: x\",\"reason\":\"NonZeroExitCode\","
        "\"details\":{\"causes\":[{\"reason\":\"ExitCode\",\"message\":\"255\"}]}}");
    /* checklist 9: pre-v4 failure is text that says "exit code" */
    for (size_t k = 0; k < 3; k++)
        assert_string_equal(status(TEXT_KINDS[k], PROTO_STATUS_EXIT, 3, EXIT_MSG),
                            "command terminated with non-zero exit code: " EXIT_MSG);
}

static void test_status_internal(void **state)
{
    for (size_t k = 0; k < 4; k++)
        assert_string_equal(status(JSON_KINDS[k], PROTO_STATUS_INTERNAL, 0,
                                   "you must specify at least 1 of stdin, stdout, stderr"),
                            "{\"metadata\":{},\"status\":\"Failure\",\"message\":\"Internal error "
                            "occurred: you must specify at least 1 of stdin, stdout, "
                            "stderr\",\"reason\":\"InternalError\",\"details\":{\"causes\":[{"
                            "\"message\":\"you must specify at least 1 of stdin, stdout, "
                            "stderr\"}]},\"code\":500}");
    for (size_t k = 0; k < 3; k++)
        assert_string_equal(status(TEXT_KINDS[k], PROTO_STATUS_INTERNAL, 0, "no such file"),
                            "Internal error occurred: no such file");
    assert_string_equal(status(PROTO_KIND_V5, PROTO_STATUS_INTERNAL, 0, NULL),
                        "{\"metadata\":{},\"status\":\"Failure\",\"message\":\"Internal error "
                        "occurred: \",\"reason\":\"InternalError\",\"details\":{\"causes\":[{"
                        "\"message\":\"\"}]},\"code\":500}");
}

/* The message field of an internal-error status for msg. */
static const char *escaped(const char *msg)
{
    static char field[PROTO_STATUS_MAX];
    const char *json = status(PROTO_KIND_V5, PROTO_STATUS_INTERNAL, 0, msg);
    const char *start = strstr(json, "occurred: ") + strlen("occurred: ");
    const char *end = strstr(start, "\",\"reason\"");
    assert_non_null(end);
    memcpy(field, start, (size_t)(end - start));
    field[end - start] = '\0';
    return field;
}

/* Byte for byte what Go 1.22+ encoding/json.Marshal writes. */
static void test_status_escaping(void **state)
{
    static const struct {
        const char *in, *out;
    } CASES[] = {
        {"exec: \"x\": not found\n", "exec: \\\"x\\\": not found\\n"},
        {"back\\slash /path", "back\\\\slash /path"},
        {"tab\tcr\rbs\bff\f", "tab\\tcr\\rbs\\bff\\f"},
        {"\x01\x1f\x7f", "\\u0001\\u001f\x7f"},
        {"a<b>c&d", "a\\u003cb\\u003ec\\u0026d"},
        {"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80",
         "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80"},
        {"ls\xe2\x80\xa8ps\xe2\x80\xa9", "ls\\u2028ps\\u2029"},
        {"bad \xff byte", "bad \\ufffd byte"},
        {"cut \xe6\x97", "cut \\ufffd\\ufffd"},
        {"overlong \xc0\x80", "overlong \\ufffd\\ufffd"},
        {"surrogate \xed\xa0\x80", "surrogate \\ufffd\\ufffd\\ufffd"},
        {"big \xf4\x90\x80\x80", "big \\ufffd\\ufffd\\ufffd\\ufffd"},
    };
    for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++)
        assert_string_equal(escaped(CASES[i].in), CASES[i].out);
    /* pre-v4 text is the message itself, unescaped */
    assert_string_equal(status(PROTO_KIND_CHANNEL, PROTO_STATUS_INTERNAL, 0, "a\"b\n<\xff>"),
                        "Internal error occurred: a\"b\n<\xff>");
}

/* Every JSON payload parses, and carries the message a client will show. */
static void test_status_parses(void **state)
{
    const char *msg = "q\"uote\\ nl\n \x01 <&> caf\xc3\xa9 \xe2\x80\xa8";
    const char *json = status(PROTO_KIND_V4, PROTO_STATUS_EXIT, 42, msg);
    json_error_t err;
    json_t *root = json_loads(json, 0, &err);
    assert_non_null(root);
    char want[256];
    snprintf(want, sizeof(want), "command terminated with non-zero exit code: %s", msg);
    assert_string_equal(json_string_value(json_object_get(root, "message")), want);
    json_t *cause = json_array_get(json_object_get(json_object_get(root, "details"), "causes"), 0);
    assert_string_equal(json_string_value(json_object_get(cause, "message")), "42");
    json_decref(root);
}

/* A message too long for the buffer is shortened at a character boundary:
 * the status still goes out, still valid JSON, still with the exit code. */
static void test_status_shortened(void **state)
{
    static char msg[3 * PROTO_STATUS_MAX];
    for (size_t i = 0; i + 2 <= sizeof(msg) - 1; i += 2)
        memcpy(msg + i, "\xc3\xa9", 2); /* é: two bytes, never split */
    msg[sizeof(msg) - 1] = '\0';
    char out[PROTO_STATUS_MAX];
    int n = proto_status_payload(PROTO_KIND_V5, PROTO_STATUS_EXIT, 7, msg, out, sizeof(out));
    assert_true(n > 0 && n <= (int)sizeof(out));
    json_error_t err;
    json_t *root = json_loadb(out, (size_t)n, 0, &err); /* jansson refuses split UTF-8 */
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(root, "reason")), "NonZeroExitCode");
    json_decref(root);
    /* control characters escape to six bytes each */
    memset(msg, 1, PROTO_STATUS_MAX);
    msg[PROTO_STATUS_MAX] = '\0';
    n = proto_status_payload(PROTO_KIND_V4, PROTO_STATUS_INTERNAL, 0, msg, out, sizeof(out));
    assert_true(n > 0 && n <= (int)sizeof(out));
    root = json_loadb(out, (size_t)n, 0, &err);
    assert_non_null(root);
    json_decref(root);
    n = proto_status_payload(PROTO_KIND_CHANNEL, PROTO_STATUS_INTERNAL, 0, msg, out, 100);
    assert_int_equal(n, 100); /* the longest message that fits */
    assert_memory_equal(out, "Internal error occurred: \x01\x01", 27);
    /* JSON: as long as fits; one more character would not. The message is
     * written twice (message and cause), each \x01 as the six bytes \u0001:
     * 146 bytes around them leave room for 12 characters (290 bytes), 13
     * would need 302. */
    n = proto_status_payload(PROTO_KIND_V5, PROTO_STATUS_INTERNAL, 0, msg, out, 300);
    char want[300], *w = want;
    w = stpcpy(w, "{\"metadata\":{},\"status\":\"Failure\",\"message\":\"Internal error "
                  "occurred: ");
    for (int i = 0; i < 12; i++)
        w = stpcpy(w, "\\u0001");
    w = stpcpy(w, "\",\"reason\":\"InternalError\",\"details\":{\"causes\":[{\"message\":\"");
    for (int i = 0; i < 12; i++)
        w = stpcpy(w, "\\u0001");
    w = stpcpy(w, "\"}]},\"code\":500}");
    assert_int_equal(w - want, 290);
    assert_int_equal(n, 290);
    assert_memory_equal(out, want, 290);
    /* too small even for an empty message */
    assert_int_equal(proto_status_payload(PROTO_KIND_V5, PROTO_STATUS_SUCCESS, 0, NULL, out, 33),
                     PROTO_ERR_SPACE);
    assert_int_equal(proto_status_payload(PROTO_KIND_V5, PROTO_STATUS_SUCCESS, 0, NULL, out, 34),
                     34);
    assert_int_equal(proto_status_payload(PROTO_KIND_V5, PROTO_STATUS_EXIT, 1, "m", out, 60),
                     PROTO_ERR_SPACE);
}

static const char *http(int code, const char *reason, const char *msg, const char *name,
                        const char *kind)
{
    static char out[PROTO_STATUS_MAX + 1];
    int n = proto_http_status(code, reason, msg, name, kind, out, PROTO_STATUS_MAX);
    assert_true(n > 0);
    out[n] = '\0';
    return out;
}

static void test_http_status(void **state)
{
    /* checklist 22 */
    assert_string_equal(http(404, "NotFound", "pods \"nope\" not found", "nope", "pods"),
                        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                        "\"Failure\",\"message\":\"pods \\\"nope\\\" not found\",\"reason\":"
                        "\"NotFound\",\"details\":{\"name\":\"nope\",\"kind\":\"pods\"},"
                        "\"code\":404}");
    assert_string_equal(http(401, "Unauthorized", "Unauthorized", NULL, NULL),
                        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                        "\"Failure\",\"message\":\"Unauthorized\",\"reason\":\"Unauthorized\","
                        "\"code\":401}");
    assert_string_equal(http(403, "Forbidden", "m", "p", NULL),
                        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                        "\"Failure\",\"message\":\"m\",\"reason\":\"Forbidden\",\"details\":{"
                        "\"name\":\"p\"},\"code\":403}");
    assert_string_equal(http(400, "BadRequest", "m", NULL, "pods"),
                        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                        "\"Failure\",\"message\":\"m\",\"reason\":\"BadRequest\",\"details\":{"
                        "\"kind\":\"pods\"},\"code\":400}");
    assert_string_equal(http(500, NULL, NULL, NULL, NULL),
                        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                        "\"Failure\",\"message\":\"\",\"reason\":\"\",\"code\":500}");
    /* names are escaped too */
    assert_string_equal(http(404, "NotFound", "a<b", "x\"y", "pods"),
                        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                        "\"Failure\",\"message\":\"a\\u003cb\",\"reason\":\"NotFound\","
                        "\"details\":{\"name\":\"x\\\"y\",\"kind\":\"pods\"},\"code\":404}");
}

static void test_http_status_small(void **state)
{
    static char msg[PROTO_STATUS_MAX * 2];
    memset(msg, 'm', sizeof(msg) - 1);
    char out[PROTO_STATUS_MAX];
    int n = proto_http_status(400, "BadRequest", msg, NULL, NULL, out, sizeof(out));
    assert_true(n > 0 && n <= (int)sizeof(out));
    assert_memory_equal(out + n - 12, ",\"code\":400}", 12);
    assert_int_equal(proto_http_status(400, "BadRequest", "", NULL, NULL, out, 20),
                     PROTO_ERR_SPACE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_success),  cmocka_unit_test(test_status_exit),
        cmocka_unit_test(test_status_internal), cmocka_unit_test(test_status_escaping),
        cmocka_unit_test(test_status_parses),   cmocka_unit_test(test_status_shortened),
        cmocka_unit_test(test_http_status),     cmocka_unit_test(test_http_status_small),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
