"""The front door's hardening (issue 18) in gateway mode: the same attacks
as tests/interop/test_hardening.py, against a gateway podterm, whose API
requests take another path through the listener (the gateway's own parse)."""
import os
import struct

from podterm_client import OP_BINARY, V5, exec_path, ws_open
from test_hardening import (CLOSE_TOO_BIG, PROMPT_S, assert_rebinding_refused, assert_too_large,
                            bare_lf_head, close_frame_within, spdy_growth_head)


def test_gateway_head_rewrite_bare_lf_lines_431(gateway):
    host = f"127.0.0.1:{gateway.port}"
    assert_too_large(gateway.port, bare_lf_head(host))


def test_gateway_head_rewrite_spdy_upgrade_growth_431(gateway):
    host = f"127.0.0.1:{gateway.port}"
    assert_too_large(gateway.port, spdy_growth_head(host))
    # an API path: the gateway's stack path in the listener
    assert_too_large(gateway.port, spdy_growth_head(host, "/api/v1/namespaces/default/pods"))


def test_gateway_rebound_host_refused(gateway):
    """Anonymous gateway mode: a rebound page would act with the kubeconfig's
    credentials; the listener refuses its Host before the gateway sees it."""
    assert_rebinding_refused(gateway.port)


def test_gateway_oversized_frame_header_closes_1009_at_once(gateway):
    resp, ws = ws_open(gateway.port, exec_path(["cat"], stdin=True), V5)
    assert ws is not None, resp
    try:
        ws.conn.sendall(bytes([0x80 | OP_BINARY, 0x80 | 127]) + struct.pack("!Q", 1 << 62) +
                        os.urandom(4))
        assert close_frame_within(ws, PROMPT_S) == CLOSE_TOO_BIG
    finally:
        ws.close()
