"""RBAC evaluated as kube-apiserver's authorizer does, with raw requests:
several --authorization-rbac-file sources, a RoleBinding to a ClusterRole
(granting in its namespace only), resourceNames, ServiceAccount subjects,
wildcards, and a binding to a role that does not exist (grants nothing)."""
import pytest
from podterm_client import V5, exec_path, ws_exec, ws_open

from conftest import TOKENS, bearer, forbidden_body, forbidden_message, get, stop_or_fail

PODS = """\
pods:
  - name: local
    containers: [{name: shell}]
  - name: db
    containers: [{name: main}]
  - name: web
    namespace: other
    containers: [{name: app}]
"""

SA = "system:serviceaccount:default:builder"
USERS = {"erin": "sem-erin-token-1", "finn": "sem-finn-token-2", "gus": "sem-gus-token-3",
         SA: "sem-builder-token-4", "hal": "sem-hal-token-5"}

# file one: the roles
ROLES = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: exec-pods}
rules:
- {apiGroups: [""], resources: [pods/exec], verbs: [create]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: exec-local-only, namespace: default}
rules:
- {apiGroups: [""], resources: [pods/exec], verbs: [create], resourceNames: [local]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: everything}
rules:
- {apiGroups: ["*"], resources: ["*"], verbs: ["*"]}
"""

# file two: the bindings
BINDINGS = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: erin-exec-in-other, namespace: other}
subjects: [{kind: User, name: erin, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: exec-pods, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: finn-local, namespace: default}
subjects: [{kind: User, name: finn, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: Role, name: exec-local-only, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: gus-everything}
subjects: [{kind: User, name: gus, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: everything, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: builder, namespace: default}
subjects: [{kind: ServiceAccount, name: builder, namespace: default}]
roleRef: {kind: ClusterRole, name: exec-pods, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: hal-dangling, namespace: default}
subjects: [{kind: User, name: hal, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: no-such-role, apiGroup: rbac.authorization.k8s.io}
"""


@pytest.fixture(scope="module")
def sem():
    from podterm_server import Podterm
    csv = "".join(f"{tok},{user},{3100 + i}\n" for i, (user, tok) in enumerate(USERS.items()))
    srv = Podterm(["--config", "{dir}/pods.yaml", "--token-auth-file", "{dir}/tokens.csv",
                   "--authorization-rbac-file", "{dir}/roles.yaml",
                   "--authorization-rbac-file", "{dir}/bindings.json.yaml"],
                  files={"pods.yaml": PODS, "tokens.csv": csv, "roles.yaml": ROLES,
                         "bindings.json.yaml": BINDINGS}, name="admission-rbac-semantics")
    TOKENS.update(USERS)
    yield srv
    for u in USERS:
        TOKENS.pop(u, None)
    stop_or_fail(srv)


def exec_result(srv, user, ns="default", pod="local"):
    resp, ws = ws_open(srv.port, exec_path(["printf", "ok"], ns=ns, pod=pod), V5, bearer(user))
    if ws is None:
        return resp.status, resp.body.decode()
    t = ws.collect(10)
    ws.close()
    return 101, t.data(1).decode()


def denied(user, ns, pod):
    return 403, forbidden_body(forbidden_message(user, "create", "pods/exec", ns, pod), pod)


@pytest.mark.parametrize("user,ns,pod,allowed", [
    # a RoleBinding to a ClusterRole grants in the binding's namespace only
    ("erin", "other", "web", True), ("erin", "default", "local", False),
    # resourceNames: this pod, not another
    ("finn", "default", "local", True), ("finn", "default", "db", False),
    # wildcards everywhere
    ("gus", "default", "db", True), ("gus", "other", "web", True),
    # a ServiceAccount subject matches system:serviceaccount:NS:NAME
    (SA, "default", "db", True), (SA, "other", "web", False),
    # a binding to a role that does not exist grants nothing
    ("hal", "default", "local", False),
])
def test_exec_grid(sem, user, ns, pod, allowed):
    got = exec_result(sem, user, ns, pod)
    assert got == ((101, "ok") if allowed else denied(user, ns, pod)), got


def test_wildcards_cover_reads_and_other_verbs(sem):
    assert get(sem.port, "/api/v1/namespaces/other/pods", "gus").status == 200
    assert get(sem.port, "/api/v1/namespaces", "gus").status == 200
    resp = get(sem.port, "/api/v1/namespaces", "erin")
    msg = ('namespaces is forbidden: User "erin" cannot list resource "namespaces" in API group '
           '"" at the cluster scope')
    assert (resp.status, resp.json()["message"]) == (403, msg), resp


def test_both_sources_are_read(sem):
    """Roles from the first file, bindings from the second: one policy."""
    resp, t = ws_exec(sem.port, exec_path(["printf", "two-files"], ns="other", pod="web"), V5,
                      headers=bearer("erin"))
    assert (resp.status, t.data(1)) == (101, b"two-files"), (resp, t)
