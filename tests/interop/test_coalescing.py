"""Output coalescing (issue 13): while the client's socket cannot take the
waiting message, later output of the same channel is appended to it, so a
client that falls behind gets fewer, larger messages (every message costs it
a fixed price) and never different bytes, order or channels."""
import time

import pytest

from podterm_client import SUCCESS_STATUS, V4, V5, assert_json_exact, exec_path, ws_open

PTY_READ = 4096  # what one PTY read returns at most
PAYLOAD_MAX = 64 * 1024  # SESSION_OUT_PAYLOAD


@pytest.mark.parametrize("proto", [V5, "v4.base64.channel.k8s.io"])
def test_a_client_that_falls_behind_gets_large_messages(server, proto):
    total = 4_000_000
    cmd = ["sh", "-c", f"head -c {total} /dev/zero | tr '\\0' a"]
    resp, ws = ws_open(server.port, exec_path(cmd, tty=True), proto)
    with ws:
        time.sleep(1.0)  # the process fills the socket and the PTY meanwhile
        t = ws.collect(30)
    out = [p for ch, p in t.channels() if ch == 1]
    assert b"".join(out) == b"a" * total
    assert_json_exact(t.status(), SUCCESS_STATUS)
    sizes = sorted(len(p) for p in out)
    assert sizes[-1] <= PAYLOAD_MAX, sizes[-1]
    # Before coalescing every message carried one PTY read (<= 4 KiB).
    assert sizes[-1] > 4 * PTY_READ, sizes[-10:]
    assert total / len(out) > 4 * PTY_READ, (len(out), sizes[:10], sizes[-10:])


def test_channels_keep_their_order_when_coalesced(server):
    """stdout and stderr interleaved line by line, read late: each channel's
    bytes are exact and in order (coalescing only ever appends to a message
    of the same channel)."""
    n = 3000
    script = f"i=0; while [ $i -lt {n} ]; do echo out$i; echo err$i >&2; i=$((i+1)); done"
    resp, ws = ws_open(server.port, exec_path(["sh", "-c", script], stderr=True), V4)
    with ws:
        time.sleep(0.5)
        t = ws.collect(30)
    assert t.data(1) == b"".join(b"out%d\n" % i for i in range(n))
    assert t.data(2) == b"".join(b"err%d\n" % i for i in range(n))
    assert_json_exact(t.status(), SUCCESS_STATUS)


def test_a_reader_that_keeps_up_gets_output_at_once(server):
    """A line printed every 100 ms arrives within that time: nothing waits to
    be coalesced while the socket can take it."""
    script = "for i in 1 2 3 4 5; do echo tick$i; sleep 0.1; done"
    resp, ws = ws_open(server.port, exec_path(["sh", "-c", script], tty=True), V5)
    with ws:
        arrivals = []
        t0 = time.monotonic()
        while len(arrivals) < 5:
            op, payload = ws.recv_message(time.monotonic() + 5)
            if payload[:1] == b"\x01" and payload[1:].startswith(b"tick"):
                arrivals.append((time.monotonic() - t0, payload[1:]))
        t = ws.collect(5)
    assert [p for _, p in arrivals] == [b"tick%d\r\n" % i for i in range(1, 6)]
    gaps = [b[0] - a[0] for a, b in zip(arrivals, arrivals[1:])]
    assert all(0.05 < g < 0.3 for g in gaps), gaps
