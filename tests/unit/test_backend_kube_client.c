/* test_backend_kube_client.c - the API server client's TLS set-up and
 * connect: every refusal of a CA, client certificate or key with its
 * message, a chain in the client certificate, pass-through without the
 * certificate, plain http, and connects that succeed, are refused, fail the
 * TLS handshake or are cancelled while resolving or connecting. Real
 * sockets on 127.0.0.1 only. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend/kube/kube_client.h"

#define WAIT_MS 10000
#define PEM_MAX 8192

/* ---- certificates made on the spot ---- */

struct pem {
    char cert[PEM_MAX], key[PEM_MAX];
};

static void bio_text(BIO *b, char *out)
{
    char *p;
    long n = BIO_get_mem_data(b, &p);
    assert_true(n > 0 && n < PEM_MAX);
    memcpy(out, p, (size_t)n);
    out[n] = '\0';
    BIO_free(b);
}

static void pem_make(struct pem *out, const char *cn)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    assert_non_null(key);
    X509 *x = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509_set_pubkey(x, key);
    assert_true(X509_sign(x, key, EVP_sha256()) > 0);
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, x);
    bio_text(b, out->cert);
    b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL);
    bio_text(b, out->key);
    X509_free(x);
    EVP_PKEY_free(key);
}

static struct pem ca, client, other;

static int pems_setup(void **state)
{
    (void)state;
    pem_make(&ca, "ca");
    pem_make(&client, "client");
    pem_make(&other, "other");
    return 0;
}

static char *dup_text(const char *s, size_t *len)
{
    *len = strlen(s);
    return strdup(s);
}

static struct kube_target *target(const char *host, int port)
{
    struct kube_target *t = calloc(1, sizeof(*t));
    snprintf(t->host, sizeof(t->host), "%s", host);
    t->port = port;
    t->source = strdup("kubeconfig k, context c");
    return t;
}

static uv_loop_t loop;

static void new_fails(struct kube_target *t, bool with_cert, const char *want)
{
    char err[KUBE_ERR_MAX] = "";
    assert_null(kube_client_new(&loop, t, with_cert, err, sizeof(err))); /* t is freed */
    assert_string_equal(err, want);
}

static void test_ca_refusals(void **state)
{
    (void)state;
    struct kube_target *t = target("127.0.0.1", 6443);
    t->ca_pem = dup_text("not a certificate", &t->ca_pem_len);
    new_fails(t, true, "kubeconfig k, context c: certificate-authority holds no PEM certificate");
    /* a key is PEM but no certificate */
    t = target("127.0.0.1", 6443);
    t->ca_pem = dup_text(other.key, &t->ca_pem_len);
    new_fails(t, true, "kubeconfig k, context c: certificate-authority holds no PEM certificate");
}

static void test_client_cert_refusals(void **state)
{
    (void)state;
    struct kube_target *t = target("127.0.0.1", 6443);
    t->ca_pem = dup_text(ca.cert, &t->ca_pem_len);
    t->cert_pem = dup_text("garbage", &t->cert_pem_len);
    t->key_pem = dup_text(client.key, &t->key_pem_len);
    new_fails(t, true, "client-certificate is not a PEM certificate: invalid");

    t = target("127.0.0.1", 6443);
    t->ca_pem = dup_text(ca.cert, &t->ca_pem_len);
    t->cert_pem = dup_text(client.cert, &t->cert_pem_len);
    t->key_pem = dup_text("garbage", &t->key_pem_len);
    char err[KUBE_ERR_MAX] = "";
    assert_null(kube_client_new(&loop, t, true, err, sizeof(err)));
    assert_string_equal(err, "client-key is not a PEM private key: unsupported");

    /* OpenSSL refuses a key that does not match the certificate as it is
     * set, so the message is the same function's */
    t = target("127.0.0.1", 6443);
    t->ca_pem = dup_text(ca.cert, &t->ca_pem_len);
    t->cert_pem = dup_text(client.cert, &t->cert_pem_len);
    t->key_pem = dup_text(other.key, &t->key_pem_len);
    assert_null(kube_client_new(&loop, t, true, err, sizeof(err)));
    assert_string_equal(err, "client-key is not a PEM private key: key values mismatch");
}

static void test_client_cert_chain_and_pass_through(void **state)
{
    (void)state;
    char err[KUBE_ERR_MAX] = "";
    struct kube_target *t = target("127.0.0.1", 6443);
    t->ca_pem = dup_text(ca.cert, &t->ca_pem_len);
    char chain[2 * PEM_MAX];
    snprintf(chain, sizeof(chain), "%s%s", client.cert, ca.cert);
    t->cert_pem = dup_text(chain, &t->cert_pem_len);
    t->key_pem = dup_text(client.key, &t->key_pem_len);
    struct kube_client *c = kube_client_new(&loop, t, true, err, sizeof(err));
    assert_non_null(c);
    assert_string_equal(c->authority, "127.0.0.1:6443");
    assert_string_equal(c->scheme, "https://");
    STACK_OF(X509) *extra = NULL;
    SSL_CTX_get_extra_chain_certs(c->ssl_ctx, &extra);
    assert_int_equal(sk_X509_num(extra), 1);
    assert_non_null(SSL_CTX_get0_certificate(c->ssl_ctx));
    kube_client_free(c);

    /* pass-through: the (bad) client key is never even read */
    t = target("::1", 443);
    t->cert_pem = dup_text("garbage", &t->cert_pem_len);
    t->key_pem = dup_text("garbage", &t->key_pem_len);
    t->insecure = true;
    c = kube_client_new(&loop, t, false, err, sizeof(err));
    assert_non_null(c);
    assert_string_equal(c->authority, "[::1]:443");
    assert_null(SSL_CTX_get0_certificate(c->ssl_ctx));
    assert_int_equal(SSL_CTX_get_verify_mode(c->ssl_ctx), SSL_VERIFY_NONE);
    kube_client_free(c);
    kube_client_free(NULL);
}

/* ---- connect ---- */

static int listener(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 8), 0);
    socklen_t al = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &al);
    *port = ntohs(a.sin_port);
    return fd;
}

struct outcome {
    bool done;
    struct tls_sock *sock;
    char err[KUBE_ERR_MAX + TLS_SOCK_ERR_MAX];
};

static void on_connect(void *user, struct tls_sock *sock, const char *err)
{
    struct outcome *o = user;
    o->done = true;
    o->sock = sock;
    snprintf(o->err, sizeof(o->err), "%s", err ? err : "");
}

static void run_until(const bool *flag)
{
    uint64_t start = uv_hrtime();
    while (!*flag) {
        uv_run(&loop, UV_RUN_NOWAIT);
        if ((uv_hrtime() - start) / 1000000 > WAIT_MS)
            fail_msg("timed out");
        usleep(1000);
    }
}

static void test_connect_plain_and_refused(void **state)
{
    (void)state;
    char err[KUBE_ERR_MAX];
    int port;
    int lfd = listener(&port);
    struct kube_target *t = target("127.0.0.1", port);
    t->plain = true;
    struct kube_client *c = kube_client_new(&loop, t, true, err, sizeof(err));
    assert_non_null(c);
    assert_null(c->ssl_ctx);
    assert_string_equal(c->scheme, "http://");
    struct outcome o = {0};
    assert_non_null(kube_client_connect(c, on_connect, &o));
    run_until(&o.done);
    assert_string_equal(o.err, "");
    assert_non_null(o.sock);
    tls_sock_close(o.sock);
    /* the listener goes: the next connect is refused */
    close(lfd);
    struct outcome r = {0};
    assert_non_null(kube_client_connect(c, on_connect, &r));
    run_until(&r.done);
    assert_null(r.sock);
    char want[KUBE_ERR_MAX];
    snprintf(want, sizeof(want),
             "cannot reach the API server http://127.0.0.1:%d (kubeconfig k, context c): ", port);
    assert_memory_equal(r.err, want, strlen(want));
    assert_non_null(strstr(r.err + strlen(want), "refused"));
    kube_client_free(c);
    uv_run(&loop, UV_RUN_DEFAULT);
}

/* A server that accepts and closes: the TLS handshake fails, with a name to
 * check (tls-server-name) that is not an address. */
static void test_connect_tls_handshake_fails(void **state)
{
    (void)state;
    char err[KUBE_ERR_MAX];
    int port;
    int lfd = listener(&port);
    struct kube_target *t = target("127.0.0.1", port);
    t->ca_pem = dup_text(ca.cert, &t->ca_pem_len);
    t->tls_server_name = strdup("kubernetes.default");
    struct kube_client *c = kube_client_new(&loop, t, true, err, sizeof(err));
    assert_non_null(c);
    struct outcome o = {0};
    assert_non_null(kube_client_connect(c, on_connect, &o));
    /* accept once the connect is on its way, then hang up */
    int afd = -1;
    uint64_t start = uv_hrtime();
    while (afd < 0 && (uv_hrtime() - start) / 1000000 < WAIT_MS) {
        uv_run(&loop, UV_RUN_NOWAIT);
        struct timeval tv = {0, 10000};
        fd_set fs;
        FD_ZERO(&fs);
        FD_SET(lfd, &fs);
        if (select(lfd + 1, &fs, NULL, NULL, &tv) > 0)
            afd = accept(lfd, NULL, NULL);
    }
    assert_true(afd >= 0);
    close(afd);
    run_until(&o.done);
    assert_null(o.sock);
    char want[KUBE_ERR_MAX];
    snprintf(want, sizeof(want),
             "cannot reach the API server https://127.0.0.1:%d (kubeconfig k, context c): ", port);
    assert_memory_equal(o.err, want, strlen(want));
    close(lfd);
    kube_client_free(c);
    uv_run(&loop, UV_RUN_DEFAULT);
}

static void never(void *user, struct tls_sock *sock, const char *err)
{
    (void)user;
    (void)sock;
    (void)err;
    fail_msg("a cancelled connect called back");
}

/* Cancelled while resolving, and once the socket is connecting: no callback,
 * nothing leaks (LeakSanitizer), the loop ends. */
static void test_connect_cancel(void **state)
{
    (void)state;
    char err[KUBE_ERR_MAX];
    int port;
    int lfd = listener(&port);
    struct kube_target *t = target("127.0.0.1", port);
    t->plain = true;
    struct kube_client *c = kube_client_new(&loop, t, true, err, sizeof(err));
    struct kube_connect *kc = kube_client_connect(c, never, NULL);
    assert_non_null(kc);
    kube_connect_cancel(kc); /* still resolving */
    uv_run(&loop, UV_RUN_DEFAULT);

    /* TLS this time, so the socket sits in its handshake (nobody accepts) */
    kube_client_free(c);
    t = target("127.0.0.1", port);
    t->insecure = true;
    t->tls_server_name = strdup("::1"); /* an address: no SNI */
    c = kube_client_new(&loop, t, true, err, sizeof(err));
    kc = kube_client_connect(c, never, NULL);
    /* run until the address is resolved and the socket exists */
    for (int i = 0; i < 50; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(2000);
    }
    kube_connect_cancel(kc);
    kube_connect_cancel(NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    close(lfd);
    kube_client_free(c);
}

static int loop_setup(void **state)
{
    signal(SIGPIPE, SIG_IGN); /* as the server does: a hung-up peer is -EPIPE */
    return pems_setup(state) || uv_loop_init(&loop);
}

static int loop_teardown(void **state)
{
    (void)state;
    return uv_loop_close(&loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ca_refusals),
        cmocka_unit_test(test_client_cert_refusals),
        cmocka_unit_test(test_client_cert_chain_and_pass_through),
        cmocka_unit_test(test_connect_plain_and_refused),
        cmocka_unit_test(test_connect_tls_handshake_fails),
        cmocka_unit_test(test_connect_cancel),
    };
    return cmocka_run_group_tests(tests, loop_setup, loop_teardown);
}
