"""Keepalive: pings are answered with the same payload while an exec runs
(PROTOCOL.md 3.9; checklist 19, first half; the kubectl half is in
test_kubectl.py)."""
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
