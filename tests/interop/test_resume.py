"""Resume (issue 11): a web terminal's session (tty, v1.flow.podterm.dev)
outlives a connection that dropped without a Close. The page learns an id
and a token on channel 7, reconnects to .../sessions/{id}/resume offering
the token as a subprotocol item, and gets the screen repainted: same
process, same screen, input goes on. A Close ends the session as always;
API clients' subprotocols are never resumable; another user, an old token
or a late page is refused; after the grace the process is ended and the
audit says why."""
import json
import os
import re
import time

import pytest

from podterm_client import (OP_BINARY, V5, assert_status_response, exec_path, http_request,
                            ws_open)
from podterm_server import Podterm
from resume_tools import BASE, FLOW, ack_all, drop, offer, open_shell, read_until, resume_path

TOKENS = "alice-token-1,alice,1001\nbob-token-2,bob,1002\n"


@pytest.fixture
def srv():
    s = Podterm(["--token-auth-file", "{dir}/tokens.csv", "--session-grace", "5s",
                 "--audit-log-path", "{dir}/audit.log"],
                files={"tokens.csv": TOKENS}, name="resume")
    yield s
    assert s.stop() == []


def audit_events(srv):
    with open(os.path.join(srv.dir, "audit.log")) as f:
        return [json.loads(line) for line in f if line.strip()]


def test_dropped_connection_is_resumed_with_the_same_process_and_screen(srv):
    ws, info, pid = open_shell(srv.port)
    ws.send_channel(0, b"printf 'half-typed'")  # no newline: on the line, not run
    read_until(ws, lambda o, i: b"half-typed" in o)
    drop(ws)
    # While nobody is connected the process runs on (and its output feeds the screen).
    time.sleep(0.3)
    assert pid in srv.children() or os.path.exists(f"/proc/{pid}")
    resp, ws2 = ws_open(srv.port, resume_path(info["id"]),
                        offer("alice-token-1", info["resume"]))
    assert resp.status == 101 and resp.header("Sec-WebSocket-Protocol") == FLOW, resp
    op, first = ws2.recv_message(time.monotonic() + 5)
    assert (op, first) == (OP_BINARY, b"\x01")  # the initial empty stdout message
    out, infos = read_until(ws2, lambda o, i: i and b"half-typed" in o, what="repaint")
    assert infos[0]["type"] == "session" and infos[0]["id"] == info["id"]
    assert infos[0]["resume"] != info["resume"], "a resume hands out a new token"
    # The repaint is a whole screen: modes set, cleared, the line with the text.
    assert out.startswith(b"\x1b["), out[:40]
    assert b"half-typed" in out
    ack_all(ws2, out)
    ws2.send_channel(0, b"\x15echo again PID=$$\n")  # ^U clears the half-typed line
    out, _ = read_until(ws2, lambda o, i: re.search(rb"again PID=\d+", o))
    assert int(re.search(rb"again PID=(\d+)", out).group(1)) == pid
    ws2.send_channel(0, b"exit 7\n")
    t = ws2.collect(10)
    assert json.loads(t.status())["details"]["causes"][0]["message"] == "7", t.status()
    # The old token is spent.
    resp, none = ws_open(srv.port, resume_path(info["id"]), offer("alice-token-1", info["resume"]))
    assert none is None and resp.status == 404, resp


def test_resume_refusals(srv):
    ws, info, pid = open_shell(srv.port)
    drop(ws)
    sid, tok = info["id"], info["resume"]
    # Another user with the right token: 403, the same words as a wrong token.
    forbidden = "the resume token is not valid for this session and user"
    resp, _ = ws_open(srv.port, resume_path(sid), offer("bob-token-2", tok))
    assert_status_response(resp, 403, "Forbidden", forbidden)
    resp, _ = ws_open(srv.port, resume_path(sid), offer("alice-token-1", "0" * 64))
    assert_status_response(resp, 403, "Forbidden", forbidden)
    # No token item at all.
    resp, _ = ws_open(srv.port, resume_path(sid), offer("alice-token-1"))
    assert_status_response(resp, 400, "BadRequest",
                           "a resume offers its token as the Sec-WebSocket-Protocol item "
                           "resume.podterm.dev.<token>")
    # A token item that is not one (bad characters): refused like a bad bearer item.
    resp, _ = ws_open(srv.port, resume_path(sid), offer("alice-token-1", "a+b"))
    assert resp.status == 401, resp
    # Nothing to speak but the resume item: the subprotocol refusal, token or not.
    resp, _ = ws_open(srv.port, resume_path(sid), f"resume.podterm.dev.{tok}",
                      headers=[("Authorization", "Bearer alice-token-1")])
    assert_status_response(resp, 403, "Forbidden",
                           "none of the offered WebSocket subprotocols is supported")
    # Unknown session.
    other = "0a1b2c3d-1111-4222-8333-444455556666"
    resp, _ = ws_open(srv.port, resume_path(other), offer("alice-token-1", tok))
    assert_status_response(resp, 404, "NotFound",
                           f'sessions.podterm.dev "{other}" not found')
    # Without credentials: the front door's 401 before anything else.
    resp, _ = ws_open(srv.port, resume_path(sid), offer(None, tok))
    assert resp.status == 401, resp
    # After all that the owner still gets in.
    resp, ws2 = ws_open(srv.port, resume_path(sid), offer("alice-token-1", tok))
    assert resp.status == 101, resp
    ws2.send_channel(0, b"exit 0\n")
    t = ws2.collect(10)
    assert json.loads(t.status())["status"] == "Success"


def test_close_frame_ends_the_session(srv):
    ws, info, pid = open_shell(srv.port)
    ws.send_close(1001)
    ws.wait_closed()
    deadline = time.monotonic() + 5
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{pid}"), "a Close ends the session at once"
    resp, _ = ws_open(srv.port, resume_path(info["id"]), offer("alice-token-1", info["resume"]))
    assert resp.status == 404, resp


def test_grace_expiry_ends_the_process_and_the_audit_says_so(srv):
    ws, info, pid = open_shell(srv.port)
    t0 = time.monotonic()
    drop(ws)
    deadline = t0 + 15
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.1)
    took = time.monotonic() - t0
    assert not os.path.exists(f"/proc/{pid}")
    assert 4.5 < took < 8, took  # --session-grace 5s (+ the sweep)
    resp, _ = ws_open(srv.port, resume_path(info["id"]), offer("alice-token-1", info["resume"]))
    assert resp.status == 404, resp
    deadline = time.monotonic() + 5
    ends = []
    while not ends and time.monotonic() < deadline:
        ends = [e for e in audit_events(srv) if e["auditID"] == info["id"] and
                e["stage"] == "ResponseComplete"]
        time.sleep(0.1)
    ann = ends[0].get("annotations", {})
    assert ann.get("podterm.dev/end-reason") == "grace-expired", ends[0]


def test_output_while_detached_is_in_the_repaint(srv):
    """The process writes while nobody is connected: the resumed page sees
    the screen as it is now, not as it was at the drop."""
    ws, info, pid = open_shell(srv.port)
    ws.send_channel(0, b"sleep 1; echo LATE-LINE\n")
    drop(ws)
    time.sleep(1.8)
    resp, ws2 = ws_open(srv.port, resume_path(info["id"]), offer("alice-token-1", info["resume"]))
    assert resp.status == 101, resp
    out, _ = read_until(ws2, lambda o, i: b"LATE-LINE" in o, what="the late line in the repaint")
    ws2.send_channel(0, b"exit\n")
    ws2.collect(10)


@pytest.mark.parametrize("kind", [V5, "v4.channel.k8s.io"])
def test_api_clients_are_never_resumable(srv, kind):
    resp, ws = ws_open(srv.port, exec_path(["sh"], stdin=True, tty=True), offer("alice-token-1", kind=kind))
    assert resp.status == 101
    ws.send_channel(0, b"echo PID=$$\n")
    deadline = time.monotonic() + 10
    out = b""
    while not re.search(rb"PID=\d+", out):
        op, payload = ws.recv_message(deadline)
        assert payload[:1] != b"\x07", "no channel 7 outside the flow protocol"
        out += payload[1:]
    pid = int(re.search(rb"PID=(\d+)", out).group(1))
    drop(ws)
    deadline = time.monotonic() + 5
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{pid}"), "closing an API client's connection ends it"


def test_takeover_of_a_connection_that_looks_alive(srv):
    """The page comes back before the server noticed the old connection die
    (no FIN reached it): the new connection takes over, the old one is hung up."""
    ws, info, pid = open_shell(srv.port)
    resp, ws2 = ws_open(srv.port, resume_path(info["id"]), offer("alice-token-1", info["resume"]))
    assert resp.status == 101, resp
    assert ws.wait_closed(5), "the old connection is hung up"
    ws2.send_channel(0, b"echo again PID=$$\n")
    out, _ = read_until(ws2, lambda o, i: re.search(rb"again PID=\d+", o))
    assert int(re.search(rb"again PID=(\d+)", out).group(1)) == pid
    ws2.send_channel(0, b"exit\n")
    ws2.collect(10)


def test_drain_ends_detached_sessions_at_once(tmp_path):
    """SIGTERM: nobody can come back to a server that stopped listening, so a
    detached session does not hold the drain (a 10 s grace here) and its
    process ends; the server exits 0 with nothing leaked."""
    audit = tmp_path / "audit.log"
    s = Podterm(["--session-grace", "60s", "--shutdown-grace", "10s",
                 "--audit-log-path", str(audit)], name="resume-drain")
    try:
        ws, info, pid = open_shell(s.port, token=None)
        drop(ws)
        time.sleep(0.5)
        assert os.path.exists(f"/proc/{pid}"), "detached, still running"
        t0 = time.monotonic()
        problems = s.stop()
        took = time.monotonic() - t0
        assert problems == [], problems
        assert took < 3, took
        assert not os.path.exists(f"/proc/{pid}")
        events = [json.loads(line) for line in audit.read_text().splitlines()]
        ends = [e for e in events if e["auditID"] == info["id"] and
                e["stage"] == "ResponseComplete"]
        assert ends[0]["annotations"]["podterm.dev/end-reason"] == "shutdown", ends
    finally:
        s.stop()


def test_resume_of_an_api_clients_session_is_a_conflict(srv):
    """An API client's session (v5, tty) has an id (the sessions API lists it)
    but no grace: a resume of it, by its owner with a well-formed token, is
    409 Conflict, and the session goes on untouched."""
    resp, ws = ws_open(srv.port, exec_path(["sh"], stdin=True, tty=True),
                       offer("alice-token-1", kind=V5))
    assert resp.status == 101, resp
    ws.send_channel(0, b"echo UP-$((1+1))\n")
    deadline = time.monotonic() + 10
    out = b""
    while b"UP-2" not in out:
        op, payload = ws.recv_message(deadline)
        out += payload[1:]
    r = http_request(srv.port, "GET", BASE, [("Authorization", "Bearer alice-token-1")])
    assert r.status == 200, r
    [item] = [i for i in r.json()["items"] if i["status"]["phase"] == "Running"]
    sid = item["metadata"]["name"]
    resp, none = ws_open(srv.port, resume_path(sid), offer("alice-token-1", "0" * 64))
    assert none is None
    assert_status_response(resp, 409, "Conflict", "the session cannot be resumed (not a web "
                           "terminal's tty session, or resume is off)")
    ws.send_channel(0, b"exit 4\n")
    t = ws.collect(10)
    assert json.loads(t.status())["details"]["causes"][0]["message"] == "4", t.status()


def test_access_revoked_while_detached_ends_the_session(tmp_path):
    """--terminate-on-revoke with a detached session (waiting for its page):
    nobody is connected to be told, so when the reloaded policy refuses its
    user the process ends at once (not at the grace's end), and the audit
    says "revoked"."""
    from kube_tools import exec_role
    rbac = exec_role("users")
    s = Podterm(["--token-auth-file", "{dir}/tokens.csv", "--authorization-rbac-file",
                 "{dir}/rbac.yaml", "--terminate-on-revoke", "--session-grace", "60s",
                 "--audit-log-path", "{dir}/audit.log"],
                files={"tokens.csv": 'alice-token-1,alice,1001,"users"\n', "rbac.yaml": rbac},
                name="resume-revoke")
    try:
        ws, info, pid = open_shell(s.port)
        drop(ws)
        time.sleep(0.3)
        assert os.path.exists(f"/proc/{pid}"), "detached, still running"
        path = os.path.join(s.dir, "rbac.yaml")
        with open(path + ".tmp", "w") as f:
            f.write(exec_role("others"))
        os.rename(path + ".tmp", path)
        deadline = time.monotonic() + 15
        while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not os.path.exists(f"/proc/{pid}"), "a revoked detached session ends"
        ends = []
        deadline = time.monotonic() + 5
        while not ends and time.monotonic() < deadline:
            ends = [e for e in audit_events(s) if e["auditID"] == info["id"] and
                    e["stage"] == "ResponseComplete"]
            time.sleep(0.05)
        assert ends and ends[0]["annotations"]["podterm.dev/end-reason"] == "revoked", ends
    finally:
        problems = s.stop()
    assert problems == [], problems


def test_resume_during_the_drain_is_a_conflict():
    """SIGTERM drains: a connection accepted before it may still ask to
    resume the page's session, which is connected and, with the server
    going away, not detachable: 409 "ending", and the owner's connection is
    left alone (its exit still reaches it)."""
    import signal
    from podterm_client import (Conn, build_request, read_response_body, read_response_head,
                                upgrade_headers, ws_key)
    s = Podterm(["--token-auth-file", "{dir}/tokens.csv", "--session-grace", "60s",
                 "--shutdown-grace", "10s"], files={"tokens.csv": TOKENS}, name="resume-drain-409")
    try:
        ws, info, pid = open_shell(s.port)
        conn = Conn(s.port)  # accepted before the drain
        time.sleep(0.2)
        s.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 5
        while "draining" not in s.output() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "draining" in s.output(), s.output()
        headers = upgrade_headers(offer("alice-token-1", info["resume"]), [], ws_key(), "13",
                                  "Upgrade")
        conn.sendall(build_request("GET", resume_path(info["id"]), headers,
                                   host=f"127.0.0.1:{s.port}"))
        deadline = time.monotonic() + 10
        resp = read_response_head(conn, deadline)
        resp.body = read_response_body(conn, resp, deadline)
        conn.close()
        assert_status_response(resp, 409, "Conflict",
                               "the session is ending and cannot be resumed")
        ws.send_channel(0, b"exit 5\n")
        t = ws.collect(10)
        assert json.loads(t.status())["details"]["causes"][0]["message"] == "5", t.status()
        # the last session over, the drain ends and the server exits 0 on its own
        assert s.proc.wait(10) == 0
    finally:
        problems = s.stop()
    assert problems == [], problems
