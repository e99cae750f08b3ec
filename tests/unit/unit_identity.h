/* unit_identity.h - authenticators' identities in tests that check many in a
 * row: each held_* call fills one identity the header keeps (clearing the
 * one before) and gives the test a copy that borrows its groups, so a test
 * reads the fields as before and never frees them. The last one is still
 * held at exit (reachable: no leak). Include after the authenticators'
 * headers; only the wrappers a test calls are compiled in. */
#ifndef PODTERM_UNIT_IDENTITY_H
#define PODTERM_UNIT_IDENTITY_H

#include "auth/auth.h"

static struct auth_identity unit_identity_held; /* test-only: owned groups */

/* Hands the held identity to the test (a shallow copy, borrowed groups). */
static inline int unit_identity_hand(int rc, struct auth_identity *id)
{
    if (id)
        *id = unit_identity_held;
    return rc;
}

#define UNIT_IDENTITY_FILL(call, id)                                                               \
    (auth_identity_clear(&unit_identity_held), unit_identity_hand((call), (id)))

#define held_token_check(a, token, now, id)                                                        \
    UNIT_IDENTITY_FILL(auth_token_check((a), (token), (now), &unit_identity_held), (id))
#define held_x509_identity(cert, id)                                                               \
    UNIT_IDENTITY_FILL(auth_x509_identity((cert), &unit_identity_held), (id))
#define held_oidc_verify(c, keys, token, now, id, kid)                                             \
    UNIT_IDENTITY_FILL(oidc_verify((c), (keys), (token), (now), &unit_identity_held, (kid)), (id))

#endif
