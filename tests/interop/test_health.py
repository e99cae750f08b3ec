"""/livez, /readyz and /healthz as kube-apiserver answers them
(k8s.io/apiserver/pkg/server/healthz): "ok" when healthy, ?verbose lists the
checks, a failed check is named with its reason withheld and the answer is
500; public (no token), also with authentication and RBAC on."""
import os
import socket
import sys
import time

import pytest

import podterm_server
from podterm_client import build_request, http_request, read_response_body, read_response_head, Conn

TEXT = "text/plain; charset=utf-8"


def get(port, path, method="GET", headers=()):
    return http_request(port, method, path, headers)


def assert_text(resp, status, body):
    assert resp.status == status, resp
    assert resp.header("Content-Type") == TEXT, resp
    assert resp.header("X-Content-Type-Options") == "nosniff", resp
    assert resp.body == body, f"got {resp.body!r}\nwant {body!r}"


def verbose(endpoint, checks, passed=True):
    lines = "".join(f"[+]{c} ok\n" if ok else f"[-]{c} failed: reason withheld\n"
                    for c, ok in checks)
    return (lines + f"{endpoint} check {'passed' if passed else 'failed'}\n").encode()


def test_bodies_exact(server):
    for ep in ("livez", "readyz", "healthz"):
        assert_text(get(server.port, f"/{ep}"), 200, b"ok")
    assert_text(get(server.port, "/livez?verbose"), 200, verbose("livez", [("ping", True)]))
    assert_text(get(server.port, "/healthz?verbose=1"), 200, verbose("healthz", [("ping", True)]))
    # the apiserver looks for the key only: ?verbose=false is verbose too
    assert_text(get(server.port, "/readyz?verbose=false"), 200,
                verbose("readyz", [("ping", True), ("shutdown", True)]))
    resp = get(server.port, "/readyz", method="HEAD")
    assert resp.status == 200 and resp.body == b"", resp
    resp = get(server.port, "/livez", method="POST")
    assert resp.status == 405, resp
    # not a prefix match, and the UI's 404 for the rest
    assert get(server.port, "/livezz").status == 404
    assert get(server.port, "/readyz/").status == 404


def test_ready_as_soon_as_serving(podterm):
    """The serving line is printed once the listener is up: the very first
    probe after it is answered 200 (a probe before it is refused)."""
    srv = podterm()
    assert_text(get(srv.port, "/readyz"), 200, b"ok")
    assert_text(get(srv.port, "/livez"), 200, b"ok")


RBAC = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: nobody
subjects:
- kind: User
  name: nobody
  apiGroup: rbac.authorization.k8s.io
roleRef:
  kind: ClusterRole
  name: view
  apiGroup: rbac.authorization.k8s.io
"""


def test_public_with_auth_and_rbac(podterm):
    srv = podterm(["--token-auth-file", "{dir}/tokens.csv", "--authorization-rbac-file",
                   "{dir}/rbac.yaml"],
                  files={"tokens.csv": "tok-alice-0123456789,alice,1\n", "rbac.yaml": RBAC})
    # authentication is on: the API wants a token
    assert get(srv.port, "/api/v1/namespaces/default/pods").status == 401
    # the probes do not, and they count the policy
    for ep in ("livez", "readyz", "healthz"):
        assert_text(get(srv.port, f"/{ep}"), 200, b"ok")
    assert_text(get(srv.port, "/livez?verbose"), 200,
                verbose("livez", [("ping", True), ("policy", True)]))
    assert_text(get(srv.port, "/readyz?verbose"), 200,
                verbose("readyz", [("ping", True), ("policy", True), ("shutdown", True)]))
    # a user RBAC allows nothing gets them too (system:public-info-viewer)
    bearer = [("Authorization", "Bearer tok-alice-0123456789")]
    assert_text(get(srv.port, "/healthz", headers=bearer), 200, b"ok")


# The audit log made unwritable for real: a file size limit (SIGXFSZ ignored,
# as under a quota) with the log nearly at it, so a write soon fails with
# EFBIG, as a full disk fails with ENOSPC.
FSIZE_LIMIT = 1 << 20
WRAPPER = """\
import os, resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
os.execv(sys.argv[1], sys.argv[1:])
"""


def test_audit_log_broken(podterm, tmp_path, monkeypatch):
    wrapper = tmp_path / "fsize.py"
    wrapper.write_text(WRAPPER.format(limit=FSIZE_LIMIT))
    launcher = tmp_path / "launch.sh"
    launcher.write_text(f"#!/bin/sh\nexec {sys.executable} {wrapper} {podterm_server.BIN} \"$@\"\n")
    os.chmod(launcher, 0o755)
    monkeypatch.setattr(podterm_server, "BIN", str(launcher))
    monkeypatch.delenv("LLVM_PROFILE_FILE", raising=False)
    srv = podterm(["--audit-log-path", "{dir}/audit.log"],
                  files={"audit.log": "#" * (FSIZE_LIMIT - 4097) + "\n"})
    assert_text(get(srv.port, "/healthz?verbose"), 200,
                verbose("healthz", [("ping", True), ("audit", True)]))
    # every request is audited: requests fill the log up to the limit
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        resp = get(srv.port, "/readyz")
        if resp.status != 200:
            break
    readyz = [("ping", True), ("audit", False), ("shutdown", True)]
    assert_text(resp, 500, verbose("readyz", readyz, passed=False))
    # without ?verbose too, as the apiserver does on failure
    assert_text(get(srv.port, "/readyz?verbose"), 500, verbose("readyz", readyz, passed=False))
    assert_text(get(srv.port, "/healthz"), 500,
                verbose("healthz", [("ping", True), ("audit", False)], passed=False))
    # liveness stays: a full disk is no reason to restart the pod
    assert_text(get(srv.port, "/livez"), 200, b"ok")
    # nothing about the failure itself (no path, no errno) in the answer
    assert b"audit.log" not in resp.body and b"EFBIG" not in resp.body
