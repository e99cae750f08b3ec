"""RBAC with real kubectl (1.30-1.33): allowed exec prints the command's
output, a denied one prints kubectl's own Forbidden text with the
apiserver's message word for word; `kubectl auth can-i` answers a grid of
users x verbs x namespaces; a List pasted from `kubectl get -o yaml`
loads; a malformed file is refused at start-up; a changed file is
reloaded, a broken change keeps the old policy."""
import json
import os
import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from kube_tools import WS_VERSIONS
from podterm_client import V5, exec_path, http_request, ws_exec, ws_open
from podterm_server import BIN, sanitizer_env

from conftest import (RBAC, auth_args, auth_files, bearer, forbidden_body, forbidden_message,
                      get, wait_until)


def forbidden_line(message):
    return f"Error from server (Forbidden): {message}\n"


# ---------------------------------------------------------------- without RBAC: as before

def test_no_rbac_file_everything_allowed_to_the_authenticated(podterm):
    files = auth_files()
    srv = podterm([a for a in auth_args() if a not in ("--authorization-rbac-file",
                                                       "{dir}/rbac.yaml")], files=files)
    for user in ("alice", "bob", "dave", "carol"):
        resp, t = ws_exec(srv.port, exec_path(["printf", user]), V5, headers=bearer(user))
        assert resp.status == 101 and t.data(1) == user.encode(), (user, resp, t)
        assert get(srv.port, "/api/v1/namespaces/other/pods", user).status == 200
    assert get(srv.port, "/api/v1/namespaces/default/pods").status == 401


# ---------------------------------------------------------------- (1) kubectl exec grid

@pytest.mark.parametrize("v", WS_VERSIONS)
def test_kubectl_exec_as_three_users(adm, kubectl, v):
    r = kubectl(v, adm.port, "alice", "exec", "local", "--", "echo", "hello-alice")
    assert (r.returncode, r.stdout, r.stderr) == (0, "hello-alice\n", "")
    # bob may read the pod (kubectl GETs it first) but not exec into it
    r = kubectl(v, adm.port, "bob", "exec", "local", "--", "echo", "hello-bob")
    assert (r.returncode, r.stdout) == (1, ""), r.stderr
    assert r.stderr == forbidden_line(
        forbidden_message("bob", "create", "pods/exec", "default", "local")), r.stderr
    # carol (JWT, ClusterRoleBinding): every namespace
    r = kubectl(v, adm.port, "carol", "exec", "-n", "other", "web", "-c", "app", "--",
                "echo", "hello-carol")
    assert (r.returncode, r.stdout, r.stderr) == (0, "hello-carol\n", "")
    r = kubectl(v, adm.port, "carol", "exec", "local", "--", "sh", "-c", "echo c; exit 4")
    assert (r.returncode, r.stdout, r.stderr) == (4, "c\n", "command terminated with exit code 4\n")


@pytest.mark.parametrize("v", ["1.30", "1.33"])
def test_kubectl_denied_reads(adm, kubectl, v):
    # alice's RoleBinding is in default only: kubectl's GET of the pod is refused
    r = kubectl(v, adm.port, "alice", "exec", "-n", "other", "web", "-c", "app", "--",
                "true")
    assert (r.returncode, r.stdout) == (1, ""), r.stderr
    assert r.stderr == forbidden_line(
        forbidden_message("alice", "get", "pods", "other", "web")), r.stderr
    # dave is bound to nothing
    r = kubectl(v, adm.port, "dave", "get", "pods")
    assert (r.returncode, r.stdout) == (1, ""), r.stderr
    assert r.stderr == forbidden_line(forbidden_message("dave", "list", "pods", "default"))
    r = kubectl(v, adm.port, "bob", "get", "pods", "-o", "name")
    assert (r.returncode, r.stdout, r.stderr) == (0, "pod/local\n", "")


def test_kubectl_stdin_and_attach(adm, kubectl):
    r = kubectl("1.33", adm.port, "alice", "exec", "-i", "local", "--", "cat", stdin="in-a\n")
    assert (r.returncode, r.stdout, r.stderr) == (0, "in-a\n", "")
    # carol's ClusterRole has pods/exec but not pods/attach
    r = kubectl("1.33", adm.port, "carol", "attach", "local", "-c", "shell")
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert forbidden_message("carol", "create", "pods/attach", "default", "local") in r.stderr


@pytest.mark.parametrize("v", ["1.27", "1.29"])
def test_kubectl_spdy_exec(adm, kubectl, v):
    """kubectl before 1.30 execs over SPDY (a POST upgrade), through the same
    admission: a denied user gets the Forbidden, an allowed one a shell."""
    r = kubectl(v, adm.port, "bob", "exec", "local", "--", "true")
    assert (r.returncode, r.stdout) == (1, ""), r.stderr
    assert r.stderr == forbidden_line(
        forbidden_message("bob", "create", "pods/exec", "default", "local")), r.stderr
    r = kubectl(v, adm.port, "alice", "exec", "local", "--", "sh", "-c", "echo spdy-$((40+2))")
    assert (r.returncode, r.stdout, r.stderr) == (0, "spdy-42\n", ""), r


# ---------------------------------------------------------------- raw HTTP: exact Status bodies

@pytest.mark.parametrize("method", ["GET", "POST"])
def test_denied_upgrade_is_the_apiservers_403(adm, method):
    resp, ws = ws_open(adm.port, exec_path(["true"]), V5, bearer("bob"), method=method)
    assert ws is None, resp
    assert resp.status == 403, resp
    msg = forbidden_message("bob", "create", "pods/exec", "default", "local")
    assert resp.body.decode() == forbidden_body(msg, "local"), resp.body
    assert (resp.header("Content-Type") or "").startswith("application/json"), resp


def test_denied_spdy_upgrade(adm):
    """kubectl's fallback: a POST with Upgrade: SPDY/3.1 gets the same 403."""
    h = bearer("dave") + [("Connection", "Upgrade"), ("Upgrade", "SPDY/3.1"),
                          ("X-Stream-Protocol-Version", "v4.channel.k8s.io")]
    resp = http_request(adm.port, "POST", exec_path(["true"]), h)
    msg = forbidden_message("dave", "create", "pods/exec", "default", "local")
    assert (resp.status, resp.body.decode()) == (403, forbidden_body(msg, "local")), resp


def test_attach_and_list_messages(adm):
    resp, _ = ws_open(adm.port, exec_path(verb="attach", stdin=True, tty=True), V5,
                      bearer("bob"))
    msg = forbidden_message("bob", "create", "pods/attach", "default", "local")
    assert (resp.status, resp.body.decode()) == (403, forbidden_body(msg, "local")), resp
    resp = get(adm.port, "/api/v1/namespaces/other/pods", "bob")
    msg = forbidden_message("bob", "list", "pods", "other")
    assert (resp.status, resp.body.decode()) == (403, forbidden_body(msg)), resp
    resp = get(adm.port, "/api/v1/namespaces/default/pods/local", "dave")
    msg = forbidden_message("dave", "get", "pods", "default", "local")
    assert (resp.status, resp.body.decode()) == (403, forbidden_body(msg, "local")), resp


def test_get_on_pods_exec_is_accepted_for_older_policies(podterm):
    old = RBAC.replace('resources: ["pods/exec", "pods/attach"]\n  verbs: ["create"]',
                       'resources: ["pods/exec", "pods/attach"]\n  verbs: ["get"]')
    assert old != RBAC
    srv = podterm(auth_args(), files=auth_files(old))
    resp, t = ws_exec(srv.port, exec_path(["printf", "old"]), V5, headers=bearer("alice"))
    assert (resp.status, t.data(1)) == (101, b"old"), (resp, t)


def test_discovery_and_self_reviews_built_in(adm):
    for path in ("/api", "/apis", "/api/v1", "/version"):
        assert get(adm.port, path, "dave").status == 200, path
    assert get(adm.port, "/api").status == 401


def test_watch_is_its_own_verb(adm):
    for q in ("watch=1", "watch=true"):
        resp = get(adm.port, f"/api/v1/namespaces/default/pods?{q}", "alice")
        msg = forbidden_message("alice", "watch", "pods", "default")
        assert (resp.status, resp.body.decode()) == (403, forbidden_body(msg)), resp


ANON_RBAC = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: anon-read, namespace: default}
rules:
- {apiGroups: [""], resources: [pods], verbs: [list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: anon-read, namespace: default}
subjects:
- {kind: Group, name: "system:unauthenticated", apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: Role, name: anon-read, apiGroup: rbac.authorization.k8s.io}
"""


def test_anonymous_is_system_anonymous_in_system_unauthenticated(podterm):
    """Without authentication every client is system:anonymous, in group
    system:unauthenticated, as the apiserver's anonymous requests."""
    srv = podterm(["--config", "{dir}/pods.yaml", "--authorization-rbac-file", "{dir}/rbac.yaml"],
                  files={"pods.yaml": auth_files()["pods.yaml"], "rbac.yaml": ANON_RBAC})
    assert get(srv.port, "/api/v1/namespaces/default/pods").status == 200
    resp = get(srv.port, "/api/v1/namespaces/other/pods")
    msg = forbidden_message("system:anonymous", "list", "pods", "other")
    assert (resp.status, resp.body.decode()) == (403, forbidden_body(msg)), resp
    resp, _ = ws_open(srv.port, exec_path(["true"]), V5)
    msg = forbidden_message("system:anonymous", "create", "pods/exec", "default", "local")
    assert (resp.status, resp.body.decode()) == (403, forbidden_body(msg, "local")), resp


# ---------------------------------------------------------------- (2) kubectl auth can-i

CAN_I = [  # (args, {user: allowed in default, allowed in other})
    (("create", "pods", "--subresource=exec"), {"alice": (1, 0), "bob": (0, 0), "carol": (1, 1)}),
    (("create", "pods", "--subresource=attach"), {"alice": (1, 0), "bob": (0, 0), "carol": (0, 0)}),
    (("get", "pods"), {"alice": (1, 0), "bob": (1, 0), "carol": (1, 1)}),
    (("list", "pods"), {"alice": (1, 0), "bob": (1, 0), "carol": (1, 1)}),
    (("watch", "pods"), {"alice": (0, 0), "bob": (1, 0), "carol": (0, 0)}),
    (("list", "namespaces"), {"alice": (0, 0), "bob": (0, 0), "carol": (1, 1)}),
    # kubectl reads "pods/exec" as TYPE/NAME: a pod named "exec", not the subresource
    (("create", "pods/exec"), {"alice": (0, 0), "bob": (0, 0), "carol": (0, 0)}),
]
NOT_NAMESPACED_WARNING = "Warning: resource 'namespaces' is not namespace scoped\n\n"


def test_kubectl_auth_can_i_grid(adm, kubectl):
    jobs = []
    for args, users in CAN_I:
        for user, answers in users.items():
            for ns, allowed in zip(("default", "other"), answers):
                jobs.append((args, user, ns, bool(allowed)))

    def run(job):
        args, user, ns, _ = job
        return kubectl("1.33", adm.port, user, "auth", "can-i", *args, "-n", ns)

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(run, jobs))
    wrong = []
    for (args, user, ns, allowed), r in zip(jobs, results):
        want = (0, "yes\n") if allowed else (1, "no\n")
        stderr_ok = r.stderr in ("", NOT_NAMESPACED_WARNING) if "namespaces" in args else \
            r.stderr == ""
        if (r.returncode, r.stdout) != want or not stderr_ok:
            wrong.append(f"{user} can-i {' '.join(args)} -n {ns}: want {want}, got "
                         f"({r.returncode}, {r.stdout!r}) stderr {r.stderr!r}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("v", ["1.30", "1.32"])
def test_kubectl_auth_can_i_older_versions(adm, kubectl, v):
    r = kubectl(v, adm.port, "alice", "auth", "can-i", "create", "pods", "--subresource=exec")
    assert (r.returncode, r.stdout, r.stderr) == (0, "yes\n", "")
    r = kubectl(v, adm.port, "bob", "auth", "can-i", "create", "pods", "--subresource=exec")
    assert (r.returncode, r.stdout, r.stderr) == (1, "no\n", "")


@pytest.mark.parametrize("user", ["alice", "bob", "carol"])
def test_kubectl_auth_can_i_non_resource_urls(adm, kubectl, user):
    """Discovery paths are every authenticated user's (the apiserver's
    system:discovery); other paths nobody's here."""
    r = kubectl("1.33", adm.port, user, "auth", "can-i", "get", "/version")
    assert (r.returncode, r.stdout, r.stderr) == (0, "yes\n", "")
    r = kubectl("1.33", adm.port, user, "auth", "can-i", "get", "/metrics")
    assert (r.returncode, r.stdout, r.stderr) == (1, "no\n", "")


LIST_LINE = re.compile(r"^(\S*)\s+\[(.*?)\]\s+\[(.*?)\]\s+\[(.*?)\]$")


def can_i_list(kubectl, port, user, ns):
    r = kubectl("1.33", port, user, "auth", "can-i", "--list", "-n", ns)
    assert r.returncode == 0, (r.stdout, r.stderr)
    lines = r.stdout.splitlines()
    assert re.match(r"^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs$", lines[0]), lines
    rows = {}
    for line in lines[1:]:
        m = LIST_LINE.match(line)
        assert m, line
        if m.group(1):  # "": a non-resource URL row
            rows[m.group(1)] = m.group(4).split()
    return rows, r.stdout


def test_kubectl_auth_can_i_list(adm, kubectl):
    rows, out = can_i_list(kubectl, adm.port, "alice", "default")
    assert rows.get("pods/exec") == ["create"] and rows.get("pods/attach") == ["create"], out
    assert rows.get("pods") == ["get", "list"], out
    # the self reviews every authenticated user may create (as the apiserver's bootstrap)
    assert rows.get("selfsubjectaccessreviews.authorization.k8s.io") == ["create"], out
    assert rows.get("selfsubjectrulesreviews.authorization.k8s.io") == ["create"], out
    rows, out = can_i_list(kubectl, adm.port, "alice", "other")
    assert "pods/exec" not in rows and "pods" not in rows, out
    rows, out = can_i_list(kubectl, adm.port, "carol", "other")
    assert rows.get("pods/exec") == ["create"] and "pods/attach" not in rows, out
    assert rows.get("namespaces") == ["get", "list"], out
    rows, out = can_i_list(kubectl, adm.port, "bob", "default")
    assert "pods/exec" not in rows and rows.get("pods") == ["get", "list", "watch"], out


def test_self_subject_access_review_raw(adm):
    body = json.dumps({"kind": "SelfSubjectAccessReview",
                       "apiVersion": "authorization.k8s.io/v1",
                       "spec": {"resourceAttributes": {"namespace": "default", "verb": "create",
                                                       "resource": "pods",
                                                       "subresource": "exec"}}}).encode()
    path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
    h = [("Content-Type", "application/json")]
    for user, allowed in (("alice", True), ("bob", False)):
        resp = http_request(adm.port, "POST", path, h + bearer(user), body)
        assert resp.status == 201, resp
        got = resp.json()
        assert (got["kind"], got["apiVersion"]) == ("SelfSubjectAccessReview",
                                                    "authorization.k8s.io/v1"), got
        assert got["status"]["allowed"] is allowed, got
        assert got["spec"]["resourceAttributes"]["subresource"] == "exec", got
    resp = http_request(adm.port, "POST", path, h, body)
    assert resp.status == 401, resp


# kubectl 1.32 and later send the reviews as protobuf (runtime.Unknown in the
# "k8s\0" envelope), with no JSON fallback on 415: these are the bytes
# kubectl.1.33 sent for `auth can-i create pods --subresource=exec -n default`
# and `auth can-i --list -n default`.
SSAR_PROTOBUF = bytes.fromhex(
    "6b3873000a320a17617574686f72697a6174696f6e2e6b38732e696f2f7631121753656c665375626a6563"
    "7441636365737352657669657712430a100a0012001a0022002a0032003800420012250a230a076465666175"
    "6c7412066372656174651a0022002a04706f64733204657865633a001a08080012001a0020001a002200")
SSRR_PROTOBUF = bytes.fromhex(
    "6b3873000a310a17617574686f72697a6174696f6e2e6b38732e696f2f7631121653656c665375626a6563"
    "7452756c657352657669657712230a100a0012001a0022002a0032003800420012090a0764656661756c74"
    "1a04180022001a002200")
PROTOBUF_HEADERS = [("Content-Type", "application/vnd.kubernetes.protobuf"),
                    ("Accept", "application/vnd.kubernetes.protobuf,application/json")]


@pytest.mark.parametrize("user,allowed", [("alice", True), ("bob", False)])
def test_self_subject_reviews_in_protobuf(adm, user, allowed):
    base = "/apis/authorization.k8s.io/v1/"
    resp = http_request(adm.port, "POST", base + "selfsubjectaccessreviews",
                        PROTOBUF_HEADERS + bearer(user), SSAR_PROTOBUF)
    assert resp.status == 201, resp
    if (resp.header("Content-Type") or "").startswith("application/json"):
        assert resp.json()["status"]["allowed"] is allowed, resp
    resp = http_request(adm.port, "POST", base + "selfsubjectrulesreviews",
                        PROTOBUF_HEADERS + bearer(user), SSRR_PROTOBUF)
    assert resp.status == 201, resp
    if (resp.header("Content-Type") or "").startswith("application/json"):
        rules = resp.json()["status"]["resourceRules"]
        assert any("pods/exec" in r["resources"] for r in rules) is allowed, resp


# ---------------------------------------------------------------- (3) pasted from a cluster

PASTED = '''\
apiVersion: v1
items:
- apiVersion: rbac.authorization.k8s.io/v1
  kind: Role
  metadata:
    annotations:
      kubectl.kubernetes.io/last-applied-configuration: |
        {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"annotations":{},"name":"pod-exec","namespace":"default"},"rules":[{"apiGroups":[""],"resources":["pods"],"verbs":["get","list"]},{"apiGroups":[""],"resources":["pods/exec"],"verbs":["create"]}]}
    creationTimestamp: "2026-11-02T09:14:07Z"
    managedFields:
    - apiVersion: rbac.authorization.k8s.io/v1
      fieldsType: FieldsV1
      fieldsV1:
        f:metadata:
          f:annotations:
            .: {}
            f:kubectl.kubernetes.io/last-applied-configuration: {}
        f:rules: {}
      manager: kubectl-client-side-apply
      operation: Update
      time: "2026-11-02T09:14:07Z"
    name: pod-exec
    namespace: default
    resourceVersion: "48213"
    uid: 6f1c2a0e-93c4-4d1e-8a51-2f0b7c1d9e44
  rules:
  - apiGroups:
    - ""
    resources:
    - pods
    verbs:
    - get
    - list
  - apiGroups:
    - ""
    resources:
    - pods/exec
    verbs:
    - create
- apiVersion: rbac.authorization.k8s.io/v1
  kind: RoleBinding
  metadata:
    annotations:
      kubectl.kubernetes.io/last-applied-configuration: |
        {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"annotations":{},"name":"pod-exec-dave","namespace":"default"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"pod-exec"},"subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"dave"}]}
    creationTimestamp: "2026-11-02T09:14:07Z"
    managedFields:
    - apiVersion: rbac.authorization.k8s.io/v1
      fieldsType: FieldsV1
      fieldsV1:
        f:metadata:
          f:annotations:
            .: {}
            f:kubectl.kubernetes.io/last-applied-configuration: {}
        f:roleRef: {}
        f:subjects: {}
      manager: kubectl-client-side-apply
      operation: Update
      time: "2026-11-02T09:14:07Z"
    name: pod-exec-dave
    namespace: default
    resourceVersion: "48214"
    uid: 0d7e5b61-2a7f-4b0c-9e0f-8c3b51a6f2d7
  roleRef:
    apiGroup: rbac.authorization.k8s.io
    kind: Role
    name: pod-exec
  subjects:
  - apiGroup: rbac.authorization.k8s.io
    kind: User
    name: dave
kind: List
metadata:
  resourceVersion: ""
'''


def test_role_pasted_from_kubectl_get_yaml(podterm, kubectl):
    srv = podterm(auth_args(), files=auth_files(PASTED))
    r = kubectl("1.33", srv.port, "dave", "exec", "local", "--", "echo", "pasted")
    assert (r.returncode, r.stdout, r.stderr) == (0, "pasted\n", "")
    r = kubectl("1.33", srv.port, "alice", "exec", "local", "--", "echo", "pasted")
    assert (r.returncode, r.stdout) == (1, ""), r.stderr
    assert r.stderr == forbidden_line(forbidden_message("alice", "get", "pods", "default",
                                                        "local"))


def test_folder_of_yaml_and_json(podterm, tmp_path):
    """A folder source: its *.yaml/*.yml/*.json files are all read, others not."""
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "j", "namespace": "default"},
            "rules": [{"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}]}
    binding = ("apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n"
               "  name: j\n  namespace: default\nsubjects:\n- kind: User\n  name: dave\n"
               "  apiGroup: rbac.authorization.k8s.io\nroleRef:\n  kind: Role\n  name: j\n"
               "  apiGroup: rbac.authorization.k8s.io\n")
    (tmp_path / "role.json").write_text(json.dumps(role))
    (tmp_path / "binding.yml").write_text(binding)
    (tmp_path / "README.txt").write_text("not a policy: ignored\n")
    args = [str(tmp_path) if a == "{dir}/rbac.yaml" else a for a in auth_args()]
    srv = podterm(args, files=auth_files())
    resp, t = ws_exec(srv.port, exec_path(["printf", "dir"]), V5, headers=bearer("dave"))
    assert (resp.status, t.data(1)) == (101, b"dir"), (resp, t)
    resp, _ = ws_open(srv.port, exec_path(["true"]), V5, bearer("bob"))
    assert resp.status == 403, resp


# ---------------------------------------------------------------- (4) malformed at start-up

MALFORMED = {
    # name: (text, lines that may be named: the offending node's)
    "syntax": ("apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: x\n"
               "  namespace: default\nrules:\n- verbs: [create\n  resources: [pods]\n",
               range(7, 10)),
    "unknown-kind": (RBAC.split("---\n")[0] + "---\napiVersion: rbac.authorization.k8s.io/v1\n"
                     "kind: Rolle\nmetadata:\n  name: y\n", None),
    "verbs-not-a-list": ("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"
                         "metadata:\n  name: z\nrules:\n- apiGroups: [\"\"]\n  resources: [pods]\n"
                         "  verbs: create\n", [8]),
    "binding-without-roleRef": ("apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\n"
                                "metadata:\n  name: b\n  namespace: default\nsubjects:\n"
                                "- kind: User\n  name: bob\n", range(1, 9)),
    "bad-duration": ("apiVersion: podterm.dev/v1alpha1\nkind: ExecPolicy\nmetadata:\n"
                     "  name: p\nspec:\n  subjects: [{kind: User, name: bob}]\n"
                     "  idleTimeout: 5 minutes\n", [7]),
    "unknown-apiVersion": ("apiVersion: rbac.authorization.k8s.io/v2\nkind: Role\nmetadata:\n"
                           "  name: q\n  namespace: default\nrules: []\n", [1, 2]),
}
MALFORMED["unknown-kind"] = (MALFORMED["unknown-kind"][0],
                             [MALFORMED["unknown-kind"][0].count("\n") - 2,
                              MALFORMED["unknown-kind"][0].count("\n") - 3])


def start_and_wait_exit(args, cwd, timeout=20):
    return subprocess.run([BIN, "--listen", "127.0.0.1:0", *args], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout, env=sanitizer_env(),
                          cwd=cwd)


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_policy_refused_at_start(tmp_path, case):
    text, lines = MALFORMED[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(text)
    r = start_and_wait_exit(["--authorization-rbac-file", str(path)], tmp_path)
    assert r.returncode not in (0, None) and r.returncode > 0, (r.returncode, r.stderr)
    assert "podterm: serving" not in r.stdout + r.stderr
    m = re.search(re.escape(str(path)) + r":(\d+)", r.stderr)
    assert m, f"stderr does not name {path}:LINE: {r.stderr!r}"
    assert int(m.group(1)) in lines, f"line {m.group(1)} not in {list(lines)}: {r.stderr!r}"
    for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        assert marker not in r.stderr, r.stderr


def test_missing_policy_file_refused(tmp_path):
    path = tmp_path / "nope.yaml"
    r = start_and_wait_exit(["--authorization-rbac-file", str(path)], tmp_path)
    assert r.returncode > 0 and str(path) in r.stderr, (r.returncode, r.stderr)


# ---------------------------------------------------------------- (5) reload

BOB_EXEC = """\
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: bob-exec
  namespace: default
subjects:
- kind: User
  name: bob
  apiGroup: rbac.authorization.k8s.io
roleRef:
  kind: Role
  name: exec
  apiGroup: rbac.authorization.k8s.io
"""


def replace_file(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def exec_status(port, user):
    resp, ws = ws_open(port, exec_path(["true"]), V5, bearer(user))
    if ws is not None:
        ws.collect(10)
        ws.close()
    return resp.status


def open_running(port, user):
    """A session that prints "up" and then waits: (ws, the bytes seen)."""
    resp, ws = ws_open(port, exec_path(["sh", "-c", "echo up; sleep 60"]), V5, bearer(user))
    assert ws is not None, resp
    deadline = time.monotonic() + 10
    out = b""
    while b"up\n" not in out:
        op, payload = ws.recv_message(deadline)
        out += payload[1:] if payload[:1] == b"\x01" else b""
    return ws


@pytest.mark.parametrize("terminate", [True, False])
def test_terminate_on_revoke_ends_the_sessions_the_new_policy_refuses(podterm, terminate):
    """--terminate-on-revoke: bob's grant removed while his shell runs ends
    it with a Status in RBAC's words; alice, still allowed, goes on; the
    audit says "revoked". Without the flag a policy change applies to new
    sessions only."""
    extra = ["--terminate-on-revoke"] if terminate else []
    srv = podterm(auth_args("--audit-log-path", "{dir}/audit.log", *extra),
                  files=auth_files(RBAC + BOB_EXEC))
    bob = open_running(srv.port, "bob")
    alice = open_running(srv.port, "alice")
    replace_file(os.path.join(srv.dir, "rbac.yaml"), RBAC)
    assert wait_until(lambda: exec_status(srv.port, "bob") == 403, 10)
    if terminate:
        t = bob.collect(10)
        status = json.loads(t.status())
        assert status["message"] == ("Internal error occurred: session ended: access revoked: " +
                                     forbidden_message("bob", "create", "pods/exec", "default",
                                                       "local")), status
        assert status["reason"] == "InternalError", status
        def ends():
            with open(os.path.join(srv.dir, "audit.log")) as f:
                events = [json.loads(line) for line in f]
            return [e["annotations"].get("podterm.dev/end-reason") for e in events
                    if e["stage"] == "ResponseComplete" and e["user"]["username"] == "bob" and
                    e.get("objectRef", {}).get("subresource") == "exec"]
        assert wait_until(lambda: "revoked" in ends(), 5), ends()  # written as the session ends
    else:
        with pytest.raises(TimeoutError):
            bob.recv_message(time.monotonic() + 1.5)
    with pytest.raises(TimeoutError):
        alice.recv_message(time.monotonic() + 0.5)  # alice's session runs on
    bob.close()
    alice.close()


def test_reload_grants_and_a_broken_edit_keeps_the_old_policy(podterm):
    srv = podterm(auth_args(), files=auth_files())
    path = os.path.join(srv.dir, "rbac.yaml")
    assert exec_status(srv.port, "bob") == 403
    t0 = time.monotonic()
    replace_file(path, RBAC + BOB_EXEC)
    assert wait_until(lambda: exec_status(srv.port, "bob") == 101, 10), \
        "bob still refused 10 s after the grant was written"
    print(f"reload took {time.monotonic() - t0:.2f} s")
    before = srv.output()
    replace_file(path, RBAC + BOB_EXEC + "---\nkind: [broken\n")
    # the refusal is logged, naming the file
    assert wait_until(lambda: re.search(r"rbac\.yaml:\d+", srv.output()[len(before):]), 10), \
        f"no log line naming rbac.yaml:LINE for the broken file:\n{srv.output()[len(before):]}"
    time.sleep(0.5)
    assert exec_status(srv.port, "bob") == 101, "old policy not kept"
    assert exec_status(srv.port, "alice") == 101
    assert exec_status(srv.port, "dave") == 403
    # and a later good edit (bob's grant removed) is picked up again
    replace_file(path, RBAC)
    assert wait_until(lambda: exec_status(srv.port, "bob") == 403, 10), \
        "bob still allowed 10 s after the grant was removed"
