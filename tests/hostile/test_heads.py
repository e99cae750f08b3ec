"""Hostile request heads: every byte value where a head has bytes, huge and
many headers, bare LF/CR, NULs, pipelined requests, bodies on GET, and seeded
random mutations of valid requests, on every front (conftest.py).

What podterm must do with a head it does not like: answer with a metav1.Status
and end the connection, or end it without an answer; never crash, never
answer 5xx, never keep the connection for a second request (lws would parse
that one itself, past the listener's rewrite and the gateway)."""
import json
import random
import socket
import time

import pytest

from hostile_net import PEER_ERRORS
from podterm_client import (OP_BINARY, SUCCESS_STATUS, V5, assert_json_exact,
                            assert_status_response, build_request, encode_frame, exec_path,
                            read_response_body, read_response_head, upgrade_headers)

HEAD_MAX = 16 * 1024  # SERVER_HEAD_MAX: the listener's pre-read bound
TOO_LARGE_MESSAGE = "request header fields too large (limit 16384 bytes)"
BAD_TARGET_MESSAGE = "the request path has an invalid %-escape or an encoded NUL"
# The random batch: at most this many requests or this many seconds per front.
RANDOM_COUNT = 250
RANDOM_BUDGET_S = 20.0
RANDOM_WAIT_S = 1.0  # for one answer
RANDOM_FLOOR = 25  # fewer heads than this in the budget: the front is stuck
# How long a refused or answered connection may stay open after the answer.
CLOSE_WITHIN_S = 3.0


def version_request(port, extra_lines=b"", target=b"/version", method=b"GET"):
    return (method + b" " + target + b" HTTP/1.1\r\nHost: 127.0.0.1:" + str(port).encode() +
            b"\r\n" + extra_lines + b"\r\n")


def exec_upgrade(port, command=("echo", "hi"), extra=(), protocols=V5):
    return build_request("GET", exec_path(list(command)), upgrade_headers(protocols, extra),
                         host=f"127.0.0.1:{port}")


def answer_then_eof(target, data, timeout=5.0):
    """Sends data on one connection; returns (response or None, bytes that
    followed the first answer before EOF, eof_seen)."""
    c = target.conn(timeout)
    try:
        deadline = time.monotonic() + timeout
        try:
            c.sendall(data)
        except PEER_ERRORS:
            pass
        try:
            resp = read_response_head(c, deadline)
            resp.body = read_response_body(c, resp, deadline)
        except PEER_ERRORS:
            return None, b"", True
        try:
            rest = c.read_to_eof(time.monotonic() + CLOSE_WITHIN_S)
            return resp, rest, True
        except PEER_ERRORS:
            return resp, c.buf, False
    finally:
        c.close()


def assert_status_or_ok(resp, ok_status=200, what=""):
    """A 200 (or ok_status) answer, or a 4xx metav1.Status whose code is the HTTP status."""
    if resp.status == ok_status:
        return
    assert 400 <= resp.status < 500, f"{what}: {resp!r}"
    ctype = (resp.header("Content-Type") or "").split(";")[0].strip()
    assert ctype == "application/json", f"{what}: not a Status: {resp!r}"
    st = json.loads(resp.body)
    assert (st["kind"], st["status"], st["code"]) == ("Status", "Failure", resp.status), \
        f"{what}: {resp!r}"


# ---------------------------------------------------------------- every byte value

POSITIONS = {
    # where the byte goes in "GET /version HTTP/1.1 ... X-Probe: a?b"
    "header-value": lambda port, b: version_request(port, b"X-Probe: a" + b + b"b\r\n"),
    "header-name": lambda port, b: version_request(port, b"X-Pr" + b + b"obe: ab\r\n"),
    "target": lambda port, b: version_request(port, target=b"/version?x=a" + b + b"b"),
}


@pytest.mark.parametrize("where", sorted(POSITIONS))
def test_every_byte_value(target, where):
    """Each of the 256 byte values inside a header value, a header name and
    the request target: one answer at most (200, or a 4xx Status), then the
    connection ends."""
    build = POSITIONS[where]
    kept_open = []
    for value in range(256):
        b = bytes([value])
        resp, rest, eof = answer_then_eof(target, build(target.port, b))
        if resp is not None:
            assert_status_or_ok(resp, what=f"{where} byte {value:#04x}")
        if not eof or rest:
            kept_open.append((value, rest[:80]))
    assert kept_open == [], f"{where}: connection kept after the answer for bytes {kept_open}"


def test_unknown_methods_get_a_status(local):
    """Methods podterm does not serve get a Status (405 on the API), like the
    apiserver, not lws's own HTML page."""
    for method in (b"FOO", b"PATCH", b"DELETE", b"OPTIONS", b"TRACE", b"CONNECT", b"PRI"):
        resp, rest, eof = answer_then_eof(local, version_request(local.port, method=method))
        assert resp is not None, method
        assert_status_or_ok(resp, what=method.decode())
        assert resp.status != 200, (method, resp)


# ---------------------------------------------------------------- size bounds

def test_head_bounds(target):
    """A head over SERVER_HEAD_MAX, whether one huge header or thousands of
    small ones, gets 431 RequestHeaderFieldsTooLarge; one that fits is served.
    Exactly SERVER_HEAD_MAX bytes are sent: the server reads them all, so its
    close is a FIN (bytes it never read would turn it into an RST, which may
    discard the 431 before the client reads it)."""
    port = target.port
    for extra in (b"X-Big: " + b"a" * HEAD_MAX + b"\r\n",
                  b"".join(b"X-H%d: v\r\n" % i for i in range(3000)),
                  b"X-Big: " + b"a" * (HEAD_MAX - 100) + b"\r\n" + b"X-More: " + b"b" * 200 + b"\r\n"):
        head = version_request(port, extra)[:HEAD_MAX]
        resp, rest, eof = answer_then_eof(target, head)
        assert resp is not None, len(extra)
        assert_status_response(resp, 431, "RequestHeaderFieldsTooLarge", TOO_LARGE_MESSAGE)
        assert eof, "connection kept after 431"
    resp, _, eof = answer_then_eof(target, version_request(port, b"X-Big: " + b"a" * 8000 + b"\r\n"))
    assert resp is not None and resp.status == 200 and eof, resp
    # many headers that still fit: served, once
    many = b"".join(b"X-%d: %d\r\n" % (i, i) for i in range(900))
    resp, rest, eof = answer_then_eof(target, version_request(port, many))
    assert resp is not None and eof and rest == b"", resp
    assert_status_or_ok(resp, what="900 headers")


def test_percent_escapes_in_target(target):
    for t in (b"/version%00", b"/version%zz", b"/version%", b"/api/v1/namespaces/%0/pods"):
        resp, _, eof = answer_then_eof(target, version_request(target.port, target=t))
        assert resp is not None, t
        assert_status_response(resp, 400, "BadRequest", BAD_TARGET_MESSAGE)
        assert eof


# ---------------------------------------------------------------- line endings and NULs

@pytest.mark.parametrize("head", [
    b"GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\rb\r\n\r\n",
    b"GET /version HTTP/1.1\r\nHost: 127.0.0.1\nX-A: b\r\n\r\n",
    b"GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\r\n b\r\n\r\n",
    b"GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\x00b\r\n\r\n",
    b"GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\n\x00: b\r\n\r\n",
    b"GET /vers\x00ion HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET /version\x00 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"\r\n\r\nGET /version HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET  /version  HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET /version HTTP/1.1\r\n\r\n",
], ids=["bare-cr-in-value", "bare-lf-line", "obs-fold", "nul-in-value", "nul-name",
        "nul-in-target", "nul-before-version", "leading-crlf", "double-spaces", "no-host"])
def test_odd_line_endings_and_nuls(target, head):
    resp, rest, eof = answer_then_eof(target, head)
    if resp is not None:
        assert_status_or_ok(resp, what=repr(head))
    assert eof and rest == b"", f"connection kept after the answer: {rest!r}"


def test_bare_lf_lines_before_the_blank_line_are_harmless(target):
    """Finding 1's shape at a size that stays inside the rewrite's slack:
    a few bare-LF lines are answered, once."""
    head = b"GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"\n" * 5 + b"\r\n\r\n"
    resp, rest, eof = answer_then_eof(target, head)
    if resp is not None:
        assert_status_or_ok(resp, what="5 bare LF")
    assert eof and rest == b"", rest


@pytest.mark.parametrize("mode", ["local", "gateway"])
@pytest.mark.parametrize("shape", ["bare-lf", "upgrade-lines"])
def test_rewrite_growth_is_bounded(fresh, mode, shape):
    """Finding 1: lines the rewriter grows (bare LF lines, Upgrade lines in
    the SPDY branch) within a 16 KiB head get a 431 Status (or a normal
    answer), never a write past the buffer."""
    t = fresh.start(mode)
    try:
        if shape == "bare-lf":
            head = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"\n" * 16300 + b"\r\n\r\n"
        else:
            path = exec_path(["true"]).encode()
            head = (b"POST " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"Upgrade: a\r\n" * 1300 +
                    b"\r\n")
        resp, rest, eof = answer_then_eof(t, head)
        assert resp is not None, "no answer"
        assert resp.status in (400, 431), resp
        assert_status_or_ok(resp)
        t.assert_healthy()
    finally:
        problems = fresh.finish()
    assert problems == [], problems


# ---------------------------------------------------------------- pipelining and bodies

def test_pipelined_requests_get_one_answer(target):
    port = target.port
    second_kinds = [version_request(port, target=b"/api"),
                    exec_upgrade(port),
                    build_request("POST", exec_path(["true"]),
                                  [("Upgrade", "SPDY/3.1"), ("Connection", "Upgrade"),
                                   ("Content-Length", "0")], host="127.0.0.1"),
                    b"GARBAGE\r\n\r\n"]
    for second in second_kinds:
        resp, rest, eof = answer_then_eof(target, version_request(port) + second)
        assert resp is not None and resp.status == 200, resp
        assert json.loads(resp.body)["gitVersion"].endswith("-podterm"), resp
        assert eof and rest == b"", f"second request answered: {rest[:200]!r}"


@pytest.mark.parametrize("first_extra", [b"X-A: a\x01b\r\n", b"X-A: a\rb\r\n", b"X-A: a\x7fb\r\n"],
                         ids=["soh", "bare-cr", "del"])
def test_pipelined_after_odd_header(fresh, first_extra):
    """A control byte in the first request's header must not let a second
    request on the same connection reach lws unrewritten (that second
    request, a SPDY POST, made lws hand podterm freed memory)."""
    t = fresh.start("local")
    try:
        port = t.port
        spdy = build_request("POST", exec_path(["true"]),
                             [("Upgrade", "SPDY/3.1"), ("Connection", "Upgrade"),
                              ("Content-Length", "0")], host="127.0.0.1")
        for second in (spdy, exec_upgrade(port)):
            c = t.conn(5)
            try:
                c.sendall(version_request(port, first_extra))
                deadline = time.monotonic() + 5
                resp = read_response_head(c, deadline)
                resp.body = read_response_body(c, resp, deadline)
                assert_status_or_ok(resp)
                try:
                    c.sendall(second)
                except PEER_ERRORS:
                    pass
                try:
                    rest = c.read_to_eof(time.monotonic() + CLOSE_WITHIN_S)
                except PEER_ERRORS:
                    rest = b"(still open) " + c.buf
                # nothing, or lws's own refusal of the upgrade: never served
                assert rest == b"" or rest.startswith(b"HTTP/1.1 403 "), \
                    f"second request answered: {rest[:200]!r}"
            finally:
                c.close()
        t.assert_healthy()
    finally:
        problems = fresh.finish()
    assert problems == [], problems


def test_upgrade_with_frames_in_the_same_segment(target):
    """Head and the first WebSocket frames in one write: the frames are the
    exec's stdin (lws gets the bytes read past the head)."""
    frames = encode_frame(OP_BINARY, b"\x00abc\n") + encode_frame(OP_BINARY, b"\xff\x00")
    c = target.conn()
    try:
        c.sendall(exec_upgrade(target.port, ("cat",), ()).replace(b"stdout=true",
                                                                  b"stdin=true&stdout=true") +
                  frames)
        deadline = time.monotonic() + 15
        resp = read_response_head(c, deadline)
        assert resp.status == 101, resp
        from podterm_client import WebSocket
        tr = WebSocket(c, resp).collect(15)
    finally:
        c.close()
    assert tr.data(1) == b"abc\n", tr
    assert_json_exact(tr.status(), SUCCESS_STATUS)


@pytest.mark.parametrize("body", ["content-length", "chunked"])
def test_body_on_get(target, body):
    port = target.port
    if body == "content-length":
        extra, payload = b"Content-Length: 5\r\n", b"hello"
    else:
        extra, payload = b"Transfer-Encoding: chunked\r\n", b"5\r\nhello\r\n0\r\n\r\n"
    resp, rest, eof = answer_then_eof(target, version_request(port, extra) + payload)
    assert resp is not None and resp.status == 200, resp
    assert eof and rest == b"", rest
    # an upgrade with a body: refused or upgraded, never both, never a crash
    up = exec_upgrade(port, ("true",), [("Content-Length", "5")]) + b"hello"
    resp, rest, eof = answer_then_eof(target, up)
    if resp is not None:
        assert resp.status == 101 or 400 <= resp.status < 500, resp


# ---------------------------------------------------------------- seeded random

def corpus(port):
    host = f"127.0.0.1:{port}"
    return [
        version_request(port),
        build_request("GET", "/api/v1/namespaces/default/pods", host=host),
        build_request("GET", "/api/v1/namespaces/default/pods/local", host=host),
        exec_upgrade(port, ("echo", "hi")),
        exec_upgrade(port, ("true",), [("Sec-WebSocket-Protocol", "v4.channel.k8s.io, "
                                        "base64url.bearer.authorization.k8s.io.YWJj")]),
        build_request("POST", exec_path(["true"]), [("Upgrade", "SPDY/3.1"),
                                                    ("Connection", "Upgrade"),
                                                    ("Content-Length", "0")], host=host),
        build_request("GET", exec_path([], verb="attach"), upgrade_headers(V5), host=host),
        build_request("GET", "/", host=host),
    ]


SPECIAL = [b"\x00", b"\r", b"\n", b"\r\n", b"\n\n", b"\r\n\r\n", b":", b" ", b"\t", b"%",
           b"%00", b";", b"&", b"?", b"\xff", b"\x7f", b"Upgrade: websocket\r\n",
           b"Connection: upgrade\r\n", b"Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n",
           b"Upgrade: SPDY/3.1\r\n", b"Content-Length: 10\r\n"]


def mutate(rng, data):
    """A few random edits of a valid head (the blank line may be destroyed)."""
    b = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(7)
        i = rng.randrange(len(b) + 1)
        if op == 0 and b:
            b[min(i, len(b) - 1)] = rng.randrange(256)
        elif op == 1:
            b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 2 and b:
            del b[i:i + rng.randint(1, 16)]
        elif op == 3:
            b[i:i] = rng.choice(SPECIAL)
        elif op == 4:
            lines = bytes(b).split(b"\r\n")
            if len(lines) > 2:
                k = rng.randrange(1, len(lines) - 1)
                lines.insert(k, lines[k] * rng.randint(1, 4))
                b = bytearray(b"\r\n".join(lines))
        elif op == 5:
            b[i:i] = rng.choice(SPECIAL) * rng.randint(2, 400)
        else:
            b += rng.choice([b"", b"GET /version HTTP/1.1\r\n\r\n", bytes(rng.randrange(256)
                                                                          for _ in range(32))])
    return bytes(b)


@pytest.mark.parametrize("mode", ["local", "tls", "gateway"])
def test_seeded_random_heads(fresh, mode, seed):
    """Mutations of valid requests, a bounded number within a time budget, on
    servers of the test's own (on main they crash)."""
    target = fresh.start(mode)
    try:
        random_heads(target, seed)
        target.assert_healthy()
    finally:
        problems = fresh.finish()
    assert problems == [], problems


def one_random_request(target, data, half_close):
    """The answer to data (None when there is none within a second)."""
    c = target.conn(RANDOM_WAIT_S)
    try:
        deadline = time.monotonic() + RANDOM_WAIT_S
        try:
            c.sendall(data)
            if half_close:
                c.sock.shutdown(socket.SHUT_WR)
        except PEER_ERRORS:
            pass
        try:
            resp = read_response_head(c, deadline)
            resp.body = read_response_body(c, resp, deadline)
            return resp
        except PEER_ERRORS:
            return None
    finally:
        c.close()


def random_heads(target, seed):
    rng = random.Random(seed + ("local", "tls", "gateway").index(target.mode))
    base = corpus(target.port)
    t0 = time.monotonic()
    done, answered, server_errors = 0, 0, []
    while done < RANDOM_COUNT and time.monotonic() - t0 < RANDOM_BUDGET_S:
        data = mutate(rng, rng.choice(base))
        # A mutation often destroys the blank line, and the server then waits
        # for the rest of the head: half of the peers say they are done (FIN).
        half_close = rng.random() < 0.5
        resp = one_random_request(target, data, half_close)
        done += 1
        if resp is not None:
            answered += 1
            if resp.status >= 500 or not (100 <= resp.status < 500):
                server_errors.append((data, half_close, resp.status, resp.body[:200]))
        if done % 50 == 0:
            for p in target.procs:
                assert p.alive(), p.describe([f"died after mutated head #{done} "
                                              f"(seed {seed:#x}): {data[:300]!r}"])
    print(f"{target.mode}: {done} mutated heads in {time.monotonic() - t0:.1f} s, "
          f"{answered} answered (seed {seed:#x})")
    assert done >= RANDOM_FLOOR, f"only {done} heads in {RANDOM_BUDGET_S} s"
    assert server_errors == [], f"5xx or odd statuses (seed {seed:#x}): {server_errors[:3]!r}"


# ---------------------------------------------------------------- upgrades nobody serves

NOT_FOUND = "the server could not find the requested resource"


def test_upgrade_to_a_path_that_is_not_the_apis_gets_404(target):
    """A WebSocket upgrade for a path that is no exec/attach: 404 NotFound in
    every mode (the gateway answered 502 InternalError, blaming an upstream it
    never asked), also when the request line has lost its HTTP version."""
    port = target.port
    for path in ("/", "/foo", "/index.html", "/ap"):
        r = build_request("GET", path, upgrade_headers(V5), host=f"127.0.0.1:{port}")
        resp, err = target.request(r)
        assert resp is not None, (path, err)
        assert_status_response(resp, 404, "NotFound", NOT_FOUND)
    broken = (b"GET /ap\r\ni/v1/namespaces/default/pods/local/attach?stdout=true HTTP/1.1\r\n" +
              build_request("GET", "/", upgrade_headers(V5),
                            host=f"127.0.0.1:{port}").split(b"\r\n", 1)[1])
    resp, err = target.request(broken)
    if resp is not None:
        assert 400 <= resp.status < 500, resp
        assert_status_or_ok(resp)
    # a head the gateway's parser and lws read differently (bare CR inside a
    # line): never a 502 that blames the upstream
    ambiguous = build_request("GET", exec_path(["true"]), upgrade_headers(V5),
                              host=f"127.0.0.1:{port}").replace(
        b"Sec-WebSocket-Version: 13\r\n", b"Sec-WebSocket-Version: 13\r\xcbX-Y: z\r\n")
    resp, err = target.request(ambiguous)
    if resp is not None:
        assert resp.status == 101 or 400 <= resp.status < 500, resp
        if resp.status != 101:
            assert_status_or_ok(resp)
    # an exec path with no supported subprotocol stays a 403 (the gateway hands it back)
    r = build_request("GET", exec_path(["true"]), upgrade_headers("foo.example"),
                      host=f"127.0.0.1:{port}")
    resp, err = target.request(r)
    assert resp is not None, err
    assert_status_response(resp, 403, "Forbidden",
                           "none of the offered WebSocket subprotocols is supported")
