"""Gateway mode with OpenID Connect (issue 16): a client signed in with an ID
token from a real oidc-provider reaches the cluster as the mapped user,
impersonated with podterm's own credentials: Impersonate-User is
issuer#sub (kube's default prefix) and the groups carry
--oidc-groups-prefix; the ID token itself never goes upstream."""
import time

from conftest import UPSTREAM_TOKEN, kubeconfig, stop_or_fail
from oidc_tools import Provider, SigningKey
from podterm_client import V5, exec_path, http_request, ws_exec
from recorder import Recorder


def test_oidc_user_is_impersonated_upstream(pki, podterm, tmp_path):
    idp = Provider(str(tmp_path / "idp"), [SigningKey("k1")])
    up = podterm(["--token-auth-file", f"{pki}/tokens.csv"], name="gw-oidc-up")
    rec = Recorder(up.port)
    try:
        kc = kubeconfig(pki, "oidc.kubeconfig", f"http://127.0.0.1:{rec.port}",
                        token=UPSTREAM_TOKEN)
        gw = podterm(["--kubeconfig", kc, "--oidc-issuer-url", idp.issuer,
                      "--oidc-client-id", "podterm", "--oidc-ca-file", idp.ca,
                      "--oidc-groups-claim", "groups", "--oidc-groups-prefix", "oidc:"],
                     name="gw-oidc")
        deadline = time.monotonic() + 60
        while http_request(gw.port, "GET", "/readyz").status != 200:
            assert time.monotonic() < deadline, gw.output()
            time.sleep(0.1)
        token = idp.id_token("alice")
        auth = [("Authorization", "Bearer " + token)]
        assert http_request(gw.port, "GET", "/api/v1/pods").status == 401
        assert http_request(gw.port, "GET", "/api/v1/pods", headers=auth).status == 200
        _, t = ws_exec(gw.port, exec_path(["echo", "as-alice"]), V5, headers=auth)
        assert t.data(1) == b"as-alice\n"
        assert rec.requests
        for q in rec.requests:
            assert q.header("Authorization") == "Bearer " + UPSTREAM_TOKEN, q
            assert q.header("Impersonate-User") == f"{idp.issuer}#alice", q
            groups = sorted(v for k, v in q.headers if k.lower() == "impersonate-group")
            assert groups == ["oidc:devs"], q.headers
        assert token not in gw.output()
        stop_or_fail(gw)
    finally:
        rec.close()
        idp.stop()
