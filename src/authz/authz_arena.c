/* authz_arena.c - the one allocator behind a struct authz: chunks freed
 * together, so a load that fails anywhere unwinds with one call and a loaded
 * policy is freed the same way. */
#include "authz/authz_internal.h"

#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK_MIN (64u * 1024)
#define ARENA_ALIGN 16u

struct authz_chunk {
    struct authz_chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

void *authz_arena_alloc(struct authz_arena *a, size_t size)
{
    size = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (size == 0)
        size = ARENA_ALIGN;
    struct authz_chunk *c = a->head;
    if (!c || c->cap - c->used < size) {
        size_t cap = size > ARENA_CHUNK_MIN ? size : ARENA_CHUNK_MIN;
        if (cap > SIZE_MAX - sizeof(*c))
            return NULL;
        c = malloc(sizeof(*c) + cap);
        if (!c)
            return NULL;
        c->used = 0;
        c->cap = cap;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += size;
    memset(p, 0, size);
    return p;
}

char *authz_arena_strndup(struct authz_arena *a, const char *s, size_t len)
{
    char *d = authz_arena_alloc(a, len + 1);
    if (d)
        memcpy(d, s, len);
    return d;
}

void authz_arena_free(struct authz_arena *a)
{
    while (a->head) {
        struct authz_chunk *next = a->head->next;
        free(a->head);
        a->head = next;
    }
}
