/* fuzz_audit_event.c - libFuzzer target for audit_event_line: the Event's
 * strings (requestURI, userAgent, names, annotations, the user's groups)
 * come from the input, split at NUL bytes, as a client could choose them.
 *
 * Invariants: the line ends in its only '\n', parses as one JSON object, and
 * every string the client chose comes back as given when it is UTF-8 within
 * its bound, or as valid UTF-8 no longer than the bound otherwise. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "util/util_utf8.h"

#define FUZZ_IN_MAX (64 * 1024)
#define FUZZ_FIELDS 12

/* What a field became: the same text, or (not UTF-8, or over max) valid
 * UTF-8 of at most max bytes. */
static void check_str(json_t *j, const char *given, size_t max)
{
    const char *got = json_string_value(j);
    if (!got)
        __builtin_trap();
    size_t n = strlen(given), g = strlen(got);
    bool clean = n <= max && util_utf8_valid((const uint8_t *)given, n, NULL);
    if (clean ? strcmp(got, given) != 0 : g > max)
        __builtin_trap();
    if (!util_utf8_valid((const uint8_t *)got, g, NULL))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_IN_MAX)
        return 0;
    char *buf = malloc(size + 1);
    memcpy(buf, data, size);
    buf[size] = '\0';
    const char *f[FUZZ_FIELDS];
    size_t nf = 0;
    for (char *p = buf; nf < FUZZ_FIELDS; p += strlen(p) + 1) {
        f[nf++] = p;
        if (p + strlen(p) >= buf + size)
            break;
    }
    while (nf < FUZZ_FIELDS)
        f[nf++] = "";
    char group[AUTH_NAME_MAX] = ""; /* a group is shorter than AUTH_NAME_MAX */
    strncpy(group, f[1], AUTH_NAME_MAX - 1);
    struct auth_identity id = {.groups = {group, "system:authenticated"}, .groups_len = 2};
    strncpy(id.user, f[0], AUTH_NAME_MAX - 1);
    struct audit_event ev = {
        .audit_id = "00000000-0000-4000-8000-000000000000",
        .level = (enum audit_level)(size % 4),
        .stage = (enum audit_stage)(size % AUDIT_STAGES),
        .request_uri = f[2],
        .verb = f[3],
        .user = &id,
        .source_ip = f[4],
        .user_agent = f[5],
        .has_object_ref = size & 1,
        .resource = f[6],
        .ns = f[7],
        .name = f[8],
        .subresource = "exec",
        .api_version = "v1",
        .code = (int)(size % 600),
        .status_message = f[9],
        .status_reason = size & 2 ? "Forbidden" : NULL,
        .annotations = {{"podterm.dev/command", f[10]}, {f[11], "x"}},
        .annotations_len = 2,
    };
    size_t len = 0;
    char *line = audit_event_line(&ev, &len);
    if (!line || len == 0 || line[len - 1] != '\n' || memchr(line, '\n', len - 1))
        __builtin_trap();
    json_error_t jerr;
    json_t *o = json_loadb(line, len, 0, &jerr);
    if (!o || !json_is_object(o))
        __builtin_trap();
    check_str(json_object_get(o, "requestURI"), f[2], AUDIT_URI_MAX);
    check_str(json_object_get(o, "verb"), f[3], 65536);
    if (*f[5])
        check_str(json_object_get(o, "userAgent"), f[5], AUDIT_UA_MAX);
    json_t *an = json_object_get(o, "annotations");
    /* Annotations are a map, as the apiserver's: a second one with the same
     * key (the input may name it) replaces the first. */
    if (strcmp(f[11], "podterm.dev/command") != 0)
        check_str(json_object_get(an, "podterm.dev/command"), f[10], AUDIT_ANNOTATION_MAX);
    json_decref(o);
    free(line);
    free(buf);
    return 0;
}
