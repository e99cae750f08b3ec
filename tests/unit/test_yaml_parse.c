/* test_yaml_parse.c - the shared YAML plumbing from bytes to document roots:
 * text that is not UTF-8 or holds NUL is refused with its line before
 * libfyaml sees it, syntax errors become "path:line: YAML syntax: ...",
 * exactly one document (or each one in turn), and the size bound's message
 * names the bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit_tmpdir.h"

#include "yaml/yaml.h"

#define ERR_CAP 512

struct roots {
    int n;
    int lines[8];
};

static int root_count(void *ctx, struct fy_node *root)
{
    struct roots *r = ctx;
    if (r->n < 8)
        r->lines[r->n] = yaml_node_line(root, 0);
    r->n++;
    return 0;
}

static int root_refuse(void *ctx, struct fy_node *root)
{
    const struct yaml_src *src = ctx;
    return yaml_fail(src, yaml_node_line(root, 1), "refused by the walker");
}

static void test_text_check(void **state)
{
    char err[ERR_CAP] = "";
    struct yaml_src src = {"f.yaml", err, sizeof(err)};
    assert_int_equal(yaml_text_check(&src, "a: b\n", 5), 0);
    assert_string_equal(err, "");
    assert_int_equal(yaml_text_check(&src, "a: b\nc: \xe9\n", 10), -1);
    assert_string_equal(err, "f.yaml:2: the file is not UTF-8");
    static const char nul[] = "a: b\n\nc: \0d\n";
    assert_int_equal(yaml_text_check(&src, nul, sizeof(nul) - 1), -1);
    assert_string_equal(err, "f.yaml:3: the file holds a NUL byte");
}

static void test_single(void **state)
{
    char err[ERR_CAP] = "";
    struct yaml_src src = {"f.yaml", err, sizeof(err)};
    struct roots r = {0};
    const char *one = "\n\na: 1\n---\n";
    assert_int_equal(yaml_parse_single(&src, one, strlen(one), "empty", false, root_count, &r), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.lines[0], 3);

    const char *two = "a: 1\n---\nb: 2\n";
    assert_int_equal(yaml_parse_single(&src, two, strlen(two), "empty", false, root_count, &r), -1);
    assert_string_equal(err, "f.yaml:3: a second YAML document is not supported");

    /* a null second document: an error unless the caller allows it */
    const char *tilde = "a: 1\n--- ~\n";
    assert_int_equal(yaml_parse_single(&src, tilde, strlen(tilde), "empty", false, root_count, &r),
                     -1);
    assert_string_equal(err, "f.yaml:2: a second YAML document is not supported");
    assert_int_equal(yaml_parse_single(&src, tilde, strlen(tilde), "empty", true, root_count, &r),
                     0);

    assert_int_equal(yaml_parse_single(&src, "", 0, "the file is empty", false, root_count, &r),
                     -1);
    assert_string_equal(err, "f.yaml:1: the file is empty");

    assert_int_equal(yaml_parse_single(&src, "a: 1\n", 5, "empty", false, root_refuse, &src), -1);
    assert_string_equal(err, "f.yaml:1: refused by the walker");
}

static void test_syntax_error(void **state)
{
    char err[ERR_CAP] = "";
    struct yaml_src src = {"f.yaml", err, sizeof(err)};
    struct roots r = {0};
    const char *bad = "a: 1\nb: [\n";
    assert_int_equal(yaml_parse_single(&src, bad, strlen(bad), "empty", false, root_count, &r), -1);
    assert_int_equal(r.n, 0);
    assert_true(strncmp(err, "f.yaml:", 7) == 0);
    assert_non_null(strstr(err, ": YAML syntax: "));

    /* a broken second document after a good one */
    const char *late = "a: 1\n---\nb: [\n";
    err[0] = '\0';
    assert_int_equal(yaml_parse_single(&src, late, strlen(late), "empty", false, root_count, &r),
                     -1);
    assert_non_null(strstr(err, ": YAML syntax: "));
}

static void test_each(void **state)
{
    char err[ERR_CAP] = "";
    struct yaml_src src = {"f.yaml", err, sizeof(err)};
    struct roots r = {0};
    const char *three = "a: 1\n---\nb: 2\n---\n---\nc: 3\n";
    assert_int_equal(yaml_parse_each(&src, three, strlen(three), root_count, &r), 0);
    assert_int_equal(r.n, 4); /* the empty document is passed on too */
    assert_int_equal(r.lines[0], 1);
    assert_int_equal(r.lines[1], 3);
    assert_int_equal(r.lines[3], 6);

    struct roots r2 = {0};
    const char *late = "a: 1\n---\nb: [\n";
    assert_int_equal(yaml_parse_each(&src, late, strlen(late), root_count, &r2), -1);
    assert_int_equal(r2.n, 1);
    assert_non_null(strstr(err, ": YAML syntax: "));

    assert_int_equal(yaml_parse_each(&src, "\xff", 1, root_count, &r2), -1);
    assert_string_equal(err, "f.yaml:1: the file is not UTF-8");
}

static void test_file_read(void **state)
{
    char err[ERR_CAP] = "", want[ERR_CAP + 64];
    const char *p = unit_tmpdir_write("big.yaml", "a: 12345\n");
    struct yaml_src src = {p, err, sizeof(err)};
    size_t len = 0;
    char *buf = yaml_file_read(&src, 9, "9 B (TEST_MAX)", &len);
    assert_non_null(buf);
    assert_int_equal(len, 9);
    assert_string_equal(buf, "a: 12345\n");
    free(buf);
    assert_null(yaml_file_read(&src, 8, "8 B (TEST_MAX)", &len));
    snprintf(want, sizeof(want), "%s: larger than 8 B (TEST_MAX)", p);
    assert_string_equal(err, want);

    struct yaml_src quiet = {p, NULL, 0}; /* no buffer: nothing written, no crash */
    assert_null(yaml_file_read(&quiet, 8, "8 B (TEST_MAX)", &len));
    assert_int_equal(yaml_fail(&quiet, 3, "x"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_check),   cmocka_unit_test(test_single),
        cmocka_unit_test(test_syntax_error), cmocka_unit_test(test_each),
        cmocka_unit_test(test_file_read),
    };
    return cmocka_run_group_tests(tests, unit_tmpdir_setup, unit_tmpdir_teardown);
}
