"""The sessions API (issue 11): GET /apis/podterm.dev/v1alpha1/sessions,
.../sessions/{id} and .../sessions/{id}/recording, served by podterm.

Live sessions are started by real clients (kubectl exec) and seen in the
list while they run; ended ones are recording files this test writes into
--recording-dir exactly as the recorder's contract has them (header line,
events, the exit marker), next to files that must be ignored (other names,
a symlink, a directory, a header that is not podterm's). With tokens and
RBAC: a user without a grant on podterm.dev/sessions sees their own sessions
only and gets the apiserver's Forbidden, word for word, for anyone else's;
a ClusterRole on sessions sees all; kubectl get --raw and kubectl auth can-i
work against it; every request is audited."""
import json
import os
import subprocess
import time
import uuid

import pytest
from kube_tools import exec_role, fresh_env, kbin, kube_env, make_pki
from podterm_client import assert_status_response, http_request
from podterm_server import CLUSTER_CONFIG

BASE = "/apis/podterm.dev/v1alpha1"
SESSIONS = f"{BASE}/sessions"
UUID_HEX = set("0123456789abcdef-")

ID_EXITED = "0a1b2c3d-1111-4222-8333-444455556666"
ID_CRASHED = "0a1b2c3d-2222-4222-8333-444455556666"
ID_CAROL = "0a1b2c3d-3333-4222-8333-444455556666"
ID_BOB = "0a1b2c3d-4444-4222-8333-444455556666"


def header(sid, user, argv, ns="default", pod="local", container="shell", kind="exec",
           tty=True, stdin=True, ts=1764490000):
    """Line 1 of a recording, keys in the contract's order."""
    h = {"version": 2, "width": 80, "height": 24, "timestamp": ts,
         "command": " ".join(argv), "title": f"{ns}/{pod}/{container}",
         "env": {"TERM": "xterm-256color"},
         "podterm": {"id": sid, "user": user, "kind": kind, "namespace": ns, "pod": pod,
                     "container": container, "command": argv, "tty": tty, "stdin": stdin}}
    return json.dumps(h) + "\n"


def cast_exited(sid, user, code=3, reason="exit"):
    return (header(sid, user, ["sh", "-c", f"echo hi; exit {code}"]) +
            '[0.010000, "o", "hi\\r\\n"]\n'
            '[0.020000, "r", "100x30"]\n'
            f'[0.030000, "m", "exit {code}: {reason}"]\n').encode()


def write_cast(rec, sid, data, mtime):
    path = os.path.join(rec, f"{sid}.cast")
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)
    os.utime(path, (mtime, mtime))
    return path


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def get(port, path, token=None):
    headers = [("Authorization", f"Bearer {token}")] if token else []
    return http_request(port, "GET", path, headers)


def items(port, token=None):
    r = get(port, SESSIONS, token)
    assert r.status == 200, r
    body = r.json()
    assert list(body) == ["kind", "apiVersion", "metadata", "items"], body
    assert (body["kind"], body["apiVersion"], body["metadata"]) == (
        "SessionList", "podterm.dev/v1alpha1", {}), body
    return body["items"]


def wait_live(port, token=None, n=1, timeout=20):
    """The running items once there are n of them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        live = [i for i in items(port, token) if i["status"]["phase"] == "Running"]
        if len(live) >= n:
            return live
        time.sleep(0.1)
    raise AssertionError(f"{n} live sessions not listed within {timeout} s: {items(port, token)}")


def ended_item(sid, user, started, ended, argv, code=None, reason=None):
    status = {"phase": "Ended", "started": rfc3339(started), "ended": rfc3339(ended)}
    if code is not None:
        status.update(exitCode=code, endReason=reason)
    status.update(watchers=0, recorded=True)
    return {"metadata": {"name": sid, "creationTimestamp": rfc3339(started)},
            "spec": {"user": user, "namespace": "default", "pod": "local", "container": "shell",
                     "command": argv, "tty": True, "stdin": True, "kind": "exec"},
            "status": status}


def prepare_recordings(rec, now):
    """The ended sessions the anonymous server lists, and the files it must not."""
    exited = cast_exited(ID_EXITED, "system:anonymous")
    write_cast(rec, ID_EXITED, exited, now - 100)
    # a crash: no exit marker, the last line cut
    write_cast(rec, ID_CRASHED, header(ID_CRASHED, "system:anonymous", ["vim"]).encode() +
               b'[0.5, "o", "\\u001b[H"]\n[0.6, "o", "par', now - 50)
    # ignored: not <uuid>.cast, a symlink, a directory, a foreign header, a renamed file
    write_cast(rec, "notes", exited, now)
    os.rename(os.path.join(rec, "notes.cast"), os.path.join(rec, "notes.txt"))
    write_cast(rec, ID_EXITED.upper(), exited, now)
    os.symlink(os.path.join(rec, f"{ID_EXITED}.cast"),
               os.path.join(rec, "0a1b2c3d-5555-4222-8333-444455556666.cast"))
    os.mkdir(os.path.join(rec, "0a1b2c3d-6666-4222-8333-444455556666.cast"))
    write_cast(rec, "0a1b2c3d-7777-4222-8333-444455556666",
               b'{"version": 2, "width": 80, "height": 24, "timestamp": 1}\n', now)
    write_cast(rec, "0a1b2c3d-8888-4222-8333-444455556666", exited, now)  # says it is ID_EXITED
    return exited


# ---------------------------------------------------------------- anonymous local mode

def test_list_get_and_recordings(podterm, tmp_path):
    rec = str(tmp_path / "rec")
    os.mkdir(rec)
    now = int(time.time())
    exited = prepare_recordings(rec, now)
    srv = podterm(["--recording-dir", rec], config=CLUSTER_CONFIG)

    want_exited = ended_item(ID_EXITED, "system:anonymous", 1764490000, now - 100,
                             ["sh", "-c", "echo hi; exit 3"], 3, "exit")
    want_crashed = ended_item(ID_CRASHED, "system:anonymous", 1764490000, now - 50, ["vim"])
    assert items(srv.port) == [want_crashed, want_exited]  # newest first

    # A live exec by a real client (kubectl, no tty: not recorded).
    before = int(time.time())
    env = fresh_env(str(tmp_path), srv.port)
    kc = subprocess.Popen([kbin("1.33"), "exec", "local", "-c", "shell", "--", "sleep", "60"],
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        live = wait_live(srv.port)
        after = int(time.time())
        assert len(live) == 1, live
        sid = live[0]["metadata"]["name"]
        assert len(sid) == 36 and set(sid) <= UUID_HEX and uuid.UUID(sid).version == 4, sid
        started = live[0]["metadata"]["creationTimestamp"]
        assert rfc3339(before) <= started <= rfc3339(after), (started, before, after)
        want_live = {"metadata": {"name": sid, "creationTimestamp": started},
                     "spec": {"user": "system:anonymous", "namespace": "default", "pod": "local",
                              "container": "shell", "command": ["sleep", "60"], "tty": False,
                              "stdin": False, "kind": "exec"},
                     "status": {"phase": "Running", "started": started, "watchers": 0,
                                "recorded": False}}
        assert items(srv.port) == [want_live, want_crashed, want_exited]

        r = get(srv.port, f"{SESSIONS}/{sid}")
        assert r.status == 200 and r.header("Content-Type") == "application/json", r
        assert r.json() == {"kind": "Session", "apiVersion": "podterm.dev/v1alpha1", **want_live}
        assert list(r.json()) == ["kind", "apiVersion", "metadata", "spec", "status"]
        # no file for it: its recording is a 404 naming the session
        assert_status_response(get(srv.port, f"{SESSIONS}/{sid}/recording"), 404, "NotFound",
                               f'session "{sid}" has no recording',
                               {"name": sid, "group": "podterm.dev", "kind": "sessions"})
    finally:
        kc.terminate()
        kc.wait(30)
    # once its client is gone, it is no longer listed (no recording: nothing left of it)
    deadline = time.monotonic() + 20
    while items(srv.port) != [want_crashed, want_exited] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert items(srv.port) == [want_crashed, want_exited]

    r = get(srv.port, f"{SESSIONS}/{ID_EXITED}")
    assert r.status == 200, r
    assert r.json() == {"kind": "Session", "apiVersion": "podterm.dev/v1alpha1", **want_exited}

    r = get(srv.port, f"{SESSIONS}/{ID_EXITED}/recording")
    assert r.status == 200, r
    assert r.header("Content-Type") == "application/x-asciicast", r
    assert r.header("Cache-Control") == "no-store", r
    assert r.body == exited  # byte for byte
    r = get(srv.port, f"{SESSIONS}/{ID_CRASHED}/recording")
    assert r.status == 200 and r.body.endswith(b'"par'), r


@pytest.mark.parametrize("sid", [
    "0a1b2c3d-9999-4222-8333-444455556666",   # no such session
    "0a1b2c3d-5555-4222-8333-444455556666",   # a symlink
    "0a1b2c3d-6666-4222-8333-444455556666",   # a directory
    "0a1b2c3d-7777-4222-8333-444455556666",   # not a podterm header
    "0a1b2c3d-8888-4222-8333-444455556666",   # another session's header
])
@pytest.mark.parametrize("sub", ["", "/recording"])
def test_not_found(podterm, tmp_path, sid, sub):
    rec = str(tmp_path / "rec")
    os.mkdir(rec)
    prepare_recordings(rec, int(time.time()))
    srv = podterm(["--recording-dir", rec], config=CLUSTER_CONFIG)
    assert_status_response(get(srv.port, f"{SESSIONS}/{sid}{sub}"), 404, "NotFound",
                           f'sessions.podterm.dev "{sid}" not found',
                           {"name": sid, "group": "podterm.dev", "kind": "sessions"})


@pytest.mark.parametrize("name", [
    "xyz", "0A1B2C3D-1111-4222-8333-444455556666", "0a1b2c3d-1111-4222-8333-4444555566667",
    "0a1b2c3d11114222833344445555666600", "0a1b2c3d-1111-4222-8333-44445555666%2e",
])
def test_malformed_id(server, name):
    msg = "a session name is its id: a lowercase UUID (8-4-4-4-12 hexadecimal digits)"
    assert_status_response(get(server.port, f"{SESSIONS}/{name}"), 400, "BadRequest", msg)
    assert_status_response(get(server.port, f"{SESSIONS}/{name}/recording"), 400, "BadRequest",
                           msg)


def test_discovery_and_other_paths(server):
    r = get(server.port, BASE)
    assert r.status == 200, r
    assert r.json() == {
        "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "podterm.dev/v1alpha1",
        "resources": [
            {"name": "sessions", "singularName": "session", "namespaced": False,
             "kind": "Session", "verbs": ["get", "list"]},
            *({"name": f"sessions/{sub}", "singularName": "", "namespaced": False,
               "kind": "Session", "verbs": ["get"]}
              for sub in ("recording", "watch", "join", "resume"))]}
    r = get(server.port, "/apis/podterm.dev")
    assert r.status == 200 and r.json()["preferredVersion"] == {
        "groupVersion": "podterm.dev/v1alpha1", "version": "v1alpha1"}, r
    # without --recording-dir: live sessions only, none now
    assert items(server.port) == []
    nf = "the server could not find the requested resource"
    for path in (f"{BASE}/pods", "/apis/podterm.dev/v1", f"{SESSIONS}/{ID_EXITED}/watchx"):
        assert_status_response(get(server.port, path), 404, "NotFound", nf)
    assert_status_response(get(server.port, f"{SESSIONS}?watch=true"), 405, "MethodNotAllowed",
                           "watching sessions is not supported",
                           {"group": "podterm.dev", "kind": "sessions"})
    r = http_request(server.port, "DELETE", f"{SESSIONS}/{ID_EXITED}")
    assert_status_response(r, 405, "MethodNotAllowed",
                           "the server does not allow this method on the requested resource")


# ---------------------------------------------------------------- tokens and RBAC

TOKENS = {"alice": "sess-alice-token-5a1c3", "bob": "sess-bob-token-b0b42",
          "carol": "sess-carol-token-ca401"}
TOKEN_CSV = "".join(f'{t},{u},{1000 + i},"users"\n' for i, (u, t) in enumerate(TOKENS.items()))
RBAC = exec_role("users") + """\
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: session-reader}
rules:
- apiGroups: ["podterm.dev"]
  resources: ["sessions", "sessions/recording"]
  verbs: ["get", "list"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: alice-sessions}
subjects: [{kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: session-reader, apiGroup: rbac.authorization.k8s.io}
"""


def forbidden(user, sid, sub=""):
    resource = "sessions" + sub
    return (f'sessions.podterm.dev "{sid}" is forbidden: User "{user}" cannot get resource '
            f'"{resource}" in API group "podterm.dev" at the cluster scope')


def https_get(port, ca, path, token):
    import http.client
    import ssl
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=30,
                                       context=ssl.create_default_context(cafile=ca))
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type"), resp.read()
    finally:
        conn.close()


def status(code, reason, message, sid=None):
    details = {"name": sid} if sid else {}
    details.update(group="podterm.dev", kind="sessions")
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "details": details, "code": code}


@pytest.fixture
def rbac_server(podterm, tmp_path):
    os.mkdir(tmp_path / "pki")
    pki = make_pki(str(tmp_path / "pki"))
    rec = str(tmp_path / "rec")
    os.mkdir(rec)
    now = int(time.time())
    files = {ID_BOB: cast_exited(ID_BOB, "bob", 0), ID_CAROL: cast_exited(ID_CAROL, "carol", 1)}
    write_cast(rec, ID_BOB, files[ID_BOB], now - 20)
    write_cast(rec, ID_CAROL, files[ID_CAROL], now - 10)
    srv = podterm(["--token-auth-file", "{dir}/tokens.csv", "--authorization-rbac-file",
                   "{dir}/rbac.yaml", "--tls-cert-file", f"{pki}/server.crt",
                   "--tls-private-key-file", f"{pki}/server.key", "--recording-dir", rec,
                   "--audit-log-path", "{dir}/audit.log"],
                  config=CLUSTER_CONFIG, files={"tokens.csv": TOKEN_CSV, "rbac.yaml": RBAC})
    srv.ca = f"{pki}/ca.crt"
    srv.casts = files
    srv.tmp = str(tmp_path)
    return srv


def kget(srv, path, user):
    code, ctype, body = https_get(srv.port, srv.ca, path, TOKENS[user])
    return code, ctype, body


def kjson(srv, path, user, code=200):
    got, ctype, body = kget(srv, path, user)
    assert (got, ctype) == (code, "application/json"), (got, ctype, body)
    return json.loads(body)


def test_owner_only_without_rbac_grant(rbac_server):
    srv = rbac_server
    # bob runs a session with a real kubectl (over TLS: kubectl sends tokens only there)
    env = kube_env(srv.tmp, srv.port, srv.ca, TOKENS["bob"])
    kc = subprocess.Popen([kbin("1.33"), "exec", "local", "-c", "shell", "--", "sleep", "60"],
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            listed = kjson(srv, SESSIONS, "alice")["items"]
            if listed and listed[0]["status"]["phase"] == "Running":
                break
            time.sleep(0.1)
        live_id = listed[0]["metadata"]["name"]
        # alice (ClusterRole on sessions): everyone's
        assert [(i["metadata"]["name"], i["spec"]["user"], i["status"]["phase"])
                for i in listed] == [(live_id, "bob", "Running"), (ID_CAROL, "carol", "Ended"),
                                     (ID_BOB, "bob", "Ended")]
        # bob (no grant): his own, live and ended
        mine = kjson(srv, SESSIONS, "bob")["items"]
        assert [(i["metadata"]["name"], i["spec"]["user"]) for i in mine] == [
            (live_id, "bob"), (ID_BOB, "bob")]
        assert mine[0] == listed[0] and mine[1] == listed[2]
        # carol (no grant): hers only
        assert [i["metadata"]["name"] for i in kjson(srv, SESSIONS, "carol")["items"]] == [
            ID_CAROL]
        # bob gets his own session and replays his own recording
        assert kjson(srv, f"{SESSIONS}/{live_id}", "bob")["spec"]["user"] == "bob"
        assert kget(srv, f"{SESSIONS}/{ID_BOB}/recording", "bob") == (
            200, "application/x-asciicast", srv.casts[ID_BOB])
        # ... and nobody else's: the exact Forbidden RBAC gives, also for ids that do not exist
        for sid in (ID_CAROL, "0a1b2c3d-9999-4222-8333-444455556666"):
            assert kjson(srv, f"{SESSIONS}/{sid}", "bob", 403) == status(
                403, "Forbidden", forbidden("bob", sid), sid)
            assert kjson(srv, f"{SESSIONS}/{sid}/recording", "bob", 403) == status(
                403, "Forbidden", forbidden("bob", sid, "/recording"), sid)
        assert kjson(srv, f"{SESSIONS}/{live_id}", "carol", 403) == status(
            403, "Forbidden", forbidden("carol", live_id), live_id)
        # alice reads anyone's
        assert kget(srv, f"{SESSIONS}/{ID_CAROL}/recording", "alice") == (
            200, "application/x-asciicast", srv.casts[ID_CAROL])
        assert kjson(srv, f"{SESSIONS}/{live_id}", "alice")["status"]["phase"] == "Running"

        # kubectl get --raw, and auth can-i, against the same API
        alice = kube_env(srv.tmp, srv.port, srv.ca, TOKENS["alice"])
        r = subprocess.run([kbin("1.33"), "get", "--raw", f"{SESSIONS}/{ID_BOB}"], env=alice,
                           capture_output=True, text=True, timeout=60)
        assert (r.returncode, r.stderr) == (0, ""), r
        assert json.loads(r.stdout) == kjson(srv, f"{SESSIONS}/{ID_BOB}", "alice")
        r = subprocess.run([kbin("1.33"), "get", "--raw", f"{SESSIONS}/{ID_CAROL}"], env=env,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 1 and r.stdout == "", r
        assert r.stderr == f"Error from server (Forbidden): {forbidden('bob', ID_CAROL)}\n", r
        for who, e, want in (("alice", alice, "yes"), ("bob", env, "no")):
            r = subprocess.run([kbin("1.33"), "auth", "can-i", "list", "sessions.podterm.dev"],
                               env=e, capture_output=True, text=True, timeout=60)
            assert r.stdout == f"{want}\n", (who, r)
    finally:
        kc.terminate()
        kc.wait(30)

    # every request audited; the live session's id is its exec's auditID
    log = os.path.join(srv.dir, "audit.log")
    deadline = time.monotonic() + 10
    events = []
    while time.monotonic() < deadline:
        with open(log) as f:
            events = [json.loads(line) for line in f if line.strip()]
        done = [e for e in events if e["stage"] == "ResponseComplete"]
        if any(e["auditID"] == live_id for e in done):
            break
        time.sleep(0.1)
    exec_events = [e for e in events if e["auditID"] == live_id]
    assert exec_events and exec_events[0]["objectRef"]["subresource"] == "exec", exec_events
    assert exec_events[0]["user"]["username"] == "bob"
    denied = [e for e in events if e["stage"] == "ResponseComplete" and
              e["requestURI"] == f"{SESSIONS}/{ID_CAROL}" and e["user"]["username"] == "bob"]
    assert denied, events
    assert denied[0]["responseStatus"]["code"] == 403
    assert denied[0]["objectRef"] == {"resource": "sessions", "name": ID_CAROL,
                                      "apiGroup": "podterm.dev", "apiVersion": "v1alpha1"}
    listed_ok = [e for e in events if e["stage"] == "ResponseComplete" and
                 e["requestURI"] == SESSIONS and e["user"]["username"] == "alice"]
    assert listed_ok and listed_ok[0]["verb"] == "list"
    assert listed_ok[0]["responseStatus"]["code"] == 200


def test_watch_and_other_verbs_need_rbac(rbac_server):
    srv = rbac_server
    # the owner rule covers get and list; anything else is RBAC's answer alone
    got, _, body = kget(srv, f"{SESSIONS}?watch=true", "bob")
    assert got == 403, body
    assert json.loads(body)["message"] == (
        'sessions.podterm.dev is forbidden: User "bob" cannot watch resource "sessions" in API '
        'group "podterm.dev" at the cluster scope')


# ---------------------------------------------------------------- bounds

def test_large_recording_is_streamed_whole(podterm, tmp_path):
    """A recording over 64 MiB (a sparse file: no disk used) is listed (its
    header and tail are read, not the rest) and streamed whole with its exact
    Content-Length. Handed to lws as one reply it broke off after 256 KiB
    in the ASan build (and lws cuts slow readers after seconds)."""
    rec = str(tmp_path / "rec")
    os.mkdir(rec)
    size = (64 << 20) + 1
    path = write_cast(rec, ID_EXITED, header(ID_EXITED, "system:anonymous", ["yes"]).encode(),
                      time.time())
    with open(path, "r+b") as f:
        f.truncate(size)
    srv = podterm(["--recording-dir", rec], config=CLUSTER_CONFIG)
    listed = items(srv.port)
    assert [(i["metadata"]["name"], i["status"]["phase"], "exitCode" in i["status"])
            for i in listed] == [(ID_EXITED, "Ended", False)], listed
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
    try:
        conn.request("GET", f"{SESSIONS}/{ID_EXITED}/recording")
        r = conn.getresponse()
        assert (r.status, r.getheader("Content-Type"), r.getheader("Content-Length")) == (
            200, "application/x-asciicast", str(size))
        body = r.read()
    finally:
        conn.close()
    with open(path, "rb") as f:
        assert body == f.read()


def test_reader_that_stops_reading_is_dropped(podterm, tmp_path):
    """A reader that asks for a recording and takes nothing is dropped after
    the stream's idle bound (10 s); the server holds nothing of it after."""
    import socket
    rec = str(tmp_path / "rec")
    os.mkdir(rec)
    path = write_cast(rec, ID_EXITED, header(ID_EXITED, "system:anonymous", ["yes"]).encode(),
                      time.time())
    with open(path, "r+b") as f:
        f.truncate(32 << 20)
    srv = podterm(["--recording-dir", rec], config=CLUSTER_CONFIG)
    baseline = srv.fd_count()
    c = socket.create_connection(("127.0.0.1", srv.port))
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.sendall(f"GET {SESSIONS}/{ID_EXITED}/recording HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
              .encode())
    try:
        time.sleep(1)
        assert srv.fd_count() > baseline  # the socket and the file, held while it streams
        deadline = time.monotonic() + 30
        while srv.fd_count() > baseline and time.monotonic() < deadline:
            time.sleep(0.2)
        assert srv.fd_count() <= baseline, srv.fds()

        def access_line():
            return srv.output().split(f"{ID_EXITED}/recording")[-1].split("\n")[0]
        while "code=" not in access_line() and time.monotonic() < deadline:
            time.sleep(0.1)  # the line is written as the stream ends, not before
        assert "code=499" in access_line(), srv.output()[-2000:]
    finally:
        c.close()
    # and the server serves on
    assert items(srv.port)[0]["metadata"]["name"] == ID_EXITED


def test_list_reads_the_newest_recordings_only(podterm, tmp_path):
    """More recordings than a list reads (500): the newest 500, newest first."""
    rec = str(tmp_path / "rec")
    os.mkdir(rec)
    now = int(time.time())
    ids = [f"0a1b2c3d-1111-4222-8333-{i:012x}" for i in range(520)]
    for i, sid in enumerate(ids):
        write_cast(rec, sid, cast_exited(sid, "system:anonymous"), now - 1000 + i)
    srv = podterm(["--recording-dir", rec], config=CLUSTER_CONFIG)
    t0 = time.monotonic()
    listed = items(srv.port)
    took = time.monotonic() - t0
    assert [i["metadata"]["name"] for i in listed] == ids[::-1][:500]
    assert took < 10, f"a list of 500 recordings took {took:.2f} s"
    # the oldest are still there, one by one
    r = get(srv.port, f"{SESSIONS}/{ids[0]}")
    assert r.status == 200 and r.json()["status"]["exitCode"] == 3, r


def test_a_recorded_session_is_listed_and_replayed_from_its_own_file(podterm, tmp_path):
    """The recorder and the sessions API together (both issue 11): a real tty
    exec recorded by podterm is listed, once ended, with its exit code and end
    reason, and its recording is served byte for byte as written."""
    from podterm_client import V5, exec_path, ws_open
    rec = str(tmp_path / "rec")
    os.mkdir(rec)
    srv = podterm(["--recording-dir", rec])
    resp, ws = ws_open(srv.port, exec_path(["sh", "-c", "echo recorded; exit 4"], tty=True), V5)
    with ws:
        t = ws.collect(10)
    assert b"recorded" in t.data(1), t
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        ended = [i for i in items(srv.port) if i["status"]["phase"] == "Ended"]
        if ended and "exitCode" in ended[0]["status"]:
            break
        time.sleep(0.1)
    assert len(ended) == 1, items(srv.port)
    item = ended[0]
    sid = item["metadata"]["name"]
    assert item["spec"]["command"] == ["sh", "-c", "echo recorded; exit 4"], item
    assert (item["status"]["exitCode"], item["status"]["endReason"],
            item["status"]["recorded"]) == (4, "exit", True), item
    r = get(srv.port, f"{SESSIONS}/{sid}/recording")
    assert r.status == 200 and r.header("Content-Type") == "application/x-asciicast", r
    with open(os.path.join(rec, f"{sid}.cast"), "rb") as f:
        assert r.body == f.read()
    assert r.body.rstrip(b"\n").rsplit(b"\n", 1)[1].endswith(b', "m", "exit 4: exit"]'), r.body


def test_owner_only_malformed_id_is_the_rbac_forbidden(rbac_server):
    """Without a grant, a name that is no session id gets RBAC's Forbidden
    word for word (as any other name would), not a 400 that tells an
    unauthorized user which names are well-formed."""
    for sub in ("", "/recording"):
        got = kjson(rbac_server, f"{SESSIONS}/xyz{sub}", "bob", 403)
        assert got == status(403, "Forbidden", forbidden("bob", "xyz", sub), "xyz"), got
