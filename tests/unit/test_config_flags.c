/* test_config_flags.c - the --config file's flags: mapping becomes exactly the
 * arguments a person would have typed, and every malformed value is refused
 * with "FILE:LINE: problem" (and nothing leaks, ASan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config_flags.h"
#include "unit_tmpdir.h"

static const struct config_flag_spec specs[] = {
    {"listen", CONFIG_FLAG_VALUE},         {"in-cluster", CONFIG_FLAG_SWITCH},
    {"allowed-host", CONFIG_FLAG_LIST},    {"v", CONFIG_FLAG_VALUE},
    {"audit-log-path", CONFIG_FLAG_VALUE},
};
#define NSPECS (sizeof(specs) / sizeof(specs[0]))

static void load_ok(const char *yaml, const char *const *want, size_t nwant, bool has_pods)
{
    const char *path = unit_tmpdir_write("f.yaml", yaml);
    struct config_flags f;
    char err[512] = "";
    assert_int_equal(config_flags_load(path, specs, NSPECS, &f, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_int_equal(f.len, nwant);
    for (size_t i = 0; i < nwant; i++)
        assert_string_equal(f.args[i], want[i]);
    assert_int_equal(f.has_pods, has_pods);
    config_flags_free(&f);
}

static void flags_become_arguments_in_order(void **state)
{
    (void)state;
    static const char *const want[] = {
        "--listen=0.0.0.0:8443",    "--in-cluster", "--allowed-host=a.example",
        "--allowed-host=b.example", "--v=4",        "--audit-log-path=-",
    };
    load_ok("flags:\n"
            "  listen: 0.0.0.0:8443\n"
            "  in-cluster: true\n"
            "  allowed-host: [a.example, b.example]\n"
            "  v: 4\n"
            "  audit-log-path: \"-\"\n",
            want, 6, false);
}

static void false_switch_and_single_list_value(void **state)
{
    (void)state;
    static const char *const want[] = {"--allowed-host=only.example"};
    load_ok("flags:\n  in-cluster: false\n  allowed-host: only.example\n", want, 1, false);
}

static void values_are_data(void **state)
{
    (void)state;
    /* A value that looks like another flag stays the value of its own. */
    static const char *const want[] = {"--audit-log-path=--in-cluster x=y"};
    load_ok("flags:\n  audit-log-path: \"--in-cluster x=y\"\n", want, 1, false);
}

static void pods_without_flags(void **state)
{
    (void)state;
    load_ok("pods:\n- {name: p, containers: [{name: c}]}\n", NULL, 0, true);
    load_ok("namespaces: [a]\nflags: {}\n", NULL, 0, true);
    load_ok("flags:\n", NULL, 0, false);
}

struct bad_case {
    const char *yaml;
    const char *want; /* after "<path>:" */
};

static const struct bad_case bad_cases[] = {
    {"flags:\n  lisen: x\n",
     "2: unknown flag \"lisen\" in flags (expected listen, in-cluster, allowed-host, v, "
     "audit-log-path)"},
    {"flags:\n  config: other.yaml\n",
     "2: unknown flag \"config\" in flags (expected listen, in-cluster, allowed-host, v, "
     "audit-log-path)"},
    {"flags:\n  in-cluster: yes\n", "2: flag in-cluster must be true or false"},
    {"flags:\n  listen: [a, b]\n", "2: flag listen must be a string"},
    {"flags:\n  allowed-host: [a, [b]]\n", "2: flag allowed-host must be a string"},
    {"flags:\n  allowed-host: {a: b}\n", "2: flag allowed-host must be a string"},
    {"flags:\n  listen:\n", "2: flag listen has no value"},
    {"flags:\n  listen: \"a\\0b\"\n", "2: flag listen contains a NUL byte"},
    {"flags: [listen]\n", "1: flags must be a mapping"},
    {"flags:\n  listen: &x a\n  v: *x\n", "3: flag v: YAML aliases are not supported"},
    {"- a\n", "1: the top level must be a mapping"},
    {"", "1: the file is empty"},
};

static void bad_files_name_the_line(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const char *path = unit_tmpdir_write("bad.yaml", bad_cases[i].yaml);
        struct config_flags f;
        char err[512] = "";
        assert_int_equal(config_flags_load(path, specs, NSPECS, &f, err, sizeof(err)), -1);
        char want[700];
        snprintf(want, sizeof(want), "%s:%s", path, bad_cases[i].want);
        assert_string_equal(err, want);
        assert_null(f.args);
    }
}

static void too_many_values(void **state)
{
    (void)state;
    char yaml[16 * CONFIG_FLAGS_MAX + 64];
    size_t off = (size_t)snprintf(yaml, sizeof(yaml), "flags:\n  allowed-host:\n");
    for (int i = 0; i <= CONFIG_FLAGS_MAX; i++)
        off += (size_t)snprintf(yaml + off, sizeof(yaml) - off, "  - h%d\n", i);
    const char *path = unit_tmpdir_write("many.yaml", yaml);
    struct config_flags f;
    char err[512] = "";
    assert_int_equal(config_flags_load(path, specs, NSPECS, &f, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "more than 256 flag values (CONFIG_FLAGS_MAX)"));
}

static void long_value_refused(void **state)
{
    (void)state;
    static char yaml[CONFIG_FLAG_VALUE_MAX + 64];
    int off = snprintf(yaml, sizeof(yaml), "flags:\n  listen: ");
    memset(yaml + off, 'a', CONFIG_FLAG_VALUE_MAX + 1);
    yaml[off + CONFIG_FLAG_VALUE_MAX + 1] = '\n';
    const char *path = unit_tmpdir_write("long.yaml", yaml);
    struct config_flags f;
    char err[512] = "";
    assert_int_equal(config_flags_load(path, specs, NSPECS, &f, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ":2: flag listen is longer than 4096 bytes"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flags_become_arguments_in_order),
        cmocka_unit_test(false_switch_and_single_list_value),
        cmocka_unit_test(values_are_data),
        cmocka_unit_test(pods_without_flags),
        cmocka_unit_test(bad_files_name_the_line),
        cmocka_unit_test(too_many_values),
        cmocka_unit_test(long_value_refused),
    };
    return cmocka_run_group_tests(tests, unit_tmpdir_setup, unit_tmpdir_teardown);
}
