/* admit_audit.c - an admission's audit events: what the request was, who
 * asked, what was decided and, for exec/attach, what the session did. The
 * Event format itself is audit/'s; this file only knows which facts go in. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/admit_internal.h"

#define ADMIT_NUMBER_MAX 32 /* a decimal annotation value */

static void admit_annotate(struct audit_event *ev, const char *key, const char *value)
{
    if (value && ev->annotations_len < AUDIT_ANNOTATIONS_MAX)
        ev->annotations[ev->annotations_len++] = (struct audit_annotation){key, value};
}

/* The user as podterm sent it upstream (gateway mode, podterm's own
 * credentials): the cluster adds system:authenticated itself. out borrows
 * the admission's group strings: it is read, never cleared. */
static void admit_impersonated(const struct admission *adm, struct auth_identity *out)
{
    memcpy(out->user, adm->user.user, sizeof(out->user));
    memcpy(out->uid, adm->user.uid, sizeof(out->uid));
    out->groups_len = 0;
    for (size_t i = 0; i < adm->user.groups_len; i++)
        if (strcmp(adm->user.groups[i], "system:authenticated") != 0)
            out->groups[out->groups_len++] = adm->user.groups[i];
}

/* Level and omitted stages, decided once per request (the apiserver does
 * the same: the policy is evaluated when the request is received). */
static void admit_audit_level(struct admission *adm)
{
    const struct admit_attrs *x = &adm->attrs;
    struct audit_attrs at = {
        .user = &adm->user,
        .verb = x->verb,
        .resource_request = x->resource_request,
        .api_group = x->api_group,
        .ns = x->ns,
        .resource = x->resource,
        .subresource = x->subresource,
        .name = x->name,
        .path = x->path,
    };
    adm->level = audit_policy_level(adm->admit->audit_policy, &at, adm->omit);
}

void admit_audit_emit(struct admission *adm, enum audit_stage stage, int code)
{
    struct admit *a = adm->admit;
    if (!a->audit_log)
        return;
    if (stage == AUDIT_STAGE_REQUEST_RECEIVED)
        admit_audit_level(adm);
    if (adm->level == AUDIT_LEVEL_NONE || adm->omit[stage])
        return;
    const struct admit_attrs *x = &adm->attrs;
    struct audit_event ev = {
        .level = adm->level,
        .stage = stage,
        .request_uri = adm->request_uri ? adm->request_uri : "",
        .verb = x->verb,
        .user = adm->authenticated || adm->code != 401 ? &adm->user : NULL,
        .source_ip = adm->peer,
        .user_agent = adm->user_agent,
        .has_object_ref = x->resource_request,
        .resource = x->resource,
        .ns = x->ns,
        .name = x->name,
        .subresource = x->subresource,
        .api_group = x->api_group,
        .api_version = x->api_version,
        .code = code,
        .received = adm->received,
    };
    memcpy(ev.audit_id, adm->audit_id, sizeof(ev.audit_id));
    clock_gettime(CLOCK_REALTIME, &ev.stage_ts);
    struct auth_identity imp;
    if (a->opts.gateway && !a->opts.pass_through && adm->authenticated) {
        admit_impersonated(adm, &imp);
        ev.impersonated = &imp;
    }
    if (stage == AUDIT_STAGE_RESPONSE_COMPLETE && adm->code == code && code >= 400) {
        ev.status_message = admission_message(adm);
        ev.status_reason = adm->reason;
    }
    /* Which authenticator said who this is (admit.h lists the words). */
    admit_annotate(&ev, "podterm.dev/authentication-method", adm->auth_method);
    if (adm->decision && stage != AUDIT_STAGE_REQUEST_RECEIVED) {
        /* Both, as the apiserver writes them (from the stage after
         * authorization on); a denial's reason is often "". */
        admit_annotate(&ev, "authorization.k8s.io/decision", adm->decision);
        admit_annotate(&ev, "authorization.k8s.io/reason",
                       adm->authz_reason ? adm->authz_reason : "");
    }
    char in[ADMIT_NUMBER_MAX], out[ADMIT_NUMBER_MAX], exit_code[ADMIT_NUMBER_MAX],
        duration[ADMIT_NUMBER_MAX];
    if (adm->exec_described && stage != AUDIT_STAGE_REQUEST_RECEIVED) {
        admit_annotate(&ev, "podterm.dev/container", adm->container);
        admit_annotate(&ev, "podterm.dev/command", adm->command_json);
        admit_annotate(&ev, "podterm.dev/tty", adm->tty ? "true" : "false");
    }
    if (adm->exec_described && stage == AUDIT_STAGE_RESPONSE_COMPLETE && adm->started_at.tv_sec) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double secs = (double)(now.tv_sec - adm->started_at.tv_sec) +
                      (double)(now.tv_nsec - adm->started_at.tv_nsec) / 1e9;
        snprintf(in, sizeof(in), "%" PRIu64, adm->bytes_stdin);
        snprintf(out, sizeof(out), "%" PRIu64, adm->bytes_stdout);
        snprintf(duration, sizeof(duration), "%.3f", secs);
        admit_annotate(&ev, "podterm.dev/bytes-stdin", in);
        admit_annotate(&ev, "podterm.dev/bytes-stdout", out);
        admit_annotate(&ev, "podterm.dev/duration-seconds", duration);
        if (adm->exit_code >= 0) {
            snprintf(exit_code, sizeof(exit_code), "%d", adm->exit_code);
            admit_annotate(&ev, "podterm.dev/exit-code", exit_code);
        }
        admit_annotate(&ev, "podterm.dev/end-reason",
                       adm->end_reason ? adm->end_reason : "client-closed");
    }
    if (stage == AUDIT_STAGE_RESPONSE_COMPLETE && adm->recording[0])
        admit_annotate(&ev, "podterm.dev/recording", adm->recording);
    size_t len = 0;
    char *line = audit_event_line(&ev, &len);
    if (line)
        audit_log_write(a->audit_log, line, len);
    free(line);
}
