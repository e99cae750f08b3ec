/* api_review.c - SelfSubjectAccessReview and SelfSubjectRulesReview, so
 * `kubectl auth can-i` and the web UI learn what the asker may do, from the
 * same RBAC policy admission enforces (admit.h). Answered by podterm in
 * both modes when RBAC is on; without RBAC in local mode everything is
 * allowed, as it is. Bodies are read whole (bounded) before the answer. */
#include "server/server_internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "admit/admit.h"
#include "api/api.h"
#include "proto/proto_review.h"
#include "server/http_reply.h"

#define API_REVIEW_PREFIX "/apis/authorization.k8s.io/v1/"

bool api_review_path(const char *path)
{
    return strcmp(path, API_REVIEW_PREFIX "selfsubjectaccessreviews") == 0 ||
           strcmp(path, API_REVIEW_PREFIX "selfsubjectrulesreviews") == 0;
}

static int api_review_bad(struct lws *wsi, const char *message)
{
    return http_reply_status(wsi, 400, "BadRequest", message, NULL, NULL);
}

static int api_review_reply(struct lws *wsi, json_t *review)
{
    char *text = json_dumps(review, JSON_COMPACT);
    json_decref(review);
    if (!text)
        return http_reply_status(wsi, 500, "InternalError", "out of memory", NULL, NULL);
    int rc = http_reply_json(wsi, 201, text, strlen(text));
    free(text);
    return rc;
}

/* The review as the apiserver returns it: the spec asked, and the status. */
static json_t *api_review_object(const struct proto_review *rv)
{
    json_t *spec;
    if (rv->rules)
        spec = json_pack("{s:s}", "namespace", rv->ns);
    else if (rv->is_resource)
        spec = json_pack("{s:{s:s,s:s,s:s,s:s,s:s,s:s,s:s}}", "resourceAttributes", "namespace",
                         rv->ns, "verb", rv->verb, "group", rv->group, "version", rv->version,
                         "resource", rv->resource, "subresource", rv->subresource, "name",
                         rv->name);
    else
        spec = json_pack("{s:{s:s,s:s}}", "nonResourceAttributes", "path", rv->path, "verb",
                         rv->verb);
    return json_pack("{s:s,s:s,s:{s:n},s:o}", "kind",
                     rv->rules ? "SelfSubjectRulesReview" : "SelfSubjectAccessReview",
                     "apiVersion", "authorization.k8s.io/v1", "metadata", "creationTimestamp",
                     "spec", spec);
}

static int api_review_access(struct server *server, struct lws *wsi,
                             const struct admission *adm, const struct proto_review *rv)
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
    admit_review_access(server->opts.admit, &adm->user, &at, &d);
    /* Admission accepts "get" on pods/exec and pods/attach for policies
     * written for older apiservers; the review says the same. */
    if (!d.allowed && at.resource_request && !at.api_group[0] &&
        strcmp(at.resource, "pods") == 0 && strcmp(at.verb, "create") == 0 &&
        (strcmp(at.subresource, "exec") == 0 || strcmp(at.subresource, "attach") == 0)) {
        struct authz_attrs get = at;
        get.verb = "get";
        admit_review_access(server->opts.admit, &adm->user, &get, &d);
    }
    json_t *review = api_review_object(rv);
    json_t *status = json_pack("{s:b}", "allowed", d.allowed);
    if (status && d.reason[0])
        json_object_set_new(status, "reason", json_string(d.reason));
    json_object_set_new(review, "status", status);
    return api_review_reply(wsi, review);
}

static int api_review_rules(struct server *server, struct lws *wsi, const struct admission *adm,
                            const struct proto_review *rv)
{
    char *rules = admit_review_rules(server->opts.admit, &adm->user, rv->ns);
    json_t *review = api_review_object(rv);
    json_t *status;
    if (rules) {
        status = json_loads(rules, 0, NULL);
        free(rules);
    } else if (!admit_rbac_enabled(server->opts.admit)) {
        status = json_pack("{s:[{s:[s],s:[s],s:[s]}],s:[{s:[s],s:[s]}],s:b}", "resourceRules",
                           "verbs", "*", "apiGroups", "*", "resources", "*", "nonResourceRules",
                           "verbs", "*", "nonResourceURLs", "*", "incomplete", 0);
    } else {
        status = NULL;
    }
    if (!status) {
        json_decref(review);
        return http_reply_status(wsi, 500, "InternalError", "out of memory", NULL, NULL);
    }
    json_object_set_new(review, "status", status);
    return api_review_reply(wsi, review);
}

int api_review_handle(struct server *server, struct lws *wsi, const char *path,
                      const char *body, size_t len)
{
    const struct upgrade_offer *offer = lws_get_opaque_user_data(wsi);
    const struct admission *adm =
        offer && offer->type == WSI_DATA_OFFER ? offer->admission : NULL;
    if (!adm)
        return http_reply_status(wsi, 500, "InternalError", "request not admitted", NULL, NULL);
    char ctype[256] = "";
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE) > 0)
        http_header_copy(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, ctype, sizeof(ctype));
    bool rules = strstr(path, "selfsubjectrulesreviews") != NULL;
    struct proto_review *rv = malloc(sizeof(*rv));
    char err[256];
    if (!rv)
        return http_reply_status(wsi, 500, "InternalError", "out of memory", NULL, NULL);
    int rc;
    if (proto_review_decode((const uint8_t *)body, len, ctype, rules, rv, err, sizeof(err)) < 0)
        rc = strncmp(err, "unsupported media type", 22) == 0
                 ? http_reply_status(wsi, 415, "UnsupportedMediaType", err, NULL, NULL)
                 : api_review_bad(wsi, err);
    else
        rc = rules ? api_review_rules(server, wsi, adm, rv) : api_review_access(server, wsi, adm, rv);
    free(rv);
    return rc;
}
