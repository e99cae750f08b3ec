/* authz_exec.c - the ExecPolicy decision: what RBAC cannot say about an
 * exec or attach RBAC already allowed. Every policy that applies (subjects,
 * namespace, pod labels, container) must allow the request; the first one
 * (by name) that does not is named in the denial. The limits of all that
 * apply combine to the strictest. Pure: a function of the loaded policies
 * and the request. */
#include "authz/authz_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util_utf8.h"
#include "util/util_json.h"

#define CMD_SHOWN_MAX 200 /* bytes of a refused command echoed in the reason */
#define ARG_SHOWN_MAX 64  /* bytes of one argument echoed before "..." */

/* ---- does the policy apply? ---- */

static bool exec_strs_has(const struct authz_strs *s, const char *v)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->v[i], v))
            return true;
    return false;
}

static const char *exec_label(const struct authz_exec *ex, const char *key)
{
    for (size_t i = 0; i < ex->labels_len; i++)
        if (ex->labels[i].key && !strcmp(ex->labels[i].key, key))
            return ex->labels[i].value ? ex->labels[i].value : "";
    return NULL;
}

/* labels.Selector semantics: NotIn and DoesNotExist hold for an absent key. */
static bool exec_selector_matches(const struct authz_exec_policy *pol, const struct authz_exec *ex)
{
    if (ex->labels_len == AUTHZ_LABELS_UNKNOWN)
        return true; /* fail closed: its restrictions hold */
    for (size_t i = 0; i < pol->match_labels_len; i++) {
        const char *v = exec_label(ex, pol->match_labels[i].key);
        if (!v || strcmp(v, pol->match_labels[i].value))
            return false;
    }
    for (size_t i = 0; i < pol->match_exprs_len; i++) {
        const struct authz_selector_req *r = &pol->match_exprs[i];
        const char *v = exec_label(ex, r->key);
        bool in = v && exec_strs_has(&r->values, v);
        bool ok = r->op == AUTHZ_OP_IN       ? in
                  : r->op == AUTHZ_OP_NOT_IN ? !in
                  : r->op == AUTHZ_OP_EXISTS ? v != NULL
                                             : v == NULL;
        if (!ok)
            return false;
    }
    return true;
}

static bool exec_applies(const struct authz_exec_policy *pol, const struct auth_identity *id,
                         const struct authz_exec *ex)
{
    return authz_subjects_match(pol->subjects, pol->subjects_len, id, "") >= 0 &&
           (!pol->has_namespaces || exec_strs_has(&pol->namespaces, ex->ns)) &&
           (!pol->has_selector || exec_selector_matches(pol, ex)) &&
           (!pol->has_containers || exec_strs_has(&pol->containers, ex->container));
}

/* ---- does it allow the request? ---- */

static bool exec_command_matches(const struct authz_command *c, const struct authz_exec *ex)
{
    if (ex->argc < c->argv.n || (!c->prefix && ex->argc != c->argv.n))
        return false;
    for (size_t i = 0; i < c->argv.n; i++)
        if (!ex->argv[i] || strcmp(ex->argv[i], c->argv.v[i]))
            return false;
    return true;
}

/* One argument as a JSON string: cut to ARG_SHOWN_MAX at a character
 * boundary, invalid UTF-8 replaced (the reason ends up in JSON). */
static char *exec_arg_json(const char *arg)
{
    char clean[ARG_SHOWN_MAX + 8];
    size_t n = strlen(arg), off = 0, i = 0;
    while (i < n) {
        size_t len = util_utf8_seq((const uint8_t *)arg + i, n - i, NULL);
        const char *c = len ? arg + i : "\xef\xbf\xbd"; /* U+FFFD for a bad byte */
        size_t clen = len ? len : 3;
        if (off + clen > ARG_SHOWN_MAX)
            break;
        memcpy(clean + off, c, clen);
        off += clen;
        i += len ? len : 1;
    }
    if (i < n) {
        memcpy(clean + off, "...", 3);
        off += 3;
    }
    json_t *s = json_stringn(clean, off);
    char *out = util_json_text(s, JSON_COMPACT | JSON_ENCODE_ANY, false, NULL);
    json_decref(s);
    return out;
}

/* The command as a JSON array, `["rm","-rf","/"]`, at most CMD_SHOWN_MAX
 * bytes: arguments that do not fit become `...`. */
static void exec_command_render(const struct authz_exec *ex, char *buf, size_t cap, size_t *off)
{
    size_t start = *off;
    authz_append(buf, cap, off, "[");
    for (size_t i = 0; i < ex->argc; i++) {
        char *arg = exec_arg_json(ex->argv[i] ? ex->argv[i] : "");
        if (!arg || *off - start + strlen(arg) + 6 > CMD_SHOWN_MAX) {
            free(arg);
            authz_append(buf, cap, off, "%s...", i ? "," : "");
            break;
        }
        authz_append(buf, cap, off, "%s%s", i ? "," : "", arg);
        free(arg);
    }
    authz_append(buf, cap, off, "]");
}

/* "" when pol allows the request, else why not (written to why). */
static bool exec_allows(const struct authz_exec_policy *pol, const struct authz_exec *ex, char *why,
                        size_t cap)
{
    size_t off = 0;
    authz_append(why, cap, &off, "ExecPolicy ");
    authz_quote(why, cap, &off, pol->name);
    authz_append(why, cap, &off, ": ");
    if (!ex->attach && pol->has_commands) {
        size_t i = 0;
        while (i < pol->commands_len && !exec_command_matches(&pol->commands[i], ex))
            i++;
        if (i == pol->commands_len) {
            authz_append(why, cap, &off, "command ");
            exec_command_render(ex, why, cap, &off);
            authz_append(why, cap, &off, " is not in the allowed commands");
            return false;
        }
    }
    if (pol->tty == AUTHZ_TTY_REQUIRED && !ex->tty) {
        authz_append(why, cap, &off, "a TTY is required");
        return false;
    }
    if (pol->tty == AUTHZ_TTY_FORBIDDEN && ex->tty) {
        authz_append(why, cap, &off, "a TTY is forbidden");
        return false;
    }
    if (pol->read_only && ex->want_stdin) {
        authz_append(why, cap, &off, "stdin is not allowed (readOnly)");
        return false;
    }
    return true;
}

/* The smallest non-zero limit wins, with the policy that set it. */
static void exec_limit(unsigned *limit, char *who, size_t cap, unsigned v, const char *name)
{
    if (v == 0 || (*limit && *limit <= v))
        return;
    *limit = v;
    snprintf(who, cap, "%s", name);
}

void authz_exec_check(const struct authz *authz, const struct auth_identity *id,
                      const struct authz_exec *ex, struct authz_exec_decision *d)
{
    memset(d, 0, sizeof(*d));
    if (!authz || !id || !ex) {
        snprintf(d->reason, sizeof(d->reason), "no policy or request to check");
        return;
    }
    struct authz_exec norm = *ex; /* a NULL string from a caller's slip reads as "" */
    norm.ns = norm.ns ? norm.ns : "";
    norm.pod = norm.pod ? norm.pod : "";
    norm.container = norm.container ? norm.container : "";
    if (!norm.argv)
        norm.argc = 0;
    if (!norm.labels && norm.labels_len != AUTHZ_LABELS_UNKNOWN)
        norm.labels_len = 0;
    ex = &norm;
    size_t off = 0, applied = 0;
    for (size_t i = 0; i < authz->exec_policies_len; i++) {
        const struct authz_exec_policy *pol = &authz->exec_policies[i];
        if (!exec_applies(pol, id, ex))
            continue;
        char why[AUTHZ_REASON_MAX];
        if (!exec_allows(pol, ex, why, sizeof(why))) {
            memset(d, 0, sizeof(*d));
            memcpy(d->reason, why, sizeof(d->reason));
            return;
        }
        authz_append(d->reason, sizeof(d->reason), &off, "%s", applied++ ? ", " : "ExecPolicy ");
        authz_quote(d->reason, sizeof(d->reason), &off, pol->name);
        exec_limit(&d->max_duration_s, d->max_duration_policy, sizeof(d->max_duration_policy),
                   pol->max_duration_s, pol->name);
        exec_limit(&d->idle_timeout_s, d->idle_timeout_policy, sizeof(d->idle_timeout_policy),
                   pol->idle_timeout_s, pol->name);
    }
    d->allowed = true;
}
