"""Gateway suite: an upstream podterm in local mode serving TLS with a token
file (the "cluster"), and a gateway podterm in front of it with a generated
kubeconfig. Certificates are made with openssl in a temp dir. Everything
listens on 127.0.0.1 and is stopped by PID."""
import os
import re
import signal
import subprocess
import tempfile
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("PODTERM_BIN", os.path.join(ROOT, "build-asan", "podterm"))
UPSTREAM_TOKEN = "upstream-secret-token"


def sh(*args, **kw):
    subprocess.run(args, check=True, capture_output=True, **kw)


def make_ca(d, name):
    sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
       "-subj", f"/CN={name}", "-keyout", f"{d}/{name}.key", "-out", f"{d}/{name}.crt")


def make_cert(d, ca, name, san):
    sh("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
       "-keyout", f"{d}/{name}.key", "-out", f"{d}/{name}.csr")
    ext = f"{d}/{name}.ext"
    with open(ext, "w") as f:
        f.write(f"subjectAltName={san}\n")
    sh("openssl", "x509", "-req", "-in", f"{d}/{name}.csr", "-CA", f"{d}/{ca}.crt",
       "-CAkey", f"{d}/{ca}.key", "-CAcreateserial", "-days", "2", "-extfile", ext,
       "-out", f"{d}/{name}.crt")


class Podterm:
    """A podterm process; url parsed from its 'serving' line."""

    def __init__(self, args, env=None):
        self.log = tempfile.NamedTemporaryFile(prefix="podterm-", suffix=".log", delete=False)
        self.proc = subprocess.Popen([BIN, "--listen", "127.0.0.1:0", *args],
                                     stdout=self.log, stderr=self.log, env=env)
        deadline = time.time() + 15
        self.url = None
        while time.time() < deadline and self.url is None:
            if self.proc.poll() is not None:
                break
            m = re.search(r"podterm: serving (https?://[0-9.:]+/)", self.output())
            if m:
                self.url = m.group(1)
            else:
                time.sleep(0.05)
        if self.url is None:
            self.stop()
            raise RuntimeError("podterm did not start: " + self.output())
        self.port = int(self.url.rsplit(":", 1)[1].strip("/"))

    def output(self):
        with open(self.log.name, errors="replace") as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def kubeconfig(d, name, server, ca=None, token=None, exec_cmd=None, ca_data=None):
    lines = ["apiVersion: v1", "kind: Config", "current-context: c",
             "contexts:", "- name: c", "  context: {cluster: k, user: u}",
             "clusters:", "- name: k", "  cluster:", f"    server: {server}"]
    if ca:
        lines.append(f"    certificate-authority: {ca}")
    if ca_data:
        lines.append(f"    certificate-authority-data: {ca_data}")
    lines += ["users:", "- name: u", "  user:"]
    if token:
        lines.append(f"    token: {token}")
    if exec_cmd:
        lines += ["    exec:", "      apiVersion: client.authentication.k8s.io/v1",
                  f"      command: {exec_cmd}", "      interactiveMode: Never"]
    if not token and not exec_cmd:
        lines[-1] = "  user: {}"
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="session")
def pki():
    d = tempfile.mkdtemp(prefix="podterm-gw-")
    make_ca(d, "ca")
    make_ca(d, "otherca")
    make_cert(d, "ca", "server", "IP:127.0.0.1")
    with open(f"{d}/tokens.csv", "w") as f:
        f.write(f'{UPSTREAM_TOKEN},alice,1001,"devs"\n')
    return d


@pytest.fixture(scope="session")
def upstream(pki):
    p = Podterm(["--tls-cert-file", f"{pki}/server.crt", "--tls-private-key-file",
                 f"{pki}/server.key", "--token-auth-file", f"{pki}/tokens.csv"])
    assert p.url.startswith("https://")
    yield p
    p.stop()


@pytest.fixture(scope="session")
def gateway(pki, upstream):
    kc = kubeconfig(pki, "gw.kubeconfig", upstream.url.rstrip("/"), ca=f"{pki}/ca.crt",
                    token=UPSTREAM_TOKEN)
    p = Podterm(["--kubeconfig", kc])
    yield p
    p.stop()


@pytest.fixture(scope="session")
def kubectl_env(pki, gateway):
    """A kubeconfig for kubectl pointing at the gateway (anonymous on loopback)."""
    home = tempfile.mkdtemp(prefix="podterm-home-")
    kc = kubeconfig(home, "config", gateway.url.rstrip("/"))
    env = dict(os.environ, HOME=home, KUBECONFIG=kc)
    return env
