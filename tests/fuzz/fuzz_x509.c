/* fuzz_x509.c - libFuzzer target for the client-certificate user
 * (auth_x509_identity, issue 16): the input is a DER certificate as a
 * client could present it (OpenSSL parses it; podterm reads its subject).
 * Invariants: a user is a NUL-terminated valid name, never empty; groups
 * are valid names, at most AUTH_GROUPS_MAX - 1 (one is left for
 * system:authenticated); a refusal leaves nothing behind; a certificate
 * whose subject is rewritten to a CN and Organizations taken from the input
 * reads back as exactly those when they are valid names. */
#include <openssl/x509.h>
#include <stdint.h>
#include <string.h>

#include "auth/auth_internal.h"
#include "auth/auth_x509.h"

#define FUZZ_IN_MAX (16 * 1024)

static void check_name(const char *s)
{
    size_t n = strnlen(s, AUTH_NAME_MAX);
    if (n == 0 || n == AUTH_NAME_MAX || !auth_name_is_valid(s, n, false))
        __builtin_trap();
}

static void check(X509 *x)
{
    static struct auth_identity id;
    int rc = auth_x509_identity(x, &id);
    if (rc == AUTH_OK) {
        check_name(id.user);
        if (id.uid[0] || id.groups_len >= AUTH_GROUPS_MAX)
            __builtin_trap();
        for (size_t i = 0; i < id.groups_len; i++)
            check_name(id.groups[i]);
    } else if (rc != AUTH_ERR_INVALID || id.user[0] || id.groups_len) {
        __builtin_trap();
    }
    auth_identity_clear(&id);
}

/* The input's first line as CN, its next lines (up to 4) as Organizations. */
static void round_trip(const uint8_t *data, size_t size)
{
    char buf[1024];
    size_t n = size < sizeof(buf) - 1 ? size : sizeof(buf) - 1;
    memcpy(buf, data, n);
    buf[n] = '\0';
    char *parts[5] = {0};
    size_t np = 0;
    for (char *p = buf, *nl; p && np < 5; p = nl ? nl + 1 : NULL) {
        nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        parts[np++] = p;
    }
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    bool valid = x && name;
    for (size_t i = 0; i < np && valid; i++) {
        size_t len = strlen(parts[i]);
        valid = len && len < 64 && auth_name_is_valid(parts[i], len, false) &&
                X509_NAME_add_entry_by_txt(name, i ? "O" : "CN", MBSTRING_UTF8,
                                           (const unsigned char *)parts[i], -1, -1, 0) == 1;
    }
    if (valid && X509_set_subject_name(x, name) == 1) {
        static struct auth_identity id;
        if (auth_x509_identity(x, &id) != AUTH_OK || strcmp(id.user, parts[0]) != 0 ||
            id.groups_len != np - 1)
            __builtin_trap();
        for (size_t i = 1; i < np; i++)
            if (strcmp(id.groups[i - 1], parts[i]) != 0)
                __builtin_trap();
        auth_identity_clear(&id);
    }
    X509_NAME_free(name);
    X509_free(x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_IN_MAX)
        return 0;
    const unsigned char *p = data;
    X509 *x = d2i_X509(NULL, &p, (long)size);
    if (x) {
        check(x);
        X509_free(x);
    }
    round_trip(data, size);
    return 0;
}
