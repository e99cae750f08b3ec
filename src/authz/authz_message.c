/* authz_message.c - the apiserver's Forbidden message, word for word:
 * responsewriters.forbiddenMessage (with its sanitizer, which HTML-escapes
 * & < > in that part only), then ": reason" when there is one, wrapped by
 * apierrors.NewForbidden ("pods \"x\" is forbidden: ..."). kubectl prints it
 * as "Error from server (Forbidden): <message>", so a person reading
 * podterm's refusal sees what a cluster would have said. */
#include "authz/authz_internal.h"

#include <string.h>

/* strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;") over the part
 * forbiddenMessage built. */
static void message_sanitize(const char *in, char *buf, size_t cap, size_t *off)
{
    while (*in) {
        /* whole runs, so that truncation can keep characters whole */
        size_t run = strcspn(in, "&<>");
        authz_append(buf, cap, off, "%.*s", (int)run, in);
        in += run;
        if (*in)
            authz_append(buf, cap, off, "%s", *in == '&' ? "&amp;" : *in == '<' ? "&lt;" : "&gt;");
        in += *in != '\0';
    }
}

static void message_core(const struct auth_identity *id, const struct authz_attrs *at, char *buf,
                         size_t cap)
{
    size_t off = 0;
    buf[0] = '\0';
    authz_append(buf, cap, &off, "User ");
    authz_quote(buf, cap, &off, id ? id->user : "");
    authz_append(buf, cap, &off, " cannot %s ", at->verb);
    if (!at->resource_request) {
        authz_append(buf, cap, &off, "path ");
        authz_quote(buf, cap, &off, at->path);
        return;
    }
    char resource[2 * AUTHZ_STRING_MAX + 2];
    size_t roff = 0;
    authz_append(resource, sizeof(resource), &roff, "%s%s%s", at->resource,
                 *at->subresource ? "/" : "", at->subresource);
    authz_append(buf, cap, &off, "resource ");
    authz_quote(buf, cap, &off, resource);
    authz_append(buf, cap, &off, " in API group ");
    authz_quote(buf, cap, &off, at->api_group);
    if (*at->ns) {
        authz_append(buf, cap, &off, " in the namespace ");
        authz_quote(buf, cap, &off, at->ns);
    } else {
        authz_append(buf, cap, &off, " at the cluster scope");
    }
}

void authz_forbidden_message(const struct auth_identity *id, const struct authz_attrs *at,
                             const char *reason, char *buf, size_t cap)
{
    if (cap == 0)
        return;
    buf[0] = '\0';
    if (!at)
        return;
    struct authz_attrs norm = authz_attrs_norm(at);
    at = &norm;
    size_t off = 0;
    /* NewForbidden: a GroupResource ("pods", "deployments.apps") unless both
     * are empty (a non-resource request), then the name if there is one. */
    if (!*at->resource && !*at->api_group) {
        authz_append(buf, cap, &off, "forbidden: ");
    } else {
        authz_append(buf, cap, &off, "%s%s%s", at->resource, *at->api_group ? "." : "",
                     at->api_group);
        if (*at->name) {
            authz_append(buf, cap, &off, " ");
            authz_quote(buf, cap, &off, at->name);
        }
        authz_append(buf, cap, &off, " is forbidden: ");
    }
    char core[AUTHZ_REASON_MAX * 2];
    message_core(id, at, core, sizeof(core));
    message_sanitize(core, buf, cap, &off);
    if (reason && *reason)
        authz_append(buf, cap, &off, ": %s", reason);
}
