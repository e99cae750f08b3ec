"""Attach fan-out with a stalled attacher: a page on v1.flow.podterm.dev that
stops acking must not hold up the other attachers or the main process. The one
that keeps up gets every byte; the stalled one, once it reads again, finds
"\\r\\n[podterm: N bytes of output skipped]\\r\\n" and then the newest output."""
import re
import time

from podterm_client import OP_CLOSE, V5, exec_path, ws_open

FLOW = "v1.flow.podterm.dev"
COUNT_TO = 200000  # seq's output, 1 288 895 bytes: ~5 x the attach ring (256 KiB)
EXPECTED = b"".join(b"%d\n" % i for i in range(1, COUNT_TO + 1))
SKIP_NOTE = re.compile(rb"\r\n\[podterm: (\d+) bytes of output skipped\]\r\n")

CONFIG = """\
pods:
  - name: local
    containers:
      - name: counter
        command: ["/bin/sh", "-c", "read go; seq 1 %d; read done"]
        stdin: true
""" % COUNT_TO


def attach(port, protocol, stdin):
    path = exec_path(container="counter", verb="attach", stdin=stdin, stdout=True)
    resp, ws = ws_open(port, path, [protocol])
    assert resp.status == 101, resp
    assert ws.protocol == protocol
    return ws


def read_stdout(ws, until, timeout, ack=False):
    """Channel-1 bytes until until(data); acks each payload when asked (flow)."""
    data = b""
    deadline = time.monotonic() + timeout
    while not until(data):
        op, payload = ws.recv_message(deadline)
        assert op != OP_CLOSE, (op, payload, len(data))
        if payload[:1] == b"\x01":
            data += payload[1:]
            if ack and len(payload) > 1:
                ws.send_binary(b"\x06" + str(len(payload) - 1).encode())
    return data


def test_stalled_flow_attacher_does_not_block_the_others(podterm):
    srv = podterm(config=CONFIG)
    stalled = attach(srv.port, FLOW, stdin=False)  # never acks, not read until the end
    live = attach(srv.port, V5, stdin=True)
    try:
        live.send_binary(b"\x00go\n")
        got = read_stdout(live, lambda d: len(d) >= len(EXPECTED), timeout=60)
        assert got == EXPECTED  # every byte, in order: nothing skipped for the one keeping up
        assert srv.alive()

        # The stalled page acks at last: what it had in flight, the note, the newest output.
        late = read_stdout(stalled, lambda d: d.endswith(b"\n%d\n" % COUNT_TO), timeout=30,
                           ack=True)
        m = SKIP_NOTE.search(late)
        assert m, late[:200]
        head, skipped, tail = late[:m.start()], int(m.group(1)), late[m.end():]
        assert EXPECTED.startswith(head)
        assert skipped > 0
        assert len(head) + skipped + len(tail) == len(EXPECTED)
        assert tail == EXPECTED[len(head) + skipped:]
        assert len(SKIP_NOTE.findall(late)) == 1, "one note for one gap"
    finally:
        live.close()
        stalled.close()
