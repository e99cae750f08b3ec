/* test_config_utf8.c - a --config file that is not UTF-8 is refused with its
 * line, promptly (found by fuzz_config: libfyaml 0.8 loops forever on a '%'
 * directive followed by a stray continuation byte), and one with a NUL byte
 * too (libfyaml crashes after some); UTF-8 text still loads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "unit_tmpdir.h"

#include "config/config.h"

static void test_directive_not_utf8(void **state)
{
    char err[512], want[600];
    const char *p =
        unit_tmpdir_write("bad.yaml", "%\x8a\npods:\n  - name: p\n    containers: [{name: c}]\n");
    alarm(20);
    struct config_cluster *c = config_cluster_load(p, err, sizeof(err));
    alarm(0);
    assert_null(c);
    snprintf(want, sizeof(want), "%s:1: the file is not UTF-8", p);
    assert_string_equal(err, want);
}

static void test_line_of_bad_byte(void **state)
{
    char err[512], want[600];
    const char *p =
        unit_tmpdir_write("latin1.yaml", "pods:\n  - name: p\n    containers:\n"
                                         "      - name: c\n        env: [{name: A, value: "
                                         "caf\xe9}]\n");
    struct config_cluster *c = config_cluster_load(p, err, sizeof(err));
    assert_null(c);
    snprintf(want, sizeof(want), "%s:5: the file is not UTF-8", p);
    assert_string_equal(err, want);
}

/* libfyaml 0.8 crashes in fy_parser_destroy after this (a NULL read). */
static void test_nul_byte(void **state)
{
    char err[512], want[600], path[128];
    snprintf(path, sizeof(path), "%s/nul.yaml", unit_dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    static const char text[] = "pods:\n  ? n:\t\0\0\0 [";
    fwrite(text, 1, sizeof(text) - 1, f);
    fclose(f);
    struct config_cluster *c = config_cluster_load(path, err, sizeof(err));
    assert_null(c);
    snprintf(want, sizeof(want), "%s:2: the file holds a NUL byte", path);
    assert_string_equal(err, want);
}

static void test_utf8_loads(void **state)
{
    char err[512];
    const char *p =
        unit_tmpdir_write("ok.yaml", "# caf\xc3\xa9\npods:\n  - name: p\n    containers:\n"
                                     "      - name: c\n        env: [{name: A, value: "
                                     "\"caf\xc3\xa9 \xf0\x9f\x90\xb3\"}]\n");
    struct config_cluster *c = config_cluster_load(p, err, sizeof(err));
    assert_non_null(c);
    assert_string_equal(c->pods[0].containers[0].env[0].value, "caf\xc3\xa9 \xf0\x9f\x90\xb3");
    config_cluster_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_directive_not_utf8),
        cmocka_unit_test(test_line_of_bad_byte),
        cmocka_unit_test(test_nul_byte),
        cmocka_unit_test(test_utf8_loads),
    };
    return cmocka_run_group_tests(tests, unit_tmpdir_setup, unit_tmpdir_teardown);
}
