/* test_api_select.c - label and field selectors as kubectl sends them:
 * every refusal with the exact message the pod list answers in its 400
 * Status (api_local.c), spaces around keys and values, empty terms, the
 * term and text bounds, and each operator matched against labels, names,
 * namespaces and phases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/api_select.h"

#define ERR_CAP 256

static void assert_refused(const char *labels, const char *fields, const char *want)
{
    struct api_selector sel;
    char err[ERR_CAP] = "";
    if (api_selector_parse(&sel, labels, fields, err, sizeof(err)) != -1)
        fail_msg("accepted: labels \"%s\" fields \"%s\"", labels ? labels : "(null)",
                 fields ? fields : "(null)");
    assert_string_equal(err, want);
}

static void test_refusals(void **state)
{
    assert_refused(" = web", NULL, "unable to parse selector term \" = web\"");
    assert_refused("app=a=b", NULL, "unable to parse selector term \"app=a=b\"");
    assert_refused("app=(x)", NULL, "unable to parse selector term \"app=(x)\"");
    assert_refused("a,!", NULL, "invalid label selector: empty key");
    assert_refused("! \t", NULL, "invalid label selector: empty key");
    assert_refused(NULL, "metadata.name", "invalid field selector: \"metadata.name\"");
    assert_refused(NULL, "spec.nodeName=x", "field label not supported: spec.nodeName");
    assert_refused("", "status.podIP!=1", "field label not supported: status.podIP");

    char text[1200];
    memset(text, 'k', API_SELECTOR_TEXT_MAX); /* a key one byte past the bound */
    text[API_SELECTOR_TEXT_MAX] = '\0';
    assert_refused(text, NULL, "selector key or value too long (limit 255)");
    text[API_SELECTOR_TEXT_MAX - 1] = '\0'; /* at the bound: a label that exists */
    struct api_selector sel;
    char err[ERR_CAP] = "";
    assert_int_equal(api_selector_parse(&sel, text, NULL, err, sizeof(err)), 0);
    assert_int_equal(sel.terms[0].op, API_TERM_EXISTS);
    assert_int_equal(strlen(sel.terms[0].key), API_SELECTOR_TEXT_MAX - 1);

    memcpy(text, "app=", 4);
    memset(text + 4, 'v', API_SELECTOR_TEXT_MAX);
    text[4 + API_SELECTOR_TEXT_MAX] = '\0';
    assert_refused(text, NULL, "selector key or value too long (limit 255)");

    memset(text, 'x', 2 * API_SELECTOR_TEXT_MAX);
    text[2 * API_SELECTOR_TEXT_MAX] = '\0';
    assert_refused(text, NULL, "selector term too long");

    /* the bound counts labels and fields together */
    char many[256] = "";
    for (int i = 0; i < API_SELECTOR_TERMS_MAX; i++)
        strcat(many, i ? ",a" : "a");
    assert_int_equal(api_selector_parse(&sel, many, NULL, err, sizeof(err)), 0);
    assert_refused(many, "metadata.name=x", "too many selector terms (limit 16)");
}

/* Spaces and tabs around keys, values and terms do not count; empty terms
 * are skipped; "==" is "=". */
static void test_spaces_and_operators(void **state)
{
    struct api_selector sel;
    char err[ERR_CAP] = "";
    assert_int_equal(api_selector_parse(&sel, " app = web ,,\ttier==db\t, !legacy , canary ",
                                        "metadata.namespace!= kube-system", err, sizeof(err)),
                     0);
    assert_int_equal(sel.len, 5);
    assert_string_equal(sel.terms[0].key, "app");
    assert_string_equal(sel.terms[0].value, "web");
    assert_int_equal(sel.terms[0].op, API_TERM_EQ);
    assert_string_equal(sel.terms[1].key, "tier");
    assert_string_equal(sel.terms[1].value, "db");
    assert_int_equal(sel.terms[1].op, API_TERM_EQ);
    assert_int_equal(sel.terms[2].op, API_TERM_NOT_EXISTS);
    assert_string_equal(sel.terms[2].key, "legacy");
    assert_int_equal(sel.terms[3].op, API_TERM_EXISTS);
    assert_string_equal(sel.terms[3].key, "canary");
    assert_int_equal(sel.terms[4].op, API_TERM_NE);
    assert_true(sel.terms[4].field);
    assert_string_equal(sel.terms[4].value, "kube-system");
}

static bool matches(const char *labels, const char *fields, const struct config_pod *pod)
{
    struct api_selector sel;
    char err[ERR_CAP] = "";
    if (api_selector_parse(&sel, labels, fields, err, sizeof(err)) < 0)
        fail_msg("refused: %s", err);
    return api_selector_match(&sel, pod);
}

static void test_matching(void **state)
{
    struct config_kv labels[] = {{"app", "web"}, {"tier", "front"}};
    struct config_pod pod = {
        .ns = "shop", .name = "web-1", .phase = "Pending", .labels = labels, .labels_len = 2};
    assert_true(matches("tier=front", NULL, &pod)); /* the second label */
    assert_true(matches("tier", NULL, &pod));       /* exists */
    assert_false(matches("canary", NULL, &pod));    /* does not */
    assert_false(matches("!app", NULL, &pod));
    assert_true(matches("app!=db", NULL, &pod)); /* present, other value */
    assert_false(matches("app!=web", NULL, &pod));
    assert_true(matches("canary!=x", NULL, &pod)); /* absent counts as different */
    assert_false(matches("canary=x", NULL, &pod));
    assert_true(matches(NULL, "metadata.namespace=shop", &pod));
    assert_false(matches(NULL, "metadata.namespace=default", &pod));
    assert_true(matches(NULL, "status.phase=Pending", &pod));
    assert_false(matches(NULL, "status.phase=Running", &pod));
    assert_true(matches("app=web", "metadata.name=web-1,status.phase!=Failed", &pod));
    assert_true(matches(NULL, NULL, &pod));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_spaces_and_operators),
        cmocka_unit_test(test_matching),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
