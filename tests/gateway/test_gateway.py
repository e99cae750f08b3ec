"""Gateway mode end to end: kubectl, python and raw WebSocket clients through
a gateway podterm to an upstream podterm serving TLS."""
import base64
import glob
import json
import os
import shutil
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.request

import pytest
import websocket

from conftest import UPSTREAM_TOKEN, Podterm, kubeconfig

KUBECTLS = sorted(set(filter(None, [shutil.which("kubectl")] +
                             glob.glob("/usr/local/bin/kubectl.1.3[0-3]*") +
                             glob.glob("/usr/bin/kubectl.1.3[0-3]*"))))


def kubectl(env, kbin, *args, stdin=None, timeout=60):
    return subprocess.run([kbin, *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.parametrize("kbin", KUBECTLS)
def test_kubectl_get_and_exec(kubectl_env, kbin):
    r = kubectl(kubectl_env, kbin, "get", "pods", "-o", "name")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "pod/local"
    r = kubectl(kubectl_env, kbin, "exec", "local", "--", "sh", "-c", "echo out; exit 42")
    assert r.returncode == 42, r.stderr
    assert r.stdout == "out\n"
    assert "command terminated with exit code 42" in r.stderr
    r = kubectl(kubectl_env, kbin, "exec", "-i", "local", "--", "cat", stdin="hi\n")
    assert (r.returncode, r.stdout) == (0, "hi\n"), r.stderr


def ws_url(gateway, query):
    return (gateway.url.replace("http://", "ws://") +
            "api/v1/namespaces/default/pods/local/exec?" + query)


def test_base64_client_while_upstream_speaks_v5(gateway, upstream):
    ws = websocket.create_connection(
        ws_url(gateway, "command=sh&command=-c&command=echo+hi;exit+3&stdout=true&stderr=true"),
        subprotocols=["base64.channel.k8s.io"], timeout=10)
    assert ws.subprotocol == "base64.channel.k8s.io"
    out, status = b"", ""
    while True:
        try:
            op, data = ws.recv_data()
        except websocket.WebSocketConnectionClosedException:
            break
        if op == websocket.ABNF.OPCODE_CLOSE:
            break
        assert op == websocket.ABNF.OPCODE_TEXT
        text = data.decode()
        if text[0] == "1":
            out += base64.b64decode(text[1:])
        elif text[0] == "3":
            status += base64.b64decode(text[1:]).decode()
    assert out == b"hi\n"
    assert "exit code 3" in status  # pre-v4 text status, translated from upstream v5 JSON


def test_v4_client_status_json(gateway):
    ws = websocket.create_connection(
        ws_url(gateway, "command=sh&command=-c&command=exit+7&stdout=true"),
        subprotocols=["v4.channel.k8s.io"], timeout=10)
    status = None
    while True:
        op, data = ws.recv_data()
        if op == websocket.ABNF.OPCODE_CLOSE:
            break
        if data[:1] == b"\x03":
            status = json.loads(data[1:])
    assert status["reason"] == "NonZeroExitCode"
    assert status["details"]["causes"][0] == {"reason": "ExitCode", "message": "7"}


def upstream_get(upstream, path, pki):
    ctx = ssl.create_default_context(cafile=f"{pki}/ca.crt")
    req = urllib.request.Request(upstream.url.rstrip("/") + path,
                                 headers={"Authorization": "Bearer " + UPSTREAM_TOKEN})
    try:
        with urllib.request.urlopen(req, context=ctx) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_upstream_error_status_passes_unchanged(gateway, upstream, pki):
    path = "/api/v1/namespaces/default/pods/nosuch/exec?command=true&stdout=true"
    with pytest.raises(websocket.WebSocketBadStatusException) as e:
        websocket.create_connection(ws_url(gateway, "").split("/api/")[0] + path,
                                    subprotocols=["v5.channel.k8s.io"], timeout=10)
    assert e.value.status_code == 404
    body = json.loads(e.value.resp_body)
    assert body["reason"] == "NotFound"
    assert body["details"] == {"name": "nosuch", "kind": "pods"}
    # REST: the same body as the upstream's own
    code, up = upstream_get(upstream, "/api/v1/namespaces/default/pods/nosuch", pki)
    with pytest.raises(urllib.error.HTTPError) as he:
        urllib.request.urlopen(gateway.url.rstrip("/") + "/api/v1/namespaces/default/pods/nosuch")
    assert (he.value.code, he.value.read()) == (code, up)


def test_rest_subset_only(gateway):
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(gateway.url + "api/v1/namespaces/default/secrets")
    assert e.value.code == 404
    with urllib.request.urlopen(gateway.url + "api/v1/pods?labelSelector=x%3Dy&limit=5") as r:
        assert json.load(r)["kind"] == "PodList"


def test_wrong_ca_is_refused(pki, upstream):
    kc = kubeconfig(pki, "wrongca.kubeconfig", upstream.url.rstrip("/"),
                    ca=f"{pki}/otherca.crt", token=UPSTREAM_TOKEN)
    gw = Podterm(["--kubeconfig", kc])
    try:
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(gw.url + "api/v1/pods")
        assert e.value.code == 503
        msg = json.loads(e.value.read())["message"]
        assert "certificate was not accepted" in msg
    finally:
        gw.stop()


def write_plugin(plugin, count, offset_s):
    exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + offset_s))
    plugin.write_text("#!/bin/sh\n"
                      f"echo run >> {count}\n"
                      "cat <<EOF\n"
                      '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",'
                      f'"status":{{"token":"{UPSTREAM_TOKEN}","expirationTimestamp":"{exp}"}}}}\n'
                      "EOF\n")
    plugin.chmod(0o755)
    count.write_text("")


@pytest.mark.parametrize("offset_s,runs", [(3600, 1), (-60, 3)])
def test_exec_credential_plugin_cached_until_expiry(pki, upstream, tmp_path, offset_s, runs):
    count, plugin = tmp_path / "runs", tmp_path / "plugin.sh"
    write_plugin(plugin, count, offset_s)
    kc = kubeconfig(str(tmp_path), "kc", upstream.url.rstrip("/"), ca=f"{pki}/ca.crt",
                    exec_cmd=str(plugin))
    gw = Podterm(["--kubeconfig", kc])
    try:
        for _ in range(3):
            with urllib.request.urlopen(gw.url + "api/v1/pods") as r:
                assert r.status == 200
        assert count.read_text().count("run") == runs
    finally:
        gw.stop()


def test_upstream_killed_mid_session(pki):
    up = Podterm(["--tls-cert-file", f"{pki}/server.crt", "--tls-private-key-file",
                  f"{pki}/server.key", "--token-auth-file", f"{pki}/tokens.csv"])
    kc = kubeconfig(pki, "kill.kubeconfig", up.url.rstrip("/"), ca=f"{pki}/ca.crt",
                    token=UPSTREAM_TOKEN)
    gw = Podterm(["--kubeconfig", kc])
    try:
        ws = websocket.create_connection(
            ws_url(gw, "command=sleep&command=100&stdout=true"),
            subprotocols=["v4.channel.k8s.io"], timeout=10)
        op, data = ws.recv_data()  # the initial empty frame
        t0 = time.time()
        up.stop(signal.SIGKILL)
        status = None
        while True:
            op, data = ws.recv_data()
            if op == websocket.ABNF.OPCODE_CLOSE:
                break
            if data[:1] == b"\x03":
                status = json.loads(data[1:])
        assert time.time() - t0 < 5
        assert status["status"] == "Failure"
        assert "API server" in status["message"]
    finally:
        gw.stop()
        up.stop()
