/* test_api_cast.c - the sessions API's reading of recordings (api_cast.c):
 * file names, the header line of the recording contract, the exit marker
 * at the end, and every way a file can fall short of them. */
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

/* A header exactly as the contract writes it, with podterm.id, user and
 * the argv in place of the %s. */
static char *header(const char *id, const char *user, const char *argv)
{
    static char buf[8192];
    snprintf(buf, sizeof(buf),
             "{\"version\": 2, \"width\": 80, \"height\": 24, \"timestamp\": 1764490000, "
             "\"command\": \"sh -c 'echo hi'\", \"title\": \"default/local/shell\", "
             "\"env\": {\"TERM\": \"xterm-256color\"}, \"podterm\": {\"id\": \"%s\", "
             "\"user\": \"%s\", \"kind\": \"exec\", \"namespace\": \"default\", "
             "\"pod\": \"local\", \"container\": \"shell\", \"command\": %s, \"tty\": true, "
             "\"stdin\": false}}\n[0.010000, \"o\", \"hi\\r\\n\"]\n",
             id, user, argv);
    return buf;
}

static void test_names(void **state)
{
    char id[AUDIT_ID_LEN + 1];
    assert_true(api_cast_name_parse(ID ".cast", id));
    assert_string_equal(id, ID);
    const char *bad[] = {
        ID,                                           /* no .cast */
        ID ".cast.tmp",                               /* more after it */
        "0A1B2C3D-1111-4222-8333-444455556666.cast",  /* upper case */
        "0a1b2c3d-1111-4222-8333-44445555666.cast",   /* one digit short */
        "0a1b2c3d-1111-4222-8333-4444555566667.cast", /* one too many */
        "0a1b2c3d_1111-4222-8333-444455556666.cast",  /* not a dash */
        "0a1b2c3d-1111-4222-8333-44445555666g.cast",  /* not hex */
        "../1b2c3d-1111-4222-8333-444455556666.cast", /* a path */
        ".cast",
        "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(api_cast_name_parse(bad[i], id));
    assert_true(api_session_id_valid(ID, AUDIT_ID_LEN));
    assert_false(api_session_id_valid(ID, AUDIT_ID_LEN - 1));
}

static void test_header(void **state)
{
    struct api_session s = {0};
    const char *h = header(ID, "alice", "[\"sh\", \"-c\", \"echo hi\"]");
    assert_int_equal(api_cast_header_parse(h, strlen(h), ID, &s), API_CAST_OK);
    assert_string_equal(s.id, ID);
    assert_string_equal(s.user, "alice");
    assert_false(s.attach);
    assert_string_equal(s.ns, "default");
    assert_string_equal(s.pod, "local");
    assert_string_equal(s.container, "shell");
    assert_true(s.tty);
    assert_false(s.stdin_open);
    assert_int_equal(s.started, 1764490000);
    char *argv = json_dumps(s.command, JSON_COMPACT);
    assert_string_equal(argv, "[\"sh\",\"-c\",\"echo hi\"]");
    free(argv);
    assert_int_equal(s.exit_code, -1);
    assert_false(s.has_exit);
    api_session_clear(&s);
    assert_null(s.command);
}

static void test_header_refused(void **state)
{
    struct api_session s = {0};
    char buf[API_CAST_HEADER_MAX + 64];
    /* Another session's header under this id: a renamed file. */
    const char *h = header("0a1b2c3d-1111-4222-8333-444455556667", "bob", "[]");
    assert_int_equal(api_cast_header_parse(h, strlen(h), ID, &s), API_CAST_INVALID);
    /* The header line does not end within what was read. */
    h = header(ID, "bob", "[]");
    assert_int_equal(api_cast_header_parse(h, strchr(h, '\n') - h, ID, &s), API_CAST_INVALID);
    /* A word that is not a string, a user longer than a user name. */
    h = header(ID, "bob", "[\"sh\", 1]");
    assert_int_equal(api_cast_header_parse(h, strlen(h), ID, &s), API_CAST_INVALID);
    char user[AUTH_NAME_MAX + 2];
    memset(user, 'u', sizeof(user) - 1);
    user[sizeof(user) - 1] = '\0';
    h = header(ID, user, "[]");
    assert_int_equal(api_cast_header_parse(h, strlen(h), ID, &s), API_CAST_INVALID);
    /* A NUL inside a name. */
    h = header(ID, "bo\\u0000b", "[]");
    assert_int_equal(api_cast_header_parse(h, strlen(h), ID, &s), API_CAST_INVALID);
    const char *others[] = {
        "{\"version\": 1, \"timestamp\": 1, \"podterm\": {}}\n",
        "{\"version\": 2, \"timestamp\": 1}\n", /* no podterm member */
        "[2]\n",
        "{\"version\": 2, \"version\": 2}\n", /* duplicate keys */
        "not json\n",
        "\n",
    };
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
        assert_int_equal(api_cast_header_parse(others[i], strlen(others[i]), ID, &s),
                         API_CAST_INVALID);
    /* The kind must be exec or attach; the timestamp an integer. */
    snprintf(buf, sizeof(buf), "%s", header(ID, "bob", "[]"));
    char *kind = strstr(buf, "\"exec\"");
    memcpy(kind, "\"exex\"", 6);
    assert_int_equal(api_cast_header_parse(buf, strlen(buf), ID, &s), API_CAST_INVALID);
    snprintf(buf, sizeof(buf), "%s", header(ID, "bob", "[]"));
    memcpy(strstr(buf, "1764490000"), "17644900.0", 10);
    assert_int_equal(api_cast_header_parse(buf, strlen(buf), ID, &s), API_CAST_INVALID);
    /* A header longer than the bound: not read past it. */
    memset(buf, ' ', sizeof(buf));
    buf[0] = '{';
    memcpy(buf + sizeof(buf) - 2, "}\n", 2);
    assert_int_equal(api_cast_header_parse(buf, sizeof(buf), ID, &s), API_CAST_INVALID);
    assert_null(s.command);
}

static void tail(const char *t, bool whole, struct api_session *s)
{
    api_cast_tail_parse(t, strlen(t), whole, s);
}

static void test_exit_marker(void **state)
{
    struct api_session s = {0};
    api_session_clear(&s);
    tail("[0.5, \"o\", \"x\"]\n[1.250000, \"m\", \"exit 3: exit\"]\n", false, &s);
    assert_true(s.has_exit);
    assert_int_equal(s.exit_code, 3);
    assert_string_equal(s.end_reason, "exit");
    tail("\"]\n[9.000000, \"m\", \"exit -1: client-closed\"]\n", false, &s);
    assert_true(s.has_exit);
    assert_int_equal(s.exit_code, -1);
    assert_string_equal(s.end_reason, "client-closed");
    /* The whole file is the header and the marker. */
    tail("{\"version\": 2}\n[0.1, \"m\", \"exit 0: exit\"]\n", true, &s);
    assert_true(s.has_exit);
    assert_int_equal(s.exit_code, 0);
}

static void test_no_exit_marker(void **state)
{
    struct api_session s = {0};
    const char *none[] = {
        /* ends mid-line (a crash), even right after a marker */
        "[1.0, \"m\", \"exit 3: exit\"]\n[1.1, \"o\", \"par",
        "[1.0, \"m\", \"exit 3: exit\"]",
        /* cut by the size cap, live, or another marker */
        "[1.0, \"m\", \"recording stopped: size limit\"]\n",
        "[1.0, \"o\", \"exit 3: exit\"]\n",
        "[1.0, \"m\", \"exit 3: exit\", 1]\n",
        "[\"1.0\", \"m\", \"exit 3: exit\"]\n",
        "[1.0, \"m\", \"exit 3:exit\"]\n",
        "[1.0, \"m\", \"exit x: exit\"]\n",
        "[1.0, \"m\", \"exit 3: \"]\n",
        "[1.0, \"m\", \"exit 3: two words\"]\n",
        "[1.0, \"m\", \"exit 3: bell\\u0007\"]\n",
        "[1.0, \"m\", \"exit 99999999999: exit\"]\n",
        "[1.0, \"m\", \"exit 3: exit\"]\n\n",
        "\n",
        "",
    };
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
        tail("[0, \"m\", \"exit 1: exit\"]\n", true, &s); /* a marker seen before */
        tail(none[i], false, &s);
        assert_false(s.has_exit);
        assert_int_equal(s.exit_code, -1);
        assert_string_equal(s.end_reason, "");
    }
    /* A last line that began before the tail that was read is not a marker,
     * even if its end looks like one; the whole file's first line is. */
    tail("\"m\", \"exit 3: exit\"]\n", false, &s);
    assert_false(s.has_exit);
    tail("[1.0, \"m\", \"exit 3: exit\"]\n", true, &s);
    assert_true(s.has_exit);
    /* A reason at its bound is taken, one longer is not. */
    char line[256], reason[API_CAST_REASON_MAX + 2];
    memset(reason, 'r', sizeof(reason) - 1);
    reason[API_CAST_REASON_MAX] = '\0';
    snprintf(line, sizeof(line), "x\n[1.0, \"m\", \"exit 2: %s\"]\n", reason);
    tail(line, false, &s);
    assert_true(s.has_exit);
    reason[API_CAST_REASON_MAX] = 'r';
    reason[API_CAST_REASON_MAX + 1] = '\0';
    snprintf(line, sizeof(line), "x\n[1.0, \"m\", \"exit 2: %s\"]\n", reason);
    tail(line, false, &s);
    assert_false(s.has_exit);
}

/* Only the last API_CAST_TAIL_MAX bytes count, whatever the caller passes. */
static void test_tail_bound(void **state)
{
    struct api_session s = {0};
    size_t n = API_CAST_TAIL_MAX + 100;
    char *buf = malloc(n + 1);
    const char *marker = "[1.0, \"m\", \"exit 7: exit\"]\n";
    memset(buf, 'x', n);
    memcpy(buf + n - strlen(marker), marker, strlen(marker));
    buf[n - strlen(marker) - 1] = '\n';
    api_cast_tail_parse(buf, n, true, &s);
    assert_true(s.has_exit);
    assert_int_equal(s.exit_code, 7);
    /* a marker-sized last line with no newline before it within the bound */
    memset(buf, 'x', n);
    buf[50] = '\n';
    memcpy(buf + n - strlen(marker), marker, strlen(marker));
    api_cast_tail_parse(buf, n, true, &s);
    assert_false(s.has_exit);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),          cmocka_unit_test(test_header),
        cmocka_unit_test(test_header_refused), cmocka_unit_test(test_exit_marker),
        cmocka_unit_test(test_no_exit_marker), cmocka_unit_test(test_tail_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
