/* net_tls_fixture.h - a throw-away TLS identity for the net unit tests: a
 * P-256 key and a self-signed certificate for "localhost", made in memory
 * (no files in the repository to expire), and written as PEM when a loader
 * wants paths. Include after <cmocka.h>. */
#ifndef PODTERM_NET_TLS_FIXTURE_H
#define PODTERM_NET_TLS_FIXTURE_H

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>

#define NET_TLS_FIXTURE_DAYS 1

struct net_tls_id {
    EVP_PKEY *key;
    X509 *cert;
};

static inline struct net_tls_id net_tls_id_make(const char *cn)
{
    struct net_tls_id id = {EVP_EC_gen("P-256"), X509_new()};
    assert_non_null(id.key);
    assert_non_null(id.cert);
    X509_set_version(id.cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(id.cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(id.cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(id.cert), 86400L * NET_TLS_FIXTURE_DAYS);
    X509_NAME *name = X509_get_subject_name(id.cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(id.cert, name);
    X509_set_pubkey(id.cert, id.key);
    assert_true(X509_sign(id.cert, id.key, EVP_sha256()) > 0);
    return id;
}

static inline void net_tls_id_free(struct net_tls_id *id)
{
    EVP_PKEY_free(id->key);
    X509_free(id->cert);
}

/* Write the certificate and/or the key as PEM to path (either may be NULL). */
static inline void net_tls_id_write(const char *path, X509 *cert, EVP_PKEY *key)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    if (cert)
        assert_int_equal(PEM_write_X509(f, cert), 1);
    if (key)
        assert_int_equal(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL), 1);
    assert_int_equal(fclose(f), 0);
}

#endif
