"""Bearer authentication: Authorization header and the token subprotocol, with
static tokens (--token-auth-file) and HMAC JWTs (--jwt-key-file)
(PROTOCOL.md 2.5; checklist 24)."""
import pytest

from podterm_client import (SUCCESS_STATUS, V4, V5, assert_json_exact, assert_status_response,
                            exec_path, http_request, mint_jwt, token_item, ws_open)

STATIC_TOKEN = "interop-static-token-31337"
SECRET = b"interop-hmac-secret-for-podterm-tests-0123456789"
TRUE = exec_path(["true"])


@pytest.fixture(scope="module")
def authed(request):
    from podterm_server import Podterm
    srv = Podterm(["--token-auth-file", "{dir}/tokens.csv", "--jwt-key-file", "{dir}/jwt.key"],
                  files={"tokens.csv": f'{STATIC_TOKEN},alice,1001,"devs,ops"\n',
                         "jwt.key": SECRET},
                  name="test_auth-authed")
    yield srv
    problems = srv.stop()
    if problems:
        pytest.fail(srv.describe(problems), pytrace=False)


def bearer(token):
    return [("Authorization", f"Bearer {token}")]


def unauthorized(resp):
    assert_status_response(resp, 401, "Unauthorized", "Unauthorized")


def upgrade(srv, protocols=V5, headers=()):
    resp, ws = ws_open(srv.port, TRUE, protocols, headers)
    if ws is None:
        return resp, None
    t = ws.collect()
    ws.close()
    return resp, t


def test_no_credentials_is_401(authed):
    unauthorized(upgrade(authed)[0])


def test_rest_needs_credentials_too(authed):
    unauthorized(http_request(authed.port, "GET", "/api/v1/namespaces/default/pods"))
    resp = http_request(authed.port, "GET", "/api/v1/namespaces/default/pods",
                        bearer(STATIC_TOKEN))
    assert resp.status == 200, resp


@pytest.mark.parametrize("header", [
    "Bearer wrong-token", "Bearer ", "Bearer", f"Basic {STATIC_TOKEN}",
    f"Bearer {STATIC_TOKEN}x", "Bearer " + "a" * 9000,
])
def test_bad_authorization_is_401(authed, header):
    unauthorized(upgrade(authed, headers=[("Authorization", header)])[0])


def test_static_token_header(authed):
    resp, t = upgrade(authed, headers=bearer(STATIC_TOKEN))
    assert resp.status == 101, resp
    assert_json_exact(t.status(), SUCCESS_STATUS)


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_jwt_header(authed, alg):
    resp, t = upgrade(authed, headers=bearer(mint_jwt(SECRET, alg=alg)))
    assert resp.status == 101, resp
    assert_json_exact(t.status(), SUCCESS_STATUS)


def test_jwt_minted_at_the_start_of_a_second(authed):
    """nbf = now, minted the moment a second begins (by Python's precise
    clock) and checked a millisecond later: glibc's time() still says the
    second before for up to a tick, which refused such tokens now and then
    (1 in ~300 in a loop) until the admission read the precise clock."""
    import time
    for _ in range(5):
        while time.time() % 1.0 < 0.9:  # wait for the next second to begin
            time.sleep(0.01)
        while time.time() % 1.0 >= 0.9:
            pass
        resp, t = upgrade(authed, headers=bearer(mint_jwt(SECRET)))
        assert resp.status == 101, resp


@pytest.mark.parametrize("token", [
    mint_jwt(SECRET, lifetime_s=-3600),  # expired an hour ago
    mint_jwt(b"another-secret-of-enough-length-0123456789"),  # wrong key
    mint_jwt(SECRET, nbf=2**33),  # not yet valid
    # alg none with the same claims, no signature
    "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + mint_jwt(SECRET).split(".")[1] + ".",
])
def test_bad_jwt_is_401(authed, token):
    unauthorized(upgrade(authed, headers=bearer(token))[0])


# 24
def test_token_subprotocol_plus_v4_names_v4(authed):
    resp, t = upgrade(authed, f"{token_item(STATIC_TOKEN)}, {V4}")
    assert resp.status == 101, resp
    assert resp.header_all("Sec-WebSocket-Protocol") == [V4], resp
    assert_json_exact(t.status(), SUCCESS_STATUS)


def test_token_subprotocol_browser_style(authed):
    # Chromium joins the list with ", "; the token may come first and v5 wins
    resp, t = upgrade(authed, f"{token_item(mint_jwt(SECRET))}, {V5}, {V4}")
    assert resp.header_all("Sec-WebSocket-Protocol") == [V5], resp


def test_token_subprotocol_alone_is_401(authed):
    unauthorized(upgrade(authed, token_item(STATIC_TOKEN))[0])


@pytest.mark.parametrize("offer", [
    f"{token_item('wrong')}, {V4}",
    f"{token_item(STATIC_TOKEN)}, {token_item(STATIC_TOKEN)}, {V4}",  # two tokens
    f"base64url.bearer.authorization.k8s.io.!!!, {V4}",  # not base64url
    f"base64url.bearer.authorization.k8s.io.{'_w'}, {V4}",  # decodes to non-UTF-8 0xFF
])
def test_bad_token_subprotocol_is_401(authed, offer):
    unauthorized(upgrade(authed, offer)[0])


def test_anonymous_server_needs_no_token(server):
    resp, _ = upgrade(server)
    assert resp.status == 101, resp


def test_token_subprotocol_on_its_own_header_line(authed):
    # every line is scanned for the token; the rest is what negotiation sees
    resp, t = upgrade(authed, [token_item(STATIC_TOKEN), V4])
    assert resp.status == 101, resp
    assert resp.header_all("Sec-WebSocket-Protocol") == [V4], resp
