"""Hardening of the front door and the local backend (issue 18), over real
sockets against the ASan build: each test here is the attack of one finding,
and asserts the exact answer podterm must give instead of crashing, leaking
or locking users out."""
import time

from podterm_client import (Conn, assert_status_response, read_response_body,
                            read_response_head)

TOO_LARGE = "request header fields too large (limit 16384 bytes)"
EXEC_PATH = "/api/v1/namespaces/default/pods/local/exec?command=sh"


def raw_request(port, data, timeout=15.0):
    """Send data as is on a fresh connection; the response with its body."""
    conn = Conn(port, timeout)
    try:
        deadline = time.monotonic() + timeout
        conn.sendall(data)
        resp = read_response_head(conn, deadline)
        resp.body = read_response_body(conn, resp, deadline)
        return resp
    finally:
        conn.close()


def bare_lf_head(host):
    """Finding 1's crashing request: every bare LF line used to add a line
    to the rewritten head, with no bound on the output buffer."""
    return (f"GET / HTTP/1.1\r\nHost: {host}\r\n".encode() + b"\n" * 16300 + b"\r\n\r\n")


def spdy_growth_head(host, path=EXEC_PATH):
    """Each Upgrade line grows by 10 bytes when it is renamed to the SPDY marker."""
    head = f"POST {path} HTTP/1.1\r\nHost: {host}\r\n".encode()
    line = b"Upgrade: SPDY/3.1\r\n"
    while len(head) + len(line) + 2 < 16300:
        head += line
    return head + b"\r\n"


def assert_too_large(port, data):
    resp = raw_request(port, data)
    assert_status_response(resp, 431, "RequestHeaderFieldsTooLarge", TOO_LARGE)


def test_head_rewrite_bare_lf_lines_431(server):
    assert_too_large(server.port, bare_lf_head(f"127.0.0.1:{server.port}"))


def test_head_rewrite_spdy_upgrade_growth_431(server):
    assert_too_large(server.port, spdy_growth_head(f"127.0.0.1:{server.port}"))
