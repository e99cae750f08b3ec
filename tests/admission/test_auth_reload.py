"""Revocation of credentials (issue 16): the static token file and the JWT
key are read again when they change on disk, as the RBAC files are; a new
token works without a restart, a removed one gets 401, a broken edit keeps
the credentials in force. With --terminate-on-revoke a live session whose
token no longer authenticates ends with a Status that says why; others go
on. Without the flag a change applies to new requests only."""
import json
import os
import time

import pytest

from conftest import (JWT_SECRET, TOKEN_CSV, TOKENS, auth_args, auth_files, carol_token,
                      wait_until)
from podterm_client import V5, exec_path, mint_jwt, ws_open

ERIN = "adm-erin-static-token-5e5e5e"
ROTATED = b"admission-suite-hmac-secret-rotated-9876543210"
REVOKED = ("Internal error occurred: session ended: access revoked: the token of {user} no "
           "longer authenticates (--token-auth-file or --jwt-key-file changed)")


def replace_file(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    os.rename(tmp, path)


def status_with(port, token):
    resp, ws = ws_open(port, exec_path(["true"]), V5, [("Authorization", f"Bearer {token}")])
    if ws is not None:
        ws.collect(10)
        ws.close()
    return resp.status


def open_running(port, token):
    """A session that prints "up" and then waits."""
    resp, ws = ws_open(port, exec_path(["sh", "-c", "echo up; sleep 60"]), V5,
                       [("Authorization", f"Bearer {token}")])
    assert ws is not None, resp
    deadline = time.monotonic() + 10
    out = b""
    while b"up\n" not in out:
        op, payload = ws.recv_message(deadline)
        out += payload[1:] if payload[:1] == b"\x01" else b""
    return ws


def assert_runs_on(ws):
    with pytest.raises(TimeoutError):
        ws.recv_message(time.monotonic() + 0.5)


def assert_revoked(ws, user):
    status = json.loads(ws.collect(10).status())
    assert status["message"] == REVOKED.format(user=user), status
    assert status["reason"] == "InternalError", status


@pytest.mark.parametrize("terminate", [True, False])
def test_token_file_and_jwt_key_reload(podterm, terminate):
    extra = ["--terminate-on-revoke"] if terminate else []
    srv = podterm(auth_args(*extra), files=auth_files())
    tokens = os.path.join(srv.dir, "tokens.csv")
    alice = open_running(srv.port, TOKENS["alice"])
    carol = open_running(srv.port, carol_token())  # a JWT

    # alice's token removed, erin's added: no restart needed
    replace_file(tokens, TOKEN_CSV.replace(f'{TOKENS["alice"]},alice,1001,"devs"\n', "") +
                 f'{ERIN},erin,1005,"devs"\n')
    assert wait_until(lambda: status_with(srv.port, ERIN) == 101, 10), srv.output()
    assert status_with(srv.port, TOKENS["alice"]) == 401
    if terminate:
        assert_revoked(alice, "alice")
    else:
        assert_runs_on(alice)
    assert_runs_on(carol)  # her JWT still authenticates

    # a broken token file keeps the tokens in force, and says so once
    before = len(srv.output())
    replace_file(tokens, TOKEN_CSV + "a-line-without-a-user\n")
    assert wait_until(lambda: "token file" in srv.output()[before:], 10), srv.output()[before:]
    assert status_with(srv.port, ERIN) == 101
    assert status_with(srv.port, TOKENS["alice"]) == 401

    # the JWT key rotated (and the token file mended: a reload is all or
    # nothing): carol's old token no longer authenticates, one signed with
    # the new key does
    replace_file(tokens, TOKEN_CSV.replace(f'{TOKENS["alice"]},alice,1001,"devs"\n', "") +
                 f'{ERIN},erin,1005,"devs"\n')
    replace_file(os.path.join(srv.dir, "jwt.key"), ROTATED)
    fresh = mint_jwt(ROTATED, sub="carol", alg="HS256", uid="3003", groups=["sre"])
    assert wait_until(lambda: status_with(srv.port, fresh) == 101, 10), srv.output()
    assert status_with(srv.port, carol_token()) == 401
    if terminate:
        assert_revoked(carol, "carol")
    else:
        assert_runs_on(carol)
    for secret in (TOKENS["alice"], carol_token(), ERIN, JWT_SECRET.decode(), ROTATED.decode()):
        assert secret not in srv.output()
    alice.close()
    carol.close()
