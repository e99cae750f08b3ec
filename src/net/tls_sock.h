/* tls_sock.h - a non-blocking socket, with or without TLS, driven by uv_poll
 * and read on demand (pull): the owner is told a side is ready and reads or
 * writes as much as it has room for. Not reading is how backpressure works:
 * nothing is buffered here beyond OpenSSL's one record.
 *
 * Used for the upstream API server connections (TLS client) and for the
 * TLS terminator in front of podterm's own listener (TLS server, and the
 * plain socketpair end). */
#ifndef PODTERM_GATEWAY_TLS_SOCK_H
#define PODTERM_GATEWAY_TLS_SOCK_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <sys/types.h>
#include <uv.h>

#define TLS_SOCK_ERR_MAX 512
/* OpenSSL's read and write record buffers, each a record of 16 KiB and its
 * overhead: what tls_sock_trim gives back. */
#define TLS_SOCK_BUFFERS_BYTES (2 * (16 * 1024 + 512))

enum tls_sock_event {
    TLS_SOCK_READY = 1,    /* connected and the TLS handshake is done */
    TLS_SOCK_READABLE = 2, /* read may return data (or EOF) */
    TLS_SOCK_WRITABLE = 4, /* write may take more */
    TLS_SOCK_ERROR = 8,    /* the connection failed: tls_sock_error() says why */
};

struct tls_sock;
typedef void (*tls_sock_cb)(void *user, int events);

/* Take over fd (non-blocking, maybe still connecting) and ssl (NULL: plain;
 * otherwise an SSL in connect or accept state, owned from now on). READY
 * fires once the handshake is done. */
struct tls_sock *tls_sock_new(uv_loop_t *loop, int fd, SSL *ssl, tls_sock_cb cb, void *user);
/* Which events the owner wants (level-triggered while on). */
void tls_sock_want(struct tls_sock *s, bool readable, bool writable);
/* Bytes read (>0), 0 at end of stream, -EAGAIN, or -EIO (see tls_sock_error). */
ssize_t tls_sock_read(struct tls_sock *s, void *buf, size_t cap);
/* Bytes written (>0, maybe short), -EAGAIN, or -EIO. With TLS, a write that
 * returned -EAGAIN must be retried with the same bytes. */
ssize_t tls_sock_write(struct tls_sock *s, const void *buf, size_t len);
/* Half-close: no more writes (TLS close_notify, then shutdown(SHUT_WR)). */
void tls_sock_shutdown(struct tls_sock *s);
const char *tls_sock_error(const struct tls_sock *s);
/* Hand the socket to another owner. */
void tls_sock_set_cb(struct tls_sock *s, tls_sock_cb cb, void *user);
SSL *tls_sock_ssl(struct tls_sock *s);
/* Give OpenSSL's record buffers (about TLS_SOCK_BUFFERS_BYTES) back while
 * the connection is idle; they come back by themselves at the next read or
 * write. Whether they were given back (false: plain, or a record is half
 * read or written). */
bool tls_sock_trim(struct tls_sock *s);
/* Close with a reset (SO_LINGER 0): for a peer that is not reading, which
 * a FIN queued behind unread bytes would never reach. */
void tls_sock_abort(struct tls_sock *s);
/* Close the socket; no callback fires after this. Freed once uv is done. */
void tls_sock_close(struct tls_sock *s);

#endif
