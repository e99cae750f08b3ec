/* api_review.c - SelfSubjectAccessReview and SelfSubjectRulesReview, so
 * `kubectl auth can-i` and the web UI learn what the asker may do, from the
 * same RBAC policy admission enforces (admit.h). Answered by podterm in
 * both modes when RBAC is on; without RBAC in local mode everything is
 * allowed, as it is. The front door reads the body (net_exchange.h) and
 * writes the answer; this file only decides it. Bodies come as JSON or as
 * Kubernetes protobuf (kubectl 1.32+), read by proto_review.c. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "admit/admit.h"
#include "api/api.h"
#include "proto/proto.h"
#include "proto/proto_review.h"
#include "util/util_json.h"

#define API_REVIEW_PREFIX "/apis/authorization.k8s.io/v1/"

bool api_review_path(const char *path)
{
    return strcmp(path, API_REVIEW_PREFIX "selfsubjectaccessreviews") == 0 ||
           strcmp(path, API_REVIEW_PREFIX "selfsubjectrulesreviews") == 0;
}

/* A metav1.Status body for a refused review, NUL-terminated (proto_http_status
 * does not terminate it; the front door measures the answer with strlen). */
static char *api_review_status(int code, const char *reason, const char *message, int *out_code)
{
    char *body = malloc(PROTO_STATUS_MAX + 1);
    *out_code = code;
    int n =
        body ? proto_http_status(code, reason, message, NULL, NULL, body, PROTO_STATUS_MAX) : -1;
    if (n < 0) {
        free(body);
        return NULL;
    }
    body[n] = '\0';
    return body;
}

/* All of it or none (util_json.h): never a 201 with a member missing. */
static char *api_review_reply(json_t *review, int *code)
{
    char *text = util_json_text(review, JSON_COMPACT, false, NULL);
    json_decref(review);
    *code = 201;
    return text;
}

/* The review as the apiserver returns it: the spec asked, and the status. */
static json_t *api_review_object(const struct proto_review *rv)
{
    json_t *spec;
    if (rv->rules)
        spec = json_pack("{s:s}", "namespace", rv->ns);
    else if (rv->is_resource)
        spec =
            json_pack("{s:{s:s,s:s,s:s,s:s,s:s,s:s,s:s}}", "resourceAttributes", "namespace",
                      rv->ns, "verb", rv->verb, "group", rv->group, "version", rv->version,
                      "resource", rv->resource, "subresource", rv->subresource, "name", rv->name);
    else
        spec =
            json_pack("{s:{s:s,s:s}}", "nonResourceAttributes", "path", rv->path, "verb", rv->verb);
    return json_pack("{s:s,s:s,s:{s:n},s:o}", "kind",
                     rv->rules ? "SelfSubjectRulesReview" : "SelfSubjectAccessReview", "apiVersion",
                     "authorization.k8s.io/v1", "metadata", "creationTimestamp", "spec", spec);
}

static char *api_review_access(const struct admit *admit, const struct auth_identity *id,
                               const struct proto_review *rv, int *code)
{
    struct authz_attrs at = {
        .verb = rv->verb,
        .resource_request = rv->is_resource,
        .api_group = rv->is_resource ? rv->group : "",
        .ns = rv->is_resource ? rv->ns : "",
        .resource = rv->is_resource ? rv->resource : "",
        .subresource = rv->is_resource ? rv->subresource : "",
        .name = rv->is_resource ? rv->name : "",
        .path = rv->is_resource ? "" : rv->path,
    };
    struct authz_decision d;
    admit_review_access(admit, id, &at, &d);
    /* Admission accepts "get" on pods/exec and pods/attach for policies
     * written for older apiservers; the review says the same. */
    if (!d.allowed && at.resource_request && !at.api_group[0] && strcmp(at.resource, "pods") == 0 &&
        strcmp(at.verb, "create") == 0 &&
        (strcmp(at.subresource, "exec") == 0 || strcmp(at.subresource, "attach") == 0)) {
        struct authz_attrs get = at;
        get.verb = "get";
        admit_review_access(admit, id, &get, &d);
    }
    json_t *review = api_review_object(rv);
    json_t *status = json_pack("{s:b}", "allowed", d.allowed);
    /* Every member or no answer: a review without its status (or its
     * reason) would be a different answer, not a shorter one. */
    if (status && d.reason[0] && json_object_set_new(status, "reason", json_string(d.reason))) {
        json_decref(status);
        status = NULL;
    }
    if (!status || json_object_set_new(review, "status", status)) { /* status taken either way */
        json_decref(review);
        return NULL;
    }
    return api_review_reply(review, code);
}

static char *api_review_rules(const struct admit *admit, const struct auth_identity *id,
                              const struct proto_review *rv, int *code)
{
    char *rules = admit_review_rules(admit, id, rv->ns);
    json_t *review = api_review_object(rv);
    json_t *status;
    if (rules) {
        status = json_loads(rules, 0, NULL);
        free(rules);
    } else if (!admit_rbac_enabled(admit)) {
        status = json_pack("{s:[{s:[s],s:[s],s:[s]}],s:[{s:[s],s:[s]}],s:b}", "resourceRules",
                           "verbs", "*", "apiGroups", "*", "resources", "*", "nonResourceRules",
                           "verbs", "*", "nonResourceURLs", "*", "incomplete", 0);
    } else {
        status = NULL;
    }
    if (!status || json_object_set_new(review, "status", status)) {
        json_decref(review);
        return NULL;
    }
    return api_review_reply(review, code);
}

char *api_review_answer(const struct admit *admit, const struct auth_identity *id, const char *path,
                        const char *content_type, const char *body, size_t len, int *code)
{
    bool rules = strstr(path, "selfsubjectrulesreviews") != NULL;
    struct proto_review *rv = malloc(sizeof(*rv));
    char err[256];
    if (!rv)
        return NULL;
    char *answer;
    if (proto_review_decode((const uint8_t *)body, len, content_type, rules, rv, err, sizeof(err)) <
        0)
        answer = strncmp(err, "unsupported media type", 22) == 0
                     ? api_review_status(415, "UnsupportedMediaType", err, code)
                     : api_review_status(400, "BadRequest", err, code);
    else
        answer =
            rules ? api_review_rules(admit, id, rv, code) : api_review_access(admit, id, rv, code);
    free(rv);
    return answer;
}
