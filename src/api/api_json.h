/* api_json.h - building REST answers with jansson without losing parts of them.
 *
 * jansson's json_object_set_new() and json_array_append_new() drop a NULL value
 * (what every constructor returns when out of memory) and carry on, so an answer
 * built with them can silently miss a field or an item and still go out as a 200.
 * These two make the whole result NULL instead (freeing what was built), so
 * api_send() answers 500 rather than a wrong object. Both take ownership of v. */
#ifndef PODTERM_SERVER_API_JSON_H
#define PODTERM_SERVER_API_JSON_H

#include <jansson.h>

static inline json_t *api_json_put(json_t *o, const char *key, json_t *v)
{
    if (o && v && json_object_set_new(o, key, v) == 0)
        return o;
    if (!o)
        json_decref(v); /* json_object_set_new() consumed v otherwise */
    json_decref(o);
    return NULL;
}

static inline json_t *api_json_push(json_t *a, json_t *v)
{
    if (a && v && json_array_append_new(a, v) == 0)
        return a;
    if (!a)
        json_decref(v);
    json_decref(a);
    return NULL;
}

#endif
