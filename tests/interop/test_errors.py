"""Error responses before the upgrade: exact metav1.Status bodies
(PROTOCOL.md 1.1-1.2; checklist 20-23)."""
import json
import time
import urllib.parse

import pytest

from podterm_client import (NONZERO_PREFIX, V4, V5, Conn, assert_json_exact,
                            assert_status_response, build_request, exec_path, http_get_json,
                            http_request, read_response_body, read_response_head, ws_exec,
                            ws_open)

NO_STREAMS = "you must specify at least 1 of stdin, stdout, stderr"
NO_COMMAND = "you must specify at least one command for the container"


def upgrade(port, path, protocols=V5):
    resp, ws = ws_open(port, path, protocols)
    if ws is not None:
        ws.close()
    return resp


def not_found(resp, name):
    assert_status_response(resp, 404, "NotFound", f'pods "{name}" not found',
                           {"name": name, "kind": "pods"})


# 20
@pytest.mark.parametrize("query", [
    "command=true",
    "command=true&stdout=False",
    "command=true&stdout=false&stderr=0&stdin=FALSE",
    "command=true&stdout=0",
    "command=true&stdout=false&stdout=true",  # only the first occurrence counts
])
def test_no_streams_is_400(server, query):
    resp = upgrade(server.port, "/api/v1/namespaces/default/pods/local/exec?" + query)
    assert_status_response(resp, 400, "BadRequest", NO_STREAMS)


@pytest.mark.parametrize("query", [
    "command=true&stdout=",
    "command=true&stdout=yes",
    "command=true&stdout=1",
    "command=true&stdout=True",
    "command=true&stdout=true&stdout=false",
])
def test_any_other_bool_value_is_true(server, query):
    resp = upgrade(server.port, "/api/v1/namespaces/default/pods/local/exec?" + query)
    assert resp.status == 101, resp


def test_attach_without_streams_is_400(cluster):
    path = "/api/v1/namespaces/team-a/pods/web/attach?container=app"
    assert_status_response(upgrade(cluster.port, path), 400, "BadRequest", NO_STREAMS)


# 21
@pytest.mark.parametrize("query", ["stdout=true", "stdout=true&stdin=true&tty=true"])
def test_exec_without_command_is_400(server, query):
    resp = upgrade(server.port, "/api/v1/namespaces/default/pods/local/exec?" + query)
    assert_status_response(resp, 400, "BadRequest", NO_COMMAND)


def test_empty_argv0_fails_cleanly(server):
    """command= is one empty argv element, not "no command": the upgrade
    succeeds and the exec fails the way Go's exec.LookPath("") does."""
    path = "/api/v1/namespaces/default/pods/local/exec?command=&stdout=true"
    resp, ws = ws_open(server.port, path, V5)
    assert resp.status == 101 and ws is not None, resp
    t = ws.collect()
    ws.close()
    message = 'exec: "": executable file not found in $PATH'
    assert_json_exact(t.status(), json.dumps({
        "metadata": {}, "status": "Failure", "message": "Internal error occurred: " + message,
        "reason": "InternalError", "details": {"causes": [{"message": message}]}, "code": 500}))
    assert t.data(1) == b"", t


# 22
@pytest.mark.parametrize("verb", ["exec", "attach"])
def test_unknown_pod_is_404(server, verb):
    resp = upgrade(server.port, exec_path(["true"], pod="nope", verb=verb))
    not_found(resp, "nope")


def test_unknown_pod_rest_get_is_404(server):
    not_found(http_request(server.port, "GET", "/api/v1/namespaces/default/pods/nope"), "nope")


def test_unknown_namespace_is_pod_not_found(server):
    # the apiserver does not check the namespace on get/connect
    not_found(upgrade(server.port, exec_path(["true"], ns="nope")), "local")


@pytest.mark.parametrize("name", ["Bad_Name", "UPPER", "dots.are.fine-but.absent",
                                  "p\u00f6d", "-x", "a" * 253])
def test_non_dns1123_pod_names_are_404(server, name):
    not_found(upgrade(server.port, exec_path(["true"], pod=name)), name)


def test_overlong_pod_name_is_404_status(server):
    # the apiserver would say pods "xxx..." not found; any NotFound Status will do
    resp = upgrade(server.port, exec_path(["true"], pod="x" * 300))
    assert resp.status == 404 and resp.json()["reason"] == "NotFound", resp


BAD_ESCAPE = "the request path has an invalid %-escape or an encoded NUL"
NO_ROUTE = "the server could not find the requested resource"


@pytest.mark.parametrize("raw,code,message,name", [
    ("a%00b", 400, BAD_ESCAPE, None),  # an encoded NUL
    ("%", 400, BAD_ESCAPE, None),  # a cut-off escape
    ("%2e%2e", 404, NO_ROUTE, None),  # decodes to "..": no route
    ("a%2Fb", 404, NO_ROUTE, None),  # decodes to a slash: one segment too many
    ("%ff%fe", 404, None, "\ufffd\ufffd"),  # invalid UTF-8 named as Go names it
    ("a%20b", 404, None, "a b"),
], ids=["nul", "cut", "dotdot", "slash", "bad-utf8", "space"])
def test_odd_encodings_get_a_status_not_a_crash(server, raw, code, message, name):
    path = f"/api/v1/namespaces/default/pods/{raw}/exec?command=true&stdout=true"
    resp = upgrade(server.port, path)
    if name is not None:
        not_found(resp, name)
    else:
        assert_status_response(resp, code, "BadRequest" if code == 400 else "NotFound", message)


# 23
def test_unknown_container_is_400(server):
    resp = upgrade(server.port, exec_path(["true"], container="nope"))
    assert_status_response(resp, 400, "BadRequest", "container nope is not valid for pod local")


def test_several_containers_need_a_name(cluster):
    resp = upgrade(cluster.port, exec_path(["true"], pod="multi"))
    assert_status_response(resp, 400, "BadRequest",
                           "a container name must be specified for pod multi, "
                           "choose one of: [c1 c2]")


def test_only_container_is_the_default(server):
    assert upgrade(server.port, exec_path(["true"])).status == 101


def test_named_container_in_other_namespace(cluster):
    for c in ("app", "sidecar"):
        resp = upgrade(cluster.port, exec_path(["true"], ns="team-a", pod="web", container=c))
        assert resp.status == 101, (c, resp)
    resp = upgrade(cluster.port, exec_path(["true"], ns="team-a", pod="web", container="shell"))
    assert_status_response(resp, 400, "BadRequest", "container shell is not valid for pod web")


def test_first_container_value_counts(cluster):
    path = exec_path(["true"], pod="multi", extra=[("container", "c2"), ("container", "zz")])
    assert upgrade(cluster.port, path).status == 101


def test_unknown_path_is_404_status(server):
    resp = http_request(server.port, "GET", "/api/v1/namespaces/default/frobs")
    assert resp.status == 404, resp
    st = resp.json()
    assert (st["kind"], st["status"], st["reason"], st["code"]) == (
        "Status", "Failure", "NotFound", 404), st


def test_errors_arrive_twice_for_kubectl_fallback_shape(server):
    """kubectl retries a failed WebSocket handshake as a SPDY POST; the POST to
    an unknown pod must give the same 404 (the user sees that one)."""
    resp = http_request(server.port, "POST", exec_path(["true"], pod="nope"), [
        ("Connection", "Upgrade"), ("Upgrade", "SPDY/3.1"),
        ("X-Stream-Protocol-Version", V4), ("Content-Length", "0")])
    not_found(resp, "nope")


def test_query_with_unknown_parameters_is_fine(server):
    path = exec_path(["true"], extra=[("timeout", "5s"), ("pretty", "1"), ("x", urllib.parse.quote("é"))])
    assert upgrade(server.port, path).status == 101


# Go's url.ParseQuery, which the apiserver parses every query with, drops a
# whole '&' segment holding a ';' (Go >= 1.17); lws would split it there.

def test_semicolon_segment_is_dropped_like_go(server):
    """`sh -c 'echo hi;exit 3'` sent raw: Go drops the script segment, so sh
    gets -c with no script (the Status names the argv). Split at the ';' it
    would have printed hi and exited 3. Escaped as %3B the ';' is the
    script's own."""
    base = "/api/v1/namespaces/default/pods/local/exec?command=sh&command=-c&command="
    _, t = ws_exec(server.port, base + "echo+hi;exit+3&stdout=true", V5)
    assert t.data(1) == b"", t
    assert json.loads(t.status())["message"] == (
        NONZERO_PREFIX + "error executing command [sh -c], exit code 2"), t
    _, t = ws_exec(server.port, base + "echo+hi%3Bexit+3&stdout=true", V5)
    assert t.data(1) == b"hi\n", t
    assert json.loads(t.status())["message"] == (
        NONZERO_PREFIX + "error executing command [sh -c echo hi;exit 3], exit code 3"), t


def pod_names(port, query):
    resp, body = http_get_json(port, "/api/v1/namespaces/default/pods?" + query)
    assert resp.status == 200, resp
    return [p["metadata"]["name"] for p in body["items"]]


def test_semicolon_selector_is_dropped_like_go(cluster):
    """A list's labelSelector segment holding a ';' is no selector at all."""
    assert pod_names(cluster.port, "labelSelector=app%3Dnone") == []
    assert pod_names(cluster.port, "labelSelector=app%3Dnone;x=1") == ["done", "local", "multi"]
    assert pod_names(cluster.port, "labelSelector=app%3Dnone&x=1;y") == []  # only that segment goes


def test_plain_request_closes_its_connection(cluster):
    """A second request on the connection would reach lws without the
    listener's rewrite (lws splits at the ';'), so a plain response ends the
    connection, and says so, even when the client asks for keep-alive."""
    conn = Conn(cluster.port)
    try:
        deadline = time.monotonic() + 5
        path = "/api/v1/namespaces/default/pods?labelSelector=app%3Dnone"
        conn.sendall(build_request("GET", path, [("Connection", "keep-alive")]))
        resp = read_response_head(conn, deadline)
        assert resp.status == 200 and resp.header("Connection") == "close", resp
        assert json.loads(read_response_body(conn, resp, deadline))["items"] == []
        assert conn.read_to_eof(deadline) == b""  # TimeoutError if it stayed open
    finally:
        conn.close()
