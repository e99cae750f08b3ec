"""Admission (local mode): which requests become sessions and which get a Status
first. The Origin allow-list (--allowed-origin), the subprotocol header's length
limit, an upgrade that is not the first request of its connection, over-long
paths (414), methods the API does not have (405), and stdin the session must not
deliver: sent without stdin=true, or after the v5 close signal."""
import json
import time

import pytest

from podterm_client import (SUCCESS_STATUS, V5, Conn, assert_json_exact,
                            assert_status_response, build_request, exec_path, http_request,
                            read_response_body, read_response_head, upgrade_headers, ws_open)

ALLOWED = "https://ui.example.test"
ORIGIN_REFUSED = ("WebSocket upgrade from a cross-site Origin refused (start podterm with "
                  "--allowed-origin to allow it)")
TRUE = exec_path(["true"])
OFFER_MAX = 8192  # PROTO_OFFER_MAX: one Sec-WebSocket-Protocol header, lines joined
PATH_MAX = 2048  # SERVER_PATH_MAX: decoded request path


@pytest.fixture(scope="module")
def origins():
    from podterm_server import Podterm
    srv = Podterm(["--allowed-origin", ALLOWED, "--allowed-origin", "http://127.0.0.1:1"],
                  name="test_admission-origins")
    yield srv
    problems = srv.stop()
    if problems:
        pytest.fail(srv.describe(problems), pytrace=False)


def upgrade_status(port, path=TRUE, protocols=V5, headers=()):
    """Opens path; returns (status, transcript or response)."""
    resp, ws = ws_open(port, path, protocols, headers)
    if ws is None:
        return resp.status, resp
    t = ws.collect(10)
    ws.close()
    return 101, t


# ---------------------------------------------------------------- Origin

@pytest.mark.parametrize("origin", [ALLOWED, ALLOWED.upper(), "http://127.0.0.1:1"])
def test_allowed_origin_admitted(origins, origin):
    status, t = upgrade_status(origins.port, headers=[("Origin", origin)])
    assert status == 101, t
    assert_json_exact(t.status(), SUCCESS_STATUS)


def test_own_origin_admitted_without_flag(origins):
    status, t = upgrade_status(origins.port, headers=[("Origin", f"http://127.0.0.1:{origins.port}")])
    assert status == 101, t


@pytest.mark.parametrize("origin", [
    "https://evil.example", ALLOWED + "/", ALLOWED + ":443", "http://ui.example.test", "null",
    "https://ui.example.test.evil.example", f"http://127.0.0.1:{1}0",
], ids=["other-site", "trailing-slash", "explicit-port", "other-scheme", "null", "suffix",
        "other-port"])
def test_origin_not_on_the_list_refused(origins, origin):
    status, resp = upgrade_status(origins.port, headers=[("Origin", origin)])
    assert_status_response(resp, 403, "Forbidden", ORIGIN_REFUSED)


def test_origin_checked_before_the_pod(origins):
    """A refused origin learns nothing about the pods: 403, not 404."""
    status, resp = upgrade_status(origins.port, exec_path(["true"], pod="no-such-pod"),
                                  headers=[("Origin", "https://evil.example")])
    assert_status_response(resp, 403, "Forbidden", ORIGIN_REFUSED)


def test_cross_site_rest_get_not_an_upgrade(origins):
    """Plain REST GETs carry no Origin check (browsers enforce CORS there); the
    allow-list is about opening shells."""
    resp = http_request(origins.port, "GET", "/api/v1/namespaces",
                        [("Origin", "https://evil.example")])
    assert resp.status == 200, resp


# ---------------------------------------------------------------- Sec-WebSocket-Protocol

def test_overlong_subprotocol_header_is_400(server):
    filler = "x" * (OFFER_MAX - len(V5) - 2 + 1)  # one byte over, joined with ", "
    status, resp = upgrade_status(server.port, protocols=f"{V5}, {filler}")
    assert_status_response(resp, 400, "BadRequest", "the Sec-WebSocket-Protocol header is too long")


def test_overlong_offer_over_several_lines_is_400(server):
    """The limit is for all lines of the header together."""
    lines = [V5] + ["y" * 1000] * 9
    status, resp = upgrade_status(server.port, protocols=lines)
    assert_status_response(resp, 400, "BadRequest", "the Sec-WebSocket-Protocol header is too long")


def test_subprotocol_header_at_the_limit_is_served(server):
    filler = "x" * (OFFER_MAX - len(V5) - 2 - 1)
    status, t = upgrade_status(server.port, protocols=f"{V5}, {filler}")
    assert status == 101 and t.protocol == V5, t


# ---------------------------------------------------------------- one upgrade per connection

def test_upgrade_after_a_request_on_the_same_connection_is_not_served(server):
    """A plain request ends its connection (Connection: close), so an upgrade
    pipelined behind it is never answered, let alone with a 101."""
    c = Conn(server.port, 10)
    try:
        host = f"127.0.0.1:{server.port}"
        c.sendall(build_request("GET", "/version", host=host) +
                  build_request("GET", TRUE, upgrade_headers([V5]), host=host))
        deadline = time.monotonic() + 10
        first = read_response_head(c, deadline)
        first.body = read_response_body(c, first, deadline)
        assert first.status == 200 and first.header("Connection") == "close", first
        assert c.read_to_eof(deadline) == b""
    finally:
        c.close()


# ---------------------------------------------------------------- 414, 405

def test_overlong_rest_path_is_414(server):
    path = "/api/v1/namespaces/" + "n" * PATH_MAX
    resp = http_request(server.port, "GET", path)
    assert_status_response(resp, 414, "RequestURITooLong", "request path too long")


def test_overlong_exec_path_is_414(server):
    path = exec_path(["true"], pod="p" * PATH_MAX)
    status, resp = upgrade_status(server.port, path)
    assert_status_response(resp, 414, "RequestURITooLong", "request path too long")


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_api_write_methods_are_405(server, method):
    resp = http_request(server.port, method, "/api/v1/namespaces/default/pods/local",
                        [("Content-Type", "application/json"), ("Content-Length", "2")], b"{}")
    assert_status_response(resp, 405, "MethodNotAllowed",
                           "the server does not allow this method on the requested resource")


# ---------------------------------------------------------------- stdin the session must drop

def test_stdin_without_stdin_true_is_dropped(server):
    """Channel 0 data without stdin=true is dropped (PROTOCOL.md 3.1): the process
    has no stdin to read, and the session still ends normally."""
    resp, ws = ws_open(server.port, exec_path(["sh", "-c", "sleep 0.3; cat; echo done"]), V5)
    assert ws is not None, resp
    ws.send_channel(0, b"must not arrive\n")
    t = ws.collect(10)
    ws.close()
    assert t.data(1) == b"done\n", t
    assert_json_exact(t.status(), SUCCESS_STATUS)


def test_stdin_after_v5_close_signal_is_dropped(server):
    """After [0xFF, 0] the process has seen EOF; later channel 0 data must not
    reach it (nor break the session)."""
    resp, ws = ws_open(server.port, exec_path(["sh", "-c", "cat; sleep 0.3; echo done"],
                                              stdin=True), V5)
    assert ws is not None, resp
    ws.send_channel(0, b"before\n")
    ws.send_binary(b"\xff\x00")
    ws.send_channel(0, b"after\n")
    t = ws.collect(10)
    ws.close()
    assert t.data(1) == b"before\ndone\n", t
    assert_json_exact(t.status(), SUCCESS_STATUS)
    assert t.close_code == 1000, t


# ---------------------------------------------------------------- parsers' refusals

@pytest.mark.parametrize("query,message", [
    ("fieldSelector=spec.nodeName", 'invalid field selector: "spec.nodeName"'),
    ("labelSelector=" + "k" * 256 + "%3Dv", "selector key or value too long (limit 255)"),
    ("labelSelector=" + ",".join(f"k{i}%3Dv" for i in range(17)), None),
], ids=["field-without-operator", "long-label-key", "17-terms"])
def test_selector_errors_are_400(server, query, message):
    resp = http_request(server.port, "GET", f"/api/v1/namespaces/default/pods?{query}")
    assert resp.status == 400, resp
    st = resp.json()
    assert (st["kind"], st["status"], st["reason"], st["code"]) == (
        "Status", "Failure", "BadRequest", 400), st
    if message is not None:
        assert st["message"] == message, st


def test_80_command_arguments_are_served(server):
    path = exec_path(["sh", "-c", 'echo "$#"', "sh"] + ["a"] * 76)
    status, t = upgrade_status(server.port, path)
    assert status == 101 and t.data(1) == b"76\n", t


def test_more_than_1024_command_arguments_is_400(server):
    path = exec_path(["true"] + ["a"] * 1024)
    status, resp = upgrade_status(server.port, path)
    assert_status_response(resp, 400, "BadRequest", "too many command arguments (limit 1024)")


def test_1024_command_arguments_are_served(server):
    path = exec_path(["sh", "-c", 'echo "$#"', "sh"] + ["a"] * 1020)
    status, t = upgrade_status(server.port, path)
    assert status == 101 and t.data(1) == b"1020\n", t


# ---------------------------------------------------------------- a workingDir that cannot be used

WORKDIR_CONFIG = """\
pods:
  - name: wd
    containers:
      - name: file
        workingDir: /etc/hostname
      - name: missing
        workingDir: /nonexistent/podterm-dir
"""


@pytest.mark.parametrize("container,why", [("file", "not a directory"),
                                           ("missing", "no such file or directory")])
@pytest.mark.parametrize("tty", [False, True], ids=["pipes", "pty"])
def test_unusable_working_dir_is_a_status(podterm, container, why, tty):
    """The exec is admitted (the pod exists) and ends with runc's InternalError
    for a cwd it cannot enter; nothing runs, the session closes normally."""
    srv = podterm(config=WORKDIR_CONFIG)
    cwd = "/etc/hostname" if container == "file" else "/nonexistent/podterm-dir"
    status, t = upgrade_status(srv.port, exec_path(["pwd"], pod="wd", container=container,
                                                   stdin=tty, tty=tty))
    assert status == 101, t
    cause = f'chdir to cwd ("{cwd}") set in config.json failed: {why}'
    assert_json_exact(t.status(), json.dumps({
        "metadata": {}, "status": "Failure", "message": "Internal error occurred: " + cause,
        "reason": "InternalError", "details": {"causes": [{"message": cause}]}, "code": 500},
        separators=(",", ":")))
    assert t.data(1) == b"" and t.close_code == 1000, t
