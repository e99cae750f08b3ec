"""OpenID Connect ID tokens as bearer tokens (issue 16), against a real
OpenID provider (oidc-provider, npm) on a loopback HTTPS port with its own
test CA: podterm fetches the discovery document and JWKS from it over TLS
(--oidc-ca-file), and kubectl 1.30 and 1.33 with the ID token as the
kubeconfig's token are authorized by RBAC on the mapped user (issuer#sub,
kube's default prefix) and groups (--oidc-groups-prefix). Refused, with a
401 Status: expired, wrong audience, wrong issuer, unknown key, alg none,
HS256 keyed with the provider's public key, no username claim, email not
verified (--oidc-username-claim email). Key rotation at the provider is
picked up through an unknown kid, and a flood of unknown kids fetches the
JWKS at most once per interval (the provider's request log counts). /readyz
fails its oidc check until the JWKS is in; with the provider down at start,
tokens are refused until it comes up. No token ever reaches the log."""
import http.client
import json
import os
import socket
import ssl
import subprocess
import threading
import time

import pytest
from kube_tools import audit_exec_users, exec_role, kbin, kube_env, make_pki
from oidc_tools import Provider, SigningKey, unsigned
from podterm_server import BIN, CLUSTER_CONFIG, SANITIZER_MARKERS, Podterm, sanitizer_env

JWT_SECRET = "oidc-suite-hmac-secret-0123456789abcdef-0123456789\n"
KID_REFRESH_MIN_S = 10  # OIDC_KID_REFRESH_MIN_MS (src/oidc/oidc_internal.h)
UNAUTHORIZED = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "Unauthorized", "reason": "Unauthorized", "code": 401}

def rbac(issuer):
    """exec for the oidc:devs group, and for carol by her prefixed name."""
    return exec_role('"oidc:devs"', name="devs") + f"""\
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {{name: carol-exec}}
subjects: [{{kind: User, name: "{issuer}#carol", apiGroup: rbac.authorization.k8s.io}}]
roleRef: {{kind: ClusterRole, name: exec, apiGroup: rbac.authorization.k8s.io}}
"""


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(str(tmp_path_factory.mktemp("oidc-pki")))


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    p = Provider(str(tmp_path_factory.mktemp("oidc-idp")), [SigningKey("k1")])
    yield p
    p.stop()


def serve(pki, idp, *extra, audit=None, name="oidc"):
    args = ["--tls-cert-file", f"{pki}/server.crt", "--tls-private-key-file", f"{pki}/server.key",
            "--oidc-issuer-url", idp.issuer, "--oidc-client-id", "podterm",
            "--oidc-ca-file", idp.ca, "--oidc-groups-claim", "groups",
            "--oidc-groups-prefix", "oidc:", "--token-auth-file", "{dir}/tokens.csv",
            "--jwt-key-file", "{dir}/jwt.secret",
            "--authorization-rbac-file", "{dir}/rbac.yaml", *extra]
    if audit:
        args += ["--audit-log-path", audit]
    return Podterm(args, config=CLUSTER_CONFIG, name=name,
                   files={"tokens.csv": "static-token-sam,sam,1,oidc:devs\n",
                          "jwt.secret": JWT_SECRET,
                          "rbac.yaml": rbac(idp.issuer)})


@pytest.fixture(scope="module")
def srv(pki, idp, tmp_path_factory):
    audit = str(tmp_path_factory.mktemp("oidc-audit") / "audit.log")
    s = serve(pki, idp, audit=audit)
    s.audit_path = audit
    wait_ready(pki, s)
    yield s
    assert s.stop() == []


def request(pki, srv, path, token=None, timeout=30):
    ctx = ssl.create_default_context(cafile=f"{pki}/ca.crt")
    conn = http.client.HTTPSConnection("127.0.0.1", srv.port, context=ctx, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def readyz(pki, srv):
    return request(pki, srv, "/readyz?verbose")


def wait_ready(pki, srv, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = readyz(pki, srv)
        if status == 200:
            return body
        time.sleep(0.1)
    raise AssertionError(f"/readyz never passed: {body!r}\n{srv.output()}")


def pods(pki, srv, token):
    status, body = request(pki, srv, "/api/v1/namespaces/default/pods", token)
    return status, json.loads(body)


def assert_refused(pki, srv, token):
    assert pods(pki, srv, token) == (401, UNAUTHORIZED)


def kubectl(pki, srv, token, *args, version="1.33"):
    env = kube_env(srv.dir, srv.port, f"{pki}/ca.crt", token=token)
    return subprocess.run([kbin(version), *args], env=env, capture_output=True, timeout=60)


def exec_users(srv, n, timeout=10):
    return audit_exec_users(srv.audit_path, n, timeout)


TOKENS_USED = []


def used(token):
    TOKENS_USED.append(token)
    return token


def assert_no_token_logged(srv):
    """No token this module sent, good or bad, is in the server's log
    (whole, or its signature part alone)."""
    out = srv.output()
    for token in TOKENS_USED:
        assert token not in out
        sig = token.rsplit(".", 1)[-1]
        assert len(sig) < 16 or sig not in out


@pytest.mark.parametrize("version", ["1.30", "1.33"])
def test_kubectl_with_an_id_token_is_the_prefixed_user_and_groups(pki, idp, srv, version):
    token = used(idp.id_token("alice"))  # issued by the provider: groups ["devs"]
    r = kubectl(pki, srv, token, "exec", "local", "-c", "shell", "--", "sh", "-c",
                "echo hi-from-oidc; exit 7", version=version)
    assert (r.returncode, r.stdout) == (7, b"hi-from-oidc\n"), r
    srv.execs = getattr(srv, "execs", 0) + 1
    user = exec_users(srv, srv.execs)[-1]
    assert user == {"username": f"{idp.issuer}#alice",
                    "groups": ["oidc:devs", "system:authenticated"]}, user


@pytest.mark.parametrize("version", ["1.30", "1.33"])
def test_rbac_denies_an_oidc_user_without_a_grant(pki, idp, srv, version):
    token = used(idp.id_token("bob"))  # issued by the provider: groups ["qa"]
    r = kubectl(pki, srv, token, "exec", "local", "-c", "shell", "--", "true", version=version)
    assert r.returncode == 1, r
    assert r.stderr.decode() == (
        f'Error from server (Forbidden): pods "local" is forbidden: User "{idp.issuer}#bob" '
        'cannot get resource "pods" in API group "" in the namespace "default"\n'), r.stderr


def test_a_user_binding_names_the_prefixed_user(pki, idp, srv):
    """carol has no grant by group; a User binding names her as the apiserver
    would: issuer#sub. Her one group comes as a string, not a list."""
    token = used(idp.keys[0].sign(idp.claims("carol", groups="qa")))
    r = kubectl(pki, srv, token, "exec", "local", "-c", "shell", "--", "sh", "-c", "exit 4")
    assert r.returncode == 4, r
    srv.execs = getattr(srv, "execs", 0) + 1
    assert exec_users(srv, srv.execs)[-1] == {"username": f"{idp.issuer}#carol",
                                              "groups": ["oidc:qa", "system:authenticated"]}
    r = kubectl(pki, srv, token, "auth", "can-i", "create", "pods", "--subresource=exec")
    assert r.stdout == b"yes\n", r


def test_static_tokens_and_the_jwt_key_still_work_beside_oidc(pki, idp, srv):
    """All three on at once, tried static -> JWT key -> OIDC: each kind of
    token signs its own user in (the ID token, a JWT the JWT key refuses,
    goes on to OIDC)."""
    r = kubectl(pki, srv, "static-token-sam", "exec", "local", "-c", "shell", "--", "sh", "-c",
                "exit 5")
    assert r.returncode == 5, r
    secret = os.path.join(srv.dir, "jwt.secret")
    jwt = subprocess.run([BIN, "mint-token", "--jwt-key-file", secret, "--sub", "dana",
                          "--group", "oidc:devs"], capture_output=True, env=sanitizer_env(),
                         timeout=20, check=True).stdout.decode().strip()
    r = kubectl(pki, srv, used(jwt), "exec", "local", "-c", "shell", "--", "sh", "-c", "exit 6")
    assert r.returncode == 6, r
    r = kubectl(pki, srv, used(idp.id_token("alice")), "exec", "local", "-c", "shell", "--",
                "sh", "-c", "exit 8")
    assert r.returncode == 8, r
    srv.execs = getattr(srv, "execs", 0) + 3
    assert [u["username"] for u in exec_users(srv, srv.execs)[-3:]] == [
        "sam", "dana", f"{idp.issuer}#alice"]


def test_refused_tokens(pki, idp, srv):
    key = idp.keys[0]
    other = SigningKey("k1")  # same kid, another key
    attacks = {
        "expired": key.sign(idp.claims("alice", ttl=-5, groups=["devs"])),
        "wrong audience": key.sign(idp.claims("alice", aud="kubernetes", groups=["devs"])),
        "wrong issuer": key.sign(idp.claims("alice", iss="https://127.0.0.1:1", groups=["devs"])),
        "issuer with a slash": key.sign(idp.claims("alice", iss=idp.issuer + "/")),
        "unknown key": SigningKey("k-unknown").sign(idp.claims("alice", groups=["devs"])),
        "another key, known kid": other.sign(idp.claims("alice", groups=["devs"])),
        "alg none": unsigned(idp.claims("alice", groups=["devs"])),
        "HS256 with the public key": key.hs256_with_public_key(idp.claims("alice")),
        "no username claim": key.sign(idp.claims(None, groups=["devs"])),
        "not yet valid": key.sign(idp.claims("alice", nbf=int(time.time()) + 3600)),
        "control character in sub": key.sign(idp.claims("alice\nuser=admin")),
        "a static token's look-alike": "static-token-sam-not",
    }
    for what, token in attacks.items():
        used(token)
        assert pods(pki, srv, token) == (401, UNAUTHORIZED), what
    # kubectl says what a person sees.
    r = kubectl(pki, srv, attacks["alg none"], "exec", "local", "-c", "shell", "--", "true")
    assert r.returncode == 1
    assert r.stderr.endswith(b"error: You must be logged in to the server (the server has asked "
                             b"for the client to provide credentials)\n"), r.stderr
    # And a good one, to show the refusals were about the tokens.
    assert pods(pki, srv, used(key.sign(idp.claims("alice", groups=["devs"]))))[0] == 200


def test_email_claim_needs_a_verified_email(pki, idp, tmp_path):
    s = serve(pki, idp, "--oidc-username-claim", "email", name="oidc-email")
    try:
        wait_ready(pki, s)
        key = idp.keys[0]
        verified = used(key.sign(idp.claims("1", email="alice@example.test",
                                            email_verified=True, groups=["devs"])))
        status, body = pods(pki, s, verified)
        assert status == 200, body
        unverified = used(key.sign(idp.claims("2", email="bob@example.test",
                                              email_verified=False, groups=["devs"])))
        assert pods(pki, s, unverified) == (401, UNAUTHORIZED)
        no_email = used(key.sign(idp.claims("3", groups=["devs"])))
        assert pods(pki, s, no_email) == (401, UNAUTHORIZED)
        # The provider's own tokens: alice's email is verified, bob's is not.
        assert pods(pki, s, used(idp.id_token("alice")))[0] == 200
        assert pods(pki, s, used(idp.id_token("bob"))) == (401, UNAUTHORIZED)
    finally:
        assert_no_token_logged(s)
        assert s.stop() == []


def test_readyz_waits_for_the_keys_and_a_provider_down_at_start(pki, tmp_path):
    """The provider is not running when podterm starts: /readyz fails its
    oidc check and ID tokens are refused; once the provider is up (podterm
    retries with backoff), the same token is accepted."""
    late = Provider(str(tmp_path / "late-idp"), [SigningKey("k1")], start=False)
    s = serve(pki, late, name="oidc-late")
    try:
        status, body = readyz(pki, s)
        assert (status, body) == (500, b"[+]ping ok\n[+]policy ok\n[-]oidc failed: reason "
                                       b"withheld\n[+]shutdown ok\nreadyz check failed\n")
        token = used(late.keys[0].sign(late.claims("alice", groups=["devs"])))
        assert_refused(pki, s, token)
        # The reason is in the server's log (a URL and an error, no token).
        deadline = time.monotonic() + 30
        while f"GET {late.issuer}/.well-known/openid-configuration: connect" not in s.output():
            assert time.monotonic() < deadline, s.output()
            time.sleep(0.1)
        late.start()
        body = wait_ready(pki, s)
        assert body == (b"[+]ping ok\n[+]policy ok\n[+]oidc ok\n[+]shutdown ok\n"
                        b"readyz check passed\n")
        assert pods(pki, s, token)[0] == 200
        assert request(pki, s, "/readyz") == (200, b"ok")
    finally:
        late.stop()
        assert_no_token_logged(s)
        assert s.stop() == []


def test_key_rotation_and_the_unknown_kid_rate_limit(pki, tmp_path):
    """The provider rotates k1 -> k2: a k2 token is refused once (it starts
    the refresh; fetching is asynchronous) and accepted as soon as the new
    JWKS is in. Unknown kids then flood in: no more fetches until the
    interval has passed since the last one, then exactly one."""
    k1, k2 = SigningKey("k1"), SigningKey("k2")
    p = Provider(str(tmp_path / "rot-idp"), [k1])
    s = serve(pki, p, name="oidc-rotation")
    try:
        wait_ready(pki, s)
        assert pods(pki, s, used(k1.sign(p.claims("alice", groups=["devs"]))))[0] == 200
        assert p.requests("/jwks") == 1
        time.sleep(KID_REFRESH_MIN_S + 0.5)  # the start-up fetch is out of the window
        p.restart([k2])
        token = used(k2.sign(p.claims("alice", groups=["devs"])))
        assert_refused(pki, s, token)
        deadline = time.monotonic() + 20
        while pods(pki, s, token)[0] != 200:
            assert time.monotonic() < deadline, s.output()
            time.sleep(0.1)
        assert p.requests("/jwks") == 2
        attacker = SigningKey("x")
        flood = [used(attacker.sign(p.claims("alice"), kid=f"made-up-{i}")) for i in range(60)]
        flood_start = time.monotonic()
        for token_i in flood:
            assert_refused(pki, s, token_i)
        assert time.monotonic() - flood_start < KID_REFRESH_MIN_S - 1, "flood too slow to judge"
        assert p.requests("/jwks") == 2
        assert p.requests("/.well-known/openid-configuration") == 2
        time.sleep(KID_REFRESH_MIN_S + 0.5 - (time.monotonic() - flood_start))
        for i in range(20):
            assert_refused(pki, s, used(attacker.sign(p.claims("alice"), kid=f"later-{i}")))
        deadline = time.monotonic() + 20
        while p.requests("/jwks") < 3:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        time.sleep(1)
        assert p.requests("/jwks") == 3
        # The rotated-out key is gone from the JWKS: its tokens are refused.
        assert_refused(pki, s, used(k1.sign(p.claims("alice", groups=["devs"]))))
        # A failed refresh keeps the keys: with the provider gone, k2 still works.
        p.stop()
        assert pods(pki, s, token)[0] == 200
    finally:
        p.stop()
        assert_no_token_logged(s)
        assert s.stop() == []


class HostileIssuer:
    """A TLS server on loopback that plays a broken provider: "silent" never
    answers after the handshake, "endless" streams a body without end."""

    def __init__(self, d, mode):
        make_pki(d, ca_name="oidc-hostile-ca")
        self.ca = f"{d}/ca.crt"
        self.mode = mode
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(f"{d}/server.crt", f"{d}/server.key")
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.issuer = f"https://127.0.0.1:{self.port}"
        self.stopping = False
        self.conns = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
                c = self.ctx.wrap_socket(c, server_side=True)
                c.recv(4096)
            except OSError:
                continue
            self.conns.append(c)
            if self.mode == "endless":
                try:
                    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n")
                    while not self.stopping:
                        c.sendall(b" " * 16384)
                except OSError:
                    pass

    def stop(self):
        self.stopping = True
        self.sock.close()
        for c in self.conns:
            c.close()


@pytest.mark.parametrize("mode,error", [("silent", "timed out"),
                                        ("endless", "response body too large")])
def test_a_broken_provider_costs_a_timer_not_the_loop(pki, tmp_path, mode, error):
    """A provider that never answers is given up after the fetch deadline
    (10 s), one that streams without end at the size bound; meanwhile
    podterm answers at once (the loop is never blocked) and stays unready."""
    bad = HostileIssuer(str(tmp_path), mode)
    s = serve(pki, bad, name=f"oidc-{mode}")
    try:
        want = f"podterm: oidc: GET {bad.issuer}/.well-known/openid-configuration: {error}"
        deadline = time.monotonic() + 30
        while want not in s.output():
            t0 = time.monotonic()
            assert request(pki, s, "/livez")[0] == 200
            assert time.monotonic() - t0 < 2, "the loop was blocked"
            assert time.monotonic() < deadline, s.output()
            time.sleep(0.2)
        assert readyz(pki, s)[0] == 500
    finally:
        bad.stop()
        assert s.stop() == []


@pytest.mark.parametrize("args,rc,message", [
    (["--oidc-client-id", "podterm"], 2, "podterm: the --oidc-* flags need --oidc-issuer-url\n"),
    (["--oidc-issuer-url", "http://127.0.0.1:1", "--oidc-client-id", "p"], 1,
     "podterm: --oidc-issuer-url wants an https:// URL without query, fragment or user info\n"),
    (["--oidc-issuer-url", "https://127.0.0.1:1"], 1,
     "podterm: --oidc-issuer-url and --oidc-client-id go together\n"),
    (["--oidc-issuer-url", "https://127.0.0.1:1", "--oidc-client-id", "p",
      "--oidc-signing-algs", "RS256,HS256"], 1,
     'podterm: --oidc-signing-algs: "HS256" is not one of RS256, RS384, RS512, PS256, PS384, '
     'PS512, ES256, ES384, ES512\n'),
    (["--oidc-issuer-url", "https://127.0.0.1:1", "--oidc-client-id", "p",
      "--oidc-required-claim", "hd"], 1,
     'podterm: --oidc-required-claim wants key=value, got "hd"\n'),
    (["--oidc-issuer-url", "https://127.0.0.1:1", "--oidc-client-id", "p",
      "--oidc-ca-file", "/nonexistent/ca.crt"], 1,
     "podterm: --oidc-ca-file /nonexistent/ca.crt: no PEM certificate could be read\n"),
])
def test_bad_oidc_flags_refused_at_start(args, rc, message):
    p = subprocess.run([BIN, "--listen", "127.0.0.1:0", *args], stdin=subprocess.DEVNULL,
                       capture_output=True, env=sanitizer_env(), timeout=20)
    err = p.stderr.decode()
    assert not [m for m in SANITIZER_MARKERS if m in err], err
    assert (p.returncode, p.stdout, err) == (rc, b"", message)


def test_no_token_in_the_log(srv):
    """Last: the shared server's log holds none of the tokens sent to it."""
    assert len(TOKENS_USED) > 20
    assert_no_token_logged(srv)
