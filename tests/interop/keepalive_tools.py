"""Keepalive helpers shared by the interop and gateway suites: a client
loop that reads frames for a while (answering pings or not), and a TCP proxy
that cuts connections idle for too long, as real proxies do."""
import socket
import threading
import time

from podterm_client import OP_PING, OP_PONG


def frames_for(ws, seconds, answer=True):
    """Every frame for `seconds` (answering pings unless told not to); stops
    early at EOF. Returns (frames, eof)."""
    deadline = time.monotonic() + seconds
    frames = []
    try:
        while True:
            f = ws.recv_frame(deadline)
            frames.append(f)
            if f.opcode == OP_PING and answer:
                ws.send_frame(OP_PONG, f.payload)
    except TimeoutError:
        return frames, False
    except (EOFError, ConnectionResetError):
        return frames, True


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



class IdleCutProxy:
    """A TCP proxy on loopback that cuts a connection as soon as either
    direction has been silent for `idle` seconds: what nginx's
    proxy_read_timeout, an ELB's idle timeout or Cloudflare's 100 s do."""

    def __init__(self, target_port, idle):
        self.target, self.idle = target_port, idle
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(8)
        self.port = self.lsock.getsockname()[1]
        self.cuts = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        try:
            c, _ = self.lsock.accept()
        except OSError:
            return
        u = socket.create_connection(("127.0.0.1", self.target))
        last = {"up": time.monotonic(), "down": time.monotonic()}
        done = threading.Event()

        def pump(src, dst, key):
            src.settimeout(0.1)
            while not done.is_set():
                try:
                    data = src.recv(65536)
                except socket.timeout:
                    if min(last.values()) < time.monotonic() - self.idle:
                        self.cuts += 1
                        done.set()
                    continue
                except OSError:
                    break
                if not data:
                    break
                last[key] = time.monotonic()
                dst.sendall(data)
            done.set()
            for s in (c, u):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        threading.Thread(target=pump, args=(c, u, "up"), daemon=True).start()
        threading.Thread(target=pump, args=(u, c, "down"), daemon=True).start()

    def close(self):
        self.lsock.close()
