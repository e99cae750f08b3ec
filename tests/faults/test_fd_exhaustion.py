"""Descriptor exhaustion: podterm's RLIMIT_NOFILE is lowered (prlimit on the running
server, after a warm-up) to a few descriptors above what it holds, and idle client
connections take those. New connections must then be refused at once (not left
hanging), an exec that cannot get its pipes must end with a Status, and once the
connections go the server must serve again with its descriptors back at the
baseline; SIGTERM then ends it with 0 and no sanitizer report."""
import json
import os
import resource
import socket
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "interop"))

from podterm_client import V5, exec_path, http_request, ws_open  # noqa: E402
from podterm_server import Podterm  # noqa: E402

HEADROOM = 4  # descriptors above the warmed-up baseline
HOLD_MAX = 32  # more than HEADROOM connections ever get accepted
SETTLE_S = 0.15


def alive(sock):
    """True while the server keeps the connection open (nothing to read yet)."""
    sock.setblocking(False)  # a socket timeout would make recv wait
    try:
        sock.recv(1, socket.MSG_PEEK)
        return False
    except BlockingIOError:
        return True
    except OSError:
        return False


def wait_dropped(sock, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(sock):
            return True
        time.sleep(0.02)
    return False


def settled_fd_count(srv, timeout=10.0):
    """The server's descriptor count once it stayed the same for half a second
    (connections of the warm-up are closed asynchronously)."""
    deadline = time.monotonic() + timeout
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        n = srv.fd_count()
        if n != last:
            last, since = n, time.monotonic()
        elif time.monotonic() - since >= 0.5 and not srv.children():
            return n
        time.sleep(0.05)
    raise AssertionError(f"descriptor count never settled: {srv.fds()}")


def exec_transcript(port, command, tty=False):
    resp, ws = ws_open(port, exec_path(command, stdin=tty, tty=tty), V5, timeout=10)
    assert ws is not None, resp
    try:
        return ws.collect(10)
    finally:
        ws.close()


@pytest.fixture
def starved():
    """A warmed-up server whose descriptor limit is HEADROOM above what it holds,
    and the idle connections (accepted, open) that use that headroom up."""
    srv = Podterm(name="test_fd_exhaustion")
    held = []
    try:
        for tty in (False, True):  # whatever is opened lazily, opened now
            exec_transcript(srv.port, ["true"], tty)
        srv.baseline = settled_fd_count(srv)
        limit = srv.baseline + HEADROOM
        resource.prlimit(srv.pid, resource.RLIMIT_NOFILE, (limit, limit))
        refused = None
        for _ in range(HOLD_MAX):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
            if wait_dropped(s, SETTLE_S):
                refused = s
                break
            held.append(s)
        assert refused is not None and len(held) >= HEADROOM - 1, (len(held), limit, srv.fds())
        time.sleep(SETTLE_S)  # a slow refusal is not a held connection
        for s in [s for s in held if not alive(s)]:
            held.remove(s)
            s.close()
        assert limit - srv.fd_count() <= 1, (limit, srv.fds())
        refused.close()
        srv.held = held
        srv.limit = limit
        yield srv
    finally:
        for s in held:
            s.close()
        problems = srv.stop()
        if problems:
            pytest.fail(srv.describe(problems), pytrace=False)


def free_descriptors(srv, n, timeout=10.0):
    """Closes held connections, one at a time and waiting for the server to close
    its side, until exactly n descriptors are free in the server."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        free = srv.limit - srv.fd_count()
        if free >= n or not srv.held:
            break
        before = srv.fd_count()
        srv.held.pop().close()
        while srv.fd_count() >= before and time.monotonic() < deadline:
            time.sleep(0.02)
    assert srv.limit - srv.fd_count() == n, (srv.limit, srv.fds())


def assert_recovers(srv):
    for s in srv.held:
        s.close()
    srv.held.clear()
    fds, kids = srv.wait_for_baseline(srv.baseline, 10)
    assert fds <= srv.baseline and not kids, f"fds {fds} > {srv.baseline} or children {kids}"
    resp = http_request(srv.port, "GET", "/api/v1/namespaces/default/pods", timeout=10)
    assert resp.status == 200, resp
    t = exec_transcript(srv.port, ["echo", "recovered"])
    assert t.data(1) == b"recovered\n", t
    assert t.status() == b'{"metadata":{},"status":"Success"}', t


def test_accept_refused_promptly_then_recovers(starved):
    """With no descriptor left, each new connection is closed at once (libuv's
    accept-and-close), and the connections held before are untouched."""
    for _ in range(3):
        s = socket.create_connection(("127.0.0.1", starved.port), timeout=5)
        assert wait_dropped(s, 3.0), "a connection over the limit was left hanging"
        s.close()
    assert all(alive(s) for s in starved.held)
    assert_recovers(starved)


@pytest.mark.parametrize("tty", [False, True], ids=["pipes", "pty"])
def test_spawn_without_descriptors_is_a_status(starved, tty):
    """Two descriptors free: the connection and lws's copy of it take them, so the
    exec's pipes (or PTY) cannot be made: a 500 InternalError Status, Close 1000."""
    free_descriptors(starved, 2)
    t = exec_transcript(starved.port, ["echo", "never"], tty)
    st = json.loads(t.status())
    assert (st["status"], st.get("reason"), st.get("code")) == ("Failure", "InternalError", 500), t
    assert "too many open files" in st["message"], st
    assert t.data(1) == b"" and t.close_code == 1000 and t.eof, t
    assert_recovers(starved)


def test_one_descriptor_free_is_answered(starved):
    """One descriptor free: the connection is accepted, but handing it to lws needs
    a second one. The client should get a 503 Status, not a silent close."""
    free_descriptors(starved, 1)
    try:
        resp = http_request(starved.port, "GET", "/api/v1/namespaces", timeout=10)
    except (EOFError, ConnectionResetError) as e:
        pytest.fail(f"closed without an answer: {e}")
    finally:
        assert_recovers(starved)
    assert resp.status == 503, resp
    assert json.loads(resp.body)["reason"] == "ServiceUnavailable", resp
