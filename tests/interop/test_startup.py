"""Start-up refusals: flags, addresses and files podterm must refuse before it
serves, each with its exact message on stderr and exit status (2: bad usage,
1: cannot serve), nothing on stdout, no sanitizer report (a failed start-up
must free what it built), and within a bounded time."""
import os
import re
import socket
import subprocess

import pytest

from podterm_server import BIN, SANITIZER_MARKERS, Podterm, sanitizer_env

ANON_REFUSAL = ("podterm: refusing to serve shells without authentication on {host}: use "
                "--jwt-key-file, --token-auth-file or --oidc-issuer-url, listen on 127.0.0.1, "
                "or pass --insecure-allow-anonymous\n")
TEST_NET = "192.0.2.1"  # RFC 5737: never assigned to this machine, so bind fails, no traffic
RUN_TIMEOUT_S = 20


def run(args, env=None, cwd=None):
    """podterm with args to completion: (exit status, stdout, stderr)."""
    e = sanitizer_env()
    e.update(env or {})
    p = subprocess.run([BIN] + list(args), stdin=subprocess.DEVNULL, capture_output=True,
                       env=e, cwd=cwd, timeout=RUN_TIMEOUT_S)
    out, err = p.stdout.decode(), p.stderr.decode()
    assert not [m for m in SANITIZER_MARKERS if m in err], err
    return p.returncode, out, err


def assert_refused(args, rc, stderr, env=None):
    got = run(args, env)
    assert got == (rc, "", stderr), got


# ---------------------------------------------------------------- usage errors (2)

@pytest.mark.parametrize("args,message", [
    (["--listen", "nope"], 'podterm: --listen wants HOST:PORT, got "nope"\n'),
    (["--listen", "127.0.0.1:65536"], 'podterm: --listen wants HOST:PORT, got "127.0.0.1:65536"\n'),
    (["--listen", ":8080"], 'podterm: --listen wants HOST:PORT, got ":8080"\n'),
    (["--listen", "127.0.0.1:"], 'podterm: --listen wants HOST:PORT, got "127.0.0.1:"\n'),
    (["--listen", "127.0.0.1:80x"], 'podterm: --listen wants HOST:PORT, got "127.0.0.1:80x"\n'),
    (["extra"], 'podterm: unexpected argument "extra"\n'),
    (["--tls-cert-file", "c.pem"],
     "podterm: --tls-cert-file and --tls-private-key-file go together\n"),
    (["--tls-private-key-file", "k.pem"],
     "podterm: --tls-cert-file and --tls-private-key-file go together\n"),
    (["--client-ca-file", "ca.pem"],
     "podterm: --client-ca-file needs --tls-cert-file and --tls-private-key-file\n"),
    (["--in-cluster", "--kubeconfig", "kc"],
     "podterm: --in-cluster and --kubeconfig/--context exclude each other\n"),
    (["--in-cluster", "--context", "c"],
     "podterm: --in-cluster and --kubeconfig/--context exclude each other\n"),
    (["--pass-through-token"],
     "podterm: --pass-through-token needs gateway mode (--kubeconfig, --context or "
     "--in-cluster)\n"),
    ([a for i in range(17) for a in ("--allowed-origin", f"http://o{i}.test")],
     "podterm: at most 16 --allowed-origin flags\n"),
], ids=["listen-no-colon", "listen-port-range", "listen-no-host", "listen-no-port",
        "listen-port-junk", "positional", "cert-without-key", "key-without-cert",
        "client-ca-without-tls", "in-cluster-and-kubeconfig", "in-cluster-and-context",
        "pass-through-local", "origins-17"])
def test_usage_errors_exit_2(args, message):
    assert_refused(args, 2, message)


def test_unknown_flag_prints_usage():
    rc, out, err = run(["--bogus"])
    assert (rc, out) == (2, ""), (rc, out, err)
    first, rest = err.split("\n", 1)
    assert first == f"{BIN}: unrecognized option '--bogus'", err
    assert rest.startswith("usage: podterm [flags]\n"), err


def test_flag_missing_its_argument():
    rc, out, err = run(["--listen"])
    assert (rc, out) == (2, ""), (rc, out, err)
    assert err.split("\n", 1)[0] == f"{BIN}: option '--listen' requires an argument", err


def test_version_and_help():
    rc, out, err = run(["--version"])
    assert (rc, err) == (0, ""), (rc, out, err)
    first, libs, rest = out.split("\n", 2)
    assert re.fullmatch(r"podterm 0\.1\.0 \(commit ([0-9a-f]{12}|unknown)\)", first), out
    assert re.fullmatch(r"libwebsockets 4\.[^,]+, libuv 1\.[^,]+, OpenSSL 3\.[^,]+, "
                        r"jansson 2\.[^,]+, libfyaml 0\.[^,]+, libjwt 1\.\S+", libs), out
    assert rest == "", out
    rc, out, err = run(["--help"])
    assert (rc, err) == (0, "") and out.startswith("usage: podterm [flags]\n"), (rc, out, err)
    for flag in ("--listen", "--insecure-allow-anonymous", "--allowed-origin", "--context",
                 "--in-cluster", "--pass-through-token"):
        assert f"  {flag} " in out, flag


# ---------------------------------------------------------------- anonymous access

@pytest.mark.parametrize("host", ["0.0.0.0", TEST_NET, "10.1.2.3"])
def test_anonymous_refused_off_loopback(host):
    assert_refused(["--listen", f"{host}:0"], 1, ANON_REFUSAL.format(host=host))


def test_insecure_allow_anonymous_passes_the_check():
    """The refusal is lifted: start-up gets as far as binding (which fails: the
    address is not this machine's), so nothing listens off loopback."""
    assert_refused(["--listen", f"{TEST_NET}:0", "--insecure-allow-anonymous"], 1,
                   f"podterm: cannot listen on {TEST_NET}:0: address not available\n")


def test_authentication_passes_the_check(tmp_path):
    (tmp_path / "tokens.csv").write_text("startup-token-0123456789,alice,1001,\n")
    assert_refused(["--listen", f"{TEST_NET}:0", "--token-auth-file",
                    str(tmp_path / "tokens.csv")], 1,
                   f"podterm: cannot listen on {TEST_NET}:0: address not available\n")


def test_loopback_name_is_not_an_address():
    """localhost counts as loopback for the anonymous check, but --listen wants
    an IPv4 address: refused with a message, not served on a guess."""
    assert_refused(["--listen", "localhost:0"], 1,
                   'podterm: --listen: "localhost" is not an IPv4 address\n')


def test_port_in_use_is_refused_without_leaks():
    """A taken port: a clean refusal, and the half-built server (libwebsockets
    context included) freed, which LeakSanitizer checks at exit."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert_refused(["--listen", f"127.0.0.1:{port}"], 1,
                       f"podterm: cannot listen on 127.0.0.1:{port}: address already in use\n")


# ---------------------------------------------------------------- files

@pytest.mark.parametrize("flag", ["--config", "--token-auth-file", "--jwt-key-file"])
def test_missing_file(flag, tmp_path):
    path = str(tmp_path / "missing")
    assert_refused(["--listen", "127.0.0.1:0", flag, path], 1,
                   f"podterm: {path}: No such file or directory\n")


def test_missing_kubeconfig(tmp_path):
    path = str(tmp_path / "missing")
    assert_refused(["--listen", "127.0.0.1:0", "--kubeconfig", path], 1,
                   f"podterm: kubeconfig {path}: cannot read: No such file or directory\n")


# ---------------------------------------------------------------- --context, --in-cluster

KUBECONFIG = """\
apiVersion: v1
kind: Config
current-context: first
clusters:
  - name: one
    cluster: {server: "http://127.0.0.1:1"}
  - name: two
    cluster: {server: "http://127.0.0.1:2"}
contexts:
  - name: first
    context: {cluster: one, user: u}
  - name: second
    context: {cluster: two, user: u}
users:
  - name: u
    user: {token: startup-kubeconfig-token}
"""


def gateway_line(args):
    """Starts podterm in gateway mode and returns its "gateway to" line, with the
    temp dir written as {dir}."""
    srv = Podterm(args, files={"kubeconfig": KUBECONFIG}, name="test_startup-gateway")
    try:
        return [ln.replace(srv.dir, "{dir}") for ln in srv.output().splitlines()
                if ln.startswith("podterm: gateway to ")]
    finally:
        problems = srv.stop()
        assert not problems, srv.describe(problems)


def test_context_selects_the_cluster():
    assert gateway_line(["--kubeconfig", "{dir}/kubeconfig"]) == [
        "podterm: gateway to http://127.0.0.1:1 (kubeconfig {dir}/kubeconfig, context first)"]
    assert gateway_line(["--kubeconfig", "{dir}/kubeconfig", "--context", "second"]) == [
        "podterm: gateway to http://127.0.0.1:2 (kubeconfig {dir}/kubeconfig, context second)"]


def test_unknown_context_refused(tmp_path):
    (tmp_path / "kubeconfig").write_text(KUBECONFIG)
    path = str(tmp_path / "kubeconfig")
    rc, out, err = run(["--listen", "127.0.0.1:0", "--kubeconfig", path, "--context", "third"])
    assert (rc, out) == (1, ""), (rc, out, err)
    assert err == f'podterm: kubeconfig {path}: context "third" not found\n', err


def test_context_alone_uses_KUBECONFIG(tmp_path):
    """--context without --kubeconfig is gateway mode with $KUBECONFIG's file."""
    (tmp_path / "kubeconfig").write_text(KUBECONFIG)
    path = str(tmp_path / "kubeconfig")
    rc, out, err = run(["--listen", "127.0.0.1:0", "--context", "third"],
                       env={"KUBECONFIG": path})
    assert (rc, out, err) == (1, "", f'podterm: kubeconfig {path}: context "third" not found\n')


def test_in_cluster_outside_a_pod():
    env = {"KUBERNETES_SERVICE_HOST": "", "KUBERNETES_SERVICE_PORT": ""}
    assert_refused(["--listen", "127.0.0.1:0", "--in-cluster"], 1,
                   "podterm: --in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
                   "are not set (not running in a pod?)\n", env=env)


@pytest.mark.skipif(os.path.exists("/var/run/secrets/kubernetes.io/serviceaccount"),
                    reason="this machine has a service account")
def test_in_cluster_without_service_account():
    env = {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": "1"}
    assert_refused(["--listen", "127.0.0.1:0", "--in-cluster"], 1,
                   "podterm: --in-cluster: cannot read "
                   "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt: No such file or "
                   "directory\n", env=env)


# ---------------------------------------------------------------- kubeconfig refusals

def kubeconfig_text(cluster='server: "https://127.0.0.1:6443"', user="token: t", context=None):
    return ("apiVersion: v1\nkind: Config\ncurrent-context: c\n"
            f"contexts: [{{name: c, context: {context or '{cluster: k, user: u}'}}}]\n"
            f"clusters: [{{name: k, cluster: {{{cluster}}}}}]\n"
            f"users: [{{name: u, user: {{{user}}}}}]\n")


@pytest.mark.parametrize("text,message", [
    (kubeconfig_text(cluster='server: "ftp://127.0.0.1:21"'),
     'server "ftp://127.0.0.1:21": the URL must start with https:// (or http://)'),
    (kubeconfig_text(cluster='server: "https://"'),
     'server "https://" is not a valid https://HOST[:PORT] URL'),
    (kubeconfig_text(cluster='server: "https://127.0.0.1:99999"'),
     'server "https://127.0.0.1:99999" is not a valid https://HOST[:PORT] URL'),
    (kubeconfig_text(cluster='insecure-skip-tls-verify: true'), "the cluster has no server"),
    (kubeconfig_text(cluster='server: "https://127.0.0.1:6443", proxy-url: "http://127.0.0.1:3128"'),
     "proxy-url is not supported by podterm; reach the API server directly (or run podterm "
     "where it can)"),
    (kubeconfig_text(user="auth-provider: {name: oidc}"),
     "auth-provider is not supported (it was removed from kubectl in 1.26); use an exec "
     "credential plugin"),
    (kubeconfig_text(user="username: admin, password: secret"),
     "basic auth (username/password) is not supported (removed from Kubernetes in 1.19)"),
    (kubeconfig_text(user="token: t, as: someone"),
     "as / as-groups impersonation in the kubeconfig is not supported; podterm impersonates "
     "the users it authenticates itself"),
    (kubeconfig_text(user="token: t, as-groups: [g]"),
     "as / as-groups impersonation in the kubeconfig is not supported; podterm impersonates "
     "the users it authenticates itself"),
    (kubeconfig_text(user="exec: {apiVersion: client.authentication.k8s.io/v1}"),
     "exec plugin without command"),
    (kubeconfig_text(user="exec: {command: x, apiVersion: client.authentication.k8s.io/v1alpha1}"),
     "exec plugin apiVersion client.authentication.k8s.io/v1alpha1 is not supported (use "
     "client.authentication.k8s.io/v1)"),
    (kubeconfig_text(user="exec: {command: x, env: [{name: A}]}"),
     "exec plugin: env entries need name and value"),
    (kubeconfig_text(user="exec: {command: x, args: [" + ", ".join(["a"] * 65) + "]}"),
     "exec plugin: more than 64 args"),
    (kubeconfig_text(user="client-certificate-data: " + "QQ=="),
     "client-certificate and client-key must be given together"),
    (kubeconfig_text(user="token: t", context="{cluster: nope, user: u}"),
     'cluster "nope" not found'),
    (kubeconfig_text(user="token: t", context="{cluster: k, user: nobody}"),
     'user "nobody" not found'),
    (kubeconfig_text().replace("current-context: c\n", ""), "no current-context: pass --context NAME"),
    ("- just\n- a list\n", "not a YAML mapping (syntax error?)"),
    ("clusters: [\n", "not a YAML mapping (syntax error?)"),
], ids=["server-scheme", "server-no-host", "server-port", "no-server", "proxy-url",
        "auth-provider", "basic-auth", "impersonate-user", "impersonate-groups",
        "exec-no-command", "exec-api-version", "exec-env", "exec-args", "cert-without-key",
        "missing-cluster", "missing-user", "no-current-context", "not-a-mapping", "syntax"])
def test_kubeconfig_refusals(tmp_path, text, message):
    """Each refusal: exit 1 and one line naming the file and what to change."""
    path = tmp_path / "kubeconfig"
    path.write_text(text)
    rc, out, err = run(["--listen", "127.0.0.1:0", "--kubeconfig", str(path)])
    prefix = f"podterm: kubeconfig {path}: "
    assert (rc, out) == (1, ""), (rc, out, err)
    assert err.startswith(prefix) and err.endswith("\n") and err.count("\n") == 1, err
    assert err == prefix + message + "\n", err


# ---------------------------------------------------------------- token and key files

@pytest.mark.parametrize("content,message", [
    (b"tok\0en,alice,1\n", "{path}: contains a NUL byte"),
    (b"tok,alice\n", "{path}:1: needs at least 3 columns (token, user name, uid), found 2"),
    (b",alice,1\n", "{path}:1: the token is empty or longer than 8192 bytes"),
    (b"t" * 8193 + b",alice,1\n", "{path}:1: the token is empty or longer than 8192 bytes"),
    (b"t,,1\n", "{path}:1: the user name is empty, longer than 255 bytes or has control characters"),
    (b"t," + b"u" * 256 + b",1\n",
     "{path}:1: the user name is empty, longer than 255 bytes or has control characters"),
    (b"t,u\x01x,1\n",
     "{path}:1: the user name is empty, longer than 255 bytes or has control characters"),
    (b"t,u," + b"9" * 256 + b"\n",
     "{path}:1: the uid is longer than 255 bytes or has control characters"),
    (b't,u,1,"' + b",".join(b"g%d" % i for i in range(33)) + b'"\n', "{path}:1: more than 32 groups"),
    (b't,u,1,"ok,' + b"g" * 256 + b'"\n',
     "{path}:1: a group name is longer than 255 bytes or has control characters"),
    (b't,u,1,"ok,g\x1bx"\n',
     "{path}:1: a group name is longer than 255 bytes or has control characters"),
    (b"a,u,1\nb,v,2\na,w,3\n", "{path}:3: duplicate token (also on line 1)"),
    (b't,"u,1\n', "{path}:1: unterminated quoted field"),
    (b't,"u"x,1\n', "{path}:1: text after a closing quote"),
    (b't,u"x,1\n', '{path}:1: bare " in an unquoted field'),
    (b"\n\n", "{path}: no tokens"),
], ids=["nul", "two-columns", "empty-token", "long-token", "empty-user", "long-user",
        "control-in-user", "long-uid", "33-groups", "long-group", "control-in-group",
        "duplicate", "unterminated-quote", "text-after-quote", "bare-quote", "no-tokens"])
def test_token_file_refusals(tmp_path, content, message):
    path = tmp_path / "tokens.csv"
    path.write_bytes(content)
    assert_refused(["--listen", "127.0.0.1:0", "--token-auth-file", str(path)], 1,
                   "podterm: " + message.format(path=path) + "\n")


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def test_jwt_key_refusals(tmp_path):
    enc, small, der = (str(tmp_path / n) for n in ("enc.pem", "small.pem", "key.der"))
    openssl("genrsa", "-aes128", "-passout", "pass:secret-passphrase", "-out", enc, "2048")
    openssl("genrsa", "-out", small, "1024")
    openssl("rsa", "-in", small, "-outform", "DER", "-out", der)
    for path, message in [
        (enc, "not a usable PEM public key, private key or certificate (or it is encrypted)"),
        (small, "RSA key of 1024 bits; at least 2048 are needed"),
        (der, "looks like a DER key; give the key in PEM form"),
    ]:
        assert_refused(["--listen", "127.0.0.1:0", "--jwt-key-file", path], 1,
                       f"podterm: {path}: {message}\n")
