"""TLS on both sides of the gateway, with the suite's own CA: an API server known by
a DNS name (reached at 127.0.0.1, named through tls-server-name: SNI and the
hostname check), the insecure and plain-http warnings, refused certificate/key
pairs at start-up, and a failed certificate reload keeping the old certificate."""
import json
import os
import shutil
import socket
import ssl
import subprocess
import time

import pytest

from conftest import UPSTREAM_TOKEN, kubeconfig, make_cert, tls_args
from podterm_client import http_request
from podterm_server import BIN, SANITIZER_MARKERS, sanitizer_env

DNS_NAME = "kube.podterm.test"


@pytest.fixture(scope="module")
def named_upstream(pki, tmp_path_factory):
    """An upstream whose certificate names only DNS_NAME (no IP SAN)."""
    d = str(tmp_path_factory.mktemp("named"))
    for f in ("ca.crt", "ca.key"):
        shutil.copy(f"{pki}/{f}", f"{d}/{f}")
    make_cert(d, "ca", "named", f"/CN={DNS_NAME}", f"subjectAltName=DNS:{DNS_NAME}")
    from podterm_server import Podterm
    up = Podterm(["--tls-cert-file", f"{d}/named.crt", "--tls-private-key-file",
                  f"{d}/named.key", "--token-auth-file", f"{pki}/tokens.csv"],
                 name="gw-named-up")
    yield up
    problems = up.stop()
    if problems:
        pytest.fail(up.describe(problems), pytrace=False)


def named_kubeconfig(pki, name, url, server_name):
    path = kubeconfig(pki, name, url, ca=f"{pki}/ca.crt", token=UPSTREAM_TOKEN)
    if server_name:
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text.replace(f"    server: {url}\n",
                                 f"    server: {url}\n    tls-server-name: {server_name}\n"))
    return path


def test_tls_server_name_reaches_a_dns_named_server(pki, named_upstream, podterm):
    kc = named_kubeconfig(pki, "named.kubeconfig", named_upstream.url.rstrip("/"), DNS_NAME)
    gw = podterm(["--kubeconfig", kc], name="gw-named")
    resp = http_request(gw.port, "GET", "/api/v1/namespaces/default/pods/local")
    assert resp.status == 200 and json.loads(resp.body)["kind"] == "Pod", resp


@pytest.mark.parametrize("server_name", [None, "other.podterm.test"], ids=["ip", "other-name"])
def test_certificate_for_another_name_refused(pki, named_upstream, podterm, server_name):
    kc = named_kubeconfig(pki, f"named-{server_name}.kubeconfig",
                          named_upstream.url.rstrip("/"), server_name)
    gw = podterm(["--kubeconfig", kc], name="gw-named-wrong")
    resp = http_request(gw.port, "GET", "/api/v1/pods")
    assert resp.status == 503, resp
    st = json.loads(resp.body)
    assert (st["reason"], st["code"]) == ("ServiceUnavailable", 503), st
    assert UPSTREAM_TOKEN not in resp.body.decode()


def test_insecure_skip_tls_verify_warns_and_connects(pki, upstream, podterm):
    kc = kubeconfig(pki, "insecure.kubeconfig", upstream.url.rstrip("/"), token=UPSTREAM_TOKEN)
    with open(kc) as f:
        text = f.read()
    with open(kc, "w") as f:
        f.write(text.replace("  cluster:\n", "  cluster:\n    insecure-skip-tls-verify: true\n"))
    gw = podterm(["--kubeconfig", kc], name="gw-insecure")
    assert (f"podterm: WARNING: insecure-skip-tls-verify is set in kubeconfig {kc}, context c: "
            "the API server's certificate is NOT checked, so anyone on the network path can "
            "read and change every session and token\n") in gw.output()
    assert http_request(gw.port, "GET", "/api/v1/namespaces").status == 200


def test_plain_http_off_loopback_warns(pki, podterm):
    """http:// to a non-loopback address: a warning at start-up (nothing is sent:
    the address is a documentation one and no request is made)."""
    kc = kubeconfig(pki, "plain.kubeconfig", "http://192.0.2.1:8080", token=UPSTREAM_TOKEN)
    gw = podterm(["--kubeconfig", kc], name="gw-plain")
    assert (f"podterm: WARNING: the API server in kubeconfig {kc}, context c is "
            "http://192.0.2.1: tokens and sessions cross the network unencrypted\n"
            ) in gw.output()


def test_plain_http_on_loopback_does_not_warn(pki, podterm):
    kc = kubeconfig(pki, "plain-lo.kubeconfig", "http://127.0.0.1:1", token=UPSTREAM_TOKEN)
    gw = podterm(["--kubeconfig", kc], name="gw-plain-lo")
    assert "WARNING" not in gw.output()


# ---------------------------------------------------------------- serving TLS: refusals

def run(args):
    p = subprocess.run([BIN, "--listen", "127.0.0.1:0"] + args, stdin=subprocess.DEVNULL,
                       capture_output=True, env=sanitizer_env(), timeout=20)
    err = p.stderr.decode()
    assert not [m for m in SANITIZER_MARKERS if m in err], err
    return p.returncode, p.stdout.decode(), err


def test_mismatched_certificate_and_key_refused(pki):
    """A key of another certificate: refused, naming the key file. (OpenSSL's own
    check fires first, so tls_front's "does not match" sentence is not reached.)"""
    rc, out, err = run(tls_args(pki)[:3] + [f"{pki}/client.key"])
    assert (rc, out) == (1, ""), (rc, out, err)
    assert err.startswith(f"podterm: --tls-private-key-file {pki}/client.key") and \
        ("mismatch" in err or "does not match" in err) and err.count("\n") == 1, err


@pytest.mark.parametrize("which", ["cert", "key", "client-ca"])
def test_unreadable_pem_refused(pki, tmp_path, which):
    bad = tmp_path / "bad.pem"
    bad.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    args = {"cert": ["--tls-cert-file", str(bad), "--tls-private-key-file", f"{pki}/server.key"],
            "key": ["--tls-cert-file", f"{pki}/server.crt", "--tls-private-key-file", str(bad)],
            "client-ca": tls_args(pki, "--client-ca-file", str(bad))}[which]
    flag = {"cert": "--tls-cert-file", "key": "--tls-private-key-file",
            "client-ca": "--client-ca-file"}[which]
    rc, out, err = run(args)
    assert (rc, out) == (1, ""), (rc, out, err)
    assert err.startswith(f"podterm: {flag} {bad}: ") and err.count("\n") == 1, err


def peer_serial(port, pki):
    ctx = ssl.create_default_context(cafile=f"{pki}/ca.crt")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname="127.0.0.1") as tls:
            return tls.getpeercert()["serialNumber"]


def test_failed_reload_keeps_the_old_certificate(pki, tmp_path, podterm):
    for f in ("server.crt", "server.key"):
        shutil.copy(f"{pki}/{f}", tmp_path / f)
    srv = podterm(["--tls-cert-file", str(tmp_path / "server.crt"), "--tls-private-key-file",
                   str(tmp_path / "server.key")], name="gw-badreload")
    first = peer_serial(srv.port, pki)
    (tmp_path / "next.crt").write_text("-----BEGIN CERTIFICATE-----\ngarbage\n"
                                       "-----END CERTIFICATE-----\n")
    os.replace(tmp_path / "next.crt", tmp_path / "server.crt")
    deadline = time.monotonic() + 15
    while "keeping the current certificate" not in srv.output() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "podterm: keeping the current certificate" in srv.output(), srv.output()
    assert peer_serial(srv.port, pki) == first
