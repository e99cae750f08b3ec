/* fuzz_exec_credential.c - libFuzzer target for the exec credential plugin's
 * output (kube_exec_credential_parse: an ExecCredential JSON on the plugin's
 * stdout). The input is that output.
 *
 * Differential: jansson's own reading of the same JSON says what the token
 * must be (status.token, a non-empty string that fits the buffer; the first
 * NUL ends it as a C string). Round trip: an ExecCredential built from the
 * input's bytes as token and an RFC 3339 time from its first bytes parses back
 * to that token and that time. Invariants: the token and message are
 * NUL-terminated within their buffers; a failure leaves no token. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/kube/credentials.h"
#include "util/util_token.h"

#define FUZZ_IN_MAX KUBE_EXEC_OUTPUT_MAX
#define FUZZ_ERR_MAX 256

static void fuzz_parse(const char *json, size_t len)
{
    static char token[KUBE_TOKEN_MAX + 1];
    char err[FUZZ_ERR_MAX];
    time_t expiry = 12345;
    memset(token, 'x', sizeof(token));
    memset(err, 'x', sizeof(err));
    int rc = kube_exec_credential_parse(json, len, token, sizeof(token), &expiry, err, sizeof(err));
    json_t *root = json_loadb(json, len, 0, NULL);
    json_t *st = json_object_get(root, "status");
    const char *want = json_string_value(json_object_get(st, "token"));
    if (rc == 0) {
        if (!want || strnlen(token, sizeof(token)) == sizeof(token) || strcmp(token, want) != 0 ||
            token[0] == '\0')
            __builtin_trap();
    } else {
        if (rc != -1 || strnlen(err, sizeof(err)) == sizeof(err) || err[0] == '\0')
            __builtin_trap();
        if (want && strnlen(want, sizeof(token)) >= sizeof(token) - 1 && strstr(err, want))
            __builtin_trap(); /* the token is never quoted back */
    }
    json_decref(root);
}

static void fuzz_round_trip(const uint8_t *data, size_t size)
{
    if (size < 6)
        return;
    struct tm tm = {.tm_year = 70 + data[0] % 130,
                    .tm_mon = data[1] % 12,
                    .tm_mday = 1 + data[2] % 28,
                    .tm_hour = data[3] % 24,
                    .tm_min = data[4] % 60,
                    .tm_sec = data[5] % 60};
    time_t want = timegm(&tm);
    char when[64];
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    char *tok = strndup((const char *)data + 6, size - 6);
    /* Only tokens the one token rule accepts round-trip; the rest must be
     * refused, which fuzz_parse checks on arbitrary input. */
    if (!tok[0] || strlen(tok) > KUBE_TOKEN_MAX || !util_token_is_valid(tok, strlen(tok))) {
        free(tok);
        return;
    }
    json_t *cred = json_pack("{s:s, s:s, s:{s:s?, s:s}}", "kind", "ExecCredential", "apiVersion",
                             "client.authentication.k8s.io/v1", "status", "token", tok,
                             "expirationTimestamp", when);
    free(tok);
    if (!cred)
        return; /* not UTF-8: jansson builds no JSON string from it */
    char *text = json_dumps(cred, 0);
    static char token[KUBE_TOKEN_MAX + 1];
    char err[FUZZ_ERR_MAX];
    time_t expiry = 0;
    if (kube_exec_credential_parse(text, strlen(text), token, sizeof(token), &expiry, err,
                                   sizeof(err)) != 0 ||
        strcmp(token,
               json_string_value(json_object_get(json_object_get(cred, "status"), "token"))) != 0 ||
        expiry != want)
        __builtin_trap();
    free(text);
    json_decref(cred);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_IN_MAX)
        return 0;
    char *buf = malloc(size ? size : 1); /* exact: a read past it is reported */
    memcpy(buf, data, size);
    fuzz_parse(buf, size);
    free(buf);
    fuzz_round_trip(data, size);
    return 0;
}
