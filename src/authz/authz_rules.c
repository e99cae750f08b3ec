/* authz_rules.c - the SelfSubjectRulesReview status (what `kubectl auth
 * can-i --list` shows): every rule the RBAC walk visits for the identity in
 * the namespace, split as the apiserver splits them (a rule with resources
 * is a resource rule, one with nonResourceURLs a non-resource rule), in the
 * walk's order, not merged. Bindings to missing roles make the apiserver's
 * evaluationError; incomplete stays false, as RBAC reports it. */
#include "authz/authz_internal.h"
#include "util/util_json.h"

#include <jansson.h>
#include <stdio.h>

struct rules_visitor {
    struct authz_visitor base;
    json_t *resource_rules, *non_resource_rules;
    struct authz_errors errors;
    bool oom;
};

static json_t *rules_strs(const struct authz_strs *s)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < s->n; i++)
        if (json_array_append_new(a, json_string(s->v[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* Add key: list to o unless the list is empty (omitempty), or always. */
static bool rules_put(json_t *o, const char *key, const struct authz_strs *s, bool omit_empty)
{
    if (omit_empty && s->n == 0)
        return true;
    return json_object_set_new(o, key, rules_strs(s)) == 0;
}

static json_t *rules_resource(const struct authz_rule *r)
{
    json_t *o = json_object();
    if (o && rules_put(o, "verbs", &r->verbs, false) &&
        rules_put(o, "apiGroups", &r->api_groups, true) &&
        rules_put(o, "resources", &r->resources, true) &&
        rules_put(o, "resourceNames", &r->resource_names, true))
        return o;
    json_decref(o);
    return NULL;
}

static json_t *rules_non_resource(const struct authz_rule *r)
{
    json_t *o = json_object();
    if (o && rules_put(o, "verbs", &r->verbs, false) &&
        rules_put(o, "nonResourceURLs", &r->urls, true))
        return o;
    json_decref(o);
    return NULL;
}

static void rules_rule(struct authz_visitor *base, const struct authz_binding *b,
                       const struct authz_subject *s, const struct authz_rule *r)
{
    struct rules_visitor *v = (struct rules_visitor *)base;
    if (r->resources.n && json_array_append_new(v->resource_rules, rules_resource(r)) != 0)
        v->oom = true;
    if (r->urls.n && json_array_append_new(v->non_resource_rules, rules_non_resource(r)) != 0)
        v->oom = true;
    base->stop = v->oom;
}

static void rules_missing(struct authz_visitor *base, const struct authz_binding *b)
{
    authz_errors_add(&((struct rules_visitor *)base)->errors, b);
}

static json_t *rules_status(struct rules_visitor *v)
{
    json_t *st = json_object();
    if (!st || json_object_set(st, "resourceRules", v->resource_rules) != 0 ||
        json_object_set(st, "nonResourceRules", v->non_resource_rules) != 0 ||
        json_object_set_new(st, "incomplete", json_false()) != 0) {
        json_decref(st);
        return NULL;
    }
    if (v->errors.n) {
        char msg[AUTHZ_REASON_MAX];
        size_t off = 0;
        msg[0] = '\0';
        authz_errors_format(&v->errors, msg, sizeof(msg), &off);
        if (json_object_set_new(st, "evaluationError", json_string(msg)) != 0) {
            json_decref(st);
            return NULL;
        }
    }
    return st;
}

char *authz_rules_json(const struct authz *authz, const struct auth_identity *id, const char *ns)
{
    if (!authz || !id)
        return NULL;
    struct rules_visitor v = {.base = {.rule = rules_rule, .missing = rules_missing},
                              .resource_rules = json_array(),
                              .non_resource_rules = json_array()};
    char *out = NULL;
    if (v.resource_rules && v.non_resource_rules) {
        authz_visit(authz, id, ns ? ns : "", &v.base);
        json_t *st = v.oom ? NULL : rules_status(&v);
        out = util_json_text(st, JSON_COMPACT, false, NULL);
        json_decref(st);
    }
    json_decref(v.resource_rules);
    json_decref(v.non_resource_rules);
    return out;
}
