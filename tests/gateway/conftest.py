"""Gateway suite: an upstream podterm in local mode serving TLS with a token
file (the "cluster"), and a gateway podterm in front of it with a generated
kubeconfig. Certificates are made with openssl in a temp dir. Everything
listens on 127.0.0.1 and is stopped by PID; a server that exits non-zero on
SIGTERM or printed a sanitizer report fails the test that owned it (the
interop suite's Podterm does those checks, so both suites share it)."""
import os
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "interop"))

import podterm_server  # noqa: E402
from podterm_server import Podterm  # noqa: E402

UPSTREAM_TOKEN = "upstream-secret-token"
# Users of a gateway that authenticates its own clients (impersonation tests).
GATEWAY_USER_TOKEN = "gateway-user-token-carol"


def sh(*args):
    import subprocess
    subprocess.run(args, check=True, capture_output=True)


def make_ca(d, name):
    sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
       "-subj", f"/CN={name}", "-keyout", f"{d}/{name}.key", "-out", f"{d}/{name}.crt")


def make_cert(d, ca, name, subj, ext):
    sh("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", subj,
       "-keyout", f"{d}/{name}.key", "-out", f"{d}/{name}.csr")
    with open(f"{d}/{name}.ext", "w") as f:
        f.write(ext + "\n")
    sh("openssl", "x509", "-req", "-in", f"{d}/{name}.csr", "-CA", f"{d}/{ca}.crt",
       "-CAkey", f"{d}/{ca}.key", "-CAcreateserial", "-days", "2", "-extfile",
       f"{d}/{name}.ext", "-out", f"{d}/{name}.crt")


def kubeconfig(d, name, server, ca=None, token=None, exec_cmd=None, client_cert=None,
               token_file=None):
    """A kubeconfig file with one context; client_cert: (crt path, key path)."""
    lines = ["apiVersion: v1", "kind: Config", "current-context: c",
             "contexts:", "- name: c", "  context: {cluster: k, user: u, namespace: default}",
             "clusters:", "- name: k", "  cluster:", f"    server: {server}"]
    if ca:
        lines.append(f"    certificate-authority: {ca}")
    user = []
    if token:
        user.append(f"    token: {token}")
    if token_file:
        user.append(f"    tokenFile: {token_file}")
    if client_cert:
        user += [f"    client-certificate: {client_cert[0]}", f"    client-key: {client_cert[1]}"]
    if exec_cmd:
        user += ["    exec:", "      apiVersion: client.authentication.k8s.io/v1",
                 f"      command: {exec_cmd}", "      interactiveMode: Never"]
    lines += ["users:", "- name: u"] + (["  user:"] + user if user else ["  user: {}"])
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def stop_or_fail(srv):
    problems = srv.stop()
    if problems:
        pytest.fail(srv.describe(problems), pytrace=False)


@pytest.fixture(scope="session")
def pki():
    d = tempfile.mkdtemp(prefix="podterm-gw-")
    make_ca(d, "ca")
    make_ca(d, "otherca")
    make_ca(d, "clientca")
    make_cert(d, "ca", "server", "/CN=server", "subjectAltName=IP:127.0.0.1")
    make_cert(d, "clientca", "client", "/CN=podterm-gateway/O=gateways",
              "extendedKeyUsage=clientAuth")
    with open(f"{d}/tokens.csv", "w") as f:
        f.write(f'{UPSTREAM_TOKEN},alice,1001,"devs"\n')
    with open(f"{d}/gateway-users.csv", "w") as f:
        f.write(f'{GATEWAY_USER_TOKEN},carol,2002,"sre,oncall"\n')
    return d


def tls_args(pki, *extra):
    return ["--tls-cert-file", f"{pki}/server.crt", "--tls-private-key-file",
            f"{pki}/server.key", *extra]


@pytest.fixture(scope="session")
def upstream(pki):
    p = Podterm(tls_args(pki, "--token-auth-file", f"{pki}/tokens.csv"), name="gw-upstream")
    assert p.url.startswith("https://")
    yield p
    stop_or_fail(p)


@pytest.fixture(scope="session")
def gateway(pki, upstream):
    kc = kubeconfig(pki, "gw.kubeconfig", upstream.url.rstrip("/"), ca=f"{pki}/ca.crt",
                    token=UPSTREAM_TOKEN)
    p = Podterm(["--kubeconfig", kc], name="gw-gateway")
    yield p
    stop_or_fail(p)


@pytest.fixture(autouse=True)
def shared_servers_healthy():
    """After each test the session's servers still run with a clean log."""
    yield
    for srv in list(podterm_server.LIVE):
        assert srv.alive(), srv.describe(["exited during the test"])
        assert not srv.sanitizer_reports(), srv.describe(srv.sanitizer_reports())


@pytest.fixture
def podterm():
    """start(args, name=...) -> Podterm owned by the test, stopped and checked at its end."""
    started = []

    def start(args, name="gw-extra"):
        srv = Podterm(args, name=name)
        started.append(srv)
        return srv

    yield start
    failures = [s.describe(p) for s in started for p in [s.stop()] if p]
    if failures:
        pytest.fail("\n".join(failures), pytrace=False)
