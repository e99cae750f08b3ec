/* net_exchange.h - finish one small request on a socket: read the rest of
 * its body (bounded, with a deadline), let the caller compute the answer,
 * write it, hang up. For the few requests podterm answers with a body of
 * its own reading (the access reviews), which lws 4.1 cannot deliver from a
 * socket adopted with a read buffer (it hands the head back as the body).
 * Knows nothing of HTTP beyond "these bytes, then those". */
#ifndef PODTERM_NET_EXCHANGE_H
#define PODTERM_NET_EXCHANGE_H

#include <stddef.h>
#include <uv.h>

#define NET_EXCHANGE_BODY_MAX (64 * 1024) /* bytes of body read */
#define NET_EXCHANGE_TIMEOUT_MS 10000     /* for the body to arrive and the answer to leave */

/* The body is complete (len bytes): fill *response (malloc'd, taken) and
 * *response_len. Return 0, or -1 to hang up without an answer. */
typedef int (*net_exchange_answer_fn)(void *user, const char *body, size_t len, char **response,
                                      size_t *response_len);
/* The exchange is over (answered, timed out, or the peer left): user's to free. */
typedef void (*net_exchange_done_fn)(void *user, int status);

/* Take fd (closed at the end, whatever happens); have[0, have_len) are body
 * bytes already read; body_len is the whole body's length (<=
 * NET_EXCHANGE_BODY_MAX, the caller refuses more). -1: not started (fd is
 * still the caller's). */
int net_exchange_start(uv_loop_t *loop, int fd, const char *have, size_t have_len, size_t body_len,
                       net_exchange_answer_fn answer, net_exchange_done_fn done, void *user);

#endif
