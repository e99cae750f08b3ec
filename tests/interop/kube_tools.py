"""Finding the kubectl binaries, giving each run a fresh HOME/KUBECONFIG, and a
tmux terminal to run kubectl -it in (the gateway suite uses these too)."""
import json
import os
import shutil
import subprocess
import time
import uuid

KDIR = os.path.dirname(os.path.realpath(shutil.which("kubectl") or "/usr/bin/kubectl"))
WS_VERSIONS = ["1.30", "1.31", "1.32", "1.33"]


def kbin(version):
    """Path of kubectl.VERSION next to the kubectl on PATH (AssertionError if absent)."""
    path = os.path.join(KDIR, f"kubectl.{version}")
    assert os.access(path, os.X_OK), f"{path} is missing"
    return path


def fresh_env(tmp, port, extra=None):
    """HOME and KUBECONFIG of their own (no discovery cache), pointing at
    http://127.0.0.1:port, anonymous; KUBECTL_* variables of the caller dropped."""
    home = os.path.join(tmp, f"home-{time.monotonic_ns()}")
    os.makedirs(home)
    cfg = os.path.join(home, "kubeconfig")
    with open(cfg, "w") as f:
        f.write("apiVersion: v1\nkind: Config\ncurrent-context: c\n"
                "contexts:\n- name: c\n  context: {cluster: k, user: u, namespace: default}\n"
                f"clusters:\n- name: k\n  cluster: {{server: 'http://127.0.0.1:{port}'}}\n"
                "users:\n- name: u\n  user: {}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBECTL_")}
    env.update(HOME=home, KUBECONFIG=cfg, **(extra or {}))
    return env


class Tmux:
    def __init__(self, tmp, env, command, width=120, height=40):
        self.sock = os.path.join(tmp, f"tmux-{time.monotonic_ns()}.sock")
        conf = self.sock + ".conf"
        with open(conf, "w") as f:
            f.write("set -g status off\nset -g history-limit 2000\n")
        self.base = ["tmux", "-S", self.sock, "-f", conf]
        self.env = env
        self.run("new-session", "-d", "-s", "t", "-x", str(width), "-y", str(height), command)

    def run(self, *args):
        return subprocess.run(self.base + list(args), env=self.env, capture_output=True,
                              text=True, check=True, timeout=10).stdout

    def screen(self):
        return self.run("capture-pane", "-p", "-t", "t", "-S", "-200")

    def size(self):
        h, w = self.run("display-message", "-p", "-t", "t", "#{pane_height} #{pane_width}").split()
        return f"{h} {w}"

    def wait_for(self, text, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} not on screen within {timeout} s:\n{self.screen()}")

    def keys(self, line):
        self.run("send-keys", "-t", "t", "-l", line)
        self.run("send-keys", "-t", "t", "Enter")

    def kill(self):
        subprocess.run(self.base + ["kill-server"], env=self.env, capture_output=True, timeout=10)


def tmux_exec_it(env, tmp, version):
    """kubectl VERSION exec -it in tmux (120x40): the terminal's size, a
    resize to 100x30 (SIGWINCH -> kubectl -> the server -> TIOCSWINSZ,
    asked again until it lands), exit 3 as kubectl's exit status."""
    cmd = f"{kbin(version)} exec -it local -- sh; echo KUBECTL-EXIT=$?; sleep 60"
    tm = Tmux(tmp, env, cmd)
    try:
        tm.keys("echo READY-$((6*7))")
        tm.wait_for("READY-42")
        tm.keys("stty size")
        tm.wait_for("\n40 120\n")
        tm.run("resize-window", "-t", "t", "-x", "100", "-y", "30")
        deadline = time.monotonic() + 10
        while "\n30 100\n" not in tm.screen() and time.monotonic() < deadline:
            tm.keys("stty size")
            time.sleep(0.3)
        tm.wait_for("\n30 100\n")
        tm.keys("exit 3")
        tm.wait_for("KUBECTL-EXIT=3")
    finally:
        tm.kill()


def tmux_attach_it(env, tmp, version):
    """kubectl VERSION attach -it to team-a/web's main process in tmux
    (90x25): keystrokes reach it and its terminal has kubectl's size."""
    cmd = f"{kbin(version)} -n team-a attach -it web -c app; echo KUBECTL-EXIT=$?; sleep 60"
    tm = Tmux(tmp, env, cmd, width=90, height=25)
    try:
        time.sleep(0.5)
        tm.keys("echo ATTACHED-$((3*3))")
        tm.wait_for("ATTACHED-9")
        tm.keys("stty size")
        tm.wait_for("\n25 90\n")
    finally:
        tm.kill()


# client-go 1.30-1.33 has a known race (PROTOCOL.md 5.6) that logs "Unknown
# stream id N, discarding message" for the empty first frame about once in 300
# runs. Tolerated in at most this fraction of those versions' runs (or
# RACE_RUNS_FREE runs, for a short selection): a podterm bug that makes
# kubectl drop messages shows up far more often.
RACE_VERSIONS = ("1.30", "1.31", "1.32", "1.33")
RACE_FRACTION_MAX = 0.05
RACE_RUNS_FREE = 2


def _sh(*args):
    subprocess.run(args, check=True, capture_output=True, timeout=60)


def sign_cert(d, name, subj, ext, ca="ca"):
    """name.crt and name.key in d for subj, signed by the CA d/ca.crt with the
    extension line ext. Returns (crt path, key path)."""
    _sh("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", subj, "-keyout",
        f"{d}/{name}.key", "-out", f"{d}/{name}.csr")
    with open(f"{d}/{name}.ext", "w") as f:
        f.write(ext + "\n")
    _sh("openssl", "x509", "-req", "-in", f"{d}/{name}.csr", "-CA", f"{d}/{ca}.crt", "-CAkey",
        f"{d}/{ca}.key", "-CAcreateserial", "-days", "2", "-extfile", f"{d}/{name}.ext",
        "-out", f"{d}/{name}.crt")
    return f"{d}/{name}.crt", f"{d}/{name}.key"


def make_pki(d, ca_name="podterm-test-ca"):
    """A CA (ca.crt) and a server certificate for 127.0.0.1 (server.crt,
    server.key) in d, made by openssl: kubectl sends a kubeconfig's token
    over TLS only, so suites that sign in with tokens serve HTTPS. Returns d."""
    _sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
        f"/CN={ca_name}", "-keyout", f"{d}/ca.key", "-out", f"{d}/ca.crt")
    sign_cert(d, "server", "/CN=server", "subjectAltName=IP:127.0.0.1")
    return d


# RBAC objects tests share: a ClusterRole to open pods (get/list pods,
# create pods/exec) and its binding to a group, formatted with the group.
EXEC_ROLE = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {{name: exec}}
rules:
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list"]
- apiGroups: [""]
  resources: ["pods/exec"]
  verbs: ["create"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {{name: {name}-exec}}
subjects: [{{kind: Group, name: {group}, apiGroup: rbac.authorization.k8s.io}}]
roleRef: {{kind: ClusterRole, name: exec, apiGroup: rbac.authorization.k8s.io}}
"""


def exec_role(group, name=None):
    """The exec ClusterRole bound to group (YAML text; quote names with a
    colon); name: the binding's prefix, the group by default."""
    return EXEC_ROLE.format(group=group, name=name or group)


def audit_exec_users(audit_path, n, timeout=10):
    """The users of the completed execs in an audit log, once there are n
    (a session's ResponseComplete may come just after its client exits)."""
    deadline = time.monotonic() + timeout
    while True:
        with open(audit_path) as f:
            events = [json.loads(line) for line in f if line.strip()]
        users = [e["user"] for e in events if e["stage"] == "ResponseComplete" and
                 e.get("objectRef", {}).get("subresource") == "exec"]
        if len(users) >= n or time.monotonic() > deadline:
            return users


def kube_env(tmp, port, ca, token=None, cert=None):
    """Environment for kubectl against podterm on 127.0.0.1:port over TLS (CA file ca)
    with a bearer token and/or a client certificate (cert: (crt path, key path)), in a
    fresh HOME under tmp (kubectl caches discovery there)."""
    user = []
    if cert:
        user += [f"client-certificate: '{cert[0]}'", f"client-key: '{cert[1]}'"]
    if token:
        user.append(f"token: '{token}'")
    home = os.path.join(tmp, f"home-{uuid.uuid4().hex[:8]}")
    os.makedirs(home)
    cfg = os.path.join(home, "kubeconfig")
    with open(cfg, "w") as f:
        f.write("apiVersion: v1\nkind: Config\ncurrent-context: c\n"
                "contexts:\n- name: c\n  context: {cluster: k, user: u, namespace: default}\n"
                f"clusters:\n- name: k\n  cluster: {{server: 'https://127.0.0.1:{port}', "
                f"certificate-authority: '{ca}'}}\n"
                f"users:\n- name: u\n  user: {{{', '.join(user)}}}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBECTL_")}
    env.update(HOME=home, KUBECONFIG=cfg)
    return env
