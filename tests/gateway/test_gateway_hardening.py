"""Gateway hardening (issue 18): what the gateway sends upstream, what it
relays back, and the bounds that keep one client, plugin or CA file from
taking the gateway down. Real sockets against the ASan build; the upstream is
a podterm behind a Recorder, so the tests assert on the exact request heads
the upstream received."""
import base64
import json
import os
import signal
import socket
import ssl
import subprocess
import time

import pytest
from podterm_client import (V5, Conn, exec_path, http_request,
                            read_response_head, token_item, ws_exec, ws_open)
from recorder import Recorder
from test_hardening import raw_request

from conftest import (GATEWAY_USER_TOKEN, UPSTREAM_TOKEN, kubeconfig, make_cert, stop_or_fail,
                      tls_args)


def status_of(resp):
    body = json.loads(resp.body)
    assert body["kind"] == "Status" and body["status"] == "Failure", resp
    return body


@pytest.fixture
def recorded(pki, podterm):
    """(upstream podterm on plain HTTP with the token file, Recorder in front)."""
    up = podterm(["--token-auth-file", f"{pki}/tokens.csv"], name="gw-rec-up")
    rec = Recorder(up.port)
    yield up, rec
    rec.close()


def assert_nothing_smuggled(rec):
    for q in rec.requests:
        names = [k.lower() for k, _ in q.headers]
        assert "impersonate-user" not in names and "x-smuggled" not in names, q.headers
        assert q.method == "GET", q


# ---------------------------------------------------------------- finding 4: tokens

SMUGGLE = "x\r\nImpersonate-User: admin\r\nX-Smuggled: 1"


def test_subprotocol_token_cannot_smuggle_headers_upstream(pki, recorded, podterm):
    """--pass-through-token, anonymous gateway: a token item that decodes to
    CR LF and more headers is refused (401) and nothing reaches the upstream."""
    up, rec = recorded
    kc = kubeconfig(pki, "smuggle.kubeconfig", f"http://127.0.0.1:{rec.port}")
    gw = podterm(["--kubeconfig", kc, "--pass-through-token"], name="gw-smuggle")
    # a whole second request after the headers, as the review did it
    tok = SMUGGLE + "\r\n\r\nGET /api/v1/namespaces/default/pods/local/exec?command=id HTTP/1.1"
    resp, ws = ws_open(gw.port, exec_path(["true"]), f"{token_item(tok)}, {V5}")
    assert ws is None and resp.status == 401, resp
    assert status_of(resp)["reason"] == "Unauthorized"
    assert rec.requests == [], rec.requests
    # CR alone, LF alone, a space, a DEL: all refused the same way
    for bad in ("a\rImpersonate-User: admin", "a\nX-Smuggled: 1", "a b", "a\x7f"):
        resp, ws = ws_open(gw.port, exec_path(["true"]), f"{token_item(bad)}, {V5}")
        assert ws is None and resp.status == 401, (bad, resp)
    assert rec.requests == [], rec.requests
    # the same path with a clean token goes through as before
    _, t = ws_exec(gw.port, exec_path(["echo", "clean"]), f"{token_item(UPSTREAM_TOKEN)}, {V5}")
    assert t.data(1) == b"clean\n"
    assert [q.header("Authorization") for q in rec.requests] == ["Bearer " + UPSTREAM_TOKEN]
    assert_nothing_smuggled(rec)


def test_header_token_cannot_smuggle_headers_upstream(pki, recorded, podterm):
    """The Authorization header with a bare CR inside: no token, so nothing
    of it is forwarded."""
    up, rec = recorded
    kc = kubeconfig(pki, "smuggle2.kubeconfig", f"http://127.0.0.1:{rec.port}")
    gw = podterm(["--kubeconfig", kc, "--pass-through-token"], name="gw-smuggle2")
    req = (b"GET /api/v1/pods HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           b"Authorization: Bearer " + UPSTREAM_TOKEN.encode() +
           b"\rImpersonate-User: admin\rX-Smuggled: 1\r\n\r\n")
    resp = raw_request(gw.port, req)
    assert resp.status == 401, resp  # the upstream's: no credentials reached it
    assert [q.header("Authorization") for q in rec.requests] == [None], rec.requests
    assert_nothing_smuggled(rec)


def test_forwarded_header_with_control_is_refused_not_forwarded(pki, recorded, podterm):
    """The head builder is the one place that refuses a control character in
    any value it writes: a forwarded client header with a bare CR gets 400
    and the upstream sees nothing."""
    up, rec = recorded
    kc = kubeconfig(pki, "fwd.kubeconfig", f"http://127.0.0.1:{rec.port}", token=UPSTREAM_TOKEN)
    gw = podterm(["--kubeconfig", kc], name="gw-fwd-ctl")
    for name in (b"Accept", b"User-Agent", b"Kubectl-Command"):
        resp = raw_request(gw.port, b"GET /api/v1/pods HTTP/1.1\r\nHost: 127.0.0.1\r\n" + name +
                           b": x\rImpersonate-User: admin\r\n\r\n")
        assert resp.status == 400, (name, resp)
        assert "control character" in status_of(resp)["message"]
    assert rec.requests == [], rec.requests
    resp = raw_request(gw.port, b"GET /api/v1/pods HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       b"User-Agent: kubectl/v1.33\t(tab is fine)\r\n\r\n")
    assert resp.status == 200, resp
    assert [q.header("User-Agent") for q in rec.requests] == ["kubectl/v1.33\t(tab is fine)"]


def test_bad_tokens_from_kubeconfig_token_file_and_plugin(pki, upstream, tmp_path, podterm):
    """Every token source podterm reads is held to visible ASCII: a kubeconfig
    token refuses to start, a token file (also after rotation) and an exec
    plugin's token give a 503 naming the source, never the token."""
    kc = kubeconfig(str(tmp_path), "kc-bad", upstream.url.rstrip("/"), ca=f"{pki}/ca.crt",
                    token='"ab\\r\\nX-Smuggled: 1"')
    r = subprocess.run([os.environ["PODTERM_BIN"], "--kubeconfig", kc, "--listen",
                        "127.0.0.1:0"], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "a bearer token is visible ASCII" in r.stderr, r.stderr
    assert "X-Smuggled" not in r.stderr

    tok = tmp_path / "token"
    tok.write_text(UPSTREAM_TOKEN + "\n")
    kc = kubeconfig(str(tmp_path), "kc-file", upstream.url.rstrip("/"), ca=f"{pki}/ca.crt",
                    token_file=str(tok))
    gw = podterm(["--kubeconfig", kc], name="gw-tokfile")
    assert http_request(gw.port, "GET", "/api/v1/pods").status == 200
    time.sleep(1.1)  # a new mtime, as a rotation gives
    tok.write_bytes(b"secret-part\r\nX-Smuggled: 1\n")
    resp = http_request(gw.port, "GET", "/api/v1/pods")
    assert resp.status == 503, resp
    msg = status_of(resp)["message"]
    assert "visible ASCII" in msg and "secret-part" not in msg, msg
    time.sleep(1.1)
    tok.write_text(UPSTREAM_TOKEN + "\n")
    assert http_request(gw.port, "GET", "/api/v1/pods").status == 200

    plugin = tmp_path / "plugin.sh"
    plugin.write_text("#!/bin/sh\n"
                      "printf '%s' '{\"apiVersion\":\"client.authentication.k8s.io/v1\","
                      "\"kind\":\"ExecCredential\",\"status\":{\"token\":\"plug-secret\\r\\n"
                      "X-Smuggled: 1\"}}'\n")
    plugin.chmod(0o755)
    kc = kubeconfig(str(tmp_path), "kc-plugin", upstream.url.rstrip("/"), ca=f"{pki}/ca.crt",
                    exec_cmd=str(plugin))
    gw = podterm(["--kubeconfig", kc], name="gw-badplugin")
    resp = http_request(gw.port, "GET", "/api/v1/pods")
    assert resp.status == 503, resp
    msg = status_of(resp)["message"]
    assert "visible ASCII" in msg and "plug-secret" not in msg, msg


# ---------------------------------------------------------------- finding 7: prefix is data

def test_server_url_prefix_with_percent_is_data(pki, recorded, podterm):
    up, rec = recorded
    kc = kubeconfig(pki, "pct.kubeconfig", f"http://127.0.0.1:{rec.port}/p%s%n%%x%25y",
                    token=UPSTREAM_TOKEN)
    gw = podterm(["--kubeconfig", kc], name="gw-pct")
    resp = http_request(gw.port, "GET", "/api/v1/pods?limit=5")
    # the upstream (a podterm) refuses "%s" as an escape: its answer, relayed
    assert resp.status == 400 and "invalid %-escape" in status_of(resp)["message"], resp
    assert [q.path for q in rec.requests] == ["/p%s%n%%x%25y/api/v1/pods?limit=5"]
    _, ws = ws_open(gw.port, exec_path(["true"]), V5)
    assert ws is None
    assert rec.requests[-1].path == "/p%s%n%%x%25y" + exec_path(["true"])


# ---------------------------------------------------------------- finding 8: CTLs in the target

@pytest.mark.parametrize("target", [
    b"/api/v1/pods\rX-Smuggled: 1",
    b"/api/v1/pods?limit=1\r\x00",
    b"/api/v1/namespaces/default/pods\x01",
    b"/api/v1/pods?x=\x7f",
    b"/api/v1/pods\tz",
])
def test_control_character_in_target_is_400(pki, recorded, podterm, target):
    up, rec = recorded
    kc = kubeconfig(pki, "ctl.kubeconfig", f"http://127.0.0.1:{rec.port}", token=UPSTREAM_TOKEN)
    gw = podterm(["--kubeconfig", kc], name="gw-ctl")
    resp = raw_request(gw.port, b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert resp.status == 400, resp
    assert status_of(resp)["reason"] == "BadRequest"
    assert rec.requests == [], rec.requests
    assert http_request(gw.port, "GET", "/api/v1/pods").status == 200  # still serving


# ---------------------------------------------------------------- finding 15: relayed responses

class FakeUpstream:
    """An API server that answers every request with answer(head) -> bytes:
    for faults a real one does not make (a 101 without the upgrade headers)."""

    def __init__(self, answer):
        import threading
        self.answer, self.heads = answer, []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            c.settimeout(10)
            head = b""
            try:
                while b"\r\n\r\n" not in head:
                    chunk = c.recv(65536)
                    if not chunk:
                        break
                    head += chunk
                self.heads.append(head)
                c.sendall(self.answer(head))
            except OSError:
                pass

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


def ws_accept_for(head):
    import hashlib
    key = next(line.split(b":", 1)[1].strip() for line in head.split(b"\r\n")
               if line.lower().startswith(b"sec-websocket-key:"))
    return base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
                            .digest()).decode()


def test_relayed_responses_get_security_headers(gateway):
    for path in ("/api/v1/pods", "/version", "/api/v1/namespaces/default/pods/nosuch"):
        resp = http_request(gateway.port, "GET", path)
        assert resp.status in (200, 404), resp
        assert resp.header_all("X-Content-Type-Options") == ["nosniff"], resp
        assert resp.header_all("Content-Security-Policy") == [
            "default-src 'none'; frame-ancestors 'none'"], resp
        assert resp.header_all("Referrer-Policy") == ["no-referrer"], resp
    # an upstream refusal of an exec is relayed with them too
    resp, ws = ws_open(gateway.port, exec_path(["true"], pod="nosuch"), V5)
    assert ws is None and resp.status == 404, resp
    assert resp.header_all("X-Content-Type-Options") == ["nosniff"], resp


def test_upstream_security_headers_are_replaced(pki, podterm):
    body = b'{"kind":"PodList","items":[]}'
    fake = FakeUpstream(lambda head: b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b"Content-Security-Policy: default-src *\r\n"
                        b"X-Content-Type-Options: sniff\r\nReferrer-Policy: unsafe-url\r\n"
                        b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
    try:
        kc = kubeconfig(pki, "fake200.kubeconfig", f"http://127.0.0.1:{fake.port}")
        gw = podterm(["--kubeconfig", kc], name="gw-fake200")
        resp = http_request(gw.port, "GET", "/api/v1/pods")
        assert (resp.status, resp.body) == (200, body), resp
        assert resp.header_all("Content-Security-Policy") == [
            "default-src 'none'; frame-ancestors 'none'"], resp
        assert resp.header_all("X-Content-Type-Options") == ["nosniff"], resp
        assert resp.header_all("Referrer-Policy") == ["no-referrer"], resp
    finally:
        fake.close()


@pytest.mark.parametrize("extra", [
    b"",                                                 # neither header
    b"Upgrade: websocket\r\n",                           # no Connection: Upgrade
    b"Connection: Upgrade\r\n",                          # no Upgrade: websocket
    b"Upgrade: h2c\r\nConnection: Upgrade\r\n",          # another protocol
])
def test_upstream_101_without_websocket_upgrade_is_502(pki, podterm, extra):
    fake = FakeUpstream(lambda head: b"HTTP/1.1 101 Switching Protocols\r\n" + extra +
                        b"Sec-WebSocket-Accept: " + ws_accept_for(head).encode() +
                        b"\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n")
    try:
        kc = kubeconfig(pki, "fake101.kubeconfig", f"http://127.0.0.1:{fake.port}")
        gw = podterm(["--kubeconfig", kc], name="gw-fake101")
        resp, ws = ws_open(gw.port, exec_path(["true"]), V5)
        assert ws is None and resp.status == 502, resp
        st = status_of(resp)
        assert "Upgrade: websocket" in st["message"], st
        assert len(fake.heads) == 1
    finally:
        fake.close()


def test_upstream_101_to_a_plain_get_is_502(pki, podterm):
    fake = FakeUpstream(lambda head: b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                        b"Connection: Upgrade\r\n\r\nraw upstream bytes")
    try:
        kc = kubeconfig(pki, "fake101get.kubeconfig", f"http://127.0.0.1:{fake.port}")
        gw = podterm(["--kubeconfig", kc], name="gw-fake101get")
        resp = http_request(gw.port, "GET", "/api/v1/pods")
        assert resp.status == 502 and b"raw upstream" not in resp.body, resp
    finally:
        fake.close()


# ---------------------------------------------------------------- finding 11: exec plugins

SLEEP_MARK = "987.25"  # sleep's argument: how this test finds its own processes


def marked_sleeps():
    pids = []
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if f.read() == b"sleep\0" + SLEEP_MARK.encode() + b"\0":
                    pids.append(int(pid))
        except (OSError, ValueError):
            pass
    return pids


@pytest.fixture
def reap_marked_sleeps():
    """Whatever the outcome, no marked sleep outlives the test (killed by PID)."""
    yield
    for pid in marked_sleeps():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _quiet_request(port):
    try:
        http_request(port, "GET", "/api/v1/pods", timeout=40)
    except (OSError, EOFError, ValueError, TimeoutError):
        pass  # the gateway is stopped under it


def test_plugin_leaving_stdout_open_cannot_hang_the_gateway(pki, upstream, tmp_path, podterm,
                                                            reap_marked_sleeps):
    """Run 1 prints a credential, then leaves `sleep &` holding its stdout:
    the request gets a clear 503 within the EOF grace (2 s), not after 30 s,
    and the sleep is killed with the plugin's process group. Run 2 is clean
    and works. Run 3 hangs in the foreground: SIGTERM still stops podterm
    at once and leaves no process behind. Each run also lists the fds its
    children inherit: only 0 (/dev/null), 1, 2."""
    runs, plugin = tmp_path / "runs", tmp_path / "plugin.sh"
    cred = ('{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",'
            f'"status":{{"token":"{UPSTREAM_TOKEN}",'
            '"expirationTimestamp":"2000-01-01T00:00:00Z"}}')
    plugin.write_text(f"""#!/bin/sh
echo run >> {runs}
n=$(wc -l < {runs})
ls -l /proc/self/fd/ > {tmp_path}/fds.$n
echo '{cred}'
case $n in
1) sleep {SLEEP_MARK} & ;;
3) exec sleep {SLEEP_MARK} ;;
esac
exit 0
""")
    plugin.chmod(0o755)
    kc = kubeconfig(str(tmp_path), "kc", upstream.url.rstrip("/"), ca=f"{pki}/ca.crt",
                    exec_cmd=str(plugin))
    gw = podterm(["--kubeconfig", kc], name="gw-plugin-hold")
    try:
        t0 = time.monotonic()
        resp = http_request(gw.port, "GET", "/api/v1/pods", timeout=40)
        took = time.monotonic() - t0
        assert resp.status == 503, resp
        msg = status_of(resp)["message"]
        assert "kept its standard output open" in msg and UPSTREAM_TOKEN not in msg, msg
        assert took < 10, took
        deadline = time.monotonic() + 5
        while marked_sleeps() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert marked_sleeps() == [], "the plugin's background sleep survived"

        assert http_request(gw.port, "GET", "/api/v1/pods").status == 200  # run 2

        for n in (1, 2):
            fds = {}
            for line in (tmp_path / f"fds.{n}").read_text().splitlines():
                parts = line.split()
                if "->" in parts:
                    i = parts.index("->")
                    fds[int(parts[i - 1])] = parts[i + 1]
            # ls's own descriptor for the directory it lists is its only extra
            extra = {fd: t for fd, t in fds.items() if fd > 2 and not t.startswith("/proc/")}
            assert extra == {}, f"run {n}: the plugin inherited {extra}"
            assert fds[0] == "/dev/null" and len(fds) == 4, fds

        # run 3 (the credential is already expired, so every request runs the
        # plugin) hangs in the foreground; SIGTERM meanwhile
        import threading
        t = threading.Thread(target=lambda: _quiet_request(gw.port), daemon=True)
        t.start()
        deadline = time.monotonic() + 10
        while (runs.read_text().count("run") < 3 or not marked_sleeps()) and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        assert marked_sleeps(), "run 3 did not start"
    finally:
        t0 = time.monotonic()
        stop_or_fail(gw)
    assert time.monotonic() - t0 < 5
    assert marked_sleeps() == []


def test_plugin_flooding_stdout_is_killed_at_once(pki, upstream, tmp_path, podterm):
    """A plugin printing more than KUBE_EXEC_OUTPUT_MAX is killed as soon as
    that is clear, not left blocked on a full pipe until the deadline."""
    plugin = tmp_path / "plugin.sh"
    plugin.write_text("#!/bin/sh\nexec yes\n")
    plugin.chmod(0o755)
    kc = kubeconfig(str(tmp_path), "kc", upstream.url.rstrip("/"), ca=f"{pki}/ca.crt",
                    exec_cmd=str(plugin))
    gw = podterm(["--kubeconfig", kc], name="gw-plugin-flood")
    t0 = time.monotonic()
    resp = http_request(gw.port, "GET", "/api/v1/pods", timeout=40)
    assert resp.status == 503 and "printed more than" in status_of(resp)["message"], resp
    assert time.monotonic() - t0 < 10
    assert gw.wait_for_baseline(10 ** 6)[1] == []  # reaped


# ---------------------------------------------------------------- finding 14: client CA reload

def tls_conn(port, pki, cert):
    """A Conn over TLS to 127.0.0.1:port presenting client certificate cert (a name in pki)."""
    ctx = ssl.create_default_context(cafile=f"{pki}/ca.crt")
    ctx.load_cert_chain(f"{cert}.crt", f"{cert}.key")
    raw = socket.create_connection(("127.0.0.1", port), timeout=15)
    tls = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    conn = Conn.__new__(Conn)
    conn.port, conn.sock, conn.buf, conn.timeout = port, tls, b"", 15
    return conn


def tls_get_version(port, pki, cert):
    conn = tls_conn(port, pki, cert)
    try:
        conn.sendall(b"GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        return read_response_head(conn, time.monotonic() + 15).status
    finally:
        conn.close()


def refused(port, pki, cert):
    try:
        return tls_get_version(port, pki, cert) != 200
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError, EOFError):
        return True


def test_client_ca_file_reloaded(pki, tmp_path, podterm):
    """Removing a CA from --client-ca-file refuses that CA's clients on their
    next connection; a session opened before keeps going (its handshake was
    checked when it happened, as with certificate rotation)."""
    from podterm_client import WebSocket, build_request, upgrade_headers, ws_key
    d = str(tmp_path)
    from conftest import make_ca
    make_ca(d, "ca2")
    make_cert(d, "ca2", "c2", "/CN=second", "extendedKeyUsage=clientAuth")
    cas = tmp_path / "client-cas.pem"
    cas.write_text(open(f"{pki}/clientca.crt").read() + open(f"{d}/ca2.crt").read())
    srv = podterm(tls_args(pki, "--client-ca-file", str(cas)), name="gw-ca-reload")
    c1, c2 = f"{pki}/client", f"{d}/c2"
    assert tls_get_version(srv.port, pki, c1) == 200
    assert tls_get_version(srv.port, pki, c2) == 200

    conn = tls_conn(srv.port, pki, c2)
    key = ws_key()
    conn.sendall(build_request("GET", exec_path(["cat"], stdin=True),
                               upgrade_headers(V5, (), key), host=f"127.0.0.1:{srv.port}"))
    resp = read_response_head(conn, time.monotonic() + 15)
    assert resp.status == 101, resp
    ws = WebSocket(conn, resp)
    with ws:
        assert ws.recv_message(time.monotonic() + 10)[1] == b"\x01"  # stdout's empty opener
        ws.send_channel(0, b"before\n")
        assert ws.recv_message(time.monotonic() + 10)[1] == b"\x01before\n"

        new = tmp_path / "new.pem"
        new.write_text(open(f"{pki}/clientca.crt").read())
        os.replace(new, cas)  # ca2 is gone
        deadline = time.monotonic() + 15
        while not refused(srv.port, pki, c2) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert refused(srv.port, pki, c2), "a client of the removed CA still gets in"
        assert tls_get_version(srv.port, pki, c1) == 200
        assert "reloaded the client CAs" in srv.output()

        ws.send_channel(0, b"after\n")  # the session from before goes on
        assert ws.recv_message(time.monotonic() + 10)[1] == b"\x01after\n"
        ws.send_binary(b"\xff\x00")
        t = ws.collect(10)
    assert json.loads(t.status()) == {"metadata": {}, "status": "Success"}


# ---------------------------------------------------------------- finding 12: per-client bounds

def header_constant(name):
    import re
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "src", "gateway",
                           "gateway.h")) as f:
        return int(re.search(rf"#define {name} (\d+)", f.read()).group(1))


class WatchProxy:
    """In front of the upstream podterm (which has no watches): a request with
    watch=1 gets a streaming 200 that never ends, as a real watch; anything
    else is relayed to the upstream unchanged."""

    def __init__(self, upstream_port):
        import threading
        self.upstream_port, self.held, self.watches = upstream_port, [], 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(512)
        self.port = self.sock.getsockname()[1]
        self.threading = threading
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.threading.Thread(target=self._one, args=(c,), daemon=True).start()

    def _one(self, c):
        self.held.append(c)
        head = b""
        try:
            while b"\r\n\r\n" not in head:
                chunk = c.recv(65536)
                if not chunk:
                    return
                head += chunk
            if b"watch=1" in head.split(b"\r\n", 1)[0]:
                self.watches += 1
                ev = b'{"type":"ADDED","object":{"kind":"Pod"}}\n'
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                          b"Transfer-Encoding: chunked\r\n\r\n" +
                          b"%x\r\n" % len(ev) + ev + b"\r\n")
                return  # held open until close()
            up = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=10)
            self.held.append(up)
            up.sendall(head)
            self.threading.Thread(target=self._pump, args=(up, c), daemon=True).start()
            self._pump(c, up)
        except OSError:
            pass

    @staticmethod
    def _pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self):
        self.sock.close()
        for c in self.held:
            try:
                c.close()
            except OSError:
                pass


def open_watch(port, token):
    conn = Conn(port, 15)
    conn.sendall(b"GET /api/v1/pods?watch=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 b"Authorization: Bearer " + token.encode() + b"\r\n\r\n")
    resp = read_response_head(conn, time.monotonic() + 15)
    assert resp.status == 200 and resp.header("Transfer-Encoding") == "chunked", resp
    return conn


def test_one_client_cannot_take_every_slot(pki, tmp_path, podterm):
    """Client A (one user) holds GATEWAY_CLIENT_REQUESTS_MAX watches; its next
    request gets 429 with Retry-After, while client B's GET and exec go
    through. When A lets one watch go, A is admitted again."""
    bound = header_constant("GATEWAY_CLIENT_REQUESTS_MAX")
    retry = header_constant("GATEWAY_RETRY_AFTER_S")
    users = tmp_path / "users.csv"
    users.write_text('token-of-ann,ann,1,\ntoken-of-bob,bob,2,\n')
    up = podterm(["--token-auth-file", f"{pki}/tokens.csv"], name="gw-slots-up")
    proxy = WatchProxy(up.port)
    held = []
    try:
        kc = kubeconfig(str(tmp_path), "kc", f"http://127.0.0.1:{proxy.port}",
                        token=UPSTREAM_TOKEN)
        gw = podterm(["--kubeconfig", kc, "--token-auth-file", str(users)], name="gw-slots")
        ann = [("Authorization", "Bearer token-of-ann")]
        bob = [("Authorization", "Bearer token-of-bob")]
        for _ in range(bound):
            held.append(open_watch(gw.port, "token-of-ann"))
        assert proxy.watches == bound

        resp = http_request(gw.port, "GET", "/api/v1/pods", headers=ann)
        assert resp.status == 429 and resp.header("Retry-After") == str(retry), resp
        st = status_of(resp)
        assert (st["reason"], st["code"], st["details"]) == (
            "TooManyRequests", 429, {"retryAfterSeconds": retry}), st
        assert str(bound) in st["message"], st
        resp, ws = ws_open(gw.port, exec_path(["true"]), V5, headers=ann)
        assert ws is None and resp.status == 429, resp
        with pytest.raises(AssertionError):
            open_watch(gw.port, "token-of-ann")
        assert proxy.watches == bound  # nothing more reached the upstream

        resp = http_request(gw.port, "GET", "/api/v1/pods", headers=bob)
        assert resp.status == 200 and json.loads(resp.body)["kind"] == "PodList", resp
        _, t = ws_exec(gw.port, exec_path(["echo", "bob-gets-in"]), V5, headers=bob)
        assert t.data(1) == b"bob-gets-in\n"

        held.pop().close()  # ann lets one go: her slot comes back
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            resp = http_request(gw.port, "GET", "/api/v1/pods", headers=ann)
            if resp.status != 429:
                break
            time.sleep(0.1)
        assert resp.status == 200, resp
    finally:
        for c in held:
            c.close()
        proxy.close()


def tls_anon_conn(port, pki, source):
    """A Conn over TLS to 127.0.0.1:port from the loopback address source."""
    ctx = ssl.create_default_context(cafile=f"{pki}/ca.crt")
    raw = socket.create_connection(("127.0.0.1", port), timeout=15, source_address=(source, 0))
    conn = Conn.__new__(Conn)
    conn.port, conn.sock, conn.buf, conn.timeout = port, ctx.wrap_socket(
        raw, server_hostname="127.0.0.1"), b"", 15
    return conn


def test_clients_behind_tls_front_counted_by_address(pki, tmp_path, podterm):
    """Anonymous gateway over HTTPS: the per-client bound counts the address
    the TLS terminator accepted, not its socketpair, so one address holding
    every one of its slots does not lock out a client from another address."""
    bound = header_constant("GATEWAY_CLIENT_REQUESTS_MAX")
    up = podterm(["--token-auth-file", f"{pki}/tokens.csv"], name="gw-tls-slots-up")
    proxy = WatchProxy(up.port)
    held = []
    try:
        kc = kubeconfig(str(tmp_path), "kc", f"http://127.0.0.1:{proxy.port}",
                        token=UPSTREAM_TOKEN)
        gw = podterm(tls_args(pki, "--kubeconfig", kc), name="gw-tls-slots")
        for _ in range(bound):
            conn = tls_anon_conn(gw.port, pki, "127.0.0.2")
            held.append(conn)
            conn.sendall(b"GET /api/v1/pods?watch=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            resp = read_response_head(conn, time.monotonic() + 15)
            assert resp.status == 200, resp
        assert proxy.watches == bound

        def get_pods(source):
            conn = tls_anon_conn(gw.port, pki, source)
            try:
                conn.sendall(b"GET /api/v1/pods HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                return read_response_head(conn, time.monotonic() + 15).status
            finally:
                conn.close()

        assert get_pods("127.0.0.2") == 429
        assert get_pods("127.0.0.1") == 200
    finally:
        for c in held:
            c.close()
        proxy.close()
