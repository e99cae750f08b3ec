"""podterm's own log lines (issue 12: --log-format, -v): one per request and
per session start and end, each with the request's auditID (the same as in
the audit log), never a token."""
import json
import time

import pytest

from podterm_client import V5, exec_path, http_request, ws_open
from podterm_server import Podterm

TOKEN = "log-suite-secret-token-8086"


def start(*extra):
    return Podterm(["--token-auth-file", "{dir}/tokens.csv", "--audit-log-path",
                    "{dir}/audit.log", *extra],
                   files={"tokens.csv": f'{TOKEN},alice,1001,"devs"\n'}, name="test_logs")


def run_workload(srv):
    auth = [("Authorization", f"Bearer {TOKEN}")]
    resp, ws = ws_open(srv.port, exec_path(["printf", "abc"]), V5, auth)
    assert ws is not None, resp
    t = ws.collect()
    assert t.data(1) == b"abc", t
    assert http_request(srv.port, "GET", "/api/v1/namespaces/default/pods", auth).status == 200
    assert http_request(srv.port, "GET", "/api/v1/namespaces/default/pods", []).status == 401


def stopped(srv):
    time.sleep(0.3)  # the audit log gathers lines for a few ms before it writes them
    with open(f"{srv.dir}/audit.log") as f:
        audit = [json.loads(line) for line in f]
    problems = srv.stop()  # removes the server's folder
    if problems:
        pytest.fail(srv.describe(problems), pytrace=False)
    return srv.output(), audit


def test_json_lines_carry_the_audit_id_and_no_token():
    srv = start("--log-format", "json")
    run_workload(srv)
    out, audit = stopped(srv)
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    by_msg = {}
    for line in lines:
        assert set(line) >= {"ts", "level", "msg", "auditID", "verb", "uri", "code"}, line
        by_msg.setdefault(line["msg"], []).append(line)
    start_, end = by_msg["session started"][0], by_msg["session ended"][0]
    assert start_["auditID"] == end["auditID"]
    assert (start_["user"], start_["code"], start_["container"]) == ("alice", 101, "shell")
    assert (end["exitCode"], end["endReason"], end["bytesStdout"]) == (0, "exit", 3), end
    codes = sorted(line["code"] for line in by_msg["request"])
    assert codes == [200, 401], by_msg["request"]
    unauth = [line for line in by_msg["request"] if line["code"] == 401][0]
    assert "user" not in unauth, unauth
    # the same ids as the audit log's, request for request
    assert {line["auditID"] for line in lines} == {e["auditID"] for e in audit}
    assert TOKEN not in out


def test_text_lines_and_verbosity_zero():
    srv = start()
    run_workload(srv)
    out, _ = stopped(srv)
    ended = [line for line in out.splitlines() if ' "session ended" ' in line]
    assert len(ended) == 1 and " exitCode=0 endReason=exit " in ended[0], out
    assert TOKEN not in out
    quiet = start("-v", "0")
    run_workload(quiet)
    out, audit = stopped(quiet)
    assert "auditID=" not in out and "session" not in out, out
    assert len(audit) >= 7  # the audit log does not depend on -v
