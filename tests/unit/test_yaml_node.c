/* test_yaml_node.c - typed reads of one YAML node and their error texts,
 * which every loader (pods, RBAC, audit Policy) shows its users. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "yaml/yaml.h"

#define ERR_CAP 512

static char err[ERR_CAP];
static const struct yaml_src src = {"t.yaml", err, sizeof(err)};

/* The value of key in the document's top-level mapping. */
static struct fy_node *value_of(struct fy_document *doc, const char *key)
{
    return fy_node_mapping_lookup_by_string(fy_document_root(doc), key, FY_NT);
}

static struct fy_document *doc_new(const char *text)
{
    struct fy_document *doc = fy_document_build_from_string(NULL, text, FY_NT);
    assert_non_null(doc);
    return doc;
}

static void test_line(void **state)
{
    struct fy_document *doc = doc_new("a: 1\n\nb:\n  - x\nc: {}\nd:\n  k: v\n");
    assert_int_equal(yaml_node_line(value_of(doc, "a"), 9), 1);
    assert_int_equal(yaml_node_line(value_of(doc, "b"), 9), 4);
    assert_int_equal(yaml_node_line(value_of(doc, "c"), 9), 9); /* empty: the fallback */
    assert_int_equal(yaml_node_line(value_of(doc, "d"), 9), 7);
    assert_int_equal(yaml_node_line(NULL, 9), 9);
    fy_document_destroy(doc);
}

static void test_null(void **state)
{
    struct fy_document *doc =
        doc_new("a: ~\nb: null\nc:\nd: 'null'\ne: x\nf: NULL\ng: []\nh: \"\"\n");
    assert_true(yaml_is_null(NULL));
    assert_true(yaml_is_null(value_of(doc, "a")));
    assert_true(yaml_is_null(value_of(doc, "b")));
    assert_true(yaml_is_null(value_of(doc, "c")));
    assert_false(yaml_is_null(value_of(doc, "d"))); /* quoted: a string */
    assert_false(yaml_is_null(value_of(doc, "e")));
    assert_true(yaml_is_null(value_of(doc, "f")));
    assert_false(yaml_is_null(value_of(doc, "g")));
    assert_false(yaml_is_null(value_of(doc, "h")));
    fy_document_destroy(doc);
}

static void test_kind(void **state)
{
    struct fy_document *doc = doc_new("a: &x [1]\nb: *x\nc: s\n");
    assert_int_equal(yaml_kind_check(&src, value_of(doc, "a"), 1, "a", FYNT_SEQUENCE), 0);
    assert_int_equal(yaml_kind_check(&src, value_of(doc, "b"), 2, "b", FYNT_SEQUENCE), -1);
    assert_string_equal(err, "t.yaml:2: b: YAML aliases are not supported");
    assert_int_equal(yaml_kind_check(&src, value_of(doc, "c"), 3, "c", FYNT_MAPPING), -1);
    assert_string_equal(err, "t.yaml:3: c must be a mapping");
    assert_int_equal(yaml_kind_check(&src, value_of(doc, "a"), 1, "a", FYNT_SCALAR), -1);
    assert_string_equal(err, "t.yaml:1: a must be a string");
    assert_int_equal(yaml_kind_check(&src, NULL, 4, "d", FYNT_SEQUENCE), -1);
    assert_string_equal(err, "t.yaml:4: d must be a list");
    fy_document_destroy(doc);
}

static void test_string(void **state)
{
    struct fy_document *doc = doc_new("a: hello\nb: ~\nc: \"x\\0y\"\nd: 12345\ne: [x]\n");
    char *out = NULL;
    assert_int_equal(yaml_string_dup(&src, value_of(doc, "a"), 1, "a", 5, &out), 0);
    assert_string_equal(out, "hello");
    assert_int_equal(yaml_string_dup(&src, value_of(doc, "b"), 1, "b", 5, &out), -1);
    assert_string_equal(err, "t.yaml:2: b has no value");
    assert_string_equal(out, "hello"); /* untouched on failure */
    assert_int_equal(yaml_string_dup(&src, value_of(doc, "c"), 1, "c", 5, &out), -1);
    assert_string_equal(err, "t.yaml:3: c contains a NUL byte");
    assert_int_equal(yaml_string_dup(&src, value_of(doc, "d"), 1, "d", 4, &out), -1);
    assert_string_equal(err, "t.yaml:4: d is longer than 4 bytes");
    assert_int_equal(yaml_string_dup(&src, value_of(doc, "e"), 1, "e", 4, &out), -1);
    assert_string_equal(err, "t.yaml:5: e must be a string");
    free(out);
    fy_document_destroy(doc);
}

static void test_bool(void **state)
{
    struct fy_document *doc = doc_new("a: true\nb: FALSE\nc: yes\nd: 'true'\ne: [true]\n");
    bool v = false;
    assert_int_equal(yaml_bool_get(&src, value_of(doc, "a"), 1, "a", &v), 0);
    assert_true(v);
    assert_int_equal(yaml_bool_get(&src, value_of(doc, "b"), 2, "b", &v), 0);
    assert_false(v);
    assert_int_equal(yaml_bool_get(&src, value_of(doc, "c"), 3, "c", &v), -1);
    assert_string_equal(err, "t.yaml:3: c must be true or false");
    assert_int_equal(yaml_bool_get(&src, value_of(doc, "d"), 4, "d", &v), -1);
    assert_string_equal(err, "t.yaml:4: d must be true or false");
    assert_int_equal(yaml_bool_get(&src, value_of(doc, "e"), 5, "e", &v), -1);
    assert_string_equal(err, "t.yaml:5: e must be true or false");
    fy_document_destroy(doc);
}

static void test_deref(void **state)
{
    struct fy_document *doc = doc_new("a: &x [1]\nb: *x\n");
    struct fy_node *n = value_of(doc, "b");
    size_t visits = 0;
    assert_int_equal(yaml_deref(&src, &n, 2, &visits, 1, "TEST_MAX"), 0);
    assert_ptr_equal(n, value_of(doc, "a"));
    assert_int_equal(yaml_deref(&src, &n, 2, &visits, 1, "TEST_MAX"), -1);
    assert_string_equal(err, "t.yaml:2: more than 1 YAML nodes (TEST_MAX): aliases expand too far");
    fy_document_destroy(doc);
}

struct field {
    const char *key;
    int value;
};

static void test_keys(void **state)
{
    static const struct field fields[] = {{"name", 1}, {"command", 2}, {"tty", 3}};
    size_t stride = sizeof(fields[0]), n = 3;
    assert_int_equal(yaml_key_index(fields, stride, n, "command", 7), 1);
    assert_int_equal(yaml_key_index(fields, stride, n, "tty", 3), 2);
    assert_int_equal(yaml_key_index(fields, stride, n, "tt", 2), 3);
    assert_int_equal(yaml_key_unknown(&src, 7, "key", "comand", 6, "container", fields, stride, n),
                     -1);
    assert_string_equal(err, "t.yaml:7: unknown key \"comand\" in container (expected name, "
                             "command, tty)");

    struct fy_document *doc = doc_new("? [a]\n: 1\nb: 2\n");
    void *it = NULL;
    struct fy_node_pair *pair = fy_node_mapping_iterate(fy_document_root(doc), &it);
    const char *k;
    size_t klen;
    assert_int_equal(yaml_key_get(&src, fy_node_pair_key(pair), 1, "the top level", &k, &klen), -1);
    assert_string_equal(err, "t.yaml:1: keys of the top level must be strings");
    pair = fy_node_mapping_iterate(fy_document_root(doc), &it);
    assert_int_equal(yaml_key_get(&src, fy_node_pair_key(pair), 3, "x", &k, &klen), 0);
    assert_int_equal(klen, 1);
    assert_memory_equal(k, "b", 1);
    fy_document_destroy(doc);
}

static int pair_sum(void *ctx, size_t i, struct fy_node *value, int key_line)
{
    int *sum = ctx;
    *sum = *sum * 10 + (int)i + 1; /* the order the keys came in */
    return key_line == 4 ? yaml_fail(&src, key_line, "refused") : 0;
}

static void test_mapping_walk(void **state)
{
    static const struct field fields[] = {{"name", 1}, {"command", 2}, {"tty", 3}};
    struct fy_document *doc =
        doc_new("ok: {tty: 1, name: x}\nbad: {name: x, comand: y}\nstop: {tty: 1,\n"
                " command: 2}\nlist: [name]\n");
    int sum = 0;
    assert_int_equal(yaml_mapping_walk(&src, value_of(doc, "ok"), 1, "ok", "key", fields,
                                       sizeof(fields[0]), 3, pair_sum, &sum),
                     0);
    assert_int_equal(sum, 31);
    assert_int_equal(yaml_mapping_walk(&src, value_of(doc, "bad"), 2, "a pod", "field", fields,
                                       sizeof(fields[0]), 3, pair_sum, &sum),
                     -1);
    assert_string_equal(err, "t.yaml:2: unknown field \"comand\" in a pod (expected name, "
                             "command, tty)");
    sum = 0;
    assert_int_equal(yaml_mapping_walk(&src, value_of(doc, "stop"), 3, "s", "key", fields,
                                       sizeof(fields[0]), 3, pair_sum, &sum),
                     -1);
    assert_int_equal(sum, 32);
    assert_string_equal(err, "t.yaml:4: refused");
    assert_int_equal(yaml_mapping_walk(&src, value_of(doc, "list"), 5, "list", "key", fields,
                                       sizeof(fields[0]), 3, pair_sum, &sum),
                     -1);
    assert_string_equal(err, "t.yaml:5: list must be a mapping");
    fy_document_destroy(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line), cmocka_unit_test(test_null),
        cmocka_unit_test(test_kind), cmocka_unit_test(test_string),
        cmocka_unit_test(test_bool), cmocka_unit_test(test_deref),
        cmocka_unit_test(test_keys), cmocka_unit_test(test_mapping_walk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
