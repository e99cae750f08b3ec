"""Gateway credentials from an exec plugin or a token file, against a fake upstream
on 127.0.0.1 that records what it receives. A good ExecCredential's token reaches
the upstream as the bearer token; every bad one (wrong kind, no token, a token over
8192 bytes, a timestamp that is not RFC 3339, a non-zero exit, more than 64 KiB of
output, a plugin that cannot run) and an unreadable token file refuse the request
with 503 ServiceUnavailable before anything is sent upstream, and no secret appears
in the Status. Wording is not asserted (it is changing elsewhere); status, reason,
what the upstream saw and the absence of secrets are."""
import json
import os
import stat

import pytest

from podterm_client import http_request
from test_gateway_faults import REST, FakeUpstream, ok_response

GOOD_TOKEN = "exec-plugin-token-0123456789"


def plugin_script(tmp_path, body):
    path = tmp_path / "plugin.sh"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def credential(token=GOOD_TOKEN, kind="ExecCredential", expiry=None, status=True):
    st = {"token": token} if token is not None else {}
    if expiry is not None:
        st["expirationTimestamp"] = expiry
    doc = {"kind": kind, "apiVersion": "client.authentication.k8s.io/v1"}
    if status:
        doc["status"] = st
    return json.dumps(doc)


@pytest.fixture
def gateway_with(tmp_path, podterm):
    """start(user_yaml) -> (gateway, fake upstream answering 200 to everything)."""
    fakes = []

    def start(user):
        f = FakeUpstream(lambda c, h: c.sendall(ok_response()))
        fakes.append(f)
        kc = tmp_path / "kubeconfig"
        kc.write_text("apiVersion: v1\nkind: Config\ncurrent-context: c\n"
                      "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
                      f"clusters: [{{name: k, cluster: {{server: \"http://127.0.0.1:{f.port}\"}}}}]\n"
                      f"users: [{{name: u, user: {user}}}]\n")
        return podterm(["--kubeconfig", str(kc)], name="gw-credentials"), f

    yield start
    for f in fakes:
        f.close()


def exec_user(cmd):
    return ("{exec: {apiVersion: client.authentication.k8s.io/v1, interactiveMode: Never, "
            f"command: {cmd}}}}}")


def bearer(head):
    for line in head.split("\r\n")[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == "authorization":
            return v.strip()
    return None


def assert_refused_503(gw, f, *secrets):
    resp = http_request(gw.port, "GET", REST, timeout=40)
    assert resp.status == 503, resp
    st = json.loads(resp.body)
    assert (st["kind"], st["status"], st["reason"], st["code"]) == (
        "Status", "Failure", "ServiceUnavailable", 503), st
    for s in secrets:
        assert s not in resp.body.decode() and s not in gw.output(), "a secret leaked"
    assert f.heads == [], "a request went upstream without credentials"
    return st


@pytest.mark.parametrize("expiry", [None, "2099-01-01T00:00:00Z", "2099-01-01T02:00:00+02:00",
                                    "2099-01-01T00:00:00.123456-05:30"],
                         ids=["no-expiry", "utc", "plus-offset", "fraction-minus-offset"])
def test_good_credential_reaches_upstream(tmp_path, gateway_with, expiry):
    out = credential(expiry=expiry)
    gw, f = gateway_with(exec_user(plugin_script(tmp_path, f"cat <<'EOF'\n{out}\nEOF")))
    resp = http_request(gw.port, "GET", REST, timeout=40)
    assert resp.status == 200, resp
    assert [bearer(h) for h in f.heads] == [f"Bearer {GOOD_TOKEN}"], f.heads
    assert GOOD_TOKEN not in gw.output()


@pytest.mark.parametrize("out", [
    credential(kind="Secret"),
    credential(token=None),
    credential(token=""),
    credential(status=False),
    credential(token="t" * 8193),
    credential(expiry="2099-13-45T00:00:00Z"),
    credential(expiry="2099-01-01 00:00:00"),
    credential(expiry="2099-01-01T00:00:00+0200"),
    "not json at all",
    "",
], ids=["wrong-kind", "no-token", "empty-token", "no-status", "token-over-8192",
        "bad-date", "no-T", "offset-without-colon", "not-json", "empty"])
def test_bad_credential_refused(tmp_path, gateway_with, out):
    (tmp_path / "out.json").write_text(out)
    gw, f = gateway_with(exec_user(plugin_script(tmp_path, f"cat {tmp_path}/out.json")))
    assert_refused_503(gw, f, "t" * 100)


def test_plugin_nonzero_exit_refused(tmp_path, gateway_with):
    out = credential(token="token-of-a-failed-plugin-42")
    gw, f = gateway_with(exec_user(plugin_script(
        tmp_path, f"cat <<'EOF'\n{out}\nEOF\nexit 3")))
    assert_refused_503(gw, f, "token-of-a-failed-plugin-42")


def test_plugin_oversized_output_refused(tmp_path, gateway_with):
    """More than KUBE_EXEC_OUTPUT_MAX (64 KiB) on stdout: refused, the plugin is
    not waited on forever (it keeps writing until its pipe is closed)."""
    gw, f = gateway_with(exec_user(plugin_script(
        tmp_path, "head -c 70000 /dev/zero | tr '\\0' x; sleep 1")))
    assert_refused_503(gw, f)


def test_plugin_missing_refused(tmp_path, gateway_with):
    gw, f = gateway_with(exec_user(str(tmp_path / "no-such-plugin")))
    assert_refused_503(gw, f)


def test_unreadable_token_file_refused(tmp_path, gateway_with):
    """The token file is read per request (rotation): once it is gone, 503."""
    tf = tmp_path / "token"
    tf.write_text("file-token-abcdef\n")
    gw, f = gateway_with(f"{{tokenFile: {tf}}}")
    resp = http_request(gw.port, "GET", REST, timeout=20)
    assert resp.status == 200 and [bearer(h) for h in f.heads] == ["Bearer file-token-abcdef"]
    f.heads.clear()
    os.remove(tf)
    assert_refused_503(gw, f, "file-token-abcdef")
