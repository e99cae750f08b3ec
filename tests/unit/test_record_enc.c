/* test_record_enc.c - the asciicast v2 encoder, byte for byte: the header
 * in the contract's key order, output and input events, characters cut
 * across chunks (held back, at most 3 bytes, per stream), bytes that
 * start no character (U+FFFD), JSON escapes, chunks split into events of
 * RECORD_EVENT_IN_MAX, resize and marker lines, and shell quoting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "record/record_enc.h"

/* Every line emitted, concatenated. */
struct sink {
    char buf[64 * 1024];
    size_t len;
    int lines;
    int stop_after; /* 0: never stop */
};

static int sink_emit(void *user, const char *line, size_t len)
{
    struct sink *s = user;
    assert_true(len > 0 && line[len - 1] == '\n');
    assert_null(memchr(line, '\n', len - 1)); /* one line per call */
    assert_true(s->len + len < sizeof(s->buf));
    memcpy(s->buf + s->len, line, len);
    s->len += len;
    s->buf[s->len] = '\0';
    s->lines++;
    return s->stop_after && s->lines >= s->stop_after ? 7 : 0;
}

static void feed(struct record_enc *e, struct sink *s, enum record_stream st, double t,
                 const char *bytes)
{
    assert_int_equal(record_enc_data(e, st, t, (const uint8_t *)bytes, strlen(bytes), sink_emit, s),
                     0);
}

static void test_header_exact(void **state)
{
    const char *argv[] = {"sh", "-c", "echo 'hi' $HOME", ""};
    struct record_header h = {
        .width = 100,
        .height = 30,
        .timestamp = 1700000000,
        .id = "0b5d4f5e-1c1a-4a59-9c43-2f1e0c8d9a10",
        .user = "alice",
        .kind = "exec",
        .ns = "default",
        .pod = "local",
        .container = "shell",
        .argv = argv,
        .argc = 4,
        .tty = true,
        .stdin_open = true,
    };
    size_t len = 0;
    char *line = record_enc_header(&h, &len);
    assert_non_null(line);
    assert_string_equal(
        line, "{\"version\": 2, \"width\": 100, \"height\": 30, \"timestamp\": 1700000000, "
              "\"command\": \"sh -c 'echo '\\\"'\\\"'hi'\\\"'\\\"' $HOME' ''\", "
              "\"title\": \"default/local/shell\", \"env\": {\"TERM\": \"xterm-256color\"}, "
              "\"podterm\": {\"id\": \"0b5d4f5e-1c1a-4a59-9c43-2f1e0c8d9a10\", \"user\": "
              "\"alice\", \"kind\": \"exec\", \"namespace\": \"default\", \"pod\": \"local\", "
              "\"container\": \"shell\", \"command\": [\"sh\", \"-c\", \"echo 'hi' $HOME\", "
              "\"\"], \"tty\": true, \"stdin\": true}}\n");
    assert_int_equal(len, strlen(line));
    free(line);
}

static void test_header_attach_and_bad_utf8(void **state)
{
    struct record_header h = {
        .width = 80,
        .height = 24,
        .timestamp = 5,
        .id = "i",
        .user = "b\xffob",
        .kind = "attach",
        .ns = "n",
        .pod = "p",
        .container = "c",
        .tty = false,
        .stdin_open = false,
    };
    size_t len = 0;
    char *line = record_enc_header(&h, &len);
    assert_non_null(line);
    assert_string_equal(line, "{\"version\": 2, \"width\": 80, \"height\": 24, \"timestamp\": 5, "
                              "\"command\": \"\", \"title\": \"n/p/c\", \"env\": {\"TERM\": "
                              "\"xterm-256color\"}, \"podterm\": {\"id\": \"i\", \"user\": "
                              "\"b\xef\xbf\xbdob\", \"kind\": \"attach\", \"namespace\": \"n\", "
                              "\"pod\": \"p\", \"container\": \"c\", \"command\": [], \"tty\": "
                              "false, \"stdin\": false}}\n");
    free(line);
}

static void test_output_escapes(void **state)
{
    struct record_enc e;
    struct sink s = {0};
    record_enc_init(&e);
    feed(&e, &s, RECORD_STREAM_STDOUT, 0.25, "\x1b[31mred\x1b[0m \"q\\\" \xc3\xa9\r\n\t\x7f");
    assert_string_equal(
        s.buf,
        "[0.250000, \"o\", \"\\u001B[31mred\\u001B[0m \\\"q\\\\\\\" \xc3\xa9\\r\\n\\t\x7f\"]\n");
}

static void test_split_character_held_back(void **state)
{
    struct record_enc e;
    struct sink s = {0};
    record_enc_init(&e);
    feed(&e, &s, RECORD_STREAM_STDOUT, 1, "a\xc3");
    feed(&e, &s, RECORD_STREAM_STDOUT, 2,
         "\xa9"
         "b");
    /* a 4-byte character in 1 + 2 + 1: nothing until it is whole */
    feed(&e, &s, RECORD_STREAM_STDOUT, 3, "\xf0");
    feed(&e, &s, RECORD_STREAM_STDOUT, 4, "\x9f\x98");
    feed(&e, &s, RECORD_STREAM_STDOUT, 5, "\x80");
    assert_string_equal(s.buf, "[1.000000, \"o\", \"a\"]\n"
                               "[2.000000, \"o\", \"\xc3\xa9"
                               "b\"]\n"
                               "[5.000000, \"o\", \"\xf0\x9f\x98\x80\"]\n");
    assert_int_equal(e.carry_len[RECORD_STREAM_STDOUT], 0);
}

static void test_invalid_bytes_replaced(void **state)
{
    struct record_enc e;
    struct sink s = {0};
    record_enc_init(&e);
    /* a stray continuation, an overlong lead, a surrogate's start (ED A0
     * can never finish), a lead cut by ASCII, 0xff */
    feed(&e, &s, RECORD_STREAM_STDOUT, 0, "\x80x\xc0\xaf\xed\xa0\x80y\xe2\x82z\xff");
    assert_string_equal(s.buf, "[0.000000, \"o\", \"\xef\xbf\xbdx\xef\xbf\xbd\xef\xbf\xbd"
                               "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdy\xef\xbf\xbd\xef\xbf\xbdz"
                               "\xef\xbf\xbd\"]\n");
}

static void test_unfinished_then_bad_continuation(void **state)
{
    struct record_enc e;
    struct sink s = {0};
    record_enc_init(&e);
    feed(&e, &s, RECORD_STREAM_STDOUT, 0, "\xe2\x82");
    assert_int_equal(s.lines, 0);
    assert_int_equal(e.carry_len[RECORD_STREAM_STDOUT], 2);
    feed(&e, &s, RECORD_STREAM_STDOUT, 1, "A");
    assert_string_equal(s.buf, "[1.000000, \"o\", \"\xef\xbf\xbd\xef\xbf\xbd"
                               "A\"]\n");
}

static void test_streams_keep_their_own_carry(void **state)
{
    struct record_enc e;
    struct sink s = {0};
    record_enc_init(&e);
    feed(&e, &s, RECORD_STREAM_STDOUT, 0, "\xc3");
    feed(&e, &s, RECORD_STREAM_STDIN, 0.5, "k\xe2\x82");
    feed(&e, &s, RECORD_STREAM_STDERR, 0.75, "\xa9"); /* not stdout's */
    feed(&e, &s, RECORD_STREAM_STDOUT, 1, "\xa9");
    feed(&e, &s, RECORD_STREAM_STDIN, 2, "\xac");
    assert_string_equal(s.buf, "[0.500000, \"i\", \"k\"]\n"
                               "[0.750000, \"o\", \"\xef\xbf\xbd\"]\n"
                               "[1.000000, \"o\", \"\xc3\xa9\"]\n"
                               "[2.000000, \"i\", \"\xe2\x82\xac\"]\n");
}

static void test_finish_replaces_what_is_held(void **state)
{
    struct record_enc e;
    struct sink s = {0};
    record_enc_init(&e);
    feed(&e, &s, RECORD_STREAM_STDOUT, 0, "ok\xf0\x9f");
    assert_int_equal(record_enc_finish(&e, 9, sink_emit, &s), 0);
    assert_string_equal(s.buf, "[0.000000, \"o\", \"ok\"]\n"
                               "[9.000000, \"o\", \"\xef\xbf\xbd\xef\xbf\xbd\"]\n");
    assert_int_equal(record_enc_finish(&e, 10, sink_emit, &s), 0); /* nothing twice */
    assert_int_equal(s.lines, 2);
}

static void test_large_chunk_split(void **state)
{
    struct record_enc e;
    struct sink s = {0};
    record_enc_init(&e);
    size_t n = 2 * RECORD_EVENT_IN_MAX + 10;
    uint8_t *big = malloc(n);
    memset(big, 'x', n);
    /* a character across the first cut stays whole */
    big[RECORD_EVENT_IN_MAX - 1] = 0xc3;
    big[RECORD_EVENT_IN_MAX] = 0xa9;
    assert_int_equal(record_enc_data(&e, RECORD_STREAM_STDOUT, 1, big, n, sink_emit, &s), 0);
    free(big);
    assert_int_equal(s.lines, 3);
    const char *l2 = strchr(s.buf, '\n') + 1;
    const char *l3 = strchr(l2, '\n') + 1;
    /* first event: 4095 x's (the lead byte held back); second starts with é */
    assert_int_equal(l2 - s.buf, strlen("[1.000000, \"o\", \"\"]\n") + RECORD_EVENT_IN_MAX - 1);
    assert_memory_equal(l2, "[1.000000, \"o\", \"\xc3\xa9xxx", 22);
    assert_int_equal(l3 - l2, strlen("[1.000000, \"o\", \"\"]\n") + RECORD_EVENT_IN_MAX + 1);
    assert_string_equal(l3, "[1.000000, \"o\", \"xxxxxxxxxx\"]\n");
}

static void test_worst_case_line_fits(void **state)
{
    struct record_enc e;
    struct sink s = {0};
    record_enc_init(&e);
    uint8_t ctl[RECORD_EVENT_IN_MAX];
    memset(ctl, 0x01, sizeof(ctl));
    assert_int_equal(
        record_enc_data(&e, RECORD_STREAM_STDOUT, 123456.5, ctl, sizeof(ctl), sink_emit, &s), 0);
    assert_int_equal(s.lines, 1);
    assert_int_equal(s.len, strlen("[123456.500000, \"o\", \"\"]\n") + 6 * RECORD_EVENT_IN_MAX);
    assert_true(s.len <= RECORD_LINE_MAX);
}

static void test_emit_stops(void **state)
{
    struct record_enc e;
    struct sink s = {.stop_after = 1};
    record_enc_init(&e);
    uint8_t big[3 * RECORD_EVENT_IN_MAX];
    memset(big, 'y', sizeof(big));
    assert_int_equal(record_enc_data(&e, RECORD_STREAM_STDOUT, 0, big, sizeof(big), sink_emit, &s),
                     7);
    assert_int_equal(s.lines, 1);
}

static void test_resize_and_marker(void **state)
{
    char line[RECORD_MARKER_LINE_MAX];
    int n = record_enc_resize(1.5, 120, 40, line, sizeof(line));
    assert_int_equal(n, (int)strlen("[1.500000, \"r\", \"120x40\"]\n"));
    assert_memory_equal(line, "[1.500000, \"r\", \"120x40\"]\n", (size_t)n);
    n = record_enc_marker(2, "exit 3: exit", line, sizeof(line));
    assert_memory_equal(line, "[2.000000, \"m\", \"exit 3: exit\"]\n", (size_t)n);
    n = record_enc_marker(0.000001, "why \"\xff\"\n", line, sizeof(line));
    line[n] = '\0';
    assert_string_equal(line, "[0.000001, \"m\", \"why \\\"\xef\xbf\xbd\\\"\\n\"]\n");
    assert_int_equal(record_enc_resize(1, 1, 1, line, 10), -1); /* does not fit */
}

static void test_marker_label_cut(void **state)
{
    char label[RECORD_LABEL_MAX + 50];
    memset(label, 'm', sizeof(label) - 1);
    label[sizeof(label) - 1] = '\0';
    char line[RECORD_MARKER_LINE_MAX];
    int n = record_enc_marker(0, label, line, sizeof(line));
    assert_int_equal(n, (int)strlen("[0.000000, \"m\", \"\"]\n") + RECORD_LABEL_MAX);
}

/* A label of bytes that start no character: each becomes U+FFFD (3 bytes
 * for 1), and the line still fits its bound (fuzz_record_enc found it
 * refused when the bound was counted after the repair). */
static void test_marker_of_invalid_bytes(void **state)
{
    char label[RECORD_LABEL_MAX + 1];
    memset(label, 0xff, RECORD_LABEL_MAX);
    label[RECORD_LABEL_MAX] = '\0';
    char line[RECORD_MARKER_LINE_MAX];
    int n = record_enc_marker(1, label, line, sizeof(line));
    assert_int_equal(n, (int)strlen("[1.000000, \"m\", \"\"]\n") + 3 * RECORD_LABEL_MAX);
    assert_memory_equal(line + 17, "\xef\xbf\xbd\xef\xbf\xbd", 6);
}

static void test_command_text(void **state)
{
    const char *argv[] = {"ls", "-la", "a b", "it's", "$x", "safe_@%+=:,./-", ""};
    char *t = record_command_text(argv, 7);
    assert_string_equal(t, "ls -la 'a b' 'it'\"'\"'s' '$x' safe_@%+=:,./- ''");
    free(t);
    t = record_command_text(NULL, 0);
    assert_string_equal(t, "");
    free(t);
}

/* jansson's allocations failing one after the other, at every point of the
 * header's building: NULL each time (never a crash, a leak or a partial
 * line), and the whole header again once memory is back. */
static size_t oom_budget;
static void *oom_malloc(size_t n)
{
    if (!oom_budget)
        return NULL;
    oom_budget--;
    return malloc(n);
}

static void test_header_out_of_memory(void **state)
{
    (void)state;
    const char *argv[] = {"sh", "-c", "echo 'hi there'"};
    struct record_header h = {.width = 80,
                              .height = 24,
                              .timestamp = 1764490000,
                              .id = "0a1b2c3d-1111-4222-8333-444455556666",
                              .user = "alice",
                              .kind = "exec",
                              .ns = "default",
                              .pod = "web",
                              .container = "app",
                              .argv = argv,
                              .argc = 3,
                              .tty = true};
    size_t len;
    char *whole = record_enc_header(&h, &len);
    assert_non_null(whole);
    size_t failures = 0;
    for (size_t budget = 0; budget < 200; budget++) {
        oom_budget = budget;
        json_set_alloc_funcs(oom_malloc, free);
        size_t n = 0;
        char *line = record_enc_header(&h, &n);
        json_set_alloc_funcs(malloc, free);
        if (!line) {
            failures++;
            continue;
        }
        assert_int_equal(n, len);
        assert_memory_equal(line, whole, len);
        free(line);
        break; /* enough memory from here on */
    }
    assert_true(failures >= 10);
    free(whole);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_exact),
        cmocka_unit_test(test_header_attach_and_bad_utf8),
        cmocka_unit_test(test_output_escapes),
        cmocka_unit_test(test_split_character_held_back),
        cmocka_unit_test(test_invalid_bytes_replaced),
        cmocka_unit_test(test_unfinished_then_bad_continuation),
        cmocka_unit_test(test_streams_keep_their_own_carry),
        cmocka_unit_test(test_finish_replaces_what_is_held),
        cmocka_unit_test(test_large_chunk_split),
        cmocka_unit_test(test_worst_case_line_fits),
        cmocka_unit_test(test_emit_stops),
        cmocka_unit_test(test_resize_and_marker),
        cmocka_unit_test(test_marker_label_cut),
        cmocka_unit_test(test_marker_of_invalid_bytes),
        cmocka_unit_test(test_command_text),
        cmocka_unit_test(test_header_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
