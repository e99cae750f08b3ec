/* audit_event.c - one audit.k8s.io/v1 Event as one JSON line, field for
 * field what kube-apiserver's log backend writes (Go's encoding/json on
 * k8s.io/apiserver/pkg/apis/audit/v1.Event), so jq filters and SIEM parsers
 * written for the apiserver's log read podterm's:
 *
 * - omitempty as Go applies it: "user" is a struct and always there ("{}"
 *   when nobody is known), its username/uid/groups only when set; pointers
 *   (impersonatedUser, objectRef, responseStatus) only when given;
 *   responseStatus.metadata is a struct and so always "{}".
 * - "level" is Metadata for Request and RequestResponse too: podterm never
 *   logs a request or response body (exec/attach have none worth logging, and
 *   keeping them would mean keeping whatever the terminal carried), so the
 *   event says what it holds rather than what was asked. (None is written
 *   as "None", but like the apiserver the caller writes no event at None.)
 * - timestamps are metav1.MicroTime: RFC 3339, UTC, six fractional digits.
 * - strings that are not UTF-8 get U+FFFD per bad byte, as Go's encoder does,
 *   and the client-controlled ones are cut at their bounds (audit.h). */
#include "audit/audit.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util_utf8.h"
#include "util/util_json.h"

#define AUDIT_TIME_LEN 27      /* 2026-11-30T06:41:30.123456Z */
#define AUDIT_STRING_MAX 65536 /* any other string in an event (names are shorter) */

static const char *const audit_level_names[] = {"None", "Metadata", "Metadata", "Metadata"};
static const char *const audit_stage_names[] = {"RequestReceived", "ResponseStarted",
                                                "ResponseComplete", "Panic"};

/* s as a JSON string of at most max bytes: invalid UTF-8 replaced, cut at a
 * character boundary. NULL only when out of memory. */
static json_t *audit_json_str(const char *s, size_t max)
{
    static const char replacement[] = "\xef\xbf\xbd";
    if (!s)
        s = "";
    size_t n = strlen(s);
    if (n <= max && util_utf8_valid((const uint8_t *)s, n, NULL))
        return json_stringn(s, n);
    size_t cap = (n < max ? n : max) * 3 + 1;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t len = util_utf8_seq((const uint8_t *)s + i, n - i, NULL);
        const char *src = len ? s + i : replacement;
        size_t w = len ? len : 3;
        if (o + w > max || o + w >= cap)
            break;
        memcpy(out + o, src, w);
        o += w;
        i += len ? len : 1;
    }
    json_t *j = json_stringn(out, o);
    free(out);
    return j;
}

/* Set key to a string unless it is empty (Go's omitempty); -1 out of memory. */
static int audit_set_opt(json_t *obj, const char *key, const char *value, size_t max)
{
    if (!value || !*value)
        return 0;
    return json_object_set_new(obj, key, audit_json_str(value, max));
}

static int audit_set_str(json_t *obj, const char *key, const char *value, size_t max)
{
    return json_object_set_new(obj, key, audit_json_str(value, max));
}

static json_t *audit_user_json(const struct auth_identity *id)
{
    json_t *u = json_object();
    if (!u || !id)
        return u;
    int rc = audit_set_opt(u, "username", id->user, AUTH_NAME_MAX);
    rc |= audit_set_opt(u, "uid", id->uid, AUTH_NAME_MAX);
    size_t n = id->groups_len < AUTH_GROUPS_MAX ? id->groups_len : AUTH_GROUPS_MAX;
    if (n) {
        json_t *groups = json_array();
        rc |= json_object_set_new(u, "groups", groups);
        for (size_t i = 0; groups && i < n; i++)
            rc |= json_array_append_new(groups, audit_json_str(id->groups[i], AUTH_NAME_MAX));
    }
    if (rc) {
        json_decref(u);
        return NULL;
    }
    return u;
}

static json_t *audit_object_ref_json(const struct audit_event *ev)
{
    json_t *r = json_object();
    if (!r)
        return NULL;
    int rc = audit_set_opt(r, "resource", ev->resource, AUDIT_STRING_MAX);
    rc |= audit_set_opt(r, "namespace", ev->ns, AUDIT_STRING_MAX);
    rc |= audit_set_opt(r, "name", ev->name, AUDIT_STRING_MAX);
    rc |= audit_set_opt(r, "apiGroup", ev->api_group, AUDIT_STRING_MAX);
    rc |= audit_set_opt(r, "apiVersion", ev->api_version, AUDIT_STRING_MAX);
    rc |= audit_set_opt(r, "subresource", ev->subresource, AUDIT_STRING_MAX);
    if (rc) {
        json_decref(r);
        return NULL;
    }
    return r;
}

/* metav1.Status as the apiserver copies it into the event: metadata (a
 * struct, never omitted), then status/message/reason of a failure. */
static json_t *audit_status_json(const struct audit_event *ev)
{
    json_t *s = json_object();
    if (!s)
        return NULL;
    int rc = json_object_set_new(s, "metadata", json_object());
    bool failure =
        (ev->status_message && *ev->status_message) || (ev->status_reason && *ev->status_reason);
    if (failure)
        rc |= json_object_set_new(s, "status", json_string("Failure"));
    rc |= audit_set_opt(s, "message", ev->status_message, AUDIT_STRING_MAX);
    rc |= audit_set_opt(s, "reason", ev->status_reason, AUDIT_STRING_MAX);
    rc |= json_object_set_new(s, "code", json_integer(ev->code));
    if (rc) {
        json_decref(s);
        return NULL;
    }
    return s;
}

/* RFC 3339 with microseconds in UTC, as metav1.MicroTime marshals. */
static json_t *audit_time_json(struct timespec ts)
{
    struct tm tm;
    time_t sec = ts.tv_sec;
    long usec = ts.tv_nsec / 1000;
    if (usec < 0 || usec > 999999)
        usec = 0;
    char buf[AUDIT_TIME_LEN + 16];
    if (!gmtime_r(&sec, &tm) || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        return NULL;
    size_t len = strlen(buf);
    snprintf(buf + len, sizeof(buf) - len, ".%06ldZ", usec);
    return json_string(buf);
}

static json_t *audit_annotations_json(const struct audit_event *ev)
{
    json_t *a = json_object();
    size_t n =
        ev->annotations_len < AUDIT_ANNOTATIONS_MAX ? ev->annotations_len : AUDIT_ANNOTATIONS_MAX;
    int rc = 0;
    for (size_t i = 0; a && i < n; i++) {
        const struct audit_annotation *an = &ev->annotations[i];
        if (!an->key || !*an->key)
            continue;
        json_t *key = audit_json_str(an->key, AUDIT_STRING_MAX);
        rc |= key ? json_object_set_new(a, json_string_value(key),
                                        audit_json_str(an->value, AUDIT_ANNOTATION_MAX))
                  : -1;
        json_decref(key);
    }
    if (rc) {
        json_decref(a);
        return NULL;
    }
    return a;
}

static int audit_event_fill(json_t *o, const struct audit_event *ev)
{
    unsigned level = ev->level <= AUDIT_LEVEL_REQUEST_RESPONSE ? ev->level : AUDIT_LEVEL_METADATA;
    unsigned stage = ev->stage < AUDIT_STAGES ? ev->stage : AUDIT_STAGE_PANIC;
    int rc = json_object_set_new(o, "kind", json_string("Event"));
    rc |= json_object_set_new(o, "apiVersion", json_string("audit.k8s.io/v1"));
    rc |= json_object_set_new(o, "level", json_string(audit_level_names[level]));
    rc |= audit_set_str(o, "auditID", ev->audit_id, AUDIT_ID_LEN);
    rc |= json_object_set_new(o, "stage", json_string(audit_stage_names[stage]));
    rc |= audit_set_str(o, "requestURI", ev->request_uri, AUDIT_URI_MAX);
    rc |= audit_set_str(o, "verb", ev->verb, AUDIT_STRING_MAX);
    rc |= json_object_set_new(o, "user", audit_user_json(ev->user));
    if (ev->impersonated)
        rc |= json_object_set_new(o, "impersonatedUser", audit_user_json(ev->impersonated));
    if (ev->source_ip && *ev->source_ip) {
        json_t *ips = json_array();
        rc |= json_object_set_new(o, "sourceIPs", ips);
        rc |=
            ips ? json_array_append_new(ips, audit_json_str(ev->source_ip, AUDIT_STRING_MAX)) : -1;
    }
    rc |= audit_set_opt(o, "userAgent", ev->user_agent, AUDIT_UA_MAX);
    if (ev->has_object_ref)
        rc |= json_object_set_new(o, "objectRef", audit_object_ref_json(ev));
    if (ev->code != 0)
        rc |= json_object_set_new(o, "responseStatus", audit_status_json(ev));
    rc |= json_object_set_new(o, "requestReceivedTimestamp", audit_time_json(ev->received));
    rc |= json_object_set_new(o, "stageTimestamp", audit_time_json(ev->stage_ts));
    if (ev->annotations_len) {
        json_t *a = audit_annotations_json(ev);
        rc |= (a && json_object_size(a) == 0) ? (json_decref(a), 0)
                                              : json_object_set_new(o, "annotations", a);
    }
    return rc ? -1 : 0;
}

/* All of the line or none (util_json.h): never a corrupt audit line. */
char *audit_event_line(const struct audit_event *ev, size_t *len)
{
    json_t *o = json_object();
    if (!o || audit_event_fill(o, ev) < 0) {
        json_decref(o);
        return NULL;
    }
    char *line = util_json_text(o, JSON_COMPACT | JSON_PRESERVE_ORDER, true, len);
    json_decref(o);
    return line;
}
