"""The audit log: one audit.k8s.io/v1 Event per line, as kube-apiserver
writes it. The exact events of an allowed exec, a denied exec, a list and a
401; exit code and byte counts equal to what the client saw; no credential
in any line; only the apiserver's Event fields; rotation by size; an audit
Policy's None rule and omitStages; --audit-log-required refusing requests
(503) once the log cannot be written."""
import json
import os
import re
import sys
import time

import pytest
import podterm_server
from podterm_client import V5, exec_path, ws_exec, ws_open

from conftest import (AuditLog, all_secrets, auth_args, auth_files, bearer, forbidden_message,
                      get, token_of, unique_agent, wait_until)

ALICE = {"username": "alice", "uid": "1001", "groups": ["devs", "system:authenticated"]}
BOB = {"username": "bob", "uid": "1002", "groups": ["viewers", "system:authenticated"]}


def by_stage(evs):
    return {e["stage"]: e for e in evs}


def common(evs, uri, verb, user, agent):
    """What every event of one request shares."""
    assert len({e["auditID"] for e in evs}) == 1, evs
    assert len({e["requestReceivedTimestamp"] for e in evs}) == 1, evs
    for e in evs:
        assert e["level"] == "Metadata", e
        assert e["requestURI"] == uri, e
        assert e["verb"] == verb, e
        assert e["user"] == user, e
        assert e["sourceIPs"] == ["127.0.0.1"], e
        assert e["userAgent"] == agent, e
    stamps = [e["stageTimestamp"] for e in evs]
    assert stamps == sorted(stamps), evs


def exec_ref(sub="exec", pod="local"):
    return {"resource": "pods", "namespace": "default", "name": pod, "apiVersion": "v1",
            "subresource": sub}


# ---------------------------------------------------------------- (7) the exact events

def test_allowed_exec_events(adm):
    agent = unique_agent("allowed-exec")
    argv = ["sh", "-c", "cat; printf abc; exit 3"]
    path = exec_path(argv, stdin=True)
    stdin = b"hello\n"
    resp, t = ws_exec(adm.port, path, V5, headers=bearer("alice") + [("User-Agent", agent)],
                      stdin_chunks=[stdin], close_stdin=True)
    assert resp.status == 101
    out = t.data(1)
    assert out == b"hello\nabc", t
    evs = adm.audit.request(agent, stages=("RequestReceived", "ResponseStarted",
                                           "ResponseComplete"))
    assert [e["stage"] for e in evs] == ["RequestReceived", "ResponseStarted",
                                         "ResponseComplete"], evs
    common(evs, path, "create", ALICE, agent)
    rr, rs, rc = evs
    for e in evs:
        assert e["objectRef"] == exec_ref(), e
        assert "impersonatedUser" not in e, e  # local mode impersonates nobody
    assert "responseStatus" not in rr, rr
    assert rs["responseStatus"]["code"] == 101, rs
    assert rc["responseStatus"]["code"] == 101, rc
    a = rc["annotations"]
    assert a["authorization.k8s.io/decision"] == "allow", a
    assert a["authorization.k8s.io/reason"] == (
        'RBAC: allowed by RoleBinding "devs-exec/default" of Role "exec" to Group "devs"'), a
    assert a["podterm.dev/container"] == "shell", a
    assert json.loads(a["podterm.dev/command"]) == argv, a
    assert a["podterm.dev/tty"] == "false", a
    assert a["podterm.dev/exit-code"] == "3", a
    assert a["podterm.dev/bytes-stdin"] == str(len(stdin)), a
    assert a["podterm.dev/bytes-stdout"] == str(len(out)), a
    assert float(a["podterm.dev/duration-seconds"]) >= 0, a
    assert a["podterm.dev/end-reason"], a
    # audit names the authenticator (alice's token is in --token-auth-file)
    assert rr["annotations"]["podterm.dev/authentication-method"] == "token-file", rr
    assert a["podterm.dev/authentication-method"] == "token-file", a
    assert set(a) <= {"authorization.k8s.io/decision", "authorization.k8s.io/reason"} | {
        f"podterm.dev/{k}" for k in ("container", "command", "tty", "exit-code", "bytes-stdin",
                                     "bytes-stdout", "duration-seconds", "end-reason",
                                     "authentication-method")}, a
    # and the exit code the client saw
    st = json.loads(t.status())
    assert st["details"]["causes"][0]["message"] == "3", st


def test_tty_exec_bytes(adm):
    agent = unique_agent("tty")
    path = exec_path(["printf", "0123456789"], tty=True)
    resp, t = ws_exec(adm.port, path, V5, headers=bearer("carol") + [("User-Agent", agent)])
    out = t.data(1)
    assert resp.status == 101 and out == b"0123456789", t
    rc = by_stage(adm.audit.request(agent))["ResponseComplete"]
    a = rc["annotations"]
    assert (a["podterm.dev/tty"], a["podterm.dev/exit-code"], a["podterm.dev/bytes-stdout"],
            a["podterm.dev/bytes-stdin"]) == ("true", "0", str(len(out)), "0"), a
    assert rc["user"] == {"username": "carol", "uid": "3003",
                          "groups": ["sre", "system:authenticated"]}, rc
    assert a["podterm.dev/authentication-method"] == "jwt", a  # carol's token is a JWT
    assert a["authorization.k8s.io/reason"] == (
        'RBAC: allowed by ClusterRoleBinding "carol-exec" of ClusterRole "exec-everywhere" '
        'to User "carol"'), a


def test_denied_exec_events(adm):
    agent = unique_agent("denied-exec")
    path = exec_path(["printf", "no"])
    resp, ws = ws_open(adm.port, path, V5, bearer("bob") + [("User-Agent", agent)])
    assert ws is None and resp.status == 403, resp
    evs = adm.audit.request(agent)
    assert [e["stage"] for e in evs] == ["RequestReceived", "ResponseComplete"], evs
    common(evs, path, "create", BOB, agent)
    rc = evs[1]
    assert rc["objectRef"] == exec_ref(), rc
    st = rc["responseStatus"]
    assert st["code"] == 403, st
    if "message" in st:
        assert st["message"] == forbidden_message("bob", "create", "pods/exec", "default",
                                                  "local"), st
    if "reason" in st:
        assert st["reason"] == "Forbidden", st
    assert rc["annotations"]["authorization.k8s.io/decision"] == "forbid", rc
    assert "authorization.k8s.io/reason" in rc["annotations"], rc
    assert not any(k.startswith("podterm.dev/") and k != "podterm.dev/authentication-method"
                   for k in rc["annotations"]), rc


def test_list_events(adm):
    agent = unique_agent("list")
    path = "/api/v1/namespaces/default/pods"
    resp = get(adm.port, path, "alice", agent)
    assert resp.status == 200, resp
    evs = adm.audit.request(agent)
    assert [e["stage"] for e in evs] == ["RequestReceived", "ResponseComplete"], evs
    common(evs, path, "list", ALICE, agent)
    for e in evs:
        assert e["objectRef"] == {"resource": "pods", "namespace": "default",
                                  "apiVersion": "v1"}, e
    assert evs[1]["responseStatus"]["code"] == 200, evs[1]
    assert evs[1]["annotations"]["authorization.k8s.io/decision"] == "allow", evs[1]


def test_watch_and_get_verbs(adm):
    agent = unique_agent("get")
    assert get(adm.port, "/api/v1/namespaces/default/pods/local", "bob", agent).status == 200
    evs = adm.audit.request(agent)
    assert {e["verb"] for e in evs} == {"get"}, evs
    assert evs[-1]["objectRef"]["name"] == "local", evs
    agent = unique_agent("denied-list")
    resp = get(adm.port, "/api/v1/namespaces/other/pods", "bob", agent)
    assert resp.status == 403, resp
    evs = adm.audit.request(agent)
    assert evs[-1]["responseStatus"]["code"] == 403, evs
    assert evs[-1]["annotations"]["authorization.k8s.io/decision"] == "forbid", evs


@pytest.mark.parametrize("how", ["no-token", "wrong-token"])
def test_unauthenticated_events(adm, how):
    agent = unique_agent(how)
    h = [("Authorization", "Bearer wrong-" + token_of("alice"))] if how == "wrong-token" else []
    path = "/api/v1/namespaces/default/pods"
    resp = get(adm.port, path, agent=agent, headers=h)
    assert resp.status == 401, resp
    evs = adm.audit.request(agent, stages=("ResponseComplete",))
    assert evs[-1]["stage"] == "ResponseComplete", evs
    assert {e["stage"] for e in evs} <= {"RequestReceived", "ResponseStarted",
                                         "ResponseComplete"}, evs
    for e in evs:
        assert e["user"] == {}, e
        assert e["requestURI"] == path and e["sourceIPs"] == ["127.0.0.1"], e
    assert evs[-1]["responseStatus"]["code"] == 401, evs


def test_every_line_parses_and_holds_no_secret(adm, kubectl):
    # some kubectl traffic too (it sends its token on every request)
    r = kubectl("1.33", adm.port, "carol", "exec", "local", "--", "true")
    assert r.returncode == 0, r.stderr
    time.sleep(0.3)
    lines = adm.audit.lines()
    assert len(lines) > 10, lines
    ids = set()
    for ln in lines:
        for s in all_secrets():
            assert s not in ln, f"a credential in audit line {ln!r}"
        ev = json.loads(ln)  # check_event_shape runs in events()
        ids.add(ev["auditID"])
    adm.audit.events()
    # secrets never in the server's own log either
    out = adm.output()
    for s in all_secrets():
        assert s not in out, "a credential in the server's log"


def test_audit_ids_unique_per_request(adm):
    agents = [unique_agent(f"ids{i}") for i in range(5)]
    for a in agents:
        assert get(adm.port, "/version", "dave", a).status == 200
    ids = [adm.audit.request(a)[0]["auditID"] for a in agents]
    assert len(set(ids)) == 5, ids


# ---------------------------------------------------------------- audit to stdout

def test_audit_log_to_stdout(podterm):
    srv = podterm(auth_args("--audit-log-path", "-"), files=auth_files())
    agent = unique_agent("stdout")
    assert get(srv.port, "/api/v1/namespaces/default/pods", "alice", agent).status == 200

    def mine():
        return [json.loads(ln) for ln in srv.output().splitlines() if agent in ln]
    evs = wait_until(lambda: (lambda m: m if len(m) >= 2 else None)(mine()), 10)
    assert evs and [e["stage"] for e in evs] == ["RequestReceived", "ResponseComplete"], \
        srv.output()[-2000:]


# ---------------------------------------------------------------- (8) rotation

BACKUP_RE = re.compile(r"^audit-.+\.log$")


def audit_files(d):
    return sorted(f for f in os.listdir(d) if f.startswith("audit"))


def test_rotation_keeps_maxbackup_files(podterm):
    srv = podterm(auth_args("--audit-log-path", "{dir}/audit.log", "--audit-log-maxsize", "1",
                            "--audit-log-maxbackup", "2"), files=auth_files(),
                  name="audit-rotation")
    d = srv.dir
    # > 3 MB of events: long URIs (a pod name of 250 characters) and user agents
    name = "p" * 250
    agent = "rotation/" + "u" * 400
    n, written = 0, 0
    t0 = time.monotonic()
    while written <= (3 << 20) + (256 << 10):
        resp = get(srv.port, f"/api/v1/namespaces/default/pods/{name}", "alice", agent)
        assert resp.status in (404, 400), resp
        n += 1
        if n == 1:
            per_request = wait_until(lambda: os.path.getsize(f"{d}/audit.log"), 10)
        written += per_request
        assert time.monotonic() - t0 < 60, f"{n} requests, files {audit_files(d)}"
    time.sleep(0.5)
    files = audit_files(d)
    backups = [f for f in files if f != "audit.log"]
    assert "audit.log" in files, files
    assert len(backups) == 2, files
    assert all(BACKUP_RE.match(f) for f in backups), files
    for f in files:
        size = os.path.getsize(os.path.join(d, f))
        assert size <= 1 << 20, (f, size)
        evs = AuditLog(os.path.join(d, f)).events()  # every line of every file is an Event
        assert evs, f
        with open(os.path.join(d, f), "rb") as fh:
            assert fh.read().endswith(b"\n"), f"{f} ends in a partial line"
    print(f"rotation: {n} requests of {per_request} bytes of events; files {files}")


# ---------------------------------------------------------------- (10) audit policy

AUDIT_POLICY = """\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: None
  users: ["bob"]
- level: None
  nonResourceURLs: ["/version"]
- level: Metadata
"""


def test_policy_none_rule_and_omit_stages(podterm):
    files = {**auth_files(), "policy.yaml": AUDIT_POLICY}
    srv = podterm(auth_args("--audit-log-path", "{dir}/audit.log", "--audit-policy-file",
                            "{dir}/policy.yaml"), files=files)
    log = AuditLog(os.path.join(srv.dir, "audit.log"))
    bob = unique_agent("bob-none")
    for _ in range(3):
        assert get(srv.port, "/api/v1/namespaces/default/pods", "bob", bob).status == 200
    resp, ws = ws_open(srv.port, exec_path(["true"]), V5, bearer("bob") + [("User-Agent", bob)])
    assert resp.status == 403
    assert get(srv.port, "/version", "alice", bob).status == 200
    alice = unique_agent("alice-metadata")
    assert get(srv.port, "/api/v1/namespaces/default/pods", "alice", alice).status == 200
    evs = log.request(alice, stages=("ResponseComplete",))
    time.sleep(0.3)
    evs = log.events()
    assert [e["stage"] for e in evs if e.get("userAgent") == alice] == ["ResponseComplete"], evs
    assert not [e for e in evs if e["user"].get("username") == "bob"], evs
    assert not [e for e in evs if e["requestURI"] == "/version"], evs


def test_malformed_audit_policy_refused(tmp_path):
    import subprocess
    p = tmp_path / "policy.yaml"
    p.write_text("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Loud\n")
    r = subprocess.run([podterm_server.BIN, "--listen", "127.0.0.1:0", "--audit-log-path",
                        str(tmp_path / "a.log"), "--audit-policy-file", str(p)],
                       capture_output=True, text=True, timeout=20, cwd=tmp_path,
                       env=podterm_server.sanitizer_env())
    assert r.returncode > 0, r
    assert re.search(re.escape(str(p)) + r":4\b", r.stderr), r.stderr


def test_unwritable_audit_path_refused_at_start(tmp_path):
    import subprocess
    path = tmp_path / "no-such-dir" / "audit.log"
    r = subprocess.run([podterm_server.BIN, "--listen", "127.0.0.1:0", "--audit-log-path",
                        str(path)], capture_output=True, text=True, timeout=20, cwd=tmp_path,
                       env=podterm_server.sanitizer_env())
    assert r.returncode > 0 and "podterm: serving" not in r.stdout + r.stderr, r
    assert str(path) in r.stderr, r.stderr


# ---------------------------------------------------------------- (11) --audit-log-required

# How the log becomes unwritable, for real: the server runs with a file size
# limit (RLIMIT_FSIZE, SIGXFSZ ignored as a server under a quota would see
# it) and the audit file already holds nearly that many bytes, so a write
# soon fails with EFBIG, as a full disk fails with ENOSPC.
FSIZE_LIMIT = 4 << 20
PREFILL = FSIZE_LIMIT - 8192

WRAPPER = """\
import os, resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
os.execv(sys.argv[1], sys.argv[1:])
"""


def start_limited(podterm, tmp_path, required):
    wrapper = tmp_path / "fsize.py"
    wrapper.write_text(WRAPPER.format(limit=FSIZE_LIMIT))
    launcher = tmp_path / "launch.sh"
    launcher.write_text(f"#!/bin/sh\nexec {sys.executable} {wrapper} {podterm_server.BIN} \"$@\"\n")
    os.chmod(launcher, 0o755)
    files = {**auth_files(), "audit.log": "#" * (PREFILL - 1) + "\n"}
    extra = ["--audit-log-required"] if required else []
    real = podterm_server.BIN
    podterm_server.BIN = str(launcher)
    try:
        env_profile = os.environ.pop("LLVM_PROFILE_FILE", None)  # the profile would hit the limit
        try:
            return podterm(auth_args("--audit-log-path", "{dir}/audit.log", *extra), files=files)
        finally:
            if env_profile is not None:
                os.environ["LLVM_PROFILE_FILE"] = env_profile
    finally:
        podterm_server.BIN = real


def test_audit_log_required_refuses_with_503(podterm, tmp_path):
    srv = start_limited(podterm, tmp_path, required=True)
    statuses = []

    def refused():
        resp = get(srv.port, "/api/v1/namespaces/default/pods", "alice")
        statuses.append(resp.status)
        return resp if resp.status == 503 else None
    resp = wait_until(refused, 20, 0.02)
    assert resp, f"never 503 while the audit log fails; statuses {statuses[-20:]}"
    assert 200 in statuses, "refused before the log ever failed"
    body = resp.json()
    assert (body["kind"], body["apiVersion"], body["status"], body["code"]) == (
        "Status", "v1", "Failure", 503), body
    assert body.get("reason") == "ServiceUnavailable", body
    # and it stays refused: execs too, before any session starts
    resp, ws = ws_open(srv.port, exec_path(["true"]), V5, bearer("alice"))
    assert ws is None and resp.status == 503, resp
    assert get(srv.port, "/api/v1/namespaces/default/pods", "alice").status == 503
    assert srv.alive()


def test_without_required_requests_go_on(podterm, tmp_path):
    srv = start_limited(podterm, tmp_path, required=False)
    for _ in range(300):
        resp = get(srv.port, "/api/v1/namespaces/default/pods", "alice")
        assert resp.status == 200, resp
    resp, t = ws_exec(srv.port, exec_path(["printf", "still"]), V5, headers=bearer("alice"))
    assert t.data(1) == b"still", t
    assert os.path.getsize(os.path.join(srv.dir, "audit.log")) <= FSIZE_LIMIT
