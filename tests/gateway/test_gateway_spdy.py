"""SPDY/3.1 clients through gateway mode: kubectl 1.27-1.29 (and 1.33 with
WebSockets off) speak SPDY to the gateway, which opens the exec upstream as a
WebSocket (v5/v4), so an old kubectl works against a new cluster. The cases
are the local suite's (tests/interop/test_spdy.py)."""
import subprocess
import types

import pytest

from conftest import UPSTREAM_TOKEN, kubeconfig, stop_or_fail, tls_args
from kube_tools import fresh_env, kbin
from podterm_server import CLUSTER_CONFIG, Podterm
from test_spdy import (SPDY_CLIENTS, SPDY_IDS, case_attach_it, case_cp_both_ways, case_exec_it,
                       case_exit_codes, case_not_found, case_stdin_round_trip)


@pytest.fixture(scope="module")
def spdy_gateway(pki):
    """A gateway in front of an upstream with the local suite's pods (attach
    needs team-a/web)."""
    up = Podterm(tls_args(pki, "--token-auth-file", f"{pki}/tokens.csv"), config=CLUSTER_CONFIG,
                 name="gw-spdy-upstream")
    kc = kubeconfig(pki, "gw-spdy.kubeconfig", up.url.rstrip("/"), ca=f"{pki}/ca.crt",
                    token=UPSTREAM_TOKEN)
    gateway = Podterm(["--kubeconfig", kc], name="gw-spdy-gateway")
    yield gateway
    stop_or_fail(gateway)
    stop_or_fail(up)


@pytest.fixture
def gw(spdy_gateway, tmp_path):
    gateway = spdy_gateway
    def kctl(version, *args, stdin=None, env_extra=None, timeout=60):
        env = fresh_env(str(tmp_path), gateway.port, env_extra)
        return subprocess.run([kbin(version), *args], input=stdin, env=env, capture_output=True,
                              timeout=timeout)
    return types.SimpleNamespace(kctl=kctl, tmp=str(tmp_path), port=gateway.port)


@pytest.mark.parametrize("v,ws", SPDY_CLIENTS, ids=SPDY_IDS)
def test_gateway_spdy_exit_codes(gw, v, ws):
    case_exit_codes(gw.kctl, v, ws)


@pytest.mark.parametrize("v,ws", SPDY_CLIENTS, ids=SPDY_IDS)
def test_gateway_spdy_not_found(gw, v, ws):
    case_not_found(gw.kctl, v, ws)


@pytest.mark.parametrize("v", ["1.27", "1.29"])
def test_gateway_spdy_stdin_round_trip(gw, v):
    case_stdin_round_trip(gw.kctl, v, None)


def test_gateway_spdy_cp_both_ways(gw):
    case_cp_both_ways(gw.kctl, "1.28", None, gw.tmp)


@pytest.mark.parametrize("v", ["1.27", "1.29"])
def test_gateway_spdy_exec_it_terminal_and_resize(gw, v):
    case_exec_it(fresh_env(gw.tmp, gw.port), gw.tmp, v)


def test_gateway_spdy_attach_it(gw):
    case_attach_it(fresh_env(gw.tmp, gw.port), gw.tmp, "1.28")
