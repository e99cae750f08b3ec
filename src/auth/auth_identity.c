/* auth_identity.c - an identity's groups, owned strings (see auth.h). */
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"

int auth_identity_add_group(struct auth_identity *id, const char *name, size_t len)
{
    if (id->groups_len >= AUTH_GROUPS_MAX || len >= AUTH_NAME_MAX)
        return -1;
    char *g = strndup(name, len);
    if (!g)
        return -1;
    id->groups[id->groups_len++] = g;
    return 0;
}

void auth_identity_clear(struct auth_identity *id)
{
    for (size_t i = 0; i < id->groups_len && i < AUTH_GROUPS_MAX; i++)
        free(id->groups[i]);
    memset(id, 0, sizeof(*id));
}

int auth_identity_copy(struct auth_identity *dst, const struct auth_identity *src)
{
    memcpy(dst->user, src->user, sizeof(dst->user));
    memcpy(dst->uid, src->uid, sizeof(dst->uid));
    dst->groups_len = 0;
    for (size_t i = 0; i < src->groups_len; i++)
        if (auth_identity_add_group(dst, src->groups[i], strlen(src->groups[i])) < 0) {
            auth_identity_clear(dst);
            return -1;
        }
    return 0;
}
