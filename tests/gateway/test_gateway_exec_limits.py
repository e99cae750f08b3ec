"""Gateway exec requests over the limits local mode refuses (exec_request.c):
more than 1024 command= values, a container name longer than a name can be.
The gateway answers them with local mode's 400 Status and never contacts the
cluster: it used to send the first 1024 words (or no container at all, i.e.
the default one) upstream, so what ran was not what admission had checked."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))

from podterm_client import exec_path  # noqa: E402
from test_gateway_faults import fake, refused_upgrade, switching  # noqa: E402,F401

ARGV_MAX = 1024
NAME_MAX = 253


def upgrade_ok(conn, head):
    conn.sendall(switching(head))


def assert_bad_request(resp, message):
    assert resp.status == 400, resp
    assert json.loads(resp.body) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": "BadRequest", "code": 400}


def test_more_than_1024_command_words_refused_upstream_untouched(fake):
    gw, f = fake(upgrade_ok)
    words = [f"w{i}" for i in range(ARGV_MAX + 1)]
    resp = refused_upgrade(gw, exec_path(words))
    assert_bad_request(resp, "too many command arguments (limit 1024)")
    assert f.heads == []


def test_container_name_too_long_refused_upstream_untouched(fake):
    gw, f = fake(upgrade_ok)
    name = "c" * (NAME_MAX + 1)
    resp = refused_upgrade(gw, exec_path(["true"], container=name))
    assert_bad_request(resp, f"container {'c' * NAME_MAX} is not valid for pod local")
    assert f.heads == []


def test_1024_words_and_a_253_byte_container_go_up_whole(fake):
    gw, f = fake(upgrade_ok)
    words = [f"w{i}" for i in range(ARGV_MAX)]
    name = "c" * NAME_MAX
    resp = refused_upgrade_or_ws(gw, exec_path(words, container=name))
    assert resp is not None
    assert len(f.heads) == 1
    target = f.heads[0].split("\r\n", 1)[0]
    assert target.count("command=") == ARGV_MAX, target[:200]
    assert f"command=w{ARGV_MAX - 1}&" in target or f"command=w{ARGV_MAX - 1} " in target
    assert f"container={name}" in target


def refused_upgrade_or_ws(gw, path):
    from podterm_client import V5, ws_open
    resp, ws = ws_open(gw.port, path, V5, timeout=30)
    if ws is not None:
        ws.close()
    return resp
