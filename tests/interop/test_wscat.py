"""The seed's wscat command, with the real wscat 6.1 from tests/node_modules:
a Bearer HS512 JWT with sub=admin, base64.channel.k8s.io, an interactive
shell driven through wscat's stdin."""
import base64
import os
import queue
import re
import subprocess
import threading
import time

import pytest

from podterm_client import mint_jwt

HERE = os.path.dirname(os.path.abspath(__file__))
WSCAT = os.path.join(HERE, "..", "node_modules", ".bin", "wscat")
SECRET = b"wscat-interop-secret-0123456789-abcdefghijklmnop"
SEED_QUERY = "container=shell&stdin=1&stdout=1&stderr=1&tty=1&command=/bin/sh"


@pytest.fixture
def jwt_server(podterm):
    if not os.path.exists(WSCAT):
        pytest.fail("wscat missing: run `cd tests && npm ci`")
    return podterm(["--jwt-key-file", "{dir}/jwt.key"], files={"jwt.key": SECRET})


def seed_url(srv, query=SEED_QUERY):
    return f"ws://127.0.0.1:{srv.port}/api/v1/namespaces/default/pods/local/exec?{query}"


class Wscat:
    """wscat with piped stdio (it then prints each message on its own line)."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([WSCAT, *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            # after each line it sends, wscat's readline writes its "> " prompt
            # to stdout, so the next message's line may start with it
            self.lines.put(re.sub(rb"^(> )+", b"", line.rstrip(b"\n")))
        self.lines.put(None)

    def next_line(self, deadline):
        return self.lines.get(timeout=max(0.01, deadline - time.monotonic()))

    def send(self, text):
        self.proc.stdin.write(text.encode() + b"\n")
        self.proc.stdin.flush()

    def finish(self, timeout=10):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = "timeout"
        return rc, self.proc.stderr.read().decode(errors="replace")


def read_until(w, want, timeout=10):
    """Decodes '1'-frames until `want` is in the output; returns (output, lines)."""
    deadline = time.monotonic() + timeout
    out, lines = b"", []
    while want not in out:
        line = w.next_line(deadline)
        if line is None:
            break
        lines.append(line)
        if line[:1] == b"1":
            out += base64.b64decode(line[1:])
    return out, lines


def test_seed_command_base64_interactive_shell(jwt_server):
    token = mint_jwt(SECRET, sub="admin", alg="HS512")
    w = Wscat("-c", seed_url(jwt_server), "-H", f"Authorization: Bearer {token}",
              "-s", "base64.channel.k8s.io")
    deadline = time.monotonic() + 10
    first = w.next_line(deadline)
    assert first == b"1", f"first message {first!r} (want the empty stdout frame '1')"
    w.send("0" + base64.b64encode(b"echo hi-mark''er\n").decode())
    out, lines = read_until(w, b"hi-marker\r\n")
    assert b"hi-marker\r\n" in out, (out, lines)
    w.send("0" + base64.b64encode(b"exit 0\n").decode())
    rc, err = w.finish()
    assert (rc, err) == (0, ""), (rc, err)


@pytest.mark.parametrize("sub", [None, "channel.k8s.io"])
def test_binary_protocols_connect(jwt_server, sub):
    token = mint_jwt(SECRET)
    args = ["-c", seed_url(jwt_server, "stdout=1&stderr=1&command=echo&command=binary-ok"),
            "-H", f"Authorization: Bearer {token}"]
    if sub:
        args += ["-s", sub]
    w = Wscat(*args)
    deadline = time.monotonic() + 10
    lines = []
    while True:
        line = w.next_line(deadline)
        if line is None:
            break
        lines.append(line)
    rc, err = w.finish()
    assert "Server sent a subprotocol but none was requested" not in err, err
    assert (rc, err) == (0, ""), (rc, err, lines)
    # binary messages: channel byte then payload; the first is the empty [0x01]
    assert lines[0] == b"\x01", lines
    assert b"\x01binary-ok" in lines, lines


def test_without_token_is_refused(jwt_server):
    w = Wscat("-c", seed_url(jwt_server), "-s", "base64.channel.k8s.io")
    rc, err = w.finish()
    assert rc != 0 and "401" in err, (rc, err)
