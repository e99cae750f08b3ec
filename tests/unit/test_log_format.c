/* test_log_format.c - podterm's own log lines, text and JSON, byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "log/log.h"

/* 2026-11-30T06:41:30.123Z */
#define T_SEC 1796020890LL
#define T_USEC 123456L

static const struct log_field fields[] = {
    {.key = "auditID", .str = "0febfa71-9143-4e67-8ca9-6fb0fb540496"},
    {.key = "user", .str = "alice"},
    {.key = "skipped", .str = NULL},
    {.key = "uri", .str = "/api/v1/x?command=echo&command=a b"},
    {.key = "code", .num = 101, .is_number = true},
    {.key = "duration", .num = 1234, .is_float = true},
};

static void text_line(void **state)
{
    (void)state;
    char buf[LOG_LINE_MAX];
    size_t n = log_format_line(LOG_FORMAT_TEXT, T_SEC, T_USEC, LOG_INFO, "session ended", fields, 6,
                               buf, sizeof(buf));
    assert_string_equal(buf, "2026-11-30T06:41:30.123Z info \"session ended\" "
                             "auditID=0febfa71-9143-4e67-8ca9-6fb0fb540496 user=alice "
                             "uri=\"/api/v1/x?command=echo&command=a b\" code=101 "
                             "duration=1.234\n");
    assert_int_equal(n, strlen(buf));
}

static void json_line(void **state)
{
    (void)state;
    char buf[LOG_LINE_MAX];
    log_format_line(LOG_FORMAT_JSON, T_SEC, T_USEC, LOG_ERROR, "request", fields, 6, buf,
                    sizeof(buf));
    assert_string_equal(buf, "{\"ts\":\"2026-11-30T06:41:30.123Z\",\"level\":\"error\",\"msg\":"
                             "\"request\",\"auditID\":\"0febfa71-9143-4e67-8ca9-6fb0fb540496\","
                             "\"user\":\"alice\",\"uri\":\"/api/v1/x?command=echo&command=a b\","
                             "\"code\":101,\"duration\":1.234}\n");
}

/* Whatever a client put in a URI, a line stays one line of text or valid JSON. */
static void hostile_values(void **state)
{
    (void)state;
    const struct log_field f[] = {{.key = "uri", .str = "/a\nb\x01\"c\\\xff"}};
    char buf[LOG_LINE_MAX];
    log_format_line(LOG_FORMAT_TEXT, T_SEC, T_USEC, LOG_INFO, "request", f, 1, buf, sizeof(buf));
    assert_string_equal(buf,
                        "2026-11-30T06:41:30.123Z info request uri=\"/a\\nb\\x01\\\"c\\\\\xff\"\n");
    log_format_line(LOG_FORMAT_JSON, T_SEC, T_USEC, LOG_INFO, "request", f, 1, buf, sizeof(buf));
    assert_string_equal(buf, "{\"ts\":\"2026-11-30T06:41:30.123Z\",\"level\":\"info\",\"msg\":"
                             "\"request\",\"uri\":\"/a\\nb\\u0001\\\"c\\\\\xef\xbf\xbd\"}\n");
}

static void formats(void **state)
{
    (void)state;
    enum log_format f;
    assert_int_equal(log_format_parse("json", &f), 0);
    assert_int_equal(f, LOG_FORMAT_JSON);
    assert_int_equal(log_format_parse("text", &f), 0);
    assert_int_equal(f, LOG_FORMAT_TEXT);
    assert_int_equal(log_format_parse("JSON", &f), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_line),
        cmocka_unit_test(json_line),
        cmocka_unit_test(hostile_values),
        cmocka_unit_test(formats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
