/* tls_front.h - serve HTTPS by terminating TLS in front of podterm's own
 * plaintext listener.
 *
 * Why a terminator and not lws' TLS: podterm pre-reads each request head
 * before lws sees it (listener.c: lws 4.1 picks subprotocols by client order
 * and answers non-WebSocket upgrades, i.e. kubectl's SPDY fallback, with its
 * own 403). With TLS inside lws that head would be encrypted. So each TLS
 * connection is decrypted here and bridged through a socketpair to the same
 * listener path, which behaves identically in both modes.
 *
 * Certificates, and the client CAs, are reloaded when their files change
 * (cert-manager rotates them): new connections get the new certificate and
 * are checked against the new CAs; established connections keep going (their
 * handshake was checked when it happened), nothing is dropped. */
#ifndef PODTERM_GATEWAY_TLS_FRONT_H
#define PODTERM_GATEWAY_TLS_FRONT_H

#include <stddef.h>
#include <openssl/x509.h>
#include <uv.h>

#define TLS_FRONT_BUF (16 * 1024) /* bytes in flight per direction per connection */
#define TLS_FRONT_CONN_MAX 40000  /* TLS connections open at once */
#define TLS_FRONT_RELOAD_MS 2000  /* how often the certificate files are checked */
#define TLS_FRONT_BACKLOG 1024

struct tls_front;

/* A decrypted connection for the plaintext listener: fd is the callee's. */
/* peer: the TLS client's address (the socketpair the callee gets has none of
 * its own), so per-peer bounds behind the terminator count real clients. */
typedef void (*tls_front_plain_fn)(void *ctx, int fd, const struct sockaddr *peer);

struct tls_front_files {
    const char *cert, *key; /* PEM chain and its key */
    const char *client_ca;  /* NULL, or PEM CAs a client certificate must chain to */
};

/* Listen on host:port (numeric IPv4). NULL with a message on error (bad
 * certificate, key or CA file, port in use). */
struct tls_front *tls_front_new(uv_loop_t *loop, const char *host, int port,
                                const struct tls_front_files *files, tls_front_plain_fn plain,
                                void *ctx, int *bound_port, char *err, size_t err_cap);
/* Stop listening and close every connection; frees itself once uv is done. */
void tls_front_close(struct tls_front *f);
/* Stop accepting (new connections are refused), keep the open ones: the
 * drain on SIGTERM. tls_front_close still ends the rest. */
void tls_front_stop_accepting(struct tls_front *f);
/* Connections open (the drain waits for them to pass on what they hold). */
size_t tls_front_conns(const struct tls_front *f);
/* The verified client certificate of the connection whose requests the
 * listener reads from plain_fd, or a dup of it (--client-ca-file), or NULL. Borrowed: valid
 * while that connection is open. Known once its first request arrived (the
 * handshake is done by then). */
X509 *tls_front_peer_cert(struct tls_front *f, int plain_fd);
/* Times the certificate was reloaded (tests). */
unsigned tls_front_reloads(const struct tls_front *f);

#endif
