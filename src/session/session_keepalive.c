/* session_keepalive.c - the client-side keepalive shared by a session's
 * connection and its watchers' (session_keepalive.h). */
#include "session/session_keepalive.h"

#include <string.h>
#include <sys/socket.h>

void session_keepalive_start(struct session_keepalive *k, uint64_t now)
{
    k->rx_ms = now;
    k->ping_ms = 0;
    k->ping_pending = false;
}

bool session_keepalive_check(struct session_keepalive *k, struct lws *wsi, uint64_t now,
                             uint64_t interval, uint64_t started_ms, bool rx_paused)
{
    if (!interval)
        return false;
    if (rx_paused)
        k->rx_ms = now; /* we are the ones not reading: no verdict */
    if (k->ping_ms && k->rx_ms < k->ping_ms && now - k->ping_ms >= interval)
        return true;
    uint64_t last = k->ping_ms ? k->ping_ms : started_ms;
    if (now - last >= interval && !k->ping_pending) {
        k->ping_ms = now;
        k->ping_pending = true;
        if (wsi) /* a SPDY connection sends its own PING (session.c) */
            lws_callback_on_writable(wsi);
    }
    return false;
}

int session_keepalive_write(struct session_keepalive *k, struct lws *wsi)
{
    if (!k->ping_pending)
        return 0;
    k->ping_pending = false;
    uint8_t ping[LWS_PRE + sizeof(SESSION_PING_PAYLOAD)];
    size_t n = sizeof(SESSION_PING_PAYLOAD) - 1;
    memcpy(ping + LWS_PRE, SESSION_PING_PAYLOAD, n);
    return lws_write(wsi, ping + LWS_PRE, n, LWS_WRITE_PING) < (int)n ? -1 : 1;
}

void session_keepalive_hang_up(struct lws *wsi)
{
    int fd = lws_get_socket_fd(wsi);
    if (fd >= 0)
        shutdown(fd, SHUT_RDWR);
}
