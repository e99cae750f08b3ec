/* auth_key.c - read a --jwt-key-file and decide which algorithms it allows.
 *
 * A PEM file is a public key (or a private key or certificate it can be
 * derived from); anything else is an HMAC secret. The algorithm family is
 * fixed here, by the key, because trusting a token's "alg" header is the
 * classic JWT hole: an HS256 token "signed" with an RSA public key (which is
 * public) would verify if the RSA key were used as an HMAC secret. */
#include "auth/auth_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "util/util_file.h"

#define EC_GROUP_NAME_MAX 64

bool auth_key_allows(const struct auth_key *key, jwt_alg_t alg)
{
    for (size_t i = 0; i < key->algs_len; i++)
        if (key->algs[i] == alg)
            return true;
    return false;
}

void auth_key_clear(struct auth_key *key)
{
    if (key->bytes)
        OPENSSL_clear_free(key->bytes, key->len);
    memset(key, 0, sizeof(*key));
}

/* Never prompt on the terminal for an encrypted key's passphrase. */
static int key_no_password(char *buf, int size, int rwflag, void *u)
{
    return -1;
}

static EVP_PKEY *key_pem_read(const char *pem, size_t len, bool want_private)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *pkey = NULL;
    if (!bio)
        return NULL;
    if (want_private) {
        pkey = PEM_read_bio_PrivateKey(bio, NULL, key_no_password, NULL);
    } else if (!(pkey = PEM_read_bio_PUBKEY(bio, NULL, key_no_password, NULL))) {
        (void)BIO_reset(bio);
        if (!(pkey = PEM_read_bio_PrivateKey(bio, NULL, key_no_password, NULL))) {
            (void)BIO_reset(bio);
            X509 *cert = PEM_read_bio_X509(bio, NULL, key_no_password, NULL);
            pkey = cert ? X509_get_pubkey(cert) : NULL;
            X509_free(cert);
        }
    }
    BIO_free(bio);
    ERR_clear_error();
    return pkey;
}

/* Re-encode as PEM: libjwt reads a PUBKEY to verify and a PrivateKey to sign,
 * whatever form (PKCS#1, SEC1, certificate) the file had. */
static int key_pem_write(EVP_PKEY *pkey, bool want_private, struct auth_key *key)
{
    BIO *bio = BIO_new(BIO_s_mem());
    int ok = bio && (want_private ? PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL)
                                  : PEM_write_bio_PUBKEY(bio, pkey));
    char *data = NULL;
    long n = ok ? BIO_get_mem_data(bio, &data) : 0;
    if (n > 0 && (key->bytes = malloc((size_t)n))) {
        memcpy(key->bytes, data, (size_t)n);
        key->len = (size_t)n;
    }
    BIO_free(bio); /* BUF_MEM_free cleanses the copy of a private key */
    return key->bytes ? 0 : -1;
}

static void key_algs_set(struct auth_key *key, enum auth_key_kind kind, jwt_alg_t a, jwt_alg_t b,
                         jwt_alg_t c)
{
    key->kind = kind;
    key->algs[0] = a;
    key->algs[1] = b;
    key->algs[2] = c;
    key->algs_len = b == JWT_ALG_NONE ? 1 : 3;
}

/* RSA -> RS256/384/512 (libjwt 1.10 has no PS*); EC -> the one ES* of its curve. */
static int key_algs_from_pkey(const char *path, EVP_PKEY *pkey, struct auth_key *key, char *err,
                              size_t err_cap)
{
    int type = EVP_PKEY_get_base_id(pkey);
    if (type == EVP_PKEY_RSA) {
        if (EVP_PKEY_get_bits(pkey) < AUTH_RSA_BITS_MIN) {
            snprintf(err, err_cap, "%s: RSA key of %d bits; at least %d are needed", path,
                     EVP_PKEY_get_bits(pkey), AUTH_RSA_BITS_MIN);
            return -1;
        }
        key_algs_set(key, AUTH_KEY_RSA, JWT_ALG_RS256, JWT_ALG_RS384, JWT_ALG_RS512);
        return 0;
    }
    char group[EC_GROUP_NAME_MAX] = "";
    size_t glen = 0;
    if (type == EVP_PKEY_EC && EVP_PKEY_get_group_name(pkey, group, sizeof(group), &glen) == 1) {
        jwt_alg_t alg = !strcmp(group, "prime256v1")  ? JWT_ALG_ES256
                        : !strcmp(group, "secp384r1") ? JWT_ALG_ES384
                        : !strcmp(group, "secp521r1") ? JWT_ALG_ES512
                                                      : JWT_ALG_INVAL;
        if (alg != JWT_ALG_INVAL) {
            key_algs_set(key, AUTH_KEY_EC, alg, JWT_ALG_NONE, JWT_ALG_NONE);
            return 0;
        }
    }
    snprintf(err, err_cap,
             "%s: unsupported key type %s%s (use RSA, or EC on P-256, P-384 or P-521)", path,
             OBJ_nid2sn(type), group[0] ? group : "");
    return -1;
}

static int key_load_pem(const char *path, const char *buf, size_t len, bool want_private,
                        struct auth_key *key, char *err, size_t err_cap)
{
    EVP_PKEY *pkey = key_pem_read(buf, len, want_private);
    if (!pkey) {
        snprintf(err, err_cap, "%s: not a usable PEM %s (or it is encrypted)", path,
                 want_private ? "private key" : "public key, private key or certificate");
        return -1;
    }
    int rc = key_algs_from_pkey(path, pkey, key, err, err_cap);
    if (rc == 0 && key_pem_write(pkey, want_private, key) < 0) {
        snprintf(err, err_cap, "%s: cannot re-encode the key", path);
        rc = -1;
    }
    EVP_PKEY_free(pkey);
    return rc;
}

/* A DER key would otherwise become an HMAC secret, and a public one is known
 * to everybody: refuse it instead of guessing. */
static bool key_looks_like_der(const char *buf, size_t len)
{
    const unsigned char *p = (const unsigned char *)buf;
    EVP_PKEY *pkey = d2i_PUBKEY(NULL, &p, (long)len);
    if (!pkey) {
        p = (const unsigned char *)buf;
        pkey = d2i_AutoPrivateKey(NULL, &p, (long)len);
    }
    ERR_clear_error();
    EVP_PKEY_free(pkey);
    return pkey != NULL;
}

static int key_load_hmac(const char *path, char *buf, size_t len, struct auth_key *key, char *err,
                         size_t err_cap)
{
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        len--; /* `echo secret > file` must give the same key as `printf secret` */
    if (key_looks_like_der(buf, len)) {
        snprintf(err, err_cap, "%s: looks like a DER key; give the key in PEM form", path);
        return -1;
    }
    if (len < AUTH_HMAC_KEY_MIN) {
        snprintf(err, err_cap,
                 "%s: HMAC secret of %zu bytes; at least %d are needed "
                 "(e.g. head -c 48 /dev/urandom | base64 > FILE)",
                 path, len, AUTH_HMAC_KEY_MIN);
        return -1;
    }
    if (!(key->bytes = malloc(len))) {
        snprintf(err, err_cap, "%s: out of memory", path);
        return -1;
    }
    memcpy(key->bytes, buf, len);
    key->len = len;
    key_algs_set(key, AUTH_KEY_HMAC, JWT_ALG_HS256, JWT_ALG_HS384, JWT_ALG_HS512);
    return 0;
}

int auth_key_load(const char *path, bool want_private, struct auth_key *key, char *err,
                  size_t err_cap)
{
    memset(key, 0, sizeof(*key));
    size_t len = 0;
    char *buf;
    if (util_file_read(path, AUTH_KEY_FILE_MAX, &buf, &len, err, err_cap) < 0)
        return -1;
    /* Anything PEM-looking is a key or an error, never an HMAC secret. */
    int rc = memmem(buf, len, "-----BEGIN ", 11)
                 ? key_load_pem(path, buf, len, want_private, key, err, err_cap)
                 : key_load_hmac(path, buf, len, key, err, err_cap);
    OPENSSL_clear_free(buf, len);
    if (rc < 0)
        auth_key_clear(key);
    return rc;
}
