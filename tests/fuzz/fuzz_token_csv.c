/* fuzz_token_csv.c - libFuzzer target for the --token-auth-file loader
 * (auth_static_load: kube-apiserver's token CSV) and the check against it.
 * The input is the file, after one known line:
 *     CANARY_TOKEN,canary,canary-uid,"g1,g2"
 *
 * Invariants: a load either succeeds with entries whose user, uid and groups
 * are valid names (bounded, no control bytes) and in which the canary token
 * maps to the canary identity, or fails with a NUL-terminated message that
 * never contains the canary token (messages name the file and line, never a
 * token); a token never loaded is refused; nothing leaks (LeakSanitizer). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_internal.h"
#include "fuzz_memfile.h"

#define FUZZ_IN_MAX (64 * 1024)
#define CANARY_TOKEN "Zq7canaryTOKENxY9"
#define CANARY_LINE CANARY_TOKEN ",canary,canary-uid,\"g1,g2\"\n"

static struct fuzz_memfile file;

static void check_name(const char *s, bool allow_empty)
{
    if (!s || !auth_name_is_valid(s, strnlen(s, AUTH_NAME_MAX + 1), allow_empty))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_IN_MAX)
        return 0;
    static uint8_t buf[sizeof(CANARY_LINE) + FUZZ_IN_MAX];
    size_t pre = strlen(CANARY_LINE);
    memcpy(buf, CANARY_LINE, pre);
    memcpy(buf + pre, data, size);
    const char *path = fuzz_memfile_set(&file, buf, pre + size);

    struct auth_static st;
    char err[AUTH_ERR_MAX];
    memset(err, 'x', sizeof(err));
    if (auth_static_load(path, &st, err, sizeof(err)) != 0) {
        if (strnlen(err, sizeof(err)) == sizeof(err) || err[0] == '\0' ||
            strstr(err, CANARY_TOKEN) || strstr(err, "canaryTOKEN"))
            __builtin_trap();
        return 0;
    }
    if (st.len == 0 || st.len > AUTH_STATIC_TOKENS_MAX)
        __builtin_trap();
    for (size_t i = 0; i < st.len; i++) {
        const struct auth_static_entry *e = &st.entries[i];
        check_name(e->user, false);
        check_name(e->uid, true);
        if (e->groups_len > AUTH_GROUPS_MAX)
            __builtin_trap();
        for (size_t g = 0; g < e->groups_len; g++)
            check_name(e->groups[g], false);
    }
    struct auth_identity id;
    if (auth_static_check(&st, CANARY_TOKEN, &id) != AUTH_OK || strcmp(id.user, "canary") != 0 ||
        strcmp(id.uid, "canary-uid") != 0 || id.groups_len != 2 ||
        strcmp(id.groups[0], "g1") != 0 || strcmp(id.groups[1], "g2") != 0)
        __builtin_trap();
    auth_identity_clear(&id);
    if (auth_static_check(&st, CANARY_TOKEN "-not-loaded\x01", &id) == AUTH_OK)
        __builtin_trap();
    auth_static_clear(&st);
    return 0;
}
