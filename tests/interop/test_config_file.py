"""Every flag from the --config file (issue 12: a ConfigMap holds the whole
configuration): the file's flags: mapping applies as if typed before the
command line, the command line wins, repeatable flags add up, and a bad file
stops start-up with "FILE:LINE: problem" and exit status 1 (as every file
podterm cannot use), a value the flag itself refuses with the flag's own
message and exit status 2 (as on the command line)."""
import json
import os
import re
import subprocess
import urllib.error
import urllib.request

import pytest

from podterm_server import BIN, Podterm
from test_startup import run

TOKENS = "s3cret-token,alice,1001,\"team\"\n"


def get(port, path, host=None, token=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if host:
        req.add_header("Host", host)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_flags_from_the_file_apply():
    """Authentication, an extra Host name and JSON logs, all from the file; the
    local pods come from the built-in default (the file has no pods:)."""
    srv = Podterm(["--config", "{dir}/podterm.yaml"], files={
        "tokens.csv": TOKENS,
        "podterm.yaml": ("flags:\n"
                         "  token-auth-file: tokens.csv\n"
                         "  allowed-host: [team.example, other.example]\n"
                         "  log-format: json\n"
                         "  v: 2\n"),
    })
    try:
        assert get(srv.port, "/api/v1/namespaces/default/pods")[0] == 401
        status, body = get(srv.port, "/api/v1/namespaces/default/pods", token="s3cret-token")
        assert status == 200, body
        assert [p["metadata"]["name"] for p in json.loads(body)["items"]] == ["local"]
        for host in ("team.example", "other.example:8080"):
            assert get(srv.port, "/version", host=host, token="s3cret-token")[0] == 200, host
        assert get(srv.port, "/version", host="evil.example", token="s3cret-token")[0] == 403
        lines = [json.loads(l) for l in srv.output().splitlines() if l.startswith("{")]
        assert any(l.get("user") == "alice" and l.get("uri") == "/api/v1/namespaces/default/pods"
                   for l in lines), srv.output()
        assert "s3cret-token" not in srv.output()
    finally:
        assert srv.stop() == []


def test_command_line_wins_and_lists_add_up():
    """The file says json logs and names one host; the command line says text
    and names another: text it is, and both hosts are answered."""
    srv = Podterm(["--config", "{dir}/podterm.yaml", "--log-format", "text",
                   "--allowed-host", "cli.example"], files={
        "podterm.yaml": ("flags:\n  log-format: json\n  allowed-host: file.example\n"
                         "  v: 2\n"),
    })
    try:
        for host in ("file.example", "cli.example"):
            assert get(srv.port, "/version", host=host)[0] == 200, host
        assert get(srv.port, "/version", host="third.example")[0] == 403
        assert not [l for l in srv.output().splitlines() if l.startswith("{")], srv.output()
    finally:
        assert srv.stop() == []


def test_flags_and_pods_in_one_file():
    srv = Podterm(config=("flags:\n  allowed-host: [pods.example]\n"
                          "pods:\n- name: web\n  containers: [{name: app}]\n"))
    try:
        status, body = get(srv.port, "/api/v1/namespaces/default/pods", host="pods.example")
        assert status == 200, body
        assert [p["metadata"]["name"] for p in json.loads(body)["items"]] == ["web"]
    finally:
        assert srv.stop() == []


@pytest.mark.parametrize("text,rc,message", [
    ("flags:\n  lisen: 127.0.0.1:0\n", 1,
     'podterm: {path}:2: unknown flag "lisen" in flags (expected listen, jwt-key-file, '
     "token-auth-file, allowed-origin, allowed-host, insecure-allow-anonymous, log-level, "
     "kubeconfig, context, in-cluster, pass-through-token, tls-cert-file, "
     "tls-private-key-file, client-ca-file, authorization-rbac-file, v, log-format, ...)\n"),
    ("flags:\n  config: other.yaml\n", 1, None),
    ("flags:\n  help: true\n", 1, None),
    ("flags:\n  in-cluster: yes\n", 1, "podterm: {path}:2: flag in-cluster must be true or false\n"),
    ("flags:\n  listen: [a, b]\n", 1, "podterm: {path}:2: flag listen must be a string\n"),
    ("flags:\n  listen: nope\n", 2, 'podterm: --listen wants HOST:PORT, got "nope"\n'),
    ("flags:\n  kubeconfig: kc\npods:\n- {name: p, containers: [{name: c}]}\n", 2,
     "podterm: the --config file's pods: and namespaces: (local pods) do not apply in "
     "gateway mode\n"),
], ids=["unknown", "config-itself", "help", "switch-not-bool", "list-for-one", "bad-value",
        "pods-in-gateway"])
def test_bad_file_refused(tmp_path, text, rc, message):
    path = tmp_path / "podterm.yaml"
    path.write_text(text)
    got_rc, out, err = run(["--config", str(path)])
    assert (got_rc, out) == (rc, ""), (got_rc, out, err)
    if message is None:  # the CLI-only flags are simply not flags of the file
        assert re.fullmatch(rf'podterm: {re.escape(str(path))}:2: unknown flag "\w+" in flags '
                            r"\(expected listen, .*\)\n", err), err
    else:
        assert err == message.format(path=path), err


def test_every_flag_of_help_is_settable_from_the_file(tmp_path):
    """Each long flag --help names (but --config, --help, --version) is known
    to the file: set to a value of the wrong shape, it gets the file's own
    error for that flag, never "unknown flag"."""
    rc, out, _ = run(["--help"])
    assert rc == 0
    flags = sorted(set(re.findall(r"^\s+(?:-\w, )?--([a-z][a-z-]*)", out, re.M)) -
                   {"config", "help", "version"})
    assert len(flags) >= 24 and {"v", "log-format", "recording-dir"} <= set(flags), flags
    path = tmp_path / "podterm.yaml"
    for flag in flags:
        path.write_text(f"flags:\n  {flag}: {{a: 1}}\n")
        rc, _, err = run(["--config", str(path)])
        assert rc == 1 and f"{path}:2: flag {flag} must be " in err, (flag, err)
