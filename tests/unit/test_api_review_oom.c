/* test_api_review_oom.c - the answer to a SelfSubjectAccessReview or
 * SelfSubjectRulesReview out of memory (podterm's allocations and
 * jansson's, through json_set_alloc_funcs): NULL (the front door answers
 * 500), never a 201 whose JSON lost a member on the way, which kubectl auth
 * can-i would read as a different answer (or a 400 when jansson ran out
 * reading the body, see below). Without RBAC (local mode) every
 * review is allowed; each clean run gives the exact body. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "admit/admit_internal.h"
#include "api/api.h"
#include "unit_oom.h"

static void oom_free(void *p)
{
    free(p);
}

struct review_case {
    const char *path, *body, *want;
    int want_code;
    long refused;
};

static struct admit no_rbac; /* no authz: local mode without RBAC */

static void review_step(void *ctx)
{
    struct review_case *c = ctx;
    struct auth_identity id = {.user = "alice"};
    int code = 0;
    char *answer = api_review_answer(&no_rbac, &id, c->path, "application/json", c->body,
                                     strlen(c->body), &code);
    if (!answer) {
        assert_true(unit_oom_hit());
        c->refused++;
        return;
    }
    if (code == 400 && unit_oom_hit()) {
        /* jansson ran out reading the body: proto_review_decode (src/proto)
         * cannot tell that from a bad body, a 400 Status, never a wrong 201 */
        static const char head[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                                   "\"status\":\"Failure\",\"message\":\"";
        static const char tail[] = "\",\"reason\":\"BadRequest\",\"code\":400}";
        size_t n = strlen(answer);
        if (strncmp(answer, head, strlen(head)) != 0 || n < strlen(tail) ||
            strcmp(answer + n - strlen(tail), tail) != 0)
            fail_msg("%s", answer);
        free(answer);
        c->refused++;
        return;
    }
    assert_int_equal(code, c->want_code);
    assert_string_equal(answer, c->want);
    free(answer);
}

static void sweep(struct review_case *c)
{
    json_set_alloc_funcs(__wrap_malloc, oom_free);
    long allocations = unit_oom_sweep(review_step, c);
    json_set_alloc_funcs(malloc, free);
    assert_true(allocations > 5);
    assert_int_equal(c->refused, allocations);
}

static void test_access_review_out_of_memory(void **state)
{
    struct review_case c = {
        .path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        .body = "{\"kind\":\"SelfSubjectAccessReview\",\"apiVersion\":\"authorization.k8s.io/v1\","
                "\"spec\":{\"resourceAttributes\":{\"namespace\":\"default\",\"verb\":\"create\","
                "\"resource\":\"pods\",\"subresource\":\"exec\",\"name\":\"web\"}}}",
        .want = "{\"kind\":\"SelfSubjectAccessReview\",\"apiVersion\":\"authorization.k8s.io/v1\","
                "\"metadata\":{\"creationTimestamp\":null},\"spec\":{\"resourceAttributes\":{"
                "\"namespace\":\"default\",\"verb\":\"create\",\"group\":\"\",\"version\":\"\","
                "\"resource\":\"pods\",\"subresource\":\"exec\",\"name\":\"web\"}},"
                "\"status\":{\"allowed\":true}}",
        .want_code = 201,
    };
    sweep(&c);
}

static void test_rules_review_out_of_memory(void **state)
{
    struct review_case c = {
        .path = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
        .body = "{\"kind\":\"SelfSubjectRulesReview\",\"apiVersion\":\"authorization.k8s.io/v1\","
                "\"spec\":{\"namespace\":\"default\"}}",
        .want = "{\"kind\":\"SelfSubjectRulesReview\",\"apiVersion\":\"authorization.k8s.io/v1\","
                "\"metadata\":{\"creationTimestamp\":null},\"spec\":{\"namespace\":\"default\"},"
                "\"status\":{\"resourceRules\":[{\"verbs\":[\"*\"],\"apiGroups\":[\"*\"],"
                "\"resources\":[\"*\"]}],\"nonResourceRules\":[{\"verbs\":[\"*\"],"
                "\"nonResourceURLs\":[\"*\"]}],\"incomplete\":false}}",
        .want_code = 201,
    };
    sweep(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_access_review_out_of_memory),
        cmocka_unit_test(test_rules_review_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
