"""The front door's hardening (issue 18) in gateway mode: the same attacks
as tests/interop/test_hardening.py, against a gateway podterm, whose API
requests take another path through the listener (the gateway's own parse)."""
from test_hardening import assert_rebinding_refused, assert_too_large, bare_lf_head, spdy_growth_head


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
