"""WebSocket handshake and subprotocol negotiation (PROTOCOL.md 2.1-2.4;
checklist 1-4 and 25)."""
import pytest

from podterm_client import (BASE64, CHANNEL, V4, V4_BASE64, V5, assert_status_response,
                            exec_path, http_request, upgrade_headers, ws_open)

TRUE = exec_path(["true"])


def negotiated(server, protocols):
    resp, ws = ws_open(server.port, TRUE, protocols)
    assert resp.status == 101, resp
    ws.close()
    return resp.header_all("Sec-WebSocket-Protocol")


# 1
def test_v5_offer_gets_exactly_v5(server):
    assert negotiated(server, V5) == [V5]


@pytest.mark.parametrize("proto", [V5, V4, V4_BASE64, CHANNEL, BASE64])
def test_each_supported_protocol_is_echoed(server, proto):
    assert negotiated(server, proto) == [proto]


# 2
@pytest.mark.parametrize("offer,want", [
    (f"{BASE64}, {V5}", V5),  # v5 anywhere wins
    (f"foo.example,{V4},{V5}", V5),
    (f"{CHANNEL}, {V4}", CHANNEL),  # otherwise the client's order
    (f"{V4}, {CHANNEL}", V4),
    (f"{V4_BASE64},{BASE64}", V4_BASE64),
    (f"foo.example, v3.channel.k8s.io, {BASE64}", BASE64),  # v2/v3 are SPDY-only
    (f"  {V4}  ,  {CHANNEL}  ", V4),  # items trimmed
])
def test_selection_rule(server, offer, want):
    assert negotiated(server, offer) == [want]


def test_only_first_protocol_header_line_counts(server):
    resp, ws = ws_open(server.port, TRUE, ["foo.example", V4])
    assert ws is None and resp.status == 403, resp


# 3
@pytest.mark.parametrize("offer", ["foo.example", "v2.channel.k8s.io, v3.channel.k8s.io",
                                   "V5.CHANNEL.K8S.IO"])
def test_unsupported_offer_is_403_without_upgrade(server, offer):
    resp, ws = ws_open(server.port, TRUE, offer)
    assert ws is None, "upgraded although no offered item is supported"
    assert resp.status == 403, resp
    assert resp.header("Upgrade") is None and resp.header("Sec-WebSocket-Accept") is None, resp
    # Upstream sends no body; podterm explains itself with a Status (STYLE.md).
    assert_status_response(resp, 403, "Forbidden",
                           "none of the offered WebSocket subprotocols is supported")


# 4
def test_no_offer_upgrades_without_protocol_header(server):
    resp, ws = ws_open(server.port, exec_path(["sh", "-c", "echo hi"]), None)
    assert resp.status == 101, resp
    assert resp.header_all("Sec-WebSocket-Protocol") == [], resp
    t = ws.collect()
    ws.close()
    assert t.messages[0] == (0x2, b"\x01"), t
    assert t.data(1) == b"hi\n", t
    assert t.status() == b"", t  # pre-v4: nothing on channel 3 on success


def test_extensions_are_never_accepted(server):
    resp, ws = ws_open(server.port, TRUE, V5, headers=[
        ("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")])
    assert resp.status == 101, resp
    assert resp.header("Sec-WebSocket-Extensions") is None, resp
    t = ws.collect()
    ws.close()
    assert all(f.rsv == 0 for f in t.frames), t.frames


def test_origin_is_not_checked_for_header_clients(server):
    # python's websocket-client sends Origin: http://HOST:PORT (PROTOCOL.md 2.5)
    resp, ws = ws_open(server.port, TRUE, V4, headers=[("Origin", f"http://127.0.0.1:{server.port}")])
    assert resp.status == 101, resp
    ws.close()


# 2.1
def test_missing_key_is_400(server):
    h = [kv for kv in upgrade_headers(V5) if kv[0] != "Sec-WebSocket-Key"]
    resp = http_request(server.port, "GET", TRUE, h)
    assert resp.status == 400, resp


def test_wrong_version_is_400_naming_13(server):
    resp, ws = ws_open(server.port, TRUE, V5, version="8")
    assert ws is None and resp.status == 400, resp
    assert resp.header("Sec-WebSocket-Version") == "13", resp


# 25
def test_post_websocket_upgrade_is_405(server):
    resp, ws = ws_open(server.port, TRUE, V5, method="POST")
    assert ws is None, "a POST was upgraded"
    assert resp.status == 405, resp


@pytest.mark.parametrize("verb", ["exec", "attach"])
def test_get_without_upgrade_is_400_upgrade_required(server, verb):
    resp = http_request(server.port, "GET", exec_path(["true"], verb=verb))
    assert_status_response(resp, 400, "BadRequest", "Upgrade request required")


def test_connection_header_without_upgrade_token_is_400(server):
    resp, ws = ws_open(server.port, TRUE, V5, connection="keep-alive")
    assert ws is None
    assert_status_response(resp, 400, "BadRequest", "Upgrade request required")


def test_connection_header_list_with_upgrade_is_accepted(server):
    # Firefox sends "keep-alive, Upgrade"
    resp, ws = ws_open(server.port, TRUE, V5, connection="keep-alive, Upgrade")
    assert resp.status == 101, resp
    ws.close()


def test_cross_site_origin_is_refused_in_anonymous_mode(server):
    # a web page elsewhere must not open a shell on an anonymous podterm
    resp, ws = ws_open(server.port, TRUE, V5, headers=[("Origin", "http://evil.example")])
    assert ws is None and resp.status == 403, resp
