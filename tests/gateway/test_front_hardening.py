"""The front door's hardening (issue 18) in gateway mode: the same attacks
as tests/interop/test_hardening.py, against a gateway podterm, whose API
requests take another path through the listener (the gateway's own parse)."""
import os
import socket
import ssl
import struct

from podterm_client import (OP_BINARY, V5, assert_json_exact, exec_path, http_request, status_json,
                            ws_exec, ws_open)
from test_hardening import (CLOSE_TOO_BIG, PROMPT_S, assert_rebinding_refused, assert_too_large,
                            HALF_SENT, bare_lf_head, cloexec_missing, close_frame_within,
                            forbidden_host, half_sent_heads, open_sessions, raise_fd_limit,
                            spdy_growth_head)

from conftest import tls_args


def test_gateway_head_rewrite_bare_lf_lines_431(gateway):
    host = f"127.0.0.1:{gateway.port}"
    assert_too_large(gateway.port, bare_lf_head(host))


def test_gateway_head_rewrite_spdy_upgrade_growth_431(gateway):
    host = f"127.0.0.1:{gateway.port}"
    assert_too_large(gateway.port, spdy_growth_head(host))
    # an API path: the gateway's stack path in the listener
    assert_too_large(gateway.port, spdy_growth_head(host, "/api/v1/namespaces/default/pods"))


def test_gateway_rebound_host_refused(gateway):
    """Anonymous gateway mode: a rebound page would act with the kubeconfig's
    credentials; the listener refuses its Host before the gateway sees it."""
    assert_rebinding_refused(gateway.port)


def test_gateway_oversized_frame_header_closes_1009_at_once(gateway):
    resp, ws = ws_open(gateway.port, exec_path(["cat"], stdin=True), V5)
    assert ws is not None, resp
    try:
        ws.conn.sendall(bytes([0x80 | OP_BINARY, 0x80 | 127]) + struct.pack("!Q", 1 << 62) +
                        os.urandom(4))
        assert close_frame_within(ws, PROMPT_S) == CLOSE_TOO_BIG
    finally:
        ws.close()


def tls_get(pki, port, host):
    ctx = ssl.create_default_context(cafile=f"{pki}/ca.crt")
    with socket.create_connection(("127.0.0.1", port), timeout=15) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(f"GET /version HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            data = b""
            while True:
                chunk = tls.recv(65536)
                if not chunk:
                    return data
                data += chunk


def test_tls_rebound_host_refused(pki, podterm):
    """Over HTTPS (anonymous, local pods) the same check, same answer."""
    srv = podterm(tls_args(pki), name="gw-tls-anon")
    assert tls_get(pki, srv.port, f"127.0.0.1:{srv.port}").startswith(b"HTTP/1.1 200 ")
    data = tls_get(pki, srv.port, f"evil.example:{srv.port}")
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 403 Forbidden\r\n"), data
    assert_json_exact(body, status_json(403, "Forbidden", forbidden_host("evil.example")))


def test_gateway_every_fd_is_close_on_exec(gateway, upstream):
    """With sessions relayed through it, no fd of the gateway (client
    sockets, upstream TLS sockets) nor of its upstream lacks O_CLOEXEC."""
    others = open_sessions(gateway.port, 3)
    try:
        assert cloexec_missing(gateway.proc.pid) == []
        assert cloexec_missing(upstream.proc.pid) == []
    finally:
        for ws in others:
            ws.close()


def test_gateway_half_sent_heads_do_not_lock_out(gateway):
    """2000 half-sent heads from forty loopback addresses: the gateway still
    relays a GET and an exec."""
    raise_fd_limit(HALF_SENT + 512)
    socks = half_sent_heads(gateway.port, [f"127.0.0.{2 + i}" for i in range(40)])
    try:
        resp = http_request(gateway.port, "GET", "/api/v1/namespaces/default/pods", timeout=20)
        assert resp.status == 200, resp
        _, t = ws_exec(gateway.port, exec_path(["echo", "served"]), V5, timeout=20)
        assert t.data(1) == b"served\n", t
    finally:
        for s in socks:
            s.close()


def test_tls_half_sent_heads_bounded_per_peer(pki, podterm):
    """Behind the TLS terminator the per-peer bound on half-sent heads
    counts the client's own address: the 65th pending head from 127.0.0.2
    evicts that address's oldest, while a pending head from 127.0.0.1 stays."""
    per_peer = 64  # LISTENER_PENDING_PER_PEER
    srv = podterm(tls_args(pki), name="gw-tls-per-peer")
    ctx = ssl.create_default_context(cafile=f"{pki}/ca.crt")

    def half_sent(source):
        raw = socket.create_connection(("127.0.0.1", srv.port), timeout=15,
                                       source_address=(source, 0))
        tls = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        tls.sendall(b"GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        return tls

    def closed_within(tls, seconds):
        tls.settimeout(seconds)
        try:
            return tls.recv(1) == b""
        except socket.timeout:
            return False
        except (ssl.SSLError, OSError):
            return True

    bystander = half_sent("127.0.0.1")
    first = half_sent("127.0.0.2")
    rest = [half_sent("127.0.0.2") for _ in range(per_peer - 1)]
    try:
        assert not closed_within(first, 0.5)  # at the bound, nobody evicted
        rest.append(half_sent("127.0.0.2"))
        assert closed_within(first, 5)        # one more: its own oldest goes
        assert not closed_within(bystander, 0.5)
        bystander.sendall(b"\r\n")
        bystander.settimeout(15)
        assert bystander.recv(64).startswith(b"HTTP/1.1 200 ")
    finally:
        for s in [bystander, first, *rest]:
            s.close()
