"""Graceful drain on SIGTERM: readiness turns false at once, the listener
stops accepting, open sessions get --shutdown-grace to end by themselves and
are then ended with a Status ("podterm is shutting down") and Close 1001;
the process exits 0 with every child reaped. A second SIGTERM (or SIGINT)
ends at once; with no session open SIGTERM ends at once, as before."""
import base64
import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from kube_tools import fresh_env, kbin
from podterm_client import (V4, V5, Conn, build_request, exec_path, read_response_body,
                            read_response_head, ws_open)
from podterm_server import CLUSTER_CONFIG

HERE = os.path.dirname(os.path.abspath(__file__))
WSCAT = os.path.join(HERE, "..", "node_modules", ".bin", "wscat")
GRACE_S = 2
SHUTDOWN_STATUS = {
    "metadata": {}, "status": "Failure",
    "message": "Internal error occurred: podterm is shutting down",
    "reason": "InternalError",
    "details": {"causes": [{"message": "podterm is shutting down"}]},
    "code": 500,
}
READYZ_DRAINING = b"[+]ping ok\n[-]shutdown failed: reason withheld\nreadyz check failed\n"


def wait_until(fn, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(step)
    return fn()


def open_ws(srv, path, protocol=V5):
    resp, ws = ws_open(srv.port, path, [protocol])
    assert ws is not None, resp
    return ws


def collect(ws, timeout=30):
    t = ws.collect(timeout)
    return t, time.monotonic()


def pre_connected(port, n):
    """n TCP connections the listener accepted before the signal (a probe on
    its way): their request goes out after it."""
    conns = [Conn(port, 10) for _ in range(n)]
    time.sleep(0.3)  # accepted by now: the listener accepts as soon as the loop runs
    return conns


def ask(conn, path):
    deadline = time.monotonic() + 10
    conn.sendall(build_request("GET", path, host="127.0.0.1"))
    resp = read_response_head(conn, deadline)
    resp.body = read_response_body(conn, resp, deadline)
    conn.close()
    return resp


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_drain_under_live_sessions(podterm, tmp_path):
    srv = podterm(["--shutdown-grace", f"{GRACE_S}s"], config=CLUSTER_CONFIG)
    sessions = {}
    # raw clients: exact Status and close code
    for i in range(3):
        sessions[f"v5-{i}"] = open_ws(srv, exec_path(["sleep", "60"]), V5)
    sessions["v4"] = open_ws(srv, exec_path(["sleep", "60"]), V4)
    sessions["tty"] = open_ws(srv, exec_path(["sleep", "60"], stdin=True, tty=True), V5)
    sessions["attach"] = open_ws(srv, exec_path(ns="team-a", pod="web", container="app",
                                                stdin=True, tty=True, verb="attach"), V5)
    # ends by itself during the grace: a normal end
    sessions["short"] = open_ws(srv, exec_path(["sh", "-c", "sleep 1; echo done"]), V5)
    # real clients
    kubectls = [subprocess.Popen([kbin("1.33"), "exec", "local", "--", "sleep", "60"],
                                 env=fresh_env(str(tmp_path), srv.port), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for _ in range(2)]
    # and one over SPDY (kubectl 1.28): the same Status, on its error stream
    spdy = subprocess.Popen([kbin("1.28"), "exec", "local", "--", "sleep", "60"],
                            env=fresh_env(str(tmp_path), srv.port), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    wscat = None
    if os.path.exists(WSCAT):
        url = (f"ws://127.0.0.1:{srv.port}/api/v1/namespaces/default/pods/local/exec?"
               "command=sleep&command=60&stdout=1")
        wscat = subprocess.Popen([WSCAT, "-c", url, "-s", "base64.channel.k8s.io"],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
    want = len(sessions) + len(kubectls) + 1 + (1 if wscat else 0)
    # every session's process runs (sleep 60 x7, sh, the attached main process)
    assert wait_until(lambda: len(srv.children()) >= want - 1, 20), srv.children()
    time.sleep(0.5)
    children = set(srv.children())
    probes = pre_connected(srv.port, 8)

    with ThreadPoolExecutor(len(sessions)) as pool:
        ends = {k: pool.submit(collect, ws) for k, ws in sessions.items()}
        t0 = time.monotonic()
        os.kill(srv.pid, signal.SIGTERM)
        # readiness is false at once: probes that were on their way see 500
        # (the very first may be read in the loop turn before the signal's;
        # counted in probes, not milliseconds, which a loaded machine stretches)
        seen = []
        while probes[2:] and not (seen and seen[-1][0].status == 500):
            seen.append((ask(probes.pop(0), "/readyz?verbose"), time.monotonic() - t0))
            time.sleep(0.01)
        resp, took = seen[-1]
        assert resp.status == 500 and resp.body == READYZ_DRAINING, seen
        assert len(seen) <= 2, f"readyz 500 only at probe {len(seen)} ({took * 1000:.0f} ms): {seen}"
        assert ask(probes.pop(0), "/readyz").body == READYZ_DRAINING
        assert ask(probes.pop(0), "/livez").body == b"ok"  # alive, just not ready
        for c in probes:
            c.close()
        # no new connections
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", srv.port), timeout=2)
        got = {k: f.result() for k, f in ends.items()}

    # the session that ended by itself: its output, Success, Close 1000
    t, when = got.pop("short")
    assert t.data(1) == b"done\n" and json.loads(t.status()) == {"metadata": {},
                                                                 "status": "Success"}, t
    assert t.close_code == 1000 and when - t0 < GRACE_S, (t, when - t0)
    # the others: the final Status, Close 1001, after the grace
    for k, (t, when) in got.items():
        assert json.loads(t.status()) == SHUTDOWN_STATUS, (k, t)
        assert t.close_code == 1001, (k, t)
        assert GRACE_S - 0.2 <= when - t0 <= GRACE_S + 3, (k, when - t0)
    for p in kubectls:
        out, err = p.communicate(timeout=20)
        # client-go reads the error stream to its end, and a close other than
        # 1000 ends it with an error that drops what it held: kubectl reports
        # the going-away close instead of the Status (kubectl 1.33)
        assert p.returncode == 1 and "close 1001 (going away)" in err, (p.returncode, err)
    out, err = spdy.communicate(timeout=20)
    assert (spdy.returncode, err) == (1, "error: Internal error occurred: podterm is shutting "
                                         "down\n"), (spdy.returncode, err)
    if wscat:
        out, err = wscat.communicate(timeout=20)
        status = [line for line in out.split(b"\n") if line.startswith(b"3")]
        # the pre-v4 protocols carry the Status's message as text
        assert status and base64.b64decode(status[-1][1:]) == SHUTDOWN_STATUS[
            "message"].encode(), out
        assert wscat.returncode == 0, (wscat.returncode, err)  # piped, it prints no close line
    # exit 0, nothing left behind
    srv.proc.wait(10)
    print(f"exited {time.monotonic() - t0:.2f} s after SIGTERM (grace {GRACE_S} s)")
    assert srv.proc.returncode == 0, srv.output()[-2000:]
    assert wait_until(lambda: not [p for p in children if alive(p)], 5), \
        [p for p in children if alive(p)]
    assert "sessions ended, shutting down" in srv.output()


def test_second_signal_ends_at_once(podterm, tmp_path):
    for second in (signal.SIGTERM, signal.SIGINT):
        srv = podterm(["--shutdown-grace", "60s"])
        ws = open_ws(srv, exec_path(["sleep", "60"]))
        # a SPDY session too (kubectl 1.28): its connection is not lws's to close
        spdy = subprocess.Popen([kbin("1.28"), "exec", "local", "--", "sleep", "60"],
                                env=fresh_env(str(tmp_path), srv.port), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        assert wait_until(lambda: len(srv.children()) >= 2, 20)
        kids = srv.children()
        t0 = time.monotonic()
        os.kill(srv.pid, signal.SIGTERM)
        time.sleep(0.3)
        assert srv.alive()  # draining, 60 s grace
        os.kill(srv.pid, second)
        srv.proc.wait(10)
        assert srv.proc.returncode == 0 and time.monotonic() - t0 < 5
        assert ws.wait_closed(5)
        # cut, not told: client-go takes streams that end without a Status
        # for success (rc 0); what matters is that it ended with the process
        spdy.communicate(timeout=20)
        assert wait_until(lambda: not [p for p in kids if alive(p)], 5)


def test_no_sessions_ends_at_once(podterm):
    srv = podterm(["--shutdown-grace", "60s"])
    t0 = time.monotonic()
    os.kill(srv.pid, signal.SIGTERM)
    srv.proc.wait(10)
    assert srv.proc.returncode == 0 and time.monotonic() - t0 < 3


def test_signals_during_the_final_shutdown_are_ignored(podterm, tmp_path):
    """Once shutting down, podterm flushes its audit log and exits 0. A
    signal that came then (Ctrl-C pressed again, a supervisor repeating
    SIGTERM) used to meet the default action, libuv's handler being gone:
    killed by the signal, the audit's last lines unwritten."""
    audit = tmp_path / "audit.log"
    srv = podterm(["--shutdown-grace", "60s", "--audit-log-path", str(audit)])
    ws = open_ws(srv, exec_path(["true"], stdin=False))
    ws.collect(10)
    deadline = time.monotonic() + 10
    while srv.alive() and time.monotonic() < deadline:
        try:
            os.kill(srv.pid, signal.SIGTERM)
        except ProcessLookupError:
            break
        time.sleep(0.002)
    srv.proc.wait(10)
    assert srv.proc.returncode == 0
    assert [json.loads(l)["stage"] for l in audit.read_text().splitlines()][-1] == "ResponseComplete"


def test_connection_without_a_head_does_not_hold_the_exit(podterm):
    """A connection that has sent no (or half a) request head is dropped at
    shutdown: it used to keep podterm for the listener's 10 s head timeout
    (a proxy that opens a connection ahead of its client does that)."""
    srv = podterm(["--shutdown-grace", "60s"])
    idle = socket.create_connection(("127.0.0.1", srv.port))
    half = socket.create_connection(("127.0.0.1", srv.port))
    half.sendall(b"GET /api HTTP/1.1\r\nHost: x\r\n")
    time.sleep(0.3)  # both accepted and waiting for their heads
    t0 = time.monotonic()
    os.kill(srv.pid, signal.SIGTERM)
    srv.proc.wait(10)
    took = time.monotonic() - t0
    assert srv.proc.returncode == 0 and took < 3, took
    for s in (idle, half):
        s.settimeout(5)
        assert s.recv(1) == b""  # hung up, not left open
        s.close()


@pytest.mark.parametrize("arg", ["", "-1s", "5x", "1e3", "0x10", "25h"])
def test_bad_grace_refused(arg):
    from podterm_server import BIN, sanitizer_env
    r = subprocess.run([BIN, "--listen", "127.0.0.1:0", "--shutdown-grace", arg],
                       capture_output=True, text=True, timeout=20, env=sanitizer_env())
    assert r.returncode == 2 and "--shutdown-grace wants a duration" in r.stderr, r


def test_drain_over_https(podterm, tmp_path):
    """With TLS the final Status and Close pass through the TLS terminator
    before the server goes (kubectl saw 1006 when it was cut first), and the
    TLS listener refuses new connections while the session runs on."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(tmp_path / "k.pem"), "-out", str(tmp_path / "c.pem"), "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    srv = podterm(["--tls-cert-file", str(tmp_path / "c.pem"), "--tls-private-key-file",
                   str(tmp_path / "k.pem"), "--token-auth-file", "{dir}/tokens.csv",
                   "--shutdown-grace", "1s"],
                  files={"tokens.csv": "tok-drain-0123456789,alice,1\n"})
    home = tmp_path / "home"
    home.mkdir()
    kc = home / "kubeconfig"
    kc.write_text("apiVersion: v1\nkind: Config\ncurrent-context: c\n"
                  "contexts:\n- name: c\n  context: {cluster: k, user: u, namespace: default}\n"
                  f"clusters:\n- name: k\n  cluster: {{server: 'https://127.0.0.1:{srv.port}', "
                  "insecure-skip-tls-verify: true}\n"
                  "users:\n- name: u\n  user: {token: tok-drain-0123456789}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBECTL_")}
    env.update(HOME=str(home), KUBECONFIG=str(kc))
    p = subprocess.Popen([kbin("1.33"), "exec", "local", "--", "sh", "-c", "echo up; sleep 60"],
                         env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline() == "up\n"
    kids = srv.children()
    t0 = time.monotonic()
    os.kill(srv.pid, signal.SIGTERM)
    time.sleep(0.2)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", srv.port), timeout=2)
    out, err = p.communicate(timeout=20)
    assert p.returncode == 1 and "close 1001 (going away)" in err, err
    srv.proc.wait(10)
    assert srv.proc.returncode == 0 and 1 <= time.monotonic() - t0 < 5
    assert wait_until(lambda: not [k for k in kids if alive(k)], 5)
