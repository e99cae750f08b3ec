"""Attach to a container's main process with several clients at once
(local_attach.c): output fanned out to every attached client, input from each
of them, one client's v5 close signal ending only its own input, the end of the
process ending every attached stream with Success, and the forced drain when a
grandchild keeps the output open after the main process exited."""
import time

import pytest

from podterm_client import SUCCESS_STATUS, V5, assert_json_exact, exec_path, ws_open

CONFIG = """\
pods:
  - name: fan
    containers:
      - name: echo
        command: ["sh", "-c", "while read l; do echo got-$l; done"]
        stdin: true
  - name: short
    containers:
      - name: main
        command: ["sh", "-c", "read x; echo bye-$x; exit 0"]
        stdin: true
  - name: leaky
    containers:
      - name: main
        command: ["sh", "-c", "read x; (while :; do echo tick; sleep 0.05; done) & echo main-done; exit 0"]
        stdin: true
"""
DRAIN_GRACE_S = 0.2  # LOCAL_DRAIN_GRACE_MS


@pytest.fixture
def pods(podterm):
    return podterm(config=CONFIG)


def attach(srv, pod, container, stdin=True):
    resp, ws = ws_open(srv.port, exec_path(pod=pod, container=container, verb="attach",
                                           stdin=stdin), V5)
    assert ws is not None, resp
    return ws


def read_until(ws, want, timeout=10):
    return ws.collect(timeout, until=lambda t: want in t.data(1))


def test_output_fans_out_and_input_comes_from_each(pods):
    a = attach(pods, "fan", "echo")
    b = attach(pods, "fan", "echo")
    try:
        a.send_channel(0, b"one\n")
        assert b"got-one\n" in read_until(a, b"got-one\n").data(1)
        assert b"got-one\n" in read_until(b, b"got-one\n").data(1)
        b.send_channel(0, b"two\n")
        assert b"got-two\n" in read_until(a, b"got-two\n").data(1)
        assert b"got-two\n" in read_until(b, b"got-two\n").data(1)
    finally:
        a.close()
        b.close()


def test_close_signal_ends_only_that_clients_input(pods):
    """stdinOnce=false: [0xFF, 0] from one client does not close the process's
    stdin; another client (or the next attach) still types into it."""
    a = attach(pods, "fan", "echo")
    try:
        a.send_channel(0, b"first\n")
        read_until(a, b"got-first\n")
        a.send_binary(b"\xff\x00")
        time.sleep(DRAIN_GRACE_S)
        b = attach(pods, "fan", "echo")
        try:
            b.send_channel(0, b"after-close\n")
            assert b"got-after-close\n" in read_until(b, b"got-after-close\n").data(1)
            assert b"got-after-close\n" in read_until(a, b"got-after-close\n").data(1)
        finally:
            b.close()
    finally:
        a.close()


def test_process_end_ends_every_attached_stream(pods):
    a = attach(pods, "short", "main")
    b = attach(pods, "short", "main", stdin=False)
    try:
        a.send_channel(0, b"x\n")
        for ws in (a, b):
            t = ws.collect(10)
            assert t.data(1) == b"bye-x\n", t
            assert_json_exact(t.status(), SUCCESS_STATUS)
            assert t.close_code == 1000 and t.eof, t
    finally:
        a.close()
        b.close()


def test_forced_drain_when_a_grandchild_keeps_output_open(pods):
    """The main process exits but a background child keeps writing to the
    output it inherited: the stream still ends (Success, Close 1000) shortly
    after the drain grace instead of never."""
    a = attach(pods, "leaky", "main")
    try:
        a.send_channel(0, b"\n")
        t0 = time.monotonic()
        t = a.collect(15)
        took = time.monotonic() - t0
        assert b"main-done\n" in t.data(1), t
        assert_json_exact(t.status(), SUCCESS_STATUS)
        assert t.close_code == 1000 and t.eof, t
        assert took < 5, took
    finally:
        a.close()
