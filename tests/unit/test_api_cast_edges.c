/* test_api_cast_edges.c - what api_cast.c refuses in a recording's header
 * and exit marker, each on its own: every podterm member missing or of the
 * wrong type, a kind too long for any kind, a command of more words than
 * EXEC_ARGV_MAX, a negative timestamp; exit markers whose code is not an
 * int, whose separator or reason is malformed, or whose event is not a
 * marker. A refused header lists nothing false; a refused marker leaves
 * the session without an exit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/api_session.h"

#define ID "0a1b2c3d-1111-4222-8333-444455556666"
#define HEAD_MAX (32 * 1024)

/* A header whose podterm object is pt (the rest as the recorder writes). */
static const char *header_with(const char *pt, const char *ts)
{
    static char buf[HEAD_MAX];
    snprintf(buf, sizeof(buf),
             "{\"version\": 2, \"width\": 80, \"height\": 24, \"timestamp\": %s, "
             "\"podterm\": %s}\n",
             ts, pt);
    return buf;
}

#define PT_ID "\"id\": \"" ID "\""
#define PT_REST                                                                                    \
    "\"namespace\": \"default\", \"pod\": \"web\", \"container\": \"c\", \"tty\": true, "          \
    "\"stdin\": false, \"command\": [\"sh\"]"

static void assert_header(const char *pt, const char *ts, enum api_cast_rc want)
{
    struct api_session s = {0};
    const char *h = header_with(pt, ts);
    enum api_cast_rc rc = api_cast_header_parse(h, strlen(h), ID, &s);
    if (rc != want)
        fail_msg("%d for %s", rc, h);
    if (rc != API_CAST_OK) {
        assert_null(s.command);
        assert_string_equal(s.id, "");
    }
    api_session_clear(&s);
}

static void test_header_members(void **state)
{
    assert_header("{" PT_ID ", \"user\": \"a\", \"kind\": \"attach\", " PT_REST "}", "1",
                  API_CAST_OK);
    static const char *const bad[] = {
        "{\"id\": 7, \"user\": \"a\", \"kind\": \"exec\", " PT_REST "}",
        "{" PT_ID ", \"kind\": \"exec\", " PT_REST "}",                      /* no user */
        "{" PT_ID ", \"user\": \"a\", \"kind\": \"executes\", " PT_REST "}", /* too long */
        "{" PT_ID ", \"user\": \"a\", \"kind\": \"exec\", \"pod\": \"web\", \"container\": \"c\", "
        "\"tty\": true, \"stdin\": false, \"command\": []}", /* no namespace */
        "{" PT_ID ", \"user\": \"a\", \"kind\": \"exec\", \"namespace\": \"d\", "
        "\"container\": \"c\", \"tty\": true, \"stdin\": false, \"command\": []}", /* no pod */
        "{" PT_ID ", \"user\": \"a\", \"kind\": \"exec\", \"namespace\": \"d\", \"pod\": \"p\", "
        "\"tty\": true, \"stdin\": false, \"command\": []}", /* no container */
        "{" PT_ID ", \"user\": \"a\", \"kind\": \"exec\", \"namespace\": \"d\", \"pod\": \"p\", "
        "\"container\": \"c\", \"tty\": \"yes\", \"stdin\": false, \"command\": []}",
        "{" PT_ID ", \"user\": \"a\", \"kind\": \"exec\", \"namespace\": \"d\", \"pod\": \"p\", "
        "\"container\": \"c\", \"tty\": true, \"command\": []}", /* no stdin */
        "{" PT_ID ", \"user\": \"a\", \"kind\": \"exec\", \"namespace\": \"d\", \"pod\": \"p\", "
        "\"container\": \"c\", \"tty\": true, \"stdin\": false, \"command\": \"sh\"}",
        "[]",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_header(bad[i], "1", API_CAST_INVALID);
    assert_header("{" PT_ID ", \"user\": \"a\", \"kind\": \"exec\", " PT_REST "}", "-1",
                  API_CAST_INVALID);
}

/* A command of API_CAST_ARGV_MAX words is kept; one more is not a header
 * podterm wrote. */
static void test_header_argv_bound(void **state)
{
    static char pt[HEAD_MAX - 256];
    for (size_t words = API_CAST_ARGV_MAX; words <= API_CAST_ARGV_MAX + 1; words++) {
        size_t o = (size_t)snprintf(pt, sizeof(pt),
                                    "{" PT_ID ", \"user\": \"a\", \"kind\": \"exec\", "
                                    "\"namespace\": \"d\", \"pod\": \"p\", \"container\": \"c\", "
                                    "\"tty\": true, \"stdin\": false, \"command\": [");
        for (size_t i = 0; i < words; i++)
            o += (size_t)snprintf(pt + o, sizeof(pt) - o, "%s\"w\"", i ? "," : "");
        snprintf(pt + o, sizeof(pt) - o, "]}");
        assert_header(pt, "1", words > API_CAST_ARGV_MAX ? API_CAST_INVALID : API_CAST_OK);
    }
}

static void test_names_suffix(void **state)
{
    char id[AUDIT_ID_LEN + 1] = "";
    assert_false(api_cast_name_parse(ID ".cats", id));
    assert_string_equal(id, "");
}

/* The last line as the tail parser sees it (the whole file). */
static void assert_exit(const char *last_line, bool has_exit, int code, const char *reason)
{
    struct api_session s = {0};
    api_session_clear(&s);
    char t[512];
    snprintf(t, sizeof(t), "%s\n", last_line);
    api_cast_tail_parse(t, strlen(t), true, &s);
    if (s.has_exit != has_exit)
        fail_msg("has_exit %d for %s", s.has_exit, last_line);
    assert_int_equal(s.exit_code, code);
    assert_string_equal(s.end_reason, reason);
}

static void test_exit_markers(void **state)
{
    assert_exit("[1, \"m\", \"exit -2147483647: error\"]", true, -2147483647, "error");
    assert_exit("[1, \"m\", \"exit 2147483647: exit\"]", true, 2147483647, "exit");
    assert_exit("[1, \"m\", \"exit 2147483648: exit\"]", false, -1, "");  /* past an int */
    assert_exit("[1, \"m\", \"exit 12345678901: exit\"]", false, -1, ""); /* 11 digits */
    assert_exit("[1, \"m\", \"exit -: exit\"]", false, -1, "");           /* no digits */
    assert_exit("[1, \"m\", \"exit 0:exit\"]", false, -1, "");            /* no space */
    assert_exit("[1, \"m\", \"exit 0; exit\"]", false, -1, "");           /* no colon */
    assert_exit("[1, \"m\", \"exit 0: \"]", false, -1, "");               /* no reason */
    assert_exit("[1, \"m\", \"exit 0: two words\"]", false, -1, "");
    assert_exit("[1, \"m\", \"exit 0: caf\\u00e9\"]", false, -1, ""); /* not ASCII */
    assert_exit("[1, \"m\", \"exit 0: a\\u007f\"]", false, -1, "");   /* DEL */
    assert_exit("[1, \"m\", \"exit 0: "
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]",
                false, -1, ""); /* 64 bytes: longer than any reason */
    assert_exit("[1, \"m\", \"exit\"]", false, -1, "");
    assert_exit("[1, \"m\", \"recording stopped: size limit\"]", false, -1, "");
    assert_exit("[1, \"o\", \"exit 0: exit\"]", false, -1, "");     /* output, not a marker */
    assert_exit("[\"1\", \"m\", \"exit 0: exit\"]", false, -1, ""); /* time not a number */
    assert_exit("[1, \"m\", 0]", false, -1, "");
    assert_exit("[1, \"m\", \"exit 0: exit\", 4]", false, -1, "");
    assert_exit("{\"m\": 1}", false, -1, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_members),
        cmocka_unit_test(test_header_argv_bound),
        cmocka_unit_test(test_names_suffix),
        cmocka_unit_test(test_exit_markers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
