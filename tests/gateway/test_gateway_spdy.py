"""SPDY/3.1 through gateway mode: kubectl 1.27-1.29 (and 1.33 with WebSockets
off) speak SPDY to the gateway, which opens the exec upstream as a WebSocket
(v5/v4), so an old kubectl works against a new cluster; and an upstream that
refuses WebSocket upgrades is asked again over SPDY, for every client. The
cases are the local suite's (tests/interop/test_spdy.py)."""
import subprocess
import types

import pytest

from conftest import UPSTREAM_TOKEN, kubeconfig, stop_or_fail, tls_args
from kube_tools import fresh_env, kbin
from podterm_server import CLUSTER_CONFIG, Podterm
from recorder import Recorder
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


# ---------------------------------------------------------------- a SPDY-only upstream

@pytest.fixture(scope="module")
def spdy_only(tmp_path_factory):
    """A gateway whose "cluster" is behind a proxy that refuses WebSocket
    upgrades (tests/interop/recorder.py, refuse_websocket) and one behind a
    plain recording proxy, over plain http on loopback (anonymous)."""
    up = Podterm(config=CLUSTER_CONFIG, name="gw-spdy-only-upstream")
    refusing = Recorder(up.port, refuse_websocket=True)
    plain = Recorder(up.port)
    d = str(tmp_path_factory.mktemp("spdy-only"))
    gws = {}
    for name, rec in (("refusing", refusing), ("plain", plain)):
        kc = kubeconfig(d, f"{name}.kubeconfig", f"http://127.0.0.1:{rec.port}")
        gws[name] = Podterm(["--kubeconfig", kc], name=f"gw-spdy-only-{name}")
    yield types.SimpleNamespace(gws=gws, refusing=refusing, plain=plain, tmp=d)
    for g in gws.values():
        stop_or_fail(g)
    refusing.close()
    plain.close()
    stop_or_fail(up)


def upstream_execs(rec):
    return [(q.method, (q.header("Upgrade") or "").lower()) for q in rec.exec_requests()]


def only_kctl(env_dir, port):
    def kctl(version, *args, stdin=None, env_extra=None, timeout=60):
        env = fresh_env(env_dir, port, env_extra)
        return subprocess.run([kbin(version), *args], input=stdin, env=env, capture_output=True,
                              timeout=timeout)
    return kctl


@pytest.mark.parametrize("v", ["1.33", "1.28"], ids=["websocket-client", "spdy-client"])
def test_gateway_falls_back_to_a_spdy_only_upstream(spdy_only, v):
    """The upstream refuses WebSocket upgrades with a proxy's text 400: the
    gateway asks again over SPDY, as kubectl would, for WebSocket and SPDY
    clients alike."""
    kctl = only_kctl(spdy_only.tmp, spdy_only.gws["refusing"].port)
    spdy_only.refusing.clear()
    case_exit_codes(kctl, v, None)
    assert upstream_execs(spdy_only.refusing) == [("GET", "websocket"), ("POST", "spdy/3.1")] * 3
    case_stdin_round_trip(kctl, v, None)


def test_gateway_spdy_upstream_terminal_and_attach(spdy_only):
    port = spdy_only.gws["refusing"].port
    case_exec_it(fresh_env(spdy_only.tmp, port), spdy_only.tmp, "1.33")
    case_attach_it(fresh_env(spdy_only.tmp, port), spdy_only.tmp, "1.33")


def test_gateway_relays_an_upstream_status_without_a_spdy_retry(spdy_only):
    """A refusal that is the API server's own Status (here BadRequest) is the
    answer; asking again over SPDY would only admit and audit it twice."""
    kctl = only_kctl(spdy_only.tmp, spdy_only.gws["plain"].port)
    spdy_only.plain.clear()
    r = kctl("1.33", "exec", "local", "-c", "nope", "--", "true")
    assert r.returncode == 1
    assert r.stderr == (b"Error from server (BadRequest): container nope is not valid for pod "
                        b"local\n"), r.stderr
    # kubectl's own fallback reaches the gateway as SPDY; upstream, WebSockets only
    assert upstream_execs(spdy_only.plain) == [("GET", "websocket"), ("GET", "websocket")]
