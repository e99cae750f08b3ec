"""Attach to a container's main process, and shutting down: SIGTERM must end
podterm with status 0 within 5 s whatever its children are doing."""
import re
import signal
import subprocess
import time

import pytest

from podterm_client import OP_BINARY, SUCCESS_STATUS, V5, assert_json_exact, exec_path, ws_open
from podterm_server import CLUSTER_CONFIG, Podterm

ATTACH_WEB = dict(ns="team-a", pod="web", container="app", verb="attach", stdin=True, tty=True)


def wait_children(srv, n=1, timeout=3.0):
    deadline = time.monotonic() + timeout
    while len(srv.children()) < n and time.monotonic() < deadline:
        time.sleep(0.05)
    return srv.children()


def sigterm_exit(srv, timeout=5.0):
    """Sends SIGTERM; returns (exit status or None if still running, seconds)."""
    t0 = time.monotonic()
    srv.proc.send_signal(signal.SIGTERM)
    try:
        return srv.proc.wait(timeout), time.monotonic() - t0
    except subprocess.TimeoutExpired:  # reported by the caller; the fixture kills it
        return None, time.monotonic() - t0


def pid_gone(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] == "Z"
    except FileNotFoundError:
        return True


def attach_and_run(srv, line, want, timeout=10):
    resp, ws = ws_open(srv.port, exec_path(**ATTACH_WEB), V5)
    assert resp.status == 101, resp
    ws.send_binary(b"\x00" + line)
    t = ws.collect(timeout, until=lambda t: want in t.data(1))
    ws.close()
    return t


@pytest.fixture(scope="module")
def pods():
    """One server for the attach tests (its main process then runs till the end)."""
    srv = Podterm(config=CLUSTER_CONFIG.replace(
        "      - name: sidecar\n", "      - name: sidecar\n        workingDir: /tmp\n"),
        name="test_lifecycle-pods")
    yield srv
    problems = srv.stop()
    if problems:
        pytest.fail(srv.describe(problems), pytrace=False)


def test_attach_initial_frame_and_io(pods):
    srv = pods
    resp, ws = ws_open(srv.port, exec_path(**ATTACH_WEB), V5)
    ws.send_binary(b"\x00echo attached-$((2+3))\n")
    t = ws.collect(10, until=lambda t: b"attached-5" in t.data(1))
    ws.close()
    assert t.messages[0] == (OP_BINARY, b"\x01"), t
    assert b"attached-5" in t.data(1), t


def test_detach_keeps_main_process(pods):
    pids = []
    for _ in range(2):
        t = attach_and_run(pods, b"echo pid-$$-$((1+1))\n", b"-2\r\n")
        m = re.search(rb"pid-(\d+)-2\r\n", t.data(1))
        assert m, t
        pids.append(m.group(1))
    assert pids[0] == pids[1], pids


def test_exec_in_pod_with_main_process(pods):
    resp, ws = ws_open(pods.port, exec_path(["echo", "exec-side"], ns="team-a", pod="web",
                                           container="app"), V5)
    t = ws.collect(10)
    ws.close()
    assert t.data(1) == b"exec-side\n"
    assert_json_exact(t.status(), SUCCESS_STATUS)


# SIGTERM drains (test_drain.py): these run with no grace, so the sessions
# end at once (their clients, idle here, do not answer the Close) and the
# server must still exit 0 with its children gone.
NO_GRACE = ["--shutdown-grace", "0"]


def test_sigterm_with_exec_running(podterm):
    srv = podterm(NO_GRACE)
    resp, ws = ws_open(srv.port, exec_path(["sleep", "60"], stdin=True), V5)
    kids = wait_children(srv)
    assert kids, "exec did not start"
    status, took = sigterm_exit(srv)
    ws.close()
    assert status == 0, f"exit {status} after {took:.1f} s (want 0 within 5 s)"
    assert all(pid_gone(k) for k in kids), f"exec children outlived the server: {kids}"


def test_sigterm_with_tty_shell_exec_running(podterm):
    srv = podterm(NO_GRACE)
    resp, ws = ws_open(srv.port, exec_path(["/bin/sh"], stdin=True, tty=True), V5)
    kids = wait_children(srv)
    assert kids, "exec did not start"  # else "children gone" below holds vacuously
    status, took = sigterm_exit(srv)
    ws.close()
    assert status == 0, f"exit {status} after {took:.1f} s (want 0 within 5 s)"
    assert all(pid_gone(k) for k in kids), f"exec children outlived the server: {kids}"


@pytest.mark.parametrize("connected", [False, True], ids=["detached", "attached"])
def test_sigterm_after_attach(podterm, connected):
    srv = podterm(NO_GRACE, config=CLUSTER_CONFIG)
    resp, ws = ws_open(srv.port, exec_path(**ATTACH_WEB), V5)
    ws.collect(5, until=lambda t: len(t.messages) >= 1)
    kids = wait_children(srv)
    assert kids, "attach did not start the main process"
    if not connected:
        ws.close()
        time.sleep(0.3)
    status, took = sigterm_exit(srv)
    ws.close()
    assert status == 0, (f"exit {status} after {took:.1f} s with the main process "
                         f"(interactive /bin/sh) running (want 0 within 5 s)")
    assert all(pid_gone(k) for k in kids), f"main process outlived the server: {kids}"


def test_working_dir(pods):
    resp, ws = ws_open(pods.port, exec_path(["pwd"], ns="team-a", pod="web",
                                           container="sidecar"), V5)
    t = ws.collect(10)
    ws.close()
    assert t.data(1) == b"/tmp\n", t
