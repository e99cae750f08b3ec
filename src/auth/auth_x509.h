/* auth_x509.h - a client certificate as a user, as kube-apiserver's x509
 * authenticator reads it: the subject's CommonName is the user name, each
 * Organization a group (in order), no uid. The certificate was verified
 * against --client-ca-file by the TLS front before it gets here. */
#ifndef PODTERM_AUTH_X509_H
#define PODTERM_AUTH_X509_H

#include <openssl/x509.h>

#include "auth/auth.h"

/* AUTH_OK with out filled; AUTH_ERR_INVALID when the subject has no
 * CommonName, or a name that is no valid user or group name (empty, too
 * long, control characters), or more Organizations than an identity holds
 * (AUTH_GROUPS_MAX less the one the admission adds). */
int auth_x509_identity(X509 *cert, struct auth_identity *out);

#endif
