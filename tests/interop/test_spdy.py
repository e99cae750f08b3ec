"""SPDY/3.1 exec and attach with real kubectl: 1.27, 1.28 and 1.29 by
default, and 1.33 with KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false or behind a
proxy that refuses WebSocket upgrades (its own fallback). Local mode here;
tests/gateway/test_gateway_spdy.py runs the same cases through a gateway.

The cases are functions of (kctl, version), so both suites share them:
kctl(version, *args, stdin=None, env_extra=None) runs kubectl against the
server under test and returns the CompletedProcess (bytes)."""
import hashlib
import json
import os
import subprocess
import time
import types

import pytest

from kube_tools import fresh_env, kbin, tmux_attach_it, tmux_exec_it
from podterm_server import CLUSTER_CONFIG, Podterm
from recorder import Recorder

# (kubectl version, KUBECTL_REMOTE_COMMAND_WEBSOCKETS): every kubectl that speaks SPDY
# to podterm when left to its defaults, and 1.33 told to.
SPDY_CLIENTS = [("1.27", None), ("1.28", None), ("1.29", None), ("1.33", "false")]
SPDY_IDS = ["1.27", "1.28", "1.29", "1.33-ws-off"]


def env_extra(ws):
    return {"KUBECTL_REMOTE_COMMAND_WEBSOCKETS": ws} if ws else {}


# ---------------------------------------------------------------- shared cases

def case_exit_codes(kctl, v, ws):
    for code in (0, 7, 42):
        r = kctl(v, "exec", "local", "--", "sh", "-c", f"echo out; echo err >&2; exit {code}",
                 env_extra=env_extra(ws))
        assert r.returncode == code, r.stderr
        assert r.stdout == b"out\n", r.stdout
        if code:
            assert r.stderr == f"err\ncommand terminated with exit code {code}\n".encode(), r.stderr
        else:
            assert r.stderr == b"err\n", r.stderr


def case_stdin_round_trip(kctl, v, ws):
    data = os.urandom(1 << 20)
    r = kctl(v, "exec", "-i", "local", "--", "cat", stdin=data, env_extra=env_extra(ws))
    assert (r.returncode, r.stderr) == (0, b""), r.stderr
    assert hashlib.sha256(r.stdout).hexdigest() == hashlib.sha256(data).hexdigest()
    assert len(r.stdout) == len(data)
    # EOF reaches the process: wc counts and exits
    r = kctl(v, "exec", "-i", "local", "--", "wc", "-c", stdin=b"12345", env_extra=env_extra(ws))
    assert (r.returncode, r.stdout.strip()) == (0, b"5"), r.stderr


def case_not_found(kctl, v, ws):
    r = kctl(v, "exec", "nope", "--", "true", env_extra=env_extra(ws))
    assert r.returncode == 1
    assert r.stderr == b'Error from server (NotFound): pods "nope" not found\n', r.stderr
    r = kctl(v, "exec", "local", "-c", "nope", "--", "true", env_extra=env_extra(ws))
    assert r.returncode == 1
    assert r.stderr == (b"Error from server (BadRequest): container nope is not valid for pod "
                        b"local\n"), r.stderr


def case_cp_both_ways(kctl, v, ws, tmp):
    data = os.urandom(5_000_000)
    src = os.path.join(tmp, f"up-{v}")
    with open(src, "wb") as f:
        f.write(data)
    remote = f"/tmp/podterm-spdy-cp-{os.getpid()}-{time.monotonic_ns()}"
    try:
        r = kctl(v, "cp", src, f"local:{remote}", env_extra=env_extra(ws), timeout=120)
        assert r.returncode == 0, r.stderr
        r = kctl(v, "exec", "local", "--", "sha256sum", remote, env_extra=env_extra(ws))
        assert r.stdout.split()[0].decode() == hashlib.sha256(data).hexdigest(), r
        back = os.path.join(tmp, f"down-{v}")
        r = kctl(v, "cp", f"local:{remote}", back, env_extra=env_extra(ws), timeout=120)
        assert r.returncode == 0, r.stderr
        with open(back, "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == hashlib.sha256(data).hexdigest()
    finally:
        kctl(v, "exec", "local", "--", "rm", "-f", remote, env_extra=env_extra(ws))


case_exec_it = tmux_exec_it
case_attach_it = tmux_attach_it


# ---------------------------------------------------------------- local mode

@pytest.fixture(scope="module")
def kube(tmp_path_factory):
    srv = Podterm(config=CLUSTER_CONFIG, args=["--audit-log-path", "{dir}/audit.log"],
                  name="test_spdy")
    rec = Recorder(srv.port)
    tmp = str(tmp_path_factory.mktemp("spdy"))
    yield types.SimpleNamespace(srv=srv, rec=rec, tmp=tmp)
    rec.close()
    problems = srv.stop()
    if problems:
        pytest.fail(srv.describe(problems), pytrace=False)


def make_kctl(kube, port=None):
    def kctl(version, *args, stdin=None, env_extra=None, timeout=60):
        env = fresh_env(kube.tmp, port or kube.rec.port, env_extra)
        return subprocess.run([kbin(version), *args], input=stdin, env=env, capture_output=True,
                              timeout=timeout)
    return kctl


def assert_spdy_only(kube):
    reqs = kube.rec.exec_requests()
    assert reqs, "no exec request reached the server"
    for q in reqs:
        assert (q.method, q.header("Upgrade"), q.header("Connection")) == (
            "POST", "SPDY/3.1", "Upgrade"), reqs
        offers = [v for k, v in q.headers if k.lower() == "x-stream-protocol-version"]
        assert offers[-4:] == ["v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io",
                               "channel.k8s.io"], offers


@pytest.mark.parametrize("v,ws", SPDY_CLIENTS, ids=SPDY_IDS)
def test_spdy_exit_codes(kube, v, ws):
    kube.rec.clear()
    case_exit_codes(make_kctl(kube), v, ws)
    assert_spdy_only(kube)


@pytest.mark.parametrize("v,ws", SPDY_CLIENTS, ids=SPDY_IDS)
def test_spdy_stdin_round_trip(kube, v, ws):
    kube.rec.clear()
    case_stdin_round_trip(make_kctl(kube), v, ws)
    assert_spdy_only(kube)


@pytest.mark.parametrize("v,ws", SPDY_CLIENTS, ids=SPDY_IDS)
def test_spdy_not_found(kube, v, ws):
    case_not_found(make_kctl(kube), v, ws)


@pytest.mark.parametrize("v,ws", SPDY_CLIENTS, ids=SPDY_IDS)
def test_spdy_cp_both_ways(kube, v, ws):
    case_cp_both_ways(make_kctl(kube), v, ws, kube.tmp)


@pytest.mark.parametrize("v", ["1.27", "1.28", "1.29"])
def test_spdy_exec_it_terminal_and_resize(kube, v):
    kube.rec.clear()
    case_exec_it(fresh_env(kube.tmp, kube.rec.port), kube.tmp, v)
    reqs = kube.rec.exec_requests()
    assert len(reqs) == 1 and "tty=true" in reqs[0].path, reqs
    assert_spdy_only(kube)


@pytest.mark.parametrize("v", ["1.27", "1.29"])
def test_spdy_attach_it(kube, v):
    kube.rec.clear()
    case_attach_it(fresh_env(kube.tmp, kube.rec.port), kube.tmp, v)
    reqs = kube.rec.exec_requests()
    assert len(reqs) == 1 and reqs[0].path.split("?")[0].endswith("/attach"), reqs
    assert_spdy_only(kube)


def test_spdy_session_is_audited_like_a_websocket_one(kube):
    """The same admission and audit: ResponseStarted 101, ResponseComplete with
    the exit code and the bytes, for a SPDY exec."""
    r = make_kctl(kube)("1.28", "exec", "-i", "local", "--", "sh", "-c", "cat; exit 5",
                        stdin=b"spdy-audit")
    assert (r.returncode, r.stdout) == (5, b"spdy-audit"), r.stderr
    deadline = time.monotonic() + 10
    while True:
        with open(os.path.join(kube.srv.dir, "audit.log")) as f:
            events = [json.loads(line) for line in f if line.strip()]
        done = [e for e in events if e.get("stage") == "ResponseComplete" and
                "cat; exit 5" in e.get("annotations", {}).get("podterm.dev/command", "")]
        if done or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert len(done) == 1, events[-3:]
    e = done[0]
    assert (e["verb"], e["responseStatus"]["code"]) == ("create", 101), e
    a = e["annotations"]
    assert (a["podterm.dev/exit-code"], a["podterm.dev/end-reason"],
            a["podterm.dev/bytes-stdin"], a["podterm.dev/bytes-stdout"]) == ("5", "exit", "10", "10"), a


def test_1_33_falls_back_to_spdy_when_websockets_are_refused(kube):
    """kubectl 1.30+ retries over SPDY when its WebSocket upgrade is refused
    (a proxy that cannot pass WebSockets): the command runs once, its output
    comes once."""
    rec = Recorder(kube.srv.port, refuse_websocket=True)
    try:
        kctl = make_kctl(kube, port=rec.port)
        r = kctl("1.33", "exec", "-i", "local", "--", "sh", "-c", "cat; echo ran >&2; exit 4",
                 stdin=b"through-the-fallback")
        assert (r.returncode, r.stdout) == (4, b"through-the-fallback"), r.stderr
        assert r.stderr == b"ran\ncommand terminated with exit code 4\n", r.stderr
        reqs = rec.exec_requests()
        assert [(q.method, (q.header("Upgrade") or "").lower()) for q in reqs] == [
            ("GET", "websocket"), ("POST", "spdy/3.1")], reqs
    finally:
        rec.close()


def test_websocket_refusal_is_not_run_again_over_spdy(kube):
    """A WebSocket exec podterm refuses (unknown container) is retried over
    SPDY by kubectl 1.30+ and refused there the same way: one error line, the
    apiserver's, and nothing ran."""
    kube.rec.clear()
    r = make_kctl(kube)("1.33", "exec", "local", "-c", "nope", "--", "true")
    assert r.returncode == 1
    assert r.stderr == (b"Error from server (BadRequest): container nope is not valid for pod "
                        b"local\n"), r.stderr
    assert [(q.method, (q.header("Upgrade") or "").lower()) for q in kube.rec.exec_requests()] == [
        ("GET", "websocket"), ("POST", "spdy/3.1")]


# ---------------------------------------------------------------- the handshake, raw

SPDY_HEADERS = [("Connection", "Upgrade"), ("Upgrade", "SPDY/3.1")]


def raw_upgrade(port, offers, path=None):
    """The response head (bytes) to a SPDY exec upgrade offering these versions."""
    import socket
    from podterm_client import build_request, exec_path
    headers = SPDY_HEADERS + [("X-Stream-Protocol-Version", v) for v in offers]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(build_request("POST", path or exec_path(["true"]), headers,
                                host=f"127.0.0.1:{port}"))
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        if not data.startswith(b"HTTP/1.1 101"):
            s.settimeout(2)
            try:
                while chunk:
                    chunk = s.recv(4096)
                    data += chunk
            except OSError:
                pass
        return data


def test_spdy_101_names_the_version(kube):
    head = raw_upgrade(kube.srv.port, ["v4.channel.k8s.io", "channel.k8s.io"])
    assert head == (b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                    b"Upgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n")
    head = raw_upgrade(kube.srv.port, ["v9.channel.k8s.io", "v2.channel.k8s.io"])
    assert head.endswith(b"X-Stream-Protocol-Version: v2.channel.k8s.io\r\n\r\n"), head


def status_of(resp):
    head, _, body = resp.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0], json.loads(body)


def test_spdy_refusals_are_statuses(kube):
    line, st = status_of(raw_upgrade(kube.srv.port, ["v9.channel.k8s.io", "bogus"]))
    assert line == b"HTTP/1.1 403 Forbidden", line
    assert (st["reason"], st["code"], st["message"]) == (
        "Forbidden", 403, "unable to upgrade: unable to negotiate protocol: client supports "
        "[v9.channel.k8s.io bogus], server accepts [v5.channel.k8s.io v4.channel.k8s.io "
        "v3.channel.k8s.io v2.channel.k8s.io channel.k8s.io]"), st
    line, st = status_of(raw_upgrade(kube.srv.port, []))
    assert (line, st["reason"], st["message"]) == (
        b"HTTP/1.1 400 Bad Request", "BadRequest",
        "unable to upgrade: X-Stream-Protocol-Version is required"), st
    # the pod is looked up first, as the apiserver does
    from podterm_client import exec_path
    line, st = status_of(raw_upgrade(kube.srv.port, ["bogus"], exec_path(["true"], pod="nope")))
    assert (line, st["reason"], st["message"]) == (
        b"HTTP/1.1 404 Not Found", "NotFound", 'pods "nope" not found'), st


# ---------------------------------------------------------------- keepalive

def test_spdy_client_that_goes_silent_is_hung_up_on():
    """--ping-interval over SPDY: podterm PINGs a quiet client and hangs up on
    one that answers nothing for an interval after it (a dropped network
    sends no reset); its process ends, and the log says why. A client that
    answers (kubectl does, and pings itself) is left alone (test_spdy_* above
    run with the default 20 s)."""
    import socket
    from podterm_client import exec_path
    from spdy_client import Deflater, Reader, syn_stream, upgrade_request
    srv = Podterm(["--ping-interval", "1s"], config=CLUSTER_CONFIG, name="spdy-keepalive")
    try:
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        s.sendall(upgrade_request(srv.port, exec_path(["sleep", "60"], stdin=True)))
        head = b""
        while b"\r\n\r\n" not in head:
            head += s.recv(4096)
        assert head.startswith(b"HTTP/1.1 101"), head
        d = Deflater()
        for i, t in enumerate(["error", "stdin", "stdout"]):
            s.sendall(syn_stream(d, 2 * i + 1, t))
        deadline = time.monotonic() + 10
        while not srv.children() and time.monotonic() < deadline:
            time.sleep(0.05)
        kids = srv.children()
        assert kids, "the exec never started"
        t0 = time.monotonic()
        r = Reader(s)
        r.buf = head.split(b"\r\n\r\n", 1)[1]
        r.pump(10, until=lambda x: x.eof)
        took = time.monotonic() - t0
        assert r.eof and r.pings and r.pings[0] % 2 == 0, (r.eof, r.pings)  # a server's ids are even
        assert took < 5, took
        deadline = time.monotonic() + 5
        while any(os.path.exists(f"/proc/{k}") for k in kids) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(os.path.exists(f"/proc/{k}") for k in kids), kids
        deadline = time.monotonic() + 5
        while "endReason=client-unresponsive" not in srv.output() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "endReason=client-unresponsive" in srv.output()
        s.close()
    finally:
        problems = srv.stop()
    assert not problems, srv.describe(problems)
