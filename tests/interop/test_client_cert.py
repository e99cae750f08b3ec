"""Client certificates as users (issue 16): with --client-ca-file, a
certificate the CA signed names the user, as kube-apiserver's x509
authenticator reads it: the subject's CommonName is the user, each
Organization a group. kubectl with a client-certificate kubeconfig is
authorized by RBAC on that user and those groups, and the audit says who it
was. A certificate takes precedence over a bearer token sent with it (the
apiserver tries x509 first); one without a CommonName names nobody."""
import subprocess

import pytest
from kube_tools import audit_exec_users, exec_role, kbin, kube_env, make_pki, sign_cert
from podterm_server import CLUSTER_CONFIG, Podterm

RBAC = exec_role("devs") + """\
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: metrics}
rules: [{nonResourceURLs: ["/metrics"], verbs: ["get"]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ops-metrics}
subjects: [{kind: Group, name: ops, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: metrics, apiGroup: rbac.authorization.k8s.io}
"""


def client_cert(d, name, subj):
    return sign_cert(d, name, subj, "extendedKeyUsage=clientAuth")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("x509"))
    make_pki(d)
    certs = {
        "alice": client_cert(d, "alice", "/CN=alice/O=devs/O=ops"),
        "bob": client_cert(d, "bob", "/CN=bob/O=qa"),
        "nocn": client_cert(d, "nocn", "/O=devs"),
    }
    return d, certs


@pytest.fixture(scope="module")
def srv(pki, tmp_path_factory):
    d, _ = pki
    audit = str(tmp_path_factory.mktemp("x509-audit") / "audit.log")
    s = Podterm(["--tls-cert-file", f"{d}/server.crt", "--tls-private-key-file",
                 f"{d}/server.key", "--client-ca-file", f"{d}/ca.crt",
                 "--token-auth-file", "{dir}/tokens.csv",
                 "--authorization-rbac-file", "{dir}/rbac.yaml", "--audit-log-path", audit],
                config=CLUSTER_CONFIG,
                files={"tokens.csv": "carol-token,carol,3003,devs\n", "rbac.yaml": RBAC},
                name="x509")
    s.audit_path = audit
    yield s
    assert s.stop() == []


def kubectl(srv, pki, user, *args, token=None, version="1.33"):
    d, certs = pki
    env = kube_env(d, srv.port, f"{d}/ca.crt", token=token, cert=certs[user])
    return subprocess.run([kbin(version), *args], env=env, capture_output=True, timeout=60)


def exec_users(srv, n, timeout=10):
    return audit_exec_users(srv.audit_path, n, timeout)


@pytest.mark.parametrize("version", ["1.30", "1.33"])
def test_kubectl_with_a_client_certificate_is_its_cn_and_groups(srv, pki, version):
    r = kubectl(srv, pki, "alice", "exec", "local", "-c", "shell", "--", "sh", "-c",
                "echo hi-from-cert; exit 7", version=version)
    assert (r.returncode, r.stdout) == (7, b"hi-from-cert\n"), r
    srv.execs = getattr(srv, "execs", 0) + 1
    user = exec_users(srv, srv.execs)[-1]
    assert user == {"username": "alice", "groups": ["devs", "ops", "system:authenticated"]}, user


def test_rbac_denies_a_certificate_user_without_a_grant(srv, pki):
    r = kubectl(srv, pki, "bob", "exec", "local", "-c", "shell", "--", "true")
    assert r.returncode == 1, r
    assert r.stderr.decode() == (
        'Error from server (Forbidden): pods "local" is forbidden: User "bob" cannot get '
        'resource "pods" in API group "" in the namespace "default"\n'), r.stderr
    r = kubectl(srv, pki, "bob", "auth", "can-i", "create", "pods", "--subresource=exec")
    assert r.stdout == b"no\n", r
    r = kubectl(srv, pki, "alice", "auth", "can-i", "create", "pods", "--subresource=exec")
    assert r.stdout == b"yes\n", r


def test_the_certificate_wins_over_a_token_sent_with_it(srv, pki):
    """bob's certificate and carol's valid token: bob it is (denied), as the
    apiserver's authenticator order has it."""
    r = kubectl(srv, pki, "bob", "exec", "local", "-c", "shell", "--", "true",
                token="carol-token")
    assert r.returncode == 1 and b'User "bob" cannot get resource "pods"' in r.stderr, r


def test_a_certificate_without_common_name_names_nobody(srv, pki):
    """No CN: not a user (the group in it gives nothing); with no token
    either, the request is unauthenticated: 401."""
    r = kubectl(srv, pki, "nocn", "exec", "local", "-c", "shell", "--", "true")
    assert r.returncode == 1, r
    assert b"Unauthorized" in r.stderr or b"must be logged in" in r.stderr, r.stderr
    # With a token beside it, the token's user.
    r = kubectl(srv, pki, "nocn", "exec", "local", "-c", "shell", "--", "sh", "-c", "exit 3",
                token="carol-token")
    assert r.returncode == 3, r
    srv.execs = getattr(srv, "execs", 0) + 1
    assert exec_users(srv, srv.execs)[-1]["username"] == "carol"


def test_metrics_count_certificate_sign_ins(srv, pki):
    d, certs = pki
    r = subprocess.run(["curl", "-sS", "--cacert", f"{d}/ca.crt", "--cert", certs["alice"][0],
                        "--key", certs["alice"][1], f"https://127.0.0.1:{srv.port}/metrics"],
                       capture_output=True, timeout=30)
    lines = [l for l in r.stdout.decode().splitlines()
             if l.startswith('podterm_authentication_attempts_total{result="success",method="x509"}')]
    assert lines and int(lines[0].split()[-1]) >= 1, r.stdout[-2000:]
