/* auth_x509.c - the user a verified client certificate names (auth_x509.h). */
#include "auth/auth_x509.h"

#include <string.h>

#include "auth/auth_internal.h"

/* One subject attribute as UTF-8 into out (AUTH_NAME_MAX); false when it is
 * no valid name. */
static bool x509_name_copy(X509_NAME_ENTRY *e, char *out)
{
    unsigned char *utf8 = NULL;
    int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
    bool ok =
        n > 0 && (size_t)n < AUTH_NAME_MAX && auth_name_is_valid((char *)utf8, (size_t)n, false);
    if (ok) {
        memcpy(out, utf8, (size_t)n);
        out[n] = '\0';
    }
    OPENSSL_free(utf8);
    return ok;
}

int auth_x509_identity(X509 *cert, struct auth_identity *out)
{
    memset(out, 0, sizeof(*out));
    X509_NAME *subject = cert ? X509_get_subject_name(cert) : NULL;
    if (!subject)
        return AUTH_ERR_INVALID;
    /* Go's pkix.Name keeps the last CommonName of the subject; so do we. */
    int cn = -1;
    for (int i = -1; (i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) >= 0;)
        cn = i;
    if (cn < 0 || !x509_name_copy(X509_NAME_get_entry(subject, cn), out->user))
        goto invalid;
    char group[AUTH_NAME_MAX];
    for (int i = -1; (i = X509_NAME_get_index_by_NID(subject, NID_organizationName, i)) >= 0;) {
        if (out->groups_len + 1 >= AUTH_GROUPS_MAX || /* room for system:authenticated */
            !x509_name_copy(X509_NAME_get_entry(subject, i), group) ||
            auth_identity_add_group(out, group, strlen(group)) < 0)
            goto invalid;
    }
    return AUTH_OK;
invalid:
    auth_identity_clear(out);
    return AUTH_ERR_INVALID;
}
