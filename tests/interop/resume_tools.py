"""Helpers of the resume tests (interop and gateway): a web terminal's
session opened on the flow protocol, its channel-7 info read, the network
dropped under it, a resume path and offer."""
import json
import re
import socket
import time

from podterm_client import OP_BINARY, OP_CLOSE, exec_path, token_item, ws_open

FLOW = "v1.flow.podterm.dev"
BASE = "/apis/podterm.dev/v1alpha1/sessions"


def resume_path(sid):
    return f"{BASE}/{sid}/resume"


def offer(token, resume=None, kind=FLOW):
    """One Sec-WebSocket-Protocol line, as browsers send it."""
    items = [token_item(token)] if token else []
    if resume is not None:
        items.append(f"resume.podterm.dev.{resume}")
    return ", ".join(items + [kind])


def read_until(ws, pred, timeout=10.0, what="output"):
    """Reads messages until pred(stdout so far, infos) holds; returns both."""
    deadline = time.monotonic() + timeout
    out, infos = b"", []
    while not pred(out, infos):
        op, payload = ws.recv_message(deadline)
        assert op != OP_CLOSE, f"closed while waiting for {what}: {out!r} {infos!r}"
        if op == OP_BINARY and payload[:1] == b"\x01":
            out += payload[1:]
        elif op == OP_BINARY and payload[:1] == b"\x07":
            infos.append(json.loads(payload[1:]))
    return out, infos


def ack_all(ws, out):
    if out:
        ws.send_channel(6, str(len(out)).encode())


def open_shell(port, token="alice-token-1", container=None):
    resp, ws = ws_open(port, exec_path(["sh"], stdin=True, tty=True, container=container),
                       offer(token))
    assert resp.status == 101 and resp.header("Sec-WebSocket-Protocol") == FLOW, resp
    ws.send_channel(4, b'{"Width":80,"Height":24}')
    ws.send_channel(0, b"echo PID=$$; PS1='$ '\n")
    out, infos = read_until(ws, lambda o, i: re.search(rb"PID=\d+", o) and i)
    ack_all(ws, out)
    info = infos[0]
    assert sorted(info) == ["grace", "id", "resume", "type"], info
    assert info["type"] == "session"
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                        info["id"]), info
    assert re.fullmatch(r"[0-9a-f]{64}", info["resume"]), info
    pid = int(re.search(rb"PID=(\d+)", out).group(1))
    return ws, info, pid


def drop(ws):
    """The network goes away: no Close frame, the TCP connection just ends."""
    ws.conn.sock.shutdown(socket.SHUT_RDWR)
    ws.conn.close()
