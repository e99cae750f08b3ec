"""Hostile peers on every front: slow writers, slow readers, abrupt resets
(SO_LINGER 0) at every stage of a connection, and heads that never end.
The check after each test (conftest.py `target`) is what matters: the front
is alive, serves an exact exec, and is back to its fds, children and RSS."""
import hashlib
import socket
import threading
import time

import pytest

from hostile_net import PEER_ERRORS, set_rst_on_close
from podterm_client import (OP_BINARY, OP_CLOSE, SUCCESS_STATUS, V5, assert_json_exact,
                            build_request, encode_frame, exec_path, read_response_head,
                            upgrade_headers)

HEAD_TIMEOUT_S = 10  # SERVER_HEAD_TIMEOUT_MS: a client must send its head in this
RESET_ROUNDS = 3  # each stage is reset this many times per front


def exec_head(target, command, stdin=True, tty=False):
    return build_request("GET", exec_path(list(command), stdin=stdin, tty=tty),
                         upgrade_headers(V5), host=f"127.0.0.1:{target.port}")


# ---------------------------------------------------------------- slow writers

def test_slow_writer_head_and_frames(target):
    """Head and frames one byte at a time (about 0.6 s in all): served exactly."""
    c = target.conn()
    try:
        data = exec_head(target, ["cat"])
        for i in range(len(data)):
            c.sendall(data[i:i + 1])
            if i % 4 == 0:
                time.sleep(0.002)
        resp = read_response_head(c, time.monotonic() + 15)
        assert resp.status == 101, resp
        frames = encode_frame(OP_BINARY, b"\x00slow\n") + encode_frame(OP_BINARY, b"\xff\x00")
        for i in range(len(frames)):
            c.sendall(frames[i:i + 1])
            time.sleep(0.002)
        from podterm_client import WebSocket
        t = WebSocket(c, resp).collect(15)
    finally:
        c.close()
    assert t.data(1) == b"slow\n", t
    assert_json_exact(t.status(), SUCCESS_STATUS)


@pytest.mark.parametrize("target", ["local"], indirect=True)  # one listener serves every mode
def test_heads_that_never_end_are_dropped(target):
    """Heads still incomplete after the head timeout are dropped unanswered
    (or refused with a Status): half a request line, bytes without a blank
    line, LF-only lines, a trickle that outlasts the timeout."""
    starts = [b"", b"GET /api/v1/namespaces/default/pods/local/exec?comm",
              b"GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\n",
              b"GET /version HTTP/1.1\nHost: 127.0.0.1\n\n",
              b"GET /version HTTP/1.1\r\nX-A: " + b"a" * 8000]
    socks = []
    try:
        for data in starts:
            s = target.raw_socket()
            if data:
                s.sendall(data)
            socks.append(s)
        trickle = target.raw_socket()
        t0 = time.monotonic()
        ended, answers = set(), {}
        trickled = 0
        while time.monotonic() - t0 < HEAD_TIMEOUT_S + 8 and len(ended) < len(socks) + 1:
            try:
                if 1 not in ended:
                    trickle.sendall(b"X-T: 1\r\n"[trickled % 8:trickled % 8 + 1])
                    trickled += 1
            except PEER_ERRORS:
                ended.add(1)
            for i, s in enumerate(socks):
                if i + 2 in ended:
                    continue
                s.settimeout(0.05)
                try:
                    got = s.recv(4096)
                    if got:
                        answers[i] = answers.get(i, b"") + got
                    else:
                        ended.add(i + 2)
                except socket.timeout:
                    pass
                except PEER_ERRORS:
                    ended.add(i + 2)
            time.sleep(0.1)
        elapsed = time.monotonic() - t0
    finally:
        for s in socks + [trickle]:
            s.close()
    assert ended == set(range(1, len(socks) + 2)), \
        f"still open after {elapsed:.1f} s: {sorted(set(range(1, len(socks) + 2)) - ended)}"
    for i, a in answers.items():
        assert a.startswith(b"HTTP/1.1 4") and b'"kind":"Status"' in a, (starts[i][:40], a[:200])


def test_one_peer_holding_2000_half_sent_heads_locks_nobody_out(fresh):
    """Finding 6: while one peer address holds 2 000 half-sent heads, another
    client's GET /version and an exec still succeed."""
    t = fresh.start("local")
    socks = []
    try:
        for _ in range(2000):
            s = socket.socket()
            s.settimeout(5)
            s.connect(("127.0.0.1", t.port))
            s.sendall(b"G")
            socks.append(s)
        resp, err = t.request(b"GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", timeout=5)
        assert resp is not None and resp.status == 200, (resp, err)
        t.assert_exec_works()
    finally:
        for s in socks:
            s.close()
        try:
            t.assert_healthy()
        finally:
            problems = fresh.finish()
    assert problems == [], problems


# ---------------------------------------------------------------- slow readers

def test_slow_reader_gets_every_byte(target):
    """A reader that takes 16 KiB at a time with pauses still gets the exact
    output (1.1 MB of seq), then the status."""
    ws = target.ws_or_fail(exec_path(["seq", "1", "160000"]))
    try:
        ws.conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        got = bytearray()
        status = b""
        deadline = time.monotonic() + 60
        while True:
            op, payload = ws.recv_message(deadline)
            if op == OP_CLOSE:
                break
            if payload[:1] == b"\x01":
                got += payload[1:]
            elif payload[:1] == b"\x03":
                status += payload[1:]
            if len(got) // 16384 % 8 == 0:
                time.sleep(0.005)
    finally:
        ws.close()
    want = "".join(f"{i}\n" for i in range(1, 160001)).encode()
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(want).hexdigest(), len(got)
    assert_json_exact(status, SUCCESS_STATUS)


def test_reader_that_stops_reading_then_resets(target):
    """An exec flooding output to a peer that reads a little and stops, then
    resets: the process goes, memory stays bounded (checked after)."""
    ws = target.ws_or_fail(exec_path(["cat", "/dev/zero"]))
    ws.conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    ws.recv_message(time.monotonic() + 15)
    time.sleep(1.5)
    set_rst_on_close(ws.conn.sock)
    ws.close()


# ---------------------------------------------------------------- resets at every stage

def stage_connect(target):
    return target.raw_socket()


def stage_tls_hello_half(target):
    s = target.raw_socket()
    # the first bytes of a TLS ClientHello record, or junk for a plain front
    s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 20)
    return s


def stage_partial_head(target):
    c = target.conn()
    c.sendall(exec_head(target, ["true"])[:40])
    return c.sock


def stage_full_head_before_answer(target):
    c = target.conn()
    c.sendall(exec_head(target, ["sleep", "30"]))
    return c.sock


def stage_plain_request_before_answer(target):
    c = target.conn()
    c.sendall(b"GET /api/v1/namespaces/default/pods HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    return c.sock


def stage_after_101(target):
    ws = target.ws_or_fail(exec_path(["sleep", "30"], stdin=True))
    return ws.conn.sock


def stage_after_101_tty(target):
    ws = target.ws_or_fail(exec_path(["sh"], stdin=True, tty=True))
    ws.send_binary(b"\x04" + b'{"Width":80,"Height":24}')
    ws.send_binary(b"\x00sleep 30\n")
    return ws.conn.sock


def stage_mid_frame(target):
    ws = target.ws_or_fail(exec_path(["cat"], stdin=True))
    # header announces 1000 bytes, 10 arrive
    ws.conn.sendall(bytes([0x80 | OP_BINARY, 0x80 | 126]) + (1000).to_bytes(2, "big") +
                    b"\x01\x02\x03\x04" + b"\x01" * 10)
    return ws.conn.sock


def stage_mid_fragmented_message(target):
    ws = target.ws_or_fail(exec_path(["cat"], stdin=True))
    ws.send_frame(OP_BINARY, b"\x00part", fin=False)
    return ws.conn.sock


def stage_output_flowing(target):
    ws = target.ws_or_fail(exec_path(["cat", "/dev/zero"]))
    ws.recv_message(time.monotonic() + 15)
    return ws.conn.sock


def stage_after_close_frame(target):
    ws = target.ws_or_fail(exec_path(["sleep", "30"], stdin=True))
    ws.send_close(1000)
    return ws.conn.sock


def stage_after_exec_ended(target):
    ws = target.ws_or_fail(exec_path(["true"]))
    deadline = time.monotonic() + 15
    while True:  # the status arrives; reset before answering the server's Close
        op, payload = ws.recv_message(deadline)
        if op == OP_CLOSE:
            break
    return ws.conn.sock


STAGES = [stage_connect, stage_tls_hello_half, stage_partial_head, stage_plain_request_before_answer,
          stage_full_head_before_answer, stage_after_101, stage_after_101_tty, stage_mid_frame,
          stage_mid_fragmented_message, stage_output_flowing, stage_after_close_frame,
          stage_after_exec_ended]


@pytest.mark.parametrize("stage", STAGES, ids=[s.__name__[6:] for s in STAGES])
def test_reset_at_every_stage(target, stage):
    """RESET_ROUNDS connections reset (RST, no FIN) at this stage, the last
    few concurrently with a normal exec."""
    socks = []
    for _ in range(RESET_ROUNDS):
        try:
            socks.append(stage(target))
        except PEER_ERRORS:
            pass  # the front hung up first (e.g. TLS junk on a plain front): fine
    done = threading.Event()

    def reset_all():
        for s in socks:
            try:
                set_rst_on_close(s)
            except OSError:
                pass
            s.close()
        done.set()

    th = threading.Thread(target=reset_all)
    th.start()
    target.assert_exec_works()
    th.join(15)
    assert done.is_set()
