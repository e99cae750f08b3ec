"""Plumbing of the hostile-peer suite: a Target is one podterm front (plain,
TLS, or a gateway in front of a TLS upstream) that tests attack through raw
sockets; Target.assert_healthy() is the check every scenario batch ends with.

Built on the interop suite's raw client (podterm_client) and server wrapper
(podterm_server); nothing here changes them."""
import os
import socket
import ssl
import struct
import time

from podterm_client import (V5, Conn, WebSocket, assert_clean_end, assert_nonzero_status,
                            build_request, exec_path, read_response_body, read_response_head,
                            upgrade_headers, ws_accept, ws_key)

# Every read in this suite has a deadline; these are generous because the
# suite runs on a loaded 2-core machine against an ASan build.
IO_TIMEOUT_S = 15.0
# After a batch, podterm must be back to its warmed-up descriptor count and
# child list within this time (closing sockets and reaping is asynchronous).
SETTLE_S = 15.0
# Resident memory may exceed the warmed-up baseline by at most this much once
# a batch is over (the servers run with ASan's quarantine capped, conftest.py).
RSS_GROWTH_MAX_KIB = 64 * 1024  # measured: 28-36 MiB after the whole suite

# The exec every health check runs: exact stdout and exit code.
HEALTH_COMMAND = ["sh", "-c", "echo hostile-ok; exit 7"]
HEALTH_STDOUT = b"hostile-ok\n"
HEALTH_EXIT = 7

# Errors a hostile scenario may legitimately end in on the client side.
PEER_ERRORS = (OSError, EOFError, TimeoutError, ValueError, ssl.SSLError)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def describe_pids(pids):
    """pid: command line, for failure messages."""
    out = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            out.append(f"{pid}: {cmd}")
        except OSError:
            out.append(f"{pid}: (gone)")
    return out


def set_rst_on_close(sock):
    """close() then sends a TCP RST instead of a FIN (SO_LINGER 0)."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


class TlsConn(Conn):
    """podterm_client.Conn over TLS (the certificate is checked against the suite's CA)."""

    def __init__(self, port, ctx, timeout=IO_TIMEOUT_S):
        super().__init__(port, timeout)
        self.sock = ctx.wrap_socket(self.sock, server_hostname="127.0.0.1")

    def _fill(self, deadline):
        try:
            super()._fill(deadline)
        except ssl.SSLZeroReturnError:
            raise EOFError("TLS closed by server") from None
        except ssl.SSLEOFError:
            raise EOFError("TCP closed under TLS") from None


class Target:
    """One podterm front and the processes behind it (gateway: the upstream too)."""

    def __init__(self, mode, front, procs, tls_ctx=None):
        self.mode = mode
        self.front = front
        self.procs = procs  # every Podterm to check: the front first (gateway: then the upstream)
        self.tls_ctx = tls_ctx
        self.port = front.port
        self.baselines = {}

    def __repr__(self):
        return f"<Target {self.mode} :{self.port}>"

    # ---- connections ----

    def raw_socket(self, timeout=IO_TIMEOUT_S):
        """A plain TCP socket to the front (for TLS: the handshake is not done)."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    def conn(self, timeout=IO_TIMEOUT_S):
        if self.tls_ctx is not None:
            return TlsConn(self.port, self.tls_ctx, timeout)
        return Conn(self.port, timeout)

    def request(self, data, timeout=5.0):
        """Sends raw bytes as one request; returns (Response or None, error).
        Response is None when the server closed without an answer."""
        c = self.conn(timeout)
        try:
            deadline = time.monotonic() + timeout
            try:
                c.sendall(data)
            except PEER_ERRORS:
                pass  # refused while sending: the answer may still be readable
            try:
                resp = read_response_head(c, deadline)
                resp.body = read_response_body(c, resp, deadline)
                return resp, None
            except PEER_ERRORS as e:
                return None, e
        finally:
            c.close()

    def ws_open(self, path, protocols=V5, headers=(), timeout=IO_TIMEOUT_S):
        """(response, WebSocket or None) like podterm_client.ws_open, on this front."""
        key = ws_key()
        c = self.conn(timeout)
        deadline = time.monotonic() + timeout
        c.sendall(build_request("GET", path, upgrade_headers(protocols, headers, key),
                                host=f"127.0.0.1:{self.port}"))
        resp = read_response_head(c, deadline)
        if resp.status != 101:
            try:
                resp.body = read_response_body(c, resp, deadline)
            finally:
                c.close()
            return resp, None
        assert resp.header("Sec-WebSocket-Accept") == ws_accept(key), resp
        return resp, WebSocket(c, resp)

    def ws_or_fail(self, path, protocols=V5):
        resp, ws = self.ws_open(path, protocols)
        assert ws is not None, f"{self}: expected 101, got {resp!r}"
        return ws

    # ---- health ----

    def warm_up_and_record_baseline(self):
        """Runs what the suite will run once (tty and pipe execs, an attach),
        so lazily created state is in the baseline, then records fds, children
        and RSS. The attach starts the default container's main process, which
        keeps running between clients (README: attach): the only child a
        front may have after a batch."""
        for tty in (False, True):
            ws = self.ws_or_fail(exec_path(["true"], stdin=tty, tty=tty))
            ws.collect(IO_TIMEOUT_S)
            ws.close()
        ws = self.ws_or_fail(exec_path([], stdin=True, tty=True, verb="attach"))
        ws.recv_message(time.monotonic() + IO_TIMEOUT_S)
        ws.close()
        self.assert_exec_works()
        for p in self.procs:
            deadline = time.monotonic() + SETTLE_S
            fds = p.fd_count()
            while time.monotonic() < deadline:  # the attach and exec connections close
                time.sleep(0.3)
                now = p.fd_count()
                if now == fds:
                    break
                fds = now
            self.baselines[p.pid] = (fds, set(p.children()), rss_kib(p.pid))

    def assert_exec_works(self):
        ws = self.ws_or_fail(exec_path(HEALTH_COMMAND))
        try:
            t = ws.collect(IO_TIMEOUT_S)
        finally:
            ws.close()
        assert t.data(1) == HEALTH_STDOUT, f"{self}: {t!r}"
        assert t.data(2) == b"", t
        assert_nonzero_status(t.status(), HEALTH_EXIT)
        assert_clean_end(t)

    def assert_healthy(self):
        """Every process alive with a clean log, a normal exec exact, and no
        extra descriptors, children or memory beyond the stated bounds."""
        for p in self.procs:
            assert p.alive(), p.describe([f"exited with status {p.proc.returncode}"])
            assert not p.sanitizer_reports(), p.describe(p.sanitizer_reports())
        self.assert_exec_works()
        for p in self.procs:
            fd_base, kids_base, rss_base = self.baselines[p.pid]
            deadline = time.monotonic() + SETTLE_S
            while True:
                fds, kids = p.fd_count(), set(p.children()) - kids_base
                if (fds <= fd_base and not kids) or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            assert not kids, f"{self} pid {p.pid}: child processes left: {describe_pids(kids)}"
            assert fds <= fd_base, f"{self} pid {p.pid}: fds {fds} > baseline {fd_base}: {p.fds()}"
            grown = rss_kib(p.pid) - rss_base
            assert grown <= RSS_GROWTH_MAX_KIB, \
                f"{self} pid {p.pid}: RSS grew {grown} KiB (bound {RSS_GROWTH_MAX_KIB} KiB)"
            assert not p.sanitizer_reports(), p.describe(p.sanitizer_reports())


def env_flag_seed(default):
    """HOSTILE_SEED overrides the suite's fixed seed (decimal or 0x-hex)."""
    v = os.environ.get("HOSTILE_SEED")
    return int(v, 0) if v else default
