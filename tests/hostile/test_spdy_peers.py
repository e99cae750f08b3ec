"""Hostile SPDY/3.1 peers (kubectl's old transport), on every front: broken
header compression, zip bombs, huge and malformed frames, stream id reuse,
window overflows, unknown frame types, a stdin flood into a process that
does not read, and clients that leave mid-handshake. Each gets a clean
answer (GOAWAY or RST_STREAM with the right status, then the connection's
end) and the check after the test (conftest.py `target`) holds: the front
alive, an exact exec, and its fds, children and RSS back."""
import json
import struct
import threading
import time
import zlib

from podterm_client import exec_path, read_response_head
from spdy_client import (GOAWAY_OK, GOAWAY_PROTOCOL_ERROR, RST_FLOW_CONTROL_ERROR,
                         RST_PROTOCOL_ERROR, RST_REFUSED_STREAM, RST_STREAM_IN_USE, Deflater,
                         Reader, control, data_frame, header_block, syn_stream, upgrade_request,
                         window_update)

ANSWER_S = 10  # a clean end comes well within this


def spdy_open(target, command, stdin=True, tty=False):
    """An exec upgraded to SPDY: (conn, reader, deflater)."""
    c = target.conn()
    path = exec_path(list(command), stdin=stdin, stdout=True, stderr=not tty, tty=tty)
    c.sendall(upgrade_request(target.port, path))
    resp = read_response_head(c, time.monotonic() + ANSWER_S)
    assert resp.status == 101, resp
    r = Reader(c.sock)
    r.buf, c.buf = c.buf, b""
    return c, r, Deflater()


def open_streams(c, d, types):
    """SYN_STREAM for each type, ids 1, 3, 5...: {type: id}."""
    ids = {}
    for i, t in enumerate(types):
        ids[t] = 2 * i + 1
        c.sendall(syn_stream(d, ids[t], t))
    return ids


def assert_goaway_then_eof(r, status):
    r.pump(ANSWER_S, until=lambda x: x.eof)
    assert r.goaway is not None and r.goaway[1] == status, (r.goaway, r.rst)
    assert r.eof, "the connection stayed open after GOAWAY"


def test_spdy_broken_header_compression(target):
    c, r, _ = spdy_open(target, ["cat"])
    try:
        junk = zlib.compressobj().compress(b"streamtype") + b"\xde\xad\xbe\xef" * 8
        c.sendall(control(1, 0, struct.pack(">IIBB", 1, 0, 0, 0) + junk))
        assert_goaway_then_eof(r, GOAWAY_PROTOCOL_ERROR)
    finally:
        c.close()


def test_spdy_zip_bomb_header_block(target):
    """10 MB of header value in a ~10 KB block: refused as the inflate passes
    its bound, not after inflating it."""
    c, r, d = spdy_open(target, ["cat"])
    try:
        bomb = d.block(raw=header_block([("streamtype", "stdin"), ("x", "a" * 10_000_000)]))
        assert len(bomb) < 16 * 1024, len(bomb)
        c.sendall(control(1, 0, struct.pack(">IIBB", 1, 0, 0, 0) + bomb))
        assert_goaway_then_eof(r, GOAWAY_PROTOCOL_ERROR)
    finally:
        c.close()


def test_spdy_huge_control_frame(target):
    """A SYN_STREAM announcing 16 MiB: GOAWAY at its header, nothing buffered."""
    c, r, _ = spdy_open(target, ["cat"])
    try:
        c.sendall(struct.pack(">HHI", 0x8003, 1, 0xFFFFFF) + b"\x00" * 64)
        assert_goaway_then_eof(r, GOAWAY_PROTOCOL_ERROR)
    finally:
        c.close()


def test_spdy_stream_id_reuse(target):
    """A second SYN_STREAM for an open stream is a stream error (STREAM_IN_USE,
    SPDY/3 2.3.2), and so is an id lower than one already used (PROTOCOL_ERROR:
    refused alone, the connection goes on, as the codec's unit test pins)."""
    c, r, d = spdy_open(target, ["cat"])
    try:
        c.sendall(syn_stream(d, 1, "error") + syn_stream(d, 5, "stdin"))
        c.sendall(syn_stream(d, 5, "stdin"))
        c.sendall(syn_stream(d, 3, "stdout"))
        assert r.pump(ANSWER_S, until=lambda x: 3 in x.rst), r.rst
        assert r.rst == {5: RST_STREAM_IN_USE, 3: RST_PROTOCOL_ERROR}, r.rst
        assert r.replies == [1, 5], r.replies
        assert not r.eof and r.goaway is None
    finally:
        c.close()


def test_spdy_unknown_and_duplicate_streams(target):
    """A stream type the kubelet does not know, and a second of a kind, are
    refused alone; one the query did not ask for (resize without a tty) is
    taken but not waited for: the exec starts once error, stdout and stderr
    are open, and both outputs arrive."""
    c, r, d = spdy_open(target, ["sh", "-c", "echo spdy-ok; echo spdy-err >&2"], stdin=False)
    try:
        c.sendall(syn_stream(d, 1, "error"))
        c.sendall(syn_stream(d, 3, "bogus"))
        c.sendall(syn_stream(d, 5, "error"))
        c.sendall(syn_stream(d, 7, "resize"))
        c.sendall(syn_stream(d, 9, "stdout") + syn_stream(d, 11, "stderr"))
        assert r.pump(ANSWER_S, until=lambda x: {1, 9, 11} <= x.fin), (r.fin, r.rst, r.data)
        assert r.rst == {3: RST_REFUSED_STREAM, 5: RST_PROTOCOL_ERROR}, r.rst
        assert (r.data.get(9), r.data.get(11)) == (b"spdy-ok\n", b"spdy-err\n"), r.data
        status = json.loads(r.data[1])
        assert (status["status"], status["metadata"]) == ("Success", {}), status
    finally:
        c.close()


def test_spdy_stdin_before_the_last_stream(target):
    """Stdin (and its end) sent before the client opened its last stream is
    kept for the process, not dropped (client-go waits for every reply first;
    another client need not)."""
    c, r, d = spdy_open(target, ["cat"])
    try:
        c.sendall(syn_stream(d, 1, "error") + syn_stream(d, 3, "stdin"))
        c.sendall(data_frame(3, b"early bytes\n", fin=True))
        time.sleep(0.2)
        c.sendall(syn_stream(d, 5, "stdout") + syn_stream(d, 7, "stderr"))
        assert r.pump(ANSWER_S, until=lambda x: {1, 5, 7} <= x.fin), (r.fin, r.rst, r.data)
        assert r.data.get(5) == b"early bytes\n", r.data
        assert json.loads(r.data[1])["status"] == "Success", r.data
    finally:
        c.close()


def test_spdy_frames_right_behind_the_head(target):
    """A client that does not wait for the 101 (its SYN_STREAMs, stdin and
    its FIN in the head's own packet) is served as one that did."""
    c = target.conn()
    try:
        d = Deflater()
        path = exec_path(["cat"], stdin=True, stdout=True, stderr=True)
        frames = b"".join(syn_stream(d, 2 * i + 1, t)
                          for i, t in enumerate(["error", "stdin", "stdout", "stderr"]))
        c.sendall(upgrade_request(target.port, path) + frames +
                  data_frame(3, b"eager\n", fin=True))
        resp = read_response_head(c, time.monotonic() + ANSWER_S)
        assert resp.status == 101, resp
        r = Reader(c.sock)
        r.buf, c.buf = c.buf, b""
        assert r.pump(ANSWER_S, until=lambda x: {1, 5, 7} <= x.fin), (r.fin, r.rst, r.data)
        assert r.data.get(5) == b"eager\n", r.data
    finally:
        c.close()


def test_spdy_unknown_frame_types_are_ignored(target):
    c, r, d = spdy_open(target, ["cat"])
    try:
        c.sendall(control(0x7F, 0, b"whatever" * 10))
        ids = open_streams(c, d, ["error", "stdin", "stdout", "stderr"])
        c.sendall(control(0x0A, 0, b"\x00" * 12))  # CREDENTIAL, unknown here
        c.sendall(data_frame(ids["stdin"], b"still-works\n", fin=True))
        assert r.pump(ANSWER_S, until=lambda x: {1, 5, 7} <= x.fin), (r.fin, r.rst)
        assert r.data.get(ids["stdout"]) == b"still-works\n", r.data
        r.pump(ANSWER_S, until=lambda x: x.goaway is not None)
        assert r.goaway is not None and r.goaway[1] == GOAWAY_OK, r.goaway
    finally:
        c.close()


def test_spdy_window_overflow(target):
    """WINDOW_UPDATEs past 2^31-1: the stream is reset FLOW_CONTROL_ERROR; on
    the connection window, GOAWAY."""
    c, r, d = spdy_open(target, ["sleep", "5"])
    try:
        ids = open_streams(c, d, ["error", "stdin", "stdout", "stderr"])
        c.sendall(window_update(ids["stdout"], 0x7FFFFFFF))
        assert r.pump(ANSWER_S, until=lambda x: ids["stdout"] in x.rst), r.rst
        assert r.rst[ids["stdout"]] == RST_FLOW_CONTROL_ERROR, r.rst
        c.sendall(window_update(0, 0x7FFFFFFF))
        assert_goaway_then_eof(r, GOAWAY_PROTOCOL_ERROR)
    finally:
        c.close()


def test_spdy_stdin_flood_into_a_process_that_does_not_read(target):
    """64 MiB of stdin DATA for `sleep`: podterm stops reading the socket once
    its stdin buffer is full (the sender blocks), so memory stays bounded;
    the client then leaves and everything is released (checked after)."""
    c, r, d = spdy_open(target, ["sleep", "30"])
    try:
        ids = open_streams(c, d, ["error", "stdin", "stdout", "stderr"])
        r.pump(2, until=lambda x: len(x.replies) == 4)
        chunk = data_frame(ids["stdin"], b"x" * 32768)
        sent = [0]

        def flood():
            c.sock.settimeout(3)
            try:
                while sent[0] < 64 << 20:
                    c.sock.sendall(chunk)
                    sent[0] += len(chunk)
            except OSError:
                pass  # blocked: the server stopped reading

        t = threading.Thread(target=flood, daemon=True)
        t.start()
        t.join(20)
        assert sent[0] < 32 << 20, f"the server took {sent[0]} bytes of stdin nobody reads"
    finally:
        c.close()


def test_spdy_clients_that_leave_mid_handshake(target):
    """After the 101, after some of the streams, and inside a frame: each
    session is released (the check after the test counts fds and children)."""
    for stage in range(3):
        c, r, d = spdy_open(target, ["cat"])
        try:
            if stage >= 1:
                open_streams(c, d, ["error", "stdin"])
            if stage == 2:
                c.sendall(syn_stream(d, 5, "stdout")[:11])
        finally:
            c.close()
    time.sleep(0.5)


def test_spdy_streams_after_the_start_and_half_closed_outputs(target):
    """A stream opened once the exec started (a resize stream the query did
    not ask for) is reset PROTOCOL_ERROR, and the client's half-close of its
    own stdout stream means nothing: the exec goes on, stdin still reaches
    the process."""
    c, r, d = spdy_open(target, ["cat"])
    try:
        ids = open_streams(c, d, ["error", "stdin", "stdout", "stderr"])
        assert r.pump(ANSWER_S, until=lambda x: len(x.replies) == 4), r.replies
        c.sendall(syn_stream(d, 9, "resize"))
        assert r.pump(ANSWER_S, until=lambda x: 9 in x.rst), r.rst
        assert r.rst == {9: RST_PROTOCOL_ERROR}, r.rst
        c.sendall(data_frame(ids["stdout"], b"", fin=True))
        c.sendall(data_frame(ids["stdin"], b"after-extra\n", fin=True))
        assert r.pump(ANSWER_S, until=lambda x: {1, 5, 7} <= x.fin), (r.fin, r.rst, r.data)
        assert r.data.get(ids["stdout"]) == b"after-extra\n", r.data
        assert json.loads(r.data[1])["status"] == "Success", r.data
    finally:
        c.close()


def test_spdy_early_stdin_past_the_buffer_is_refused(target):
    """Stdin sent before the last stream opened is kept up to the session's
    stdin buffer (64 KiB); one frame more than that is refused with
    RST_STREAM FLOW_CONTROL_ERROR on stdin, never dropped in silence; a new
    stdin stream is then taken and the exec runs."""
    c, r, d = spdy_open(target, ["sh", "-c", "cat >/dev/null; echo stdin-done"])
    try:
        c.sendall(syn_stream(d, 1, "error") + syn_stream(d, 3, "stdin"))
        c.sendall(data_frame(3, b"x" * (64 * 1024 + 1)))
        assert r.pump(ANSWER_S, until=lambda x: 3 in x.rst), r.rst
        assert r.rst == {3: RST_FLOW_CONTROL_ERROR}, r.rst
        c.sendall(syn_stream(d, 5, "stdin") + syn_stream(d, 7, "stdout") +
                  syn_stream(d, 9, "stderr"))
        c.sendall(data_frame(5, b"more\n", fin=True))
        assert r.pump(ANSWER_S, until=lambda x: {1, 7, 9} <= x.fin), (r.fin, r.rst, r.data)
        assert r.data.get(7) == b"stdin-done\n", r.data
        assert json.loads(r.data[1])["status"] == "Success", r.data
    finally:
        c.close()


def test_spdy_v2_tty_waits_for_no_resize_or_stderr_stream(target):
    """v2.channel.k8s.io has no resize stream and a tty no stderr: the exec
    starts once error and stdout are open (stderr=true in the query too),
    and a success says nothing on the error stream (v1-v3)."""
    c = target.conn()
    try:
        path = exec_path(["sh", "-c", "echo tty-ok"], stdin=False, stdout=True, stderr=True,
                         tty=True)
        c.sendall(upgrade_request(target.port, path, offers=("v2.channel.k8s.io",)))
        resp = read_response_head(c, time.monotonic() + ANSWER_S)
        assert resp.status == 101, resp
        assert resp.header("X-Stream-Protocol-Version") == "v2.channel.k8s.io", resp
        r = Reader(c.sock)
        r.buf, c.buf = c.buf, b""
        d = Deflater()
        c.sendall(syn_stream(d, 1, "error") + syn_stream(d, 3, "stdout"))
        assert r.pump(ANSWER_S, until=lambda x: {1, 3} <= x.fin), (r.fin, r.rst, r.data)
        assert r.data.get(3) == b"tty-ok\r\n", r.data
        assert r.data.get(1, b"") == b"", r.data
        assert r.rst == {}, r.rst
    finally:
        c.close()
