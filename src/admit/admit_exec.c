/* admit_exec.c - an exec/attach request as ExecPolicy and the audit see it:
 * container, command, tty, stdin, read from the query admission decoded
 * (the same items the session will run), and in local mode the pod's labels
 * and its one container when none was named. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/admit_internal.h"
#include "proto/proto.h"
#include "util/util_utf8.h"
#include "util/util_json.h"

static bool admit_item_is(const struct http_query_item *it, const char *key)
{
    return it->key_len == strlen(key) && memcmp(it->key, key, it->key_len) == 0;
}

/* The first occurrence of a boolean counts (runtime.Convert_Slice_string_To_bool). */
static bool admit_query_bool(const struct http_query *q, const char *key)
{
    for (size_t i = 0; i < q->len; i++)
        if (admit_item_is(&q->items[i], key)) {
            char v[16];
            size_t n = q->items[i].value ? q->items[i].value_len : 0;
            if (n >= sizeof(v))
                return true; /* longer than "false": true */
            memcpy(v, q->items[i].value ? q->items[i].value : "", n);
            v[n] = '\0';
            return proto_query_bool(v);
        }
    return false;
}

/* argv as a JSON array; bytes that are not UTF-8 become U+FFFD, as Go's
 * encoding/json writes them. */
static json_t *admit_json_string(const char *s)
{
    size_t n = strlen(s);
    char *clean = malloc(n * 3 + 1), *o = clean;
    if (!clean)
        return NULL;
    for (size_t i = 0; i < n;) {
        size_t k = util_utf8_seq((const uint8_t *)s + i, n - i, NULL);
        if (k) {
            memcpy(o, s + i, k);
            o += k;
            i += k;
        } else {
            memcpy(o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        }
    }
    json_t *j = json_stringn(clean, (size_t)(o - clean));
    free(clean);
    return j;
}

static char *admit_command_json(const char *const *argv, size_t argc)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < argc; i++)
        if (json_array_append_new(arr, admit_json_string(argv[i])) < 0) {
            json_decref(arr); /* never an audit line with an argument left out */
            return NULL;
        }
    char *s = util_json_text(arr, JSON_COMPACT, false, NULL);
    json_decref(arr);
    return s;
}

bool admit_exec_check(struct admit *a, struct admission *adm)
{
    const struct http_query *q = &adm->query;
    bool attach = strcmp(adm->attrs.subresource, "attach") == 0;
    const char **argv = calloc(q->len + 1, sizeof(*argv));
    char **owned = calloc(q->len + 1, sizeof(*owned));
    size_t argc = 0;
    bool container_named = false, nomem = !argv || !owned;
    for (size_t i = 0; !nomem && i < q->len; i++) {
        const struct http_query_item *it = &q->items[i];
        size_t n = it->value ? it->value_len : 0;
        if (admit_item_is(it, "command") && !attach) {
            if (!(owned[argc] = strndup(it->value ? it->value : "", n))) {
                nomem = true;
                break;
            }
            argv[argc] = owned[argc];
            argc++;
        } else if (admit_item_is(it, "container") && !container_named) {
            container_named = true;
            if (n < sizeof(adm->container))
                snprintf(adm->container, sizeof(adm->container), "%.*s", (int)n, it->value);
        }
    }
    if (nomem) {
        /* Refused with an answer: never decided on a command read in part. */
        for (size_t i = 0; owned && i < argc; i++)
            free(owned[i]);
        free(owned);
        free(argv);
        adm->code = 503;
        adm->phrase = "Service Unavailable";
        adm->reason = "ServiceUnavailable";
        admission_message_set(adm, "out of memory");
        return false;
    }
    adm->tty = admit_query_bool(q, "tty");
    bool want_stdin = admit_query_bool(q, "stdin");
    const struct config_pod *pod =
        a->opts.cluster ? config_pod_find(a->opts.cluster, adm->attrs.ns, adm->attrs.name) : NULL;
    /* As exec_request.c resolves it: no name and one container is that one. */
    if (!adm->container[0] && pod && pod->containers_len == 1)
        snprintf(adm->container, sizeof(adm->container), "%s", pod->containers[0].name);
    adm->command_json = attach ? NULL : admit_command_json(argv, argc);
    adm->exec_described = true;

    bool ok = true;
    if (a->authz) {
        struct authz_label labels[CONFIG_LABELS_MAX];
        size_t nl = pod ? pod->labels_len : AUTHZ_LABELS_UNKNOWN;
        for (size_t i = 0; pod && i < pod->labels_len && i < CONFIG_LABELS_MAX; i++)
            labels[i] = (struct authz_label){pod->labels[i].key, pod->labels[i].value};
        struct authz_exec ex = {
            .ns = adm->attrs.ns,
            .pod = adm->attrs.name,
            .labels = labels,
            .labels_len = a->opts.cluster ? (pod ? nl : 0) : AUTHZ_LABELS_UNKNOWN,
            .container = adm->container,
            .attach = attach,
            .argv = argv,
            .argc = argc,
            .tty = adm->tty,
            .want_stdin = want_stdin,
        };
        struct authz_exec_decision d;
        authz_exec_check(a->authz, &adm->user, &ex, &d);
        adm->max_duration_s = d.max_duration_s;
        adm->idle_timeout_s = d.idle_timeout_s;
        free(adm->max_duration_policy);
        free(adm->idle_timeout_policy);
        adm->max_duration_policy = d.max_duration_s ? strdup(d.max_duration_policy) : NULL;
        adm->idle_timeout_policy = d.idle_timeout_s ? strdup(d.idle_timeout_policy) : NULL;
        if (!d.allowed) {
            ok = false;
            adm->decision = "forbid";
            admit_reason_set(adm, d.reason);
            struct authz_attrs at = {
                .verb = "create",
                .resource_request = true,
                .api_group = "",
                .ns = adm->attrs.ns,
                .resource = "pods",
                .subresource = adm->attrs.subresource,
                .name = adm->attrs.name,
                .path = adm->attrs.path,
            };
            char message[ADMIT_MESSAGE_MAX];
            authz_forbidden_message(&adm->user, &at, d.reason, message, sizeof(message));
            admission_message_set(adm, "%s", message);
            adm->code = 403;
            adm->phrase = "Forbidden";
            adm->reason = "Forbidden";
            snprintf(adm->details_name, sizeof(adm->details_name), "%s", adm->attrs.name);
            adm->details_kind = "pods";
        }
    }
    for (size_t i = 0; i < argc; i++)
        free(owned[i]);
    free(owned);
    free(argv);
    return ok;
}
