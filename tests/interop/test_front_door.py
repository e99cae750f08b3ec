"""The one front door (issue 10): admission reads a request exactly as what
serves it later, so no spelling of a path gets an API request past
authentication or authorization."""
import pytest

from podterm_client import assert_status_response, http_request
from podterm_server import Podterm

TOKEN = "front-door-token-5150"
NO_ROUTE = "the server could not find the requested resource"


@pytest.fixture(scope="module")
def authed():
    srv = Podterm(["--token-auth-file", "{dir}/tokens.csv"],
                  files={"tokens.csv": f'{TOKEN},alice,1,"devs"\n'}, name="test_front_door")
    yield srv
    problems = srv.stop()
    if problems:
        pytest.fail(srv.describe(problems), pytrace=False)


@pytest.mark.parametrize("path", [
    "/x/../api/v1/namespaces/default/pods",
    "/api/v1/namespaces/default/./pods",
    "//api/v1/namespaces/default/pods",
    "/api/v1/namespaces/default/pods/%2e%2e/exec?command=true&stdout=1",
])
def test_dot_and_empty_segments_are_refused_before_anything_serves_them(authed, path):
    # lws collapses these segments before it routes; admission must never
    # authorize one path while lws serves another, so they are refused (the
    # apiserver has no route with such a path either), with or without a token.
    for headers in ([], [("Authorization", f"Bearer {TOKEN}")]):
        resp = http_request(authed.port, "GET", path, headers)
        assert_status_response(resp, 404, "NotFound", NO_ROUTE)


@pytest.mark.parametrize("path", ["/%61pi/v1/namespaces/default/pods", "/ap%69/v1/pods",
                                  "/%76ersion"])
def test_escaped_api_paths_need_a_token(authed, path):
    # admission classifies the decoded path (Go's URL.Path), as lws routes it
    resp = http_request(authed.port, "GET", path, [])
    assert_status_response(resp, 401, "Unauthorized", "Unauthorized")
    resp = http_request(authed.port, "GET", path, [("Authorization", f"Bearer {TOKEN}")])
    assert resp.status == 200, resp


def test_the_ui_stays_public(authed):
    resp = http_request(authed.port, "GET", "/", [])
    assert resp.status == 200, resp
