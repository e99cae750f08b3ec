"""Gateway mode: the same users, RBAC and audit on a gateway podterm in
front of an upstream podterm (local mode, its own token, its own audit
log). The gateway decides before it contacts the upstream: a denied request
never reaches it (the upstream's audit log shows nothing of it)."""
import importlib.util
import json
import os
import uuid

import pytest
from kube_tools import WS_VERSIONS
from podterm_client import V5, exec_path, ws_exec, ws_open
from podterm_server import Podterm

from conftest import (CLUSTER, RBAC, TOKENS, AuditLog, all_secrets, auth_files, bearer, forbidden_body,
                      forbidden_message, get, stop_or_fail, unique_agent)

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "gateway_conftest", os.path.join(HERE, "..", "gateway", "conftest.py"))
gateway_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gateway_conftest)

UPSTREAM_TOKEN = "adm-upstream-gateway-token-93b1"
LOU_TOKEN = "adm-gw-lou-token-b37"

# lou may exec in default (RBAC), but an ExecPolicy narrows her commands on
# pods labeled app=web. The gateway cannot know a pod's labels without asking
# the cluster: the policy is then taken to apply (fail closed).
LOU_POLICY = """\
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: lou-exec, namespace: default}
subjects: [{kind: User, name: lou, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: Role, name: exec, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: podterm.dev/v1alpha1
kind: ExecPolicy
metadata: {name: lou-web}
spec:
  subjects: [{kind: User, name: lou}]
  podSelector: {matchLabels: {app: web}}
  commands: [{exact: [printf, web]}]
"""


@pytest.fixture(scope="module")
def gw(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("gw"))
    up = Podterm(["--config", "{dir}/pods.yaml", "--token-auth-file", "{dir}/up.csv",
                  "--audit-log-path", "{dir}/up-audit.log"],
                 files={"pods.yaml": CLUSTER,
                        "up.csv": f'{UPSTREAM_TOKEN},podterm-gateway,9000,"gateways"\n'},
                 name="admission-gw-upstream")
    up.audit = AuditLog(os.path.join(up.dir, "up-audit.log"))
    kc = gateway_conftest.kubeconfig(d, "gw.kubeconfig", f"http://127.0.0.1:{up.port}",
                                     token=UPSTREAM_TOKEN)
    files = auth_files(RBAC + LOU_POLICY)
    del files["pods.yaml"]
    files["tokens.csv"] += f"{LOU_TOKEN},lou,1005\n"
    g = Podterm(["--kubeconfig", kc, "--token-auth-file", "{dir}/tokens.csv", "--jwt-key-file",
                 "{dir}/jwt.key", "--authorization-rbac-file", "{dir}/rbac.yaml",
                 "--audit-log-path", "{dir}/audit.log"], files=files, name="admission-gw")
    g.audit = AuditLog(os.path.join(g.dir, "audit.log"))
    g.up = up
    yield g
    stop_or_fail(g)
    stop_or_fail(up)


def marker():
    return "mark-" + uuid.uuid4().hex[:12]


def upstream_saw(gw, mark):
    return [e for e in gw.up.audit.events() if mark in e["requestURI"]]


# ---------------------------------------------------------------- kubectl grid

@pytest.mark.parametrize("v", WS_VERSIONS)
def test_gateway_kubectl_grid(gw, kubectl, v):
    m = marker()
    r = kubectl(v, gw.port, "alice", "exec", "local", "--", "echo", m)
    assert (r.returncode, r.stdout, r.stderr) == (0, m + "\n", "")
    r = kubectl(v, gw.port, "carol", "exec", "-n", "other", "web", "-c", "app", "--",
                "echo", m)
    assert (r.returncode, r.stdout, r.stderr) == (0, m + "\n", "")
    denied = marker()
    r = kubectl(v, gw.port, "bob", "exec", "local", "--", "echo", denied)
    assert (r.returncode, r.stdout) == (1, ""), r.stderr
    assert r.stderr == ("Error from server (Forbidden): " +
                        forbidden_message("bob", "create", "pods/exec", "default", "local") +
                        "\n"), r.stderr
    r = kubectl(v, gw.port, "dave", "get", "pods")
    assert r.returncode == 1 and r.stderr == (
        "Error from server (Forbidden): " +
        forbidden_message("dave", "list", "pods", "default") + "\n"), r.stderr
    # the allowed execs reached the upstream, the denied one did not
    gw.audit.wait(lambda evs: [e for e in evs if denied in e["requestURI"] and
                               e["stage"] == "ResponseComplete"], what="gateway's denial")
    gw.up.audit.wait(lambda evs: [e for e in evs if m in e["requestURI"] and
                                  e["stage"] == "ResponseComplete"], what="upstream's exec")
    assert upstream_saw(gw, denied) == []


def test_gateway_can_i(gw, kubectl):
    r = kubectl("1.33", gw.port, "alice", "auth", "can-i", "create", "pods", "--subresource=exec")
    assert (r.returncode, r.stdout, r.stderr) == (0, "yes\n", "")
    r = kubectl("1.33", gw.port, "bob", "auth", "can-i", "create", "pods", "--subresource=exec")
    assert (r.returncode, r.stdout, r.stderr) == (1, "no\n", "")
    r = kubectl("1.33", gw.port, "carol", "auth", "can-i", "list", "pods", "-n", "other")
    assert (r.returncode, r.stdout, r.stderr) == (0, "yes\n", "")


# ---------------------------------------------------------------- raw clients

def test_gateway_denied_upgrade_status_and_no_upstream_contact(gw):
    m = marker()
    path = exec_path(["echo", m])
    agent = unique_agent("gw-denied")
    resp, ws = ws_open(gw.port, path, V5, bearer("bob") + [("User-Agent", agent)])
    assert ws is None, resp
    msg = forbidden_message("bob", "create", "pods/exec", "default", "local")
    assert (resp.status, resp.body.decode()) == (403, forbidden_body(msg, "local")), resp
    resp = get(gw.port, f"/api/v1/namespaces/other/pods?labelSelector={m}", "bob")
    assert resp.status == 403, resp
    evs = gw.audit.request(agent)
    assert evs[-1]["responseStatus"]["code"] == 403, evs
    assert evs[-1]["annotations"]["authorization.k8s.io/decision"] == "forbid", evs
    # an allowed request after them shows the upstream log is live and in order
    ok = marker()
    resp, t = ws_exec(gw.port, exec_path(["printf", ok]), V5, headers=bearer("alice"))
    assert t.data(1) == ok.encode(), t
    gw.up.audit.wait(lambda evs: [e for e in evs if ok in e["requestURI"] and
                                  e["stage"] == "ResponseComplete"], what="upstream's exec")
    assert upstream_saw(gw, m) == []


def test_gateway_allowed_exec_events(gw):
    agent = unique_agent("gw-allowed")
    argv = ["sh", "-c", "cat; printf abc; exit 3"]
    path = exec_path(argv, stdin=True)
    resp, t = ws_exec(gw.port, path, V5, headers=bearer("alice") + [("User-Agent", agent)],
                      stdin_chunks=[b"12345"], close_stdin=True)
    out = t.data(1)
    assert resp.status == 101 and out == b"12345abc", t
    evs = gw.audit.request(agent, stages=("RequestReceived", "ResponseStarted",
                                          "ResponseComplete"))
    assert [e["stage"] for e in evs] == ["RequestReceived", "ResponseStarted",
                                         "ResponseComplete"], evs
    assert len({e["auditID"] for e in evs}) == 1, evs
    rc = evs[-1]
    assert rc["user"] == {"username": "alice", "uid": "1001",
                          "groups": ["devs", "system:authenticated"]}, rc
    assert rc["impersonatedUser"]["username"] == "alice", rc
    assert rc["objectRef"] == {"resource": "pods", "namespace": "default", "name": "local",
                               "apiVersion": "v1", "subresource": "exec"}, rc
    a = rc["annotations"]
    assert (a["podterm.dev/exit-code"], a["podterm.dev/bytes-stdin"],
            a["podterm.dev/bytes-stdout"], a["podterm.dev/tty"]) == ("3", "5", str(len(out)),
                                                                     "false"), a
    assert json.loads(a["podterm.dev/command"]) == argv, a
    assert a["authorization.k8s.io/decision"] == "allow", a


def test_gateway_logs_hold_no_secret(gw):
    secrets = all_secrets() + [UPSTREAM_TOKEN]
    for log in (gw.audit, gw.up.audit):
        lines = log.lines()
        assert lines, log.path
        for ln in lines:
            for s in secrets:
                assert s not in ln, f"a credential in {log.path}: {ln!r}"
        log.events()
    for srv in (gw, gw.up):
        out = srv.output()
        for s in secrets:
            assert s not in out, f"a credential in the log of {srv.log_path}"


def test_gateway_pod_selector_fails_closed(gw):
    """In local mode lou's policy would not apply to the unlabeled pod
    default/local; through the gateway the labels are unknown, so it does."""
    TOKENS["lou"] = LOU_TOKEN
    try:
        resp, t = ws_exec(gw.port, exec_path(["printf", "web"]), V5, headers=bearer("lou"))
        assert (resp.status, t.data(1)) == (101, b"web"), (resp, t)
        m = marker()
        resp, ws = ws_open(gw.port, exec_path(["echo", m]), V5, bearer("lou"))
        assert ws is None and resp.status == 403, resp
        msg = (forbidden_message("lou", "create", "pods/exec", "default", "local") +
               f': ExecPolicy "lou-web": command ["echo","{m}"] is not in the allowed commands')
        assert resp.json()["message"] == msg, resp
        assert upstream_saw(gw, m) == []
    finally:
        TOKENS.pop("lou", None)
