"""ExecPolicy (podterm.dev/v1alpha1): allowed and denied commands (exact
argv, argv prefix), readOnly (stdin refused), tty Required/Forbidden, the
idle timeout and the maximum duration ending a session with a Status that
says why, namespace scoping. Every user here may exec by RBAC
(ClusterRoleBinding to system:authenticated); the policies narrow it."""
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from podterm_client import V4, V5, exec_path, ws_exec, ws_open

from conftest import (TOKEN_CSV, TOKENS, auth_args, auth_files, bearer, forbidden_body,
                      forbidden_message, stop_or_fail)

RBAC_ALL = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: exec-all}
rules:
- apiGroups: [""]
  resources: ["pods", "namespaces"]
  verbs: ["get", "list"]
- apiGroups: [""]
  resources: ["pods/exec", "pods/attach"]
  verbs: ["create"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: everyone-exec}
subjects:
- {kind: Group, name: "system:authenticated", apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: ClusterRole, name: exec-all, apiGroup: rbac.authorization.k8s.io}
"""

POLICIES = """\
---
apiVersion: podterm.dev/v1alpha1
kind: ExecPolicy
metadata: {name: alice-commands}
spec:
  subjects: [{kind: User, name: alice}]
  namespaces: [default]
  commands:
  - exact: [printf, abc]
  - prefix: [echo]
---
apiVersion: podterm.dev/v1alpha1
kind: ExecPolicy
metadata: {name: rita-readonly}
spec:
  subjects: [{kind: User, name: rita}]
  readOnly: true
---
apiVersion: podterm.dev/v1alpha1
kind: ExecPolicy
metadata: {name: tom-tty}
spec:
  subjects: [{kind: User, name: tom}]
  tty: Required
---
apiVersion: podterm.dev/v1alpha1
kind: ExecPolicy
metadata: {name: fay-no-tty}
spec:
  subjects: [{kind: Group, name: notty}]
  tty: Forbidden
---
apiVersion: podterm.dev/v1alpha1
kind: ExecPolicy
metadata: {name: ida-idle}
spec:
  subjects: [{kind: User, name: ida}]
  idleTimeout: 2s
---
apiVersion: podterm.dev/v1alpha1
kind: ExecPolicy
metadata: {name: max-three-seconds}
spec:
  subjects: [{kind: User, name: max}]
  maxSessionDuration: 3s
  idleTimeout: 1h
---
apiVersion: podterm.dev/v1alpha1
kind: ExecPolicy
metadata: {name: lou-web-app}
spec:
  subjects: [{kind: User, name: lou}]
  podSelector:
    matchLabels: {app: web}
    matchExpressions: [{key: tier, operator: In, values: [front, back]}]
  containers: [app]
  commands: [{exact: [printf, web]}]
"""

EXTRA_USERS = {"rita": "adm-rita-token-5d1", "tom": "adm-tom-token-6e2",
               "fay": "adm-fay-token-7f3", "ida": "adm-ida-token-804", "max": "adm-max-token-915",
               "lou": "adm-lou-token-a26"}


@pytest.fixture(scope="module")
def pol():
    from podterm_server import Podterm
    files = auth_files(RBAC_ALL + POLICIES)
    files["tokens.csv"] = TOKEN_CSV + "".join(
        f'{tok},{u},{2000 + i},"{"notty" if u == "fay" else "x"}"\n'
        for i, (u, tok) in enumerate(EXTRA_USERS.items()))
    srv = Podterm(auth_args(), files=files, name="admission-exec-policy")
    TOKENS.update(EXTRA_USERS)
    yield srv
    for u in EXTRA_USERS:
        TOKENS.pop(u, None)
    stop_or_fail(srv)


def denied(user, why, verb="exec"):
    msg = forbidden_message(user, "create", f"pods/{verb}", "default", "local") + ": " + why
    return forbidden_body(msg, "local")


def open_status(srv, user, path, protocols=V5):
    resp, ws = ws_open(srv.port, path, protocols, bearer(user))
    if ws is None:
        return resp, None
    t = ws.collect(15)
    ws.close()
    return resp, t


# ---------------------------------------------------------------- commands

@pytest.mark.parametrize("argv,out", [
    (["printf", "abc"], b"abc"),
    (["echo", "x", "y"], b"x y\n"),
    (["echo"], b"\n"),
])
def test_allowed_commands(pol, argv, out):
    resp, t = ws_exec(pol.port, exec_path(argv), V5, headers=bearer("alice"))
    assert (resp.status, t.data(1)) == (101, out), (resp, t)
    assert json.loads(t.status()) == {"metadata": {}, "status": "Success"}


@pytest.mark.parametrize("argv", [
    ["rm", "-rf", "/"], ["printf", "abcd"], ["printf", "abc", "d"], ["printf"],
    ["echoes"], ["sh", "-c", "echo x"], ["/bin/echo", "x"],
])
def test_denied_commands(pol, argv):
    resp, t = open_status(pol, "alice", exec_path(argv))
    assert t is None and resp.status == 403, (resp, t)
    why = (f'ExecPolicy "alice-commands": command '
           f'{json.dumps(argv, separators=(",", ":"))} is not in the allowed commands')
    assert resp.body.decode() == denied("alice", why), resp.body


def test_command_rule_is_namespaced(pol):
    """alice's policy names namespace default: in `other` no policy applies."""
    resp, t = ws_exec(pol.port, exec_path(["sh", "-c", "printf free"], ns="other", pod="web",
                                          container="app"),
                      V5, headers=bearer("alice"))
    assert (resp.status, t.data(1)) == (101, b"free"), (resp, t)


def test_kubectl_prints_the_policy_denial(pol, kubectl):
    r = kubectl("1.33", pol.port, "alice", "exec", "local", "--", "rm", "-rf", "/")
    assert (r.returncode, r.stdout) == (1, ""), r.stderr
    why = 'ExecPolicy "alice-commands": command ["rm","-rf","/"] is not in the allowed commands'
    assert r.stderr == ("Error from server (Forbidden): " +
                        forbidden_message("alice", "create", "pods/exec", "default", "local") +
                        ": " + why + "\n"), r.stderr
    r = kubectl("1.33", pol.port, "alice", "exec", "local", "--", "printf", "abc")
    assert (r.returncode, r.stdout, r.stderr) == (0, "abc", "")


def test_attach_is_not_a_command(pol):
    """`commands` applies to exec only: attach (no command) is not refused by it."""
    resp, ws = ws_open(pol.port, exec_path(verb="attach", stdin=True, tty=True), V5,
                       bearer("alice"))
    assert resp.status == 101, resp
    ws.close()


# ---------------------------------------------------------------- readOnly

def test_read_only_refuses_stdin(pol):
    resp, t = open_status(pol, "rita", exec_path(["cat"], stdin=True))
    assert t is None, t
    assert resp.body.decode() == denied("rita", 'ExecPolicy "rita-readonly": stdin is not '
                                        'allowed (readOnly)'), resp.body
    resp, t = ws_exec(pol.port, exec_path(["printf", "ro"]), V5, headers=bearer("rita"))
    assert (resp.status, t.data(1)) == (101, b"ro"), (resp, t)


def test_read_only_refuses_attach_with_stdin(pol):
    resp, t = open_status(pol, "rita", exec_path(verb="attach", stdin=True, tty=True))
    assert t is None, t
    assert resp.body.decode() == denied("rita", 'ExecPolicy "rita-readonly": stdin is not '
                                        'allowed (readOnly)', "attach"), resp.body


def test_kubectl_read_only(pol, kubectl):
    r = kubectl("1.33", pol.port, "rita", "exec", "-i", "local", "--", "cat", stdin="x\n")
    assert r.returncode == 1 and r.stdout == "", r
    assert r.stderr.startswith("Error from server (Forbidden): "), r.stderr
    assert r.stderr.endswith(': ExecPolicy "rita-readonly": stdin is not allowed (readOnly)\n')


# ---------------------------------------------------------------- tty

def test_tty_required(pol):
    resp, t = open_status(pol, "tom", exec_path(["true"]))
    assert t is None, t
    assert resp.body.decode() == denied("tom", 'ExecPolicy "tom-tty": a TTY is required'), resp
    resp, t = open_status(pol, "tom", exec_path(["printf", "tty"], tty=True))
    assert resp.status == 101 and t.data(1) == b"tty", (resp, t)


def test_tty_forbidden_by_group(pol):
    resp, t = open_status(pol, "fay", exec_path(["true"], tty=True, stdin=True))
    assert t is None, t
    assert resp.body.decode() == denied("fay", 'ExecPolicy "fay-no-tty": a TTY is forbidden')
    resp, t = open_status(pol, "fay", exec_path(["printf", "plain"]))
    assert resp.status == 101 and t.data(1) == b"plain", (resp, t)


# ---------------------------------------------------------------- time limits

def ended_by_policy(t):
    st = json.loads(t.status())
    assert st["status"] == "Failure", st
    return st["message"]


def timed(fn):
    t0 = time.monotonic()
    out = fn()
    return out, time.monotonic() - t0


def test_time_limits(pol, kubectl):
    """The sessions of the idle and duration limits run side by side (each
    takes seconds): an idle one ends after idleTimeout on v5 and v4, output
    keeps one alive, a busy one ends at maxSessionDuration, and kubectl
    prints the reason. Each ends with a Failure Status saying why."""
    runs = {
        "idle-v5": lambda: open_status(pol, "ida", exec_path(["sleep", "30"]), V5),
        "idle-v4": lambda: open_status(pol, "ida", exec_path(["sleep", "30"]), V4),
        "alive": lambda: open_status(pol, "ida", exec_path(
            ["sh", "-c", "for i in 1 2 3 4 5 6; do echo $i; sleep 0.5; done"])),
        "max": lambda: open_status(pol, "max", exec_path(
            ["sh", "-c", "while :; do echo tick; sleep 0.2; done"])),
        "kubectl": lambda: kubectl("1.33", pol.port, "ida", "exec", "local", "--", "sleep", "30",
                                   timeout=30),
    }
    with ThreadPoolExecutor(len(runs)) as pool:
        futures = {k: pool.submit(timed, fn) for k, fn in runs.items()}
        got = {k: f.result() for k, f in futures.items()}

    for k in ("idle-v5", "idle-v4"):
        (resp, t), took = got[k]
        assert resp.status == 101, (k, resp)
        assert 1.5 <= took <= 8, f"{k}: idle session ended after {took:.1f} s (idleTimeout 2s)"
        msg = ended_by_policy(t)
        # the exact wording is the server's; the reason and the policy's name must be there
        assert "idle" in msg and "ida-idle" in msg, (k, msg)

    (resp, t), took = got["alive"]
    assert resp.status == 101 and t.data(1) == b"1\n2\n3\n4\n5\n6\n", t
    assert json.loads(t.status()) == {"metadata": {}, "status": "Success"}, t

    (resp, t), took = got["max"]
    assert resp.status == 101, resp
    assert 2.5 <= took <= 9, f"session ended after {took:.1f} s (maxSessionDuration 3s)"
    assert t.data(1).startswith(b"tick\n"), t
    msg = ended_by_policy(t)
    assert "maximum duration" in msg and "max-three-seconds" in msg, msg

    r, took = got["kubectl"]
    assert r.returncode != 0 and took < 15, (r, took)
    assert "idle" in r.stderr and "ida-idle" in r.stderr, r.stderr


# ---------------------------------------------------------------- what a policy applies to

def test_pod_selector_and_containers(pol):
    """lou's policy applies to container app of pods labeled app=web,
    tier in (front, back): there only `printf web` runs; elsewhere no policy
    applies."""
    web = dict(ns="other", pod="web")
    resp, t = ws_exec(pol.port, exec_path(["printf", "web"], container="app", **web), V5,
                      headers=bearer("lou"))
    assert (resp.status, t.data(1)) == (101, b"web"), (resp, t)
    resp, t = open_status(pol, "lou", exec_path(["printf", "x"], container="app", **web))
    assert t is None and resp.status == 403, (resp, t)
    msg = (forbidden_message("lou", "create", "pods/exec", "other", "web") +
           ': ExecPolicy "lou-web-app": command ["printf","x"] is not in the allowed commands')
    assert resp.body.decode() == forbidden_body(msg, "web"), resp.body
    # the sidecar and the unlabeled pod are not covered by the policy
    resp, t = ws_exec(pol.port, exec_path(["printf", "x"], container="sidecar", **web), V5,
                      headers=bearer("lou"))
    assert (resp.status, t.data(1)) == (101, b"x"), (resp, t)
    resp, t = ws_exec(pol.port, exec_path(["printf", "y"]), V5, headers=bearer("lou"))
    assert (resp.status, t.data(1)) == (101, b"y"), (resp, t)
