"""src/spdy against real kubectl, before any session uses it: a stub API
server on 127.0.0.1 answers kubectl's discovery and pod GET, refuses the
WebSocket upgrade (kubectl 1.30+ then falls back to SPDY, as it does
against an apiserver that refuses it), answers the SPDY upgrade with a 101
naming the protocol the test picks, and hands the socket to
podterm-spdy-stdio (tests/interop/spdy_stdio.c), which serves the exec with
the codec alone: streams, replies, stdin echoed as `cat` would, half-close,
the Status on the error stream.

Checks: a 1 MiB random stdin comes back byte for byte (spdystream keeps no
flow-control window: the codec must not wait for WINDOW_UPDATEs it will
never get), exit codes through v4's JSON Status, and v2's text Status."""
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse

import pytest

from kube_tools import KDIR, fresh_env

POD = {"kind": "Pod", "apiVersion": "v1",
       "metadata": {"name": "p", "namespace": "default"},
       "spec": {"containers": [{"name": "c", "image": "x"}]},
       "status": {"phase": "Running"}}
DISCOVERY = {
    "/api": {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []},
    "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": []},
    "/api/v1": {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
        {"name": "pods", "singularName": "pod", "namespaced": True, "kind": "Pod",
         "verbs": ["get", "list"]},
        {"name": "pods/exec", "singularName": "", "namespaced": True,
         "kind": "PodExecOptions", "verbs": ["create", "get"]}]},
    "/version": {"major": "1", "minor": "28", "gitVersion": "v1.28.0"},
}


def _tool():
    bin_ = os.environ.get("PODTERM_BIN", "build-asan/podterm")
    return os.path.join(os.path.dirname(os.path.abspath(bin_)), "podterm-spdy-stdio")


def _kubectls():
    """kubectl on PATH (1.30+: SPDY once WebSockets are refused), kubectl.1.27-1.29
    (SPDY by default) and kubectl.1.33 (whose fallback offers v5 first) when present."""
    out = [pytest.param(shutil.which("kubectl"), id="kubectl")]
    for v in ("1.27", "1.28", "1.29", "1.33"):
        path = os.path.join(KDIR, f"kubectl.{v}")
        out.append(pytest.param(path, id=f"kubectl.{v}", marks=pytest.mark.skipif(
            not os.access(path, os.X_OK), reason=f"{path} missing")))
    return out


def _status(code, command):
    """What the kubelet writes on the error stream for an exit code."""
    if code == 0:
        return {"v4": '{"metadata":{},"status":"Success"}', "v2": ""}
    msg = (f"command terminated with non-zero exit code: error executing command "
           f"[{' '.join(command)}], exit code {code}")
    v4 = json.dumps({"metadata": {}, "status": "Failure", "message": msg,
                     "reason": "NonZeroExitCode",
                     "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}},
                    separators=(",", ":"))
    return {"v4": v4, "v2": msg}


class Stub:
    """The stub API server; `proto` is the X-Stream-Protocol-Version it picks,
    `code` the exit code the Status reports."""

    def __init__(self, proto, code):
        self.proto, self.code = proto, code
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.tool_rcs, self.offers, self.stopped = [], [], False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn):
        buf = b""
        while b"\r\n\r\n" not in buf:
            d = conn.recv(65536)
            if not d:
                conn.close()
                return
            buf += d
        head, rest = buf.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        method, target = lines[0].split(" ")[:2]
        headers = [line.split(":", 1) for line in lines[1:]]
        low = {k.strip().lower(): v.strip() for k, v in headers}
        url = urllib.parse.urlsplit(target)
        if low.get("upgrade", "").lower() == "websocket":
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
                         b"Connection: close\r\n\r\n")
            conn.close()
            return
        if low.get("upgrade", "").lower() != "spdy/3.1":
            body = json.dumps(DISCOVERY.get(url.path, POD)).encode()
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n" % len(body) + body)
            conn.close()
            return
        q = urllib.parse.parse_qs(url.query)
        self.offers.append([v for k, v in headers if k.strip().lower() ==
                            "x-stream-protocol-version"])
        streams = 1 + sum(q.get(k, ["false"])[0] == "true" for k in ("stdin", "stdout", "stderr"))
        streams += q.get("tty", ["false"])[0] == "true"
        status = _status(self.code, q.get("command", []))[self.proto[:2]]
        conn.sendall(("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                      "Upgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: "
                      f"{self.proto}\r\n\r\n").encode())
        # bytes kubectl sent right after its head belong to the tool: none
        # are expected (it waits for the 101), so the socket is handed over
        assert rest == b""
        tool = subprocess.run([_tool(), str(streams), status], stdin=conn.fileno(),
                              stdout=conn.fileno(), stderr=subprocess.PIPE, timeout=120)
        self.tool_rcs.append((tool.returncode, tool.stderr.decode()))
        conn.close()

    def tool_results(self, n=1, timeout=20):
        """The tools' (exit status, stderr), once n of them ended: kubectl
        may exit before the tool has written its last byte."""
        deadline = time.monotonic() + timeout
        while len(self.tool_rcs) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.tool_rcs

    def stop(self):
        self.stopped = True
        self.sock.close()


@pytest.fixture
def stub(request):
    made = []

    def start(proto="v4.channel.k8s.io", code=0):
        s = Stub(proto, code)
        made.append(s)
        return s

    yield start
    for s in made:
        s.stop()


def _run(kubectl, stub_srv, tmp_path, args, data=None):
    env = fresh_env(str(tmp_path), stub_srv.port)
    return subprocess.run([kubectl, *args], input=data, env=env, capture_output=True,
                          timeout=120)


@pytest.mark.parametrize("kubectl", _kubectls())
def test_spdy_codec_stdin_roundtrip_1mib(kubectl, stub, tmp_path):
    assert os.access(_tool(), os.X_OK), f"{_tool()} missing: build podterm-spdy-stdio"
    srv = stub()
    data = os.urandom(1024 * 1024)
    r = _run(kubectl, srv, tmp_path, ["exec", "-i", "p", "--", "cat"], data)
    assert r.returncode == 0, r.stderr.decode()
    assert len(r.stdout) == len(data) and r.stdout == data
    assert srv.tool_results() == [(0, "")]
    assert "v4.channel.k8s.io" in ",".join(srv.offers[0])


@pytest.mark.parametrize("code", [0, 7, 42])
def test_spdy_codec_exit_code_v4(code, stub, tmp_path):
    srv = stub(code=code)
    r = _run(shutil.which("kubectl"), srv, tmp_path, ["exec", "p", "--", "sh", "-c", f"exit {code}"])
    assert r.returncode == code, r.stderr.decode()
    if code:
        assert (f"command terminated with exit code {code}").encode() in r.stderr
    assert srv.tool_results() == [(0, "")]


def test_spdy_codec_v2_text_status(stub, tmp_path):
    """v2.channel.k8s.io: stdin half-close, and the Status as text on failure."""
    srv = stub(proto="v2.channel.k8s.io", code=0)
    r = _run(shutil.which("kubectl"), srv, tmp_path, ["exec", "-i", "p", "--", "cat"], b"abc\n")
    assert (r.returncode, r.stdout) == (0, b"abc\n"), r.stderr.decode()
    srv = stub(proto="v2.channel.k8s.io", code=3)
    r = _run(shutil.which("kubectl"), srv, tmp_path, ["exec", "p", "--", "sh", "-c", "exit 3"])
    assert r.returncode == 1
    assert (b"command terminated with non-zero exit code: error executing command "
            b"[sh -c exit 3], exit code 3") in r.stderr


@pytest.mark.skipif(shutil.which("script") is None, reason="needs script (util-linux)")
@pytest.mark.parametrize("kubectl", _kubectls())
def test_spdy_codec_tty_resize(kubectl, stub, tmp_path):
    """exec -it under a pseudo-terminal of 100x30: error, stdin, stdout and
    resize streams (no stderr with a tty); the terminal's size arrives on
    the resize stream as JSON; ^D ends the "process"."""
    srv = stub()
    env = fresh_env(str(tmp_path), srv.port)
    cmd = f"stty cols 100 rows 30; exec {kubectl} exec -it p -- cat"
    proc = subprocess.Popen(["script", "-qec", cmd, "/dev/null"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 30
    while not srv.offers and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # kubectl puts the terminal in raw mode once streams are up
    out, err = proc.communicate(b"hi\x04", timeout=60)
    assert proc.returncode == 0, (out, err)
    rcs = srv.tool_results()
    assert len(rcs) == 1 and rcs[0][0] == 0, rcs
    assert '{"Width":100,"Height":30}' in rcs[0][1]
    assert b"hi" in out
