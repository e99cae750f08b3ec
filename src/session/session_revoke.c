/* session_revoke.c - --terminate-on-revoke: a session lives by the policy
 * in force, not the one it was admitted under. When the RBAC files reload
 * with a new policy (admit_policy_generation changes), the sweep asks the
 * policy again for every live session; a user who may no longer exec there
 * loses the session, with a Status that says so and why (RBAC's own words),
 * and "revoked" as the end reason in the log and the audit. */
#include "session/session_internal.h"

#include <stdio.h>

#include "admit/admit.h"

#define SESSION_REVOKED_PREFIX "session ended: access revoked: "

void session_revoke_check(struct server *server)
{
    if (!server->opts.terminate_on_revoke || !server->opts.admit)
        return;
    unsigned generation = admit_policy_generation(server->opts.admit);
    if (generation == server->policy_generation)
        return;
    server->policy_generation = generation;
    for (struct session *s = server->session_list, *next; s; s = next) {
        next = s->next;
        const struct admission *adm = session_tap_user(s, &admission_tap_ops);
        char why[ADMIT_MESSAGE_MAX];
        if (!adm || admission_recheck(adm, why, sizeof(why)))
            continue;
        if (!s->wsi && s->detached_ms) { /* nobody to tell (waiting for a resume) */
            s->end_reason = "revoked";
            session_free(s);
            continue;
        }
        char message[sizeof(SESSION_REVOKED_PREFIX) + ADMIT_MESSAGE_MAX];
        snprintf(message, sizeof(message), "%s%s", SESSION_REVOKED_PREFIX, why);
        session_end_error(s, "revoked", message);
    }
}
