"""Keepalive: pings are answered with the same payload while an exec runs
(PROTOCOL.md 3.9; checklist 19, first half; the kubectl half is in
test_kubectl.py)."""
import socket
import time

import pytest
import websocket

from podterm_client import (OP_CLOSE, OP_PONG, SUCCESS_STATUS, V4, V5,
                            assert_json_exact, exec_path, ws_open)


def next_pong(ws, timeout=5.0):
    """Reads frames until a pong; data frames on the way are returned too."""
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        f = ws.recv_frame(deadline)
        assert f.opcode != OP_CLOSE, f"server closed instead of answering: {f!r}"
        if f.opcode == OP_PONG:
            return f.payload, seen
        seen.append(f)


@pytest.mark.parametrize("payload", [b"", b"P", b"podterm-ping-\x00\xff", bytes(range(125))])
def test_ping_gets_pong_with_same_payload(server, payload):
    resp, ws = ws_open(server.port, exec_path(["cat"], stdin=True), V5)
    ws.ping(payload)
    pong, _ = next_pong(ws)
    assert pong == payload
    ws.send_binary(b"\x00after ping\n")
    ws.send_binary(b"\xff\x00")
    t = ws.collect(5)
    ws.close()
    assert t.data(1) == b"after ping\n", t
    assert_json_exact(t.status(), SUCCESS_STATUS)


def test_many_pings_while_output_flows(server):
    script = "i=0; while [ $i -lt 50 ]; do echo line$i; sleep 0.02; i=$((i+1)); done"
    resp, ws = ws_open(server.port, exec_path(["sh", "-c", script]), V5)
    for i in range(20):
        ws.ping(b"p%d" % i)
        pong, _ = next_pong(ws)
        assert pong == b"p%d" % i
    t = ws.collect(10)
    ws.close()
    assert_json_exact(t.status(), SUCCESS_STATUS)


def test_unsolicited_pong_is_ignored(server):
    resp, ws = ws_open(server.port, exec_path(["cat"], stdin=True), V5)
    ws.send_frame(OP_PONG, b"unasked")
    ws.send_binary(b"\x00x\n")
    ws.send_binary(b"\xff\x00")
    t = ws.collect(5)
    ws.close()
    assert t.data(1) == b"x\n", t


def test_websocket_client_ping(server):
    """The same through python3-websocket, as the python client would see it."""
    url = f"ws://127.0.0.1:{server.port}" + exec_path(["cat"], stdin=True)
    ws = websocket.create_connection(url, subprotocols=[V4], timeout=10)
    try:
        assert ws.subprotocol == V4
        ws.ping("keepalive-42")
        frames = []
        while True:
            op, frame = ws.recv_data_frame(control_frame=True)
            frames.append((op, frame.data))
            if op == websocket.ABNF.OPCODE_PONG:
                break
        assert frames[-1] == (websocket.ABNF.OPCODE_PONG, b"keepalive-42"), frames
        assert frames[0] == (websocket.ABNF.OPCODE_BINARY, b"\x01"), frames
    finally:
        ws.close()


# ---------------------------------------------------------------- podterm's own pings
# (issue 11, Keepalive: --ping-interval; seconds here where production uses 20 s)

from keepalive_tools import IdleCutProxy, frames_for
from podterm_client import OP_BINARY, OP_PING
from podterm_server import Podterm


def test_server_pings_every_interval():
    srv = Podterm(["--ping-interval", "1s"], name="keepalive-pings")
    try:
        resp, ws = ws_open(srv.port, exec_path(["cat"], stdin=True), V5)
        with ws:
            frames, eof = frames_for(ws, 3.6)
            assert not eof
            pings = [f.payload for f in frames if f.opcode == OP_PING]
            # t=1, 2, 3 (the sweep's 100 ms granularity aside)
            assert pings == [b"podterm"] * 3, frames
            ws.send_binary(b"\x00still here\n")
            ws.send_binary(b"\xff\x00")
            t = ws.collect(5)
        assert t.data(1) == b"still here\n", t
        assert_json_exact(t.status(), SUCCESS_STATUS)
    finally:
        assert srv.stop() == []


def test_client_that_never_answers_is_closed():
    """Nothing back for a whole interval after a ping: the connection is
    dropped (nobody is there to read a Close), the process is ended as for
    any vanished client, and the log says why."""
    srv = Podterm(["--ping-interval", "1s"], name="keepalive-deaf")
    try:
        resp, ws = ws_open(srv.port, exec_path(["sleep", "60"], stdin=True), V5)
        with ws:
            t0 = time.monotonic()
            frames, eof = frames_for(ws, 6, answer=False)
            took = time.monotonic() - t0
        assert eof, frames
        assert 1.5 < took < 3.5, took  # ping at 1 s, verdict at 2 s (+ the sweep)
        assert [f.opcode for f in frames] == [OP_BINARY, OP_PING], frames
        deadline = time.monotonic() + 5
        while srv.children() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert srv.children() == []
        assert "endReason=client-unresponsive" in srv.output(), srv.output()
    finally:
        assert srv.stop() == []


def test_client_sending_data_but_no_pong_is_alive():
    """Anything the client sends counts as an answer (like kubectl, whose own
    pings reach podterm every 5 s): only a silent client is dropped."""
    srv = Podterm(["--ping-interval", "1s"], name="keepalive-talker")
    try:
        resp, ws = ws_open(srv.port, exec_path(["cat"], stdin=True), V5)
        with ws:
            out = b""
            for i in range(8):
                ws.send_binary(b"\x00%d\n" % i)
                frames, eof = frames_for(ws, 0.5, answer=False)
                assert not eof, i
                out += b"".join(f.payload[1:] for f in frames
                                if f.opcode == OP_BINARY and f.payload[:1] == b"\x01")
            ws.send_binary(b"\xff\x00")
            t = ws.collect(5)
        assert out + t.data(1) == b"".join(b"%d\n" % i for i in range(8)), (out, t)
    finally:
        assert srv.stop() == []


@pytest.mark.parametrize("interval,survives", [("1s", True), ("0", False)])
def test_idle_cutting_proxy_keeps_session_with_pings(interval, survives):
    """The issue's proxy that cuts connections idle for 30 s and a 90 s idle
    session, scaled by ten: cut after 3 s of silence, 9 s idle. With pings the
    session outlives the proxy's limit three times; with them off (0) the
    same proxy cuts it, so the test can tell."""
    srv = Podterm(["--ping-interval", interval], name="keepalive-proxy")
    proxy = IdleCutProxy(srv.port, 3)
    try:
        resp, ws = ws_open(proxy.port, exec_path(["cat"], stdin=True), V5)
        with ws:
            frames, eof = frames_for(ws, 9)
            assert eof != survives, (frames, proxy.cuts)
            if survives:
                ws.send_binary(b"\x00after 9 s\n")
                ws.send_binary(b"\xff\x00")
                t = ws.collect(5)
                assert t.data(1) == b"after 9 s\n", t
                assert_json_exact(t.status(), SUCCESS_STATUS)
        assert proxy.cuts == (0 if survives else 1)
    finally:
        proxy.close()
        assert srv.stop() == []


def test_client_held_back_by_stdin_backpressure_is_not_unresponsive():
    """A process that never reads stdin, a client that pasted more than it
    takes: podterm stops reading the socket (backpressure), so the client's
    pongs wait behind its own bytes. That is podterm not reading, not the
    client gone: the session stays (before: dropped as client-unresponsive
    after two intervals)."""
    srv = Podterm(["--ping-interval", "1s"], name="keepalive-paused")
    try:
        resp, ws = ws_open(srv.port, exec_path(["sleep", "60"], stdin=True), V5)
        with ws:
            ws.conn.sock.settimeout(2)
            chunk = b"\x00" + b"p" * 65535
            try:
                for _ in range(4096):  # at most 256 MiB: TCP pushes back long before
                    ws.send_binary(chunk)
            except (socket.timeout, TimeoutError):
                pass
            frames, eof = frames_for(ws, 4)
            assert not eof, frames
        assert "client-unresponsive" not in srv.output(), srv.output()
    finally:
        assert srv.stop() == []
