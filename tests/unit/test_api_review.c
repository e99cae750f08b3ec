/* test_api_review.c - refused reviews: a body that is not a review is a 400
 * and a media type that is neither JSON nor protobuf a 415, each with its
 * exact metav1.Status as a NUL-terminated string (the front door measures
 * it with strlen). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admit/admit_internal.h"
#include "api/api.h"

#define ACCESS "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"

static struct admit no_rbac;

static char *answer(const char *content_type, const char *body, int *code)
{
    struct auth_identity id = {.user = "alice"};
    return api_review_answer(&no_rbac, &id, ACCESS, content_type, body, strlen(body), code);
}

static void test_bad_body_is_400(void **state)
{
    int code = 0;
    char *a = answer("application/json", "{not json", &code);
    assert_non_null(a);
    assert_int_equal(code, 400);
    assert_string_equal(a, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                           "\"status\":\"Failure\",\"message\":\"the body is not valid JSON (at "
                           "byte 4)\",\"reason\":\"BadRequest\",\"code\":400}");
    free(a);
}

static void test_other_media_type_is_415(void **state)
{
    int code = 0;
    char *a = answer("text/plain", "x", &code);
    assert_non_null(a);
    assert_int_equal(code, 415);
    assert_string_equal(a, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                           "\"status\":\"Failure\",\"message\":\"unsupported media type "
                           "\\\"text/plain\\\": accepted media types include application/json, "
                           "application/vnd.kubernetes.protobuf\",\"reason\":"
                           "\"UnsupportedMediaType\",\"code\":415}");
    free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_body_is_400),
        cmocka_unit_test(test_other_media_type_is_415),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
