/* api.h - the REST side in local mode (and what gateway mode serves
 * itself): plain HTTP requests after admission. */
#ifndef PODTERM_API_H
#define PODTERM_API_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>

struct server;

/* http_routes.c: every plain HTTP request. Returns 0, -1 to close, or
 * API_WAIT_BODY when the answer waits for the request body (the offer's
 * body_wanted is set; api_review_handle answers once it is read). */
#define API_WAIT_BODY 2
int http_routes_handle(struct server *server, struct lws *wsi, const char *path);

/* api_local.c: the Kubernetes REST subset for local mode. Returns 1 when it
 * answered, 0 if the path is not an API path, -1 to close. */
int api_local_handle(struct server *server, struct lws *wsi, const char *path);

/* api_review.c: POST .../selfsubjectaccessreviews and selfsubjectrulesreviews. */
bool api_review_path(const char *path);
int api_review_handle(struct server *server, struct lws *wsi, const char *path, const char *body,
                      size_t len);

/* static_ui.c: the embedded web terminal. Returns 1 when it answered, 0 if no such asset. */
int static_ui_handle(struct lws *wsi, const char *path);

#endif
