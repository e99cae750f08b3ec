/* fuzz_signin.c - libFuzzer target for the parsers of browser sign-in
 * (src/signin/, issue 16) that read what a browser sends: the Cookie header
 * (signin_cookie_find), rd (signin_rd_valid), a state and login cookie
 * against the table of logins (signin_pending_take), a session cookie
 * against the sessions (signin_session_find), and form encoding.
 * Differential: rd against a reference written below from the rule (a
 * single leading '/', then visible ASCII without a backslash). Invariants:
 * a cookie value lies inside the header, after "name=", holds no ';'; a
 * login is only ever handed out for its exact state and binding; an
 * encoded form decodes back to its input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_request.h"
#include "signin/signin_internal.h"

#define FUZZ_NOW 1700000000

static struct signin_table table;
static struct signin_pending known;
static char session_cookie[SIGNIN_TOKEN_LEN + 1];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (signin_table_init(&table, 3600, 43200) < 0)
        abort();
    struct signin_pending *p = signin_pending_add(&table, FUZZ_NOW);
    memcpy(p->state, "STATEstateSTATEstateSTATEstateSTATEstate123", SIGNIN_TOKEN_LEN + 1);
    memcpy(p->binding, "BINDbindBINDbindBINDbindBINDbindBINDbind123", SIGNIN_TOKEN_LEN + 1);
    known = *p;
    struct auth_identity id = {.user = "alice"};
    struct signin_session *s = signin_session_add(&table, &id, NULL, FUZZ_NOW);
    if (!s)
        abort();
    memcpy(session_cookie, s->cookie, sizeof(session_cookie));
    return 0;
}

static bool ref_rd(const uint8_t *s, size_t n)
{
    if (n == 0 || n > SIGNIN_RD_MAX || s[0] != '/' || (n > 1 && (s[1] == '/' || s[1] == '\\')))
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e || s[i] == '\\')
            return false;
    return true;
}

static void fuzz_cookie(const char *in, size_t n)
{
    static const char *const names[] = {"a", "__Host-podterm-session", "podterm-signin", ""};
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        const char *v = NULL;
        size_t vn = 0;
        if (!signin_cookie_find(in, n, names[k], &v, &vn))
            continue;
        if (v < in || v + vn > in + n || memchr(v, ';', vn))
            __builtin_trap();
    }
}

static int unhex(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Form encoding decodes back to the input (a NUL-free prefix of it). */
static void fuzz_form(const char *z)
{
    static char out[4 * SIGNIN_RD_MAX + 64], back[SIGNIN_RD_MAX + 1];
    if (strlen(z) > SIGNIN_RD_MAX)
        return;
    size_t len = 0;
    if (!signin_form_add(out, sizeof(out), &len, "k", z) || strncmp(out, "k=", 2) != 0)
        __builtin_trap();
    size_t b = 0;
    for (size_t i = 2; i < len; i++) {
        if (out[i] == '%') {
            int h = unhex(out[i + 1]), l = unhex(out[i + 2]);
            if (h < 0 || l < 0)
                __builtin_trap();
            back[b++] = (char)(h * 16 + l);
            i += 2;
        } else if (strchr("&=+ ", out[i])) {
            __builtin_trap();
        } else {
            back[b++] = out[i];
        }
    }
    if (b != strlen(z) || memcmp(back, z, b) != 0)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 2 * SIGNIN_RD_MAX)
        return 0;
    char *z = malloc(size + 1);
    memcpy(z, data, size);
    z[size] = '\0';
    if (signin_rd_valid(z, size) != ref_rd(data, size))
        __builtin_trap();
    fuzz_cookie(z, size);
    fuzz_form(z);
    /* the input as a state (and as the login cookie): only the known pair
     * takes the known login; the table is left as it was otherwise */
    struct signin_pending out;
    size_t half = size / 2;
    enum signin_take_rc rc =
        signin_pending_take(&table, z, half, z + half, size - half, FUZZ_NOW, &out);
    bool exact = half == SIGNIN_TOKEN_LEN && size - half == SIGNIN_TOKEN_LEN &&
                 memcmp(z, known.state, SIGNIN_TOKEN_LEN) == 0 &&
                 memcmp(z + half, known.binding, SIGNIN_TOKEN_LEN) == 0;
    if ((rc == SIGNIN_TAKE_OK) != exact)
        __builtin_trap();
    if (rc == SIGNIN_TAKE_OK) { /* put it back for the next input */
        struct signin_pending *p = signin_pending_add(&table, FUZZ_NOW);
        *p = out;
    }
    bool expired;
    struct signin_session *s = signin_session_find(&table, z, size, FUZZ_NOW, &expired);
    if (s && (size != SIGNIN_TOKEN_LEN || memcmp(z, session_cookie, size) != 0))
        __builtin_trap();
    free(z);
    return 0;
}
