/* test_admit_attrs.c - requests in kube-apiserver's authorization terms
 * (RequestInfoFactory): the attributes RBAC, ExecPolicy and the audit read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "admit/admit.h"
#include "admit/admit_attrs.h"
#include "http/http_request.h"

struct attrs_case {
    const char *line; /* "METHOD TARGET" */
    const char *verb;
    bool resource;
    const char *group, *version, *ns, *resource_name, *sub, *name, *path;
};

static const struct attrs_case cases[] = {
    {"GET /version", "get", false, "", "", "", "", "", "", "/version"},
    {"GET /api", "get", false, "", "", "", "", "", "", "/api"},
    {"GET /api/v1", "get", false, "", "", "", "", "", "", "/api/v1"},
    {"GET /apis/authorization.k8s.io", "get", false, "", "", "", "", "", "",
     "/apis/authorization.k8s.io"},
    {"HEAD /healthz", "head", false, "", "", "", "", "", "", "/healthz"},
    {"GET /api/v1/namespaces", "list", true, "", "v1", "", "namespaces", "", "", NULL},
    {"GET /api/v1/namespaces/default", "get", true, "", "v1", "default", "namespaces", "",
     "default", NULL},
    {"GET /api/v1/pods", "list", true, "", "v1", "", "pods", "", "", NULL},
    {"GET /api/v1/namespaces/default/pods", "list", true, "", "v1", "default", "pods", "", "",
     NULL},
    {"GET /api/v1/namespaces/default/pods?watch=true", "watch", true, "", "v1", "default", "pods",
     "", "", NULL},
    {"GET /api/v1/namespaces/default/pods?watch=0", "list", true, "", "v1", "default", "pods", "",
     "", NULL},
    {"GET /api/v1/namespaces/default/pods/local", "get", true, "", "v1", "default", "pods", "",
     "local", NULL},
    /* exec and attach are create, whatever the method (WebSocket GET, SPDY POST) */
    {"GET /api/v1/namespaces/default/pods/local/exec?command=id", "create", true, "", "v1",
     "default", "pods", "exec", "local", NULL},
    {"POST /api/v1/namespaces/dev/pods/web-1/attach", "create", true, "", "v1", "dev", "pods",
     "attach", "web-1", NULL},
    {"GET /api/v1/namespaces/default/pods/local/log", "get", true, "", "v1", "default", "pods",
     "log", "local", NULL},
    {"POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews", "create", true,
     "authorization.k8s.io", "v1", "", "selfsubjectaccessreviews", "", "", NULL},
    {"DELETE /api/v1/namespaces/default/pods", "deletecollection", true, "", "v1", "default",
     "pods", "", "", NULL},
    /* Go's URL.Path is decoded: so are the names RBAC compares */
    {"GET /api/v1/namespaces/default/pods/lo%63al/exec", "create", true, "", "v1", "default",
     "pods", "exec", "local", NULL},
    {"GET /%61pi/v1/pods", "list", true, "", "v1", "", "pods", "", "", NULL},
    /* trailing slashes are trimmed, as splitPath does */
    {"GET /api/v1/pods/", "list", true, "", "v1", "", "pods", "", "", NULL},
};

static void parse(const char *line, struct http_request *rq, char *buf, size_t cap,
                  struct admit_attrs *at)
{
    snprintf(buf, cap, "%s HTTP/1.1\r\nHost: x\r\n\r\n", line);
    assert_int_equal(http_request_parse(buf, strlen(buf), rq), 0);
    assert_int_equal(admit_attrs_parse(rq, at), 0);
}

static void attrs_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct attrs_case *c = &cases[i];
        struct http_request rq;
        struct admit_attrs at;
        char buf[512];
        parse(c->line, &rq, buf, sizeof(buf), &at);
        print_message("%s\n", c->line);
        assert_string_equal(at.verb, c->verb);
        assert_int_equal(at.resource_request, c->resource);
        assert_string_equal(at.api_group, c->group);
        assert_string_equal(at.api_version, c->version);
        assert_string_equal(at.ns, c->ns);
        assert_string_equal(at.resource, c->resource_name);
        assert_string_equal(at.subresource, c->sub);
        assert_string_equal(at.name, c->name);
        if (c->path)
            assert_string_equal(at.path, c->path);
        admit_attrs_clear(&at);
    }
}

static void exec_detection(void **state)
{
    (void)state;
    struct http_request rq;
    struct admit_attrs at;
    char buf[512];
    parse("GET /api/v1/namespaces/default/pods/local/exec", &rq, buf, sizeof(buf), &at);
    assert_true(admit_attrs_is_exec(&at));
    admit_attrs_clear(&at);
    parse("GET /apis/apps/v1/namespaces/default/pods/local/exec", &rq, buf, sizeof(buf), &at);
    assert_false(admit_attrs_is_exec(&at)); /* not the core group */
    admit_attrs_clear(&at);
    parse("GET /api/v1/namespaces/default/pods/local/log", &rq, buf, sizeof(buf), &at);
    assert_false(admit_attrs_is_exec(&at));
    admit_attrs_clear(&at);
}

static void api_paths(void **state)
{
    (void)state;
    assert_true(admit_path_is_api("/version", 8));
    assert_true(admit_path_is_api("/api", 4));
    assert_true(admit_path_is_api("/apis/x", 7));
    assert_false(admit_path_is_api("/", 1));
    assert_false(admit_path_is_api("/assets/app.js", 14));
    assert_false(admit_path_is_api("/versions", 9));
    /* /metrics is guarded as the apiserver guards it; its neighbours stay UI paths. */
    assert_true(admit_path_is_api("/metrics", 8));
    assert_false(admit_path_is_api("/metrics/x", 10));
    assert_false(admit_path_is_api("/metricsx", 9));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(attrs_table),
        cmocka_unit_test(exec_detection),
        cmocka_unit_test(api_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
