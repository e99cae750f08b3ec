/* audit_id.c - the auditID of one request: a random UUID (version 4, RFC
 * 9562), as kube-apiserver makes with google/uuid. OpenSSL's CSPRNG is the
 * source, so ids cannot be predicted from earlier ones. */
#include "audit/audit.h"

#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

#define AUDIT_ID_BYTES 16

static void audit_id_random(uint8_t b[AUDIT_ID_BYTES])
{
    if (RAND_bytes(b, AUDIT_ID_BYTES) == 1)
        return;
    /* OpenSSL refuses only when it cannot seed; the kernel is its source
     * anyway, so ask it directly before giving up. */
    if (getrandom(b, AUDIT_ID_BYTES, 0) == AUDIT_ID_BYTES)
        return;
    /* Two requests sharing an auditID would merge in every tool that reads
     * the log: better no server than an audit trail that lies. */
    fputs("podterm: no random bytes for an audit ID\n", stderr);
    abort();
}

void audit_id_new(char id[AUDIT_ID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t b[AUDIT_ID_BYTES];
    audit_id_random(b);
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* variant 10 */
    size_t o = 0;
    for (size_t i = 0; i < AUDIT_ID_BYTES; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            id[o++] = '-';
        id[o++] = hex[b[i] >> 4];
        id[o++] = hex[b[i] & 0x0f];
    }
    id[o] = '\0';
}
