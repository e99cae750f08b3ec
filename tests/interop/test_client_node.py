"""@kubernetes/client-node 1.x Exec, run with node (checklist 31, Node half):
it offers v5..channel.k8s.io, must get v5, and its status callback gets the
PROTOCOL.md 3.6 JSON."""
import base64
import json
import os
import subprocess

import pytest

from podterm_client import NONZERO_PREFIX, nonzero_status

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "client_node_exec.mjs")
MODULE = os.path.join(HERE, "..", "node_modules", "@kubernetes", "client-node")


def node_exec(port, command, namespace="default", pod="local", container="shell", **extra):
    if not os.path.isdir(MODULE):
        pytest.fail("tests/node_modules is missing: run `cd tests && npm ci`")
    spec = dict(namespace=namespace, pod=pod, container=container, command=command, **extra)
    r = subprocess.run(["node", SCRIPT, f"http://127.0.0.1:{port}", json.dumps(spec)],
                       capture_output=True, text=True, timeout=40, cwd=HERE)
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    res = json.loads(r.stdout.strip().splitlines()[-1])
    res["stdout"] = base64.b64decode(res["stdout"])
    res["stderr"] = base64.b64decode(res["stderr"])
    return res


def test_exit_4_status_callback(server):
    res = node_exec(server.port, ["sh", "-c", "echo hi; exit 4"])
    assert res["protocol"] == "v5.channel.k8s.io"
    assert res["stdout"] == b"hi\n"
    assert len(res["statuses"]) == 1, res
    st = res["statuses"][0]
    assert st["message"].startswith(NONZERO_PREFIX), st
    del st["message"]
    assert st == nonzero_status(4), st


def test_exit_0_is_success(server):
    res = node_exec(server.port, ["sh", "-c", "echo out; echo err >&2"])
    assert (res["stdout"], res["stderr"]) == (b"out\n", b"err\n"), res
    assert res["statuses"] == [{"metadata": {}, "status": "Success"}], res


def test_stdin_ends_with_close_signal(server):
    # client-node sends [0xFF, 0x00] when its stdin stream ends on v5
    res = node_exec(server.port, ["cat"], stdin="piped through\n")
    assert res["stdout"] == b"piped through\n", res
    assert res["statuses"] == [{"metadata": {}, "status": "Success"}], res


def test_tty_exec(server):
    res = node_exec(server.port, ["sh", "-c", "tty >/dev/null && echo on-a-tty"], tty=True,
                    stdin="")
    assert res["stdout"] == b"on-a-tty\r\n", res


def test_unknown_container_rejects(server):
    spec = dict(namespace="default", pod="local", container="nope", command=["true"])
    r = subprocess.run(["node", SCRIPT, f"http://127.0.0.1:{server.port}", json.dumps(spec)],
                       capture_output=True, text=True, timeout=40, cwd=HERE)
    assert r.returncode == 3, (r.stdout, r.stderr)
    assert "400" in r.stdout, r.stdout


def test_bearer_token(podterm):
    srv = podterm(["--token-auth-file", "{dir}/tokens.csv"],
                  files={"tokens.csv": "node-token-777,carol,1003\n"})
    res = node_exec(srv.port, ["echo", "authed"], token="node-token-777")
    assert res["stdout"] == b"authed\n", res
