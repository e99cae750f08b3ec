"""The sessions API in gateway mode (issue 11): /apis/podterm.dev/... is
answered by the gateway podterm itself (its live sessions, its recording
directory) and never reaches the cluster. The upstream is a podterm behind a
Recorder, which keeps the head of every request it was sent."""
import json
import os
import time

from podterm_client import V5, assert_status_response, exec_path, http_request, ws_open
from recorder import Recorder

from conftest import UPSTREAM_TOKEN, kubeconfig

BASE = "/apis/podterm.dev/v1alpha1"
SESSIONS = f"{BASE}/sessions"
ID = "0a1b2c3d-1111-4222-8333-444455556666"
CAST = (json.dumps({
    "version": 2, "width": 80, "height": 24, "timestamp": 1764490000, "command": "true",
    "title": "default/local/", "env": {"TERM": "xterm-256color"},
    "podterm": {"id": ID, "user": "system:anonymous", "kind": "exec", "namespace": "default",
                "pod": "local", "container": "", "command": ["true"], "tty": True,
                "stdin": False}}) + '\n[0.1, "o", "ok\\r\\n"]\n[0.2, "m", "exit 0: exit"]\n'
        ).encode()


def test_sessions_answered_by_the_gateway_not_upstream(pki, podterm, tmp_path):
    up = podterm(["--token-auth-file", f"{pki}/tokens.csv"], name="gw-sess-up")
    rec = Recorder(up.port)
    try:
        rdir = tmp_path / "rec"
        rdir.mkdir()
        (rdir / f"{ID}.cast").write_bytes(CAST)
        kc = kubeconfig(pki, "sessions.kubeconfig", f"http://127.0.0.1:{rec.port}",
                        token=UPSTREAM_TOKEN)
        gw = podterm(["--kubeconfig", kc, "--recording-dir", str(rdir)], name="gw-sessions")

        # a live exec through the gateway
        resp, ws = ws_open(gw.port, exec_path(["sleep", "60"], container="shell"), V5)
        assert ws is not None, resp
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                r = http_request(gw.port, "GET", SESSIONS)
                assert r.status == 200, r
                items = r.json()["items"]
                if items and items[0]["status"]["phase"] == "Running":
                    break
                time.sleep(0.1)
            live, ended = items
            assert live["spec"] == {"user": "system:anonymous", "namespace": "default",
                                    "pod": "local", "container": "shell",
                                    "command": ["sleep", "60"], "tty": False, "stdin": False,
                                    "kind": "exec"}, live
            assert (live["status"]["watchers"], live["status"]["recorded"]) == (0, False), live
            assert (ended["metadata"]["name"], ended["status"]["phase"],
                    ended["status"]["exitCode"], ended["status"]["endReason"]) == (
                        ID, "Ended", 0, "exit"), ended
            sid = live["metadata"]["name"]
            r = http_request(gw.port, "GET", f"{SESSIONS}/{sid}")
            assert r.status == 200 and r.json()["status"]["phase"] == "Running", r
        finally:
            ws.close()

        r = http_request(gw.port, "GET", f"{SESSIONS}/{ID}/recording")
        assert (r.status, r.header("Content-Type"), r.body) == (
            200, "application/x-asciicast", CAST), r
        r = http_request(gw.port, "GET", BASE)
        assert r.status == 200 and r.json()["groupVersion"] == "podterm.dev/v1alpha1", r
        missing = "0a1b2c3d-9999-4222-8333-444455556666"
        assert_status_response(http_request(gw.port, "GET", f"{SESSIONS}/{missing}"), 404,
                               "NotFound", f'sessions.podterm.dev "{missing}" not found',
                               {"name": missing, "group": "podterm.dev", "kind": "sessions"})
        assert_status_response(http_request(gw.port, "GET", "/apis/podterm.dev/v2/x"), 404,
                               "NotFound", "the server could not find the requested resource")

        # the cluster saw the exec, and nothing of podterm.dev
        paths = [q.path for q in rec.requests]
        assert [p for p in paths if "podterm.dev" in p] == [], paths
        assert [q.path.split("?")[0] for q in rec.exec_requests()] == [
            "/api/v1/namespaces/default/pods/local/exec"], paths
        # the gateway still relays the rest of /apis
        r = http_request(gw.port, "GET", "/apis")
        assert r.status == 200, r
        assert "/apis" in [q.path for q in rec.requests]
        assert os.listdir(rdir) == [f"{ID}.cast"]
    finally:
        rec.close()
