"""Finding the kubectl binaries and giving each run a fresh HOME/KUBECONFIG."""
import os
import shutil
import time

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
