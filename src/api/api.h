/* api.h - the REST side in local mode (and what gateway mode serves
 * itself): plain HTTP requests after admission. */
#ifndef PODTERM_API_H
#define PODTERM_API_H

#include <jansson.h>
#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>

struct server;

/* http_routes.c: every plain HTTP request. Returns 0, or -1 to close. */
int http_routes_handle(struct server *server, struct lws *wsi, const char *path);

/* api_local.c: the Kubernetes REST subset for local mode. Returns 1 when it
 * answered, 0 if the path is not an API path, -1 to close. */
int api_local_handle(struct server *server, struct lws *wsi, const char *path);

/* api_local.c: answer with json (consumed): 1, or -1 to close; JSON that
 * could not be built (NULL) or serialized is a 500 Status. */
int api_send(struct lws *wsi, int code, json_t *json);

/* api_review.c: POST .../selfsubjectaccessreviews and selfsubjectrulesreviews,
 * answered by the front door itself (front.c) with the body it read. */
struct admit;
struct auth_identity;
bool api_review_path(const char *path);
/* The answer to a review: its HTTP status and a new JSON body (the review
 * with its status, or a metav1.Status), NULL on out of memory. */
char *api_review_answer(const struct admit *admit, const struct auth_identity *id, const char *path,
                        const char *content_type, const char *body, size_t len, int *code);

/* static_ui.c: the embedded web terminal. Returns 1 when it answered, 0 if no such asset. */
int static_ui_handle(struct lws *wsi, const char *path);

#endif
