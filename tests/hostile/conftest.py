"""Fixtures of the hostile-peer suite.

Three fronts are attacked, each a session-wide server on 127.0.0.1 (free
port) stopped by PID and failed on a non-zero exit or a sanitizer report:
  local    podterm in local mode, plain HTTP
  tls      podterm in local mode behind its own TLS front (--tls-cert-file)
  gateway  podterm in gateway mode, plain HTTP, in front of an upstream podterm
           serving TLS with a token file (as in tests/gateway)
Certificates are made with openssl in a temp dir. A test taking `target` runs
once per front and, when it is over, the front must be alive, serve an exact
exec, and be back to its warmed-up fds, children and RSS (hostile_net.py).

Randomness comes from one fixed seed, printed in the header; HOSTILE_SEED
overrides it."""
import importlib.util
import os
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "interop"))

# The RSS bound (hostile_net.RSS_GROWTH_MAX_KIB) is only meaningful when ASan
# does not keep up to 256 MiB of freed memory in quarantine: cap it for the
# servers this suite starts (they inherit this process's environment).
_asan = os.environ.get("ASAN_OPTIONS") or \
    "detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1"
os.environ["ASAN_OPTIONS"] = _asan + ":quarantine_size_mb=16"

import podterm_server  # noqa: E402
from hostile_net import Target, env_flag_seed, rss_kib  # noqa: E402
from podterm_server import Podterm  # noqa: E402


def _load_gateway_helpers():
    """tests/gateway/conftest.py's certificate and kubeconfig helpers, loaded
    under another module name (this file is "conftest" too)."""
    path = os.path.join(HERE, "..", "gateway", "conftest.py")
    spec = importlib.util.spec_from_file_location("gateway_suite_conftest", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


gw = _load_gateway_helpers()

DEFAULT_SEED = 0x5EED2026
SEED = env_flag_seed(DEFAULT_SEED)
MODES = ("local", "tls", "gateway")


SUMMARY = []  # per server: warmed-up vs final fds and RSS, printed at the end


def pytest_terminal_summary(terminalreporter):
    if SUMMARY:
        terminalreporter.write_sep("-", "hostile fronts: fds and RSS, warmed-up -> end")
        for line in SUMMARY:
            terminalreporter.write_line(line)


def pytest_report_header(config):
    return f"hostile seed: {SEED:#x} (set HOSTILE_SEED to replay another)"


def pytest_configure(config):
    if os.path.isdir(podterm_server.OUT_DIR):
        for name in os.listdir(podterm_server.OUT_DIR):
            if name.startswith("hostile-") and name.endswith(".log"):
                os.remove(os.path.join(podterm_server.OUT_DIR, name))


def stop_or_fail(*servers):
    failures = [s.describe(p) for s in servers for p in [s.stop()] if p]
    if failures:
        pytest.fail("\n".join(failures), pytrace=False)


@pytest.fixture(scope="session")
def seed():
    print(f"\nhostile seed {SEED:#x}")
    return SEED


@pytest.fixture(scope="session")
def pki():
    d = tempfile.mkdtemp(prefix="podterm-hostile-")
    gw.make_ca(d, "ca")
    gw.make_cert(d, "ca", "server", "/CN=server", "subjectAltName=IP:127.0.0.1")
    with open(f"{d}/tokens.csv", "w") as f:
        f.write(f'{gw.UPSTREAM_TOKEN},alice,1001,"devs"\n')
    return d


def client_tls_context(pki):
    import ssl
    ctx = ssl.create_default_context(cafile=f"{pki}/ca.crt")
    return ctx


def start_front(mode, pki, name):
    """(Target, [servers]) for one mode; the caller stops the servers."""
    if mode == "local":
        p = Podterm(name=f"hostile-{name}-local")
        return Target(mode, p, [p]), [p]
    if mode == "tls":
        p = Podterm(gw.tls_args(pki), name=f"hostile-{name}-tls")
        assert p.url.startswith("https://"), p.url
        return Target(mode, p, [p], tls_ctx=client_tls_context(pki)), [p]
    up = Podterm(gw.tls_args(pki, "--token-auth-file", f"{pki}/tokens.csv"),
                 name=f"hostile-{name}-upstream")
    d = tempfile.mkdtemp(prefix="podterm-hostile-kc-")
    kc = gw.kubeconfig(d, "gw.kubeconfig", up.url.rstrip("/"), ca=f"{pki}/ca.crt",
                       token=gw.UPSTREAM_TOKEN)
    front = Podterm(["--kubeconfig", kc], name=f"hostile-{name}-gateway")
    return Target(mode, front, [front, up]), [front, up]


@pytest.fixture(scope="session")
def fronts(pki):
    """The three shared fronts, warmed up, baselines recorded."""
    targets, servers = {}, []
    try:
        for mode in MODES:
            t, s = start_front(mode, pki, "shared")
            servers += s
            t.warm_up_and_record_baseline()
            targets[mode] = t
        yield targets
        for t in targets.values():
            for p, role in zip(t.procs, ("front", "upstream")):
                if p.alive():
                    fd_base, _, rss_base = t.baselines[p.pid]
                    SUMMARY.append(f"{t.mode:8} {role:8} pid {p.pid}: fds {fd_base} -> "
                                   f"{p.fd_count()}, "
                                   f"RSS {rss_base} -> {rss_kib(p.pid)} KiB")
    finally:
        stop_or_fail(*servers)


@pytest.fixture(params=MODES)
def target(request, fronts):
    """One shared front per run of the test; checked healthy after it."""
    t = fronts[request.param]
    yield t
    t.assert_healthy()


@pytest.fixture
def local(fronts):
    t = fronts["local"]
    yield t
    t.assert_healthy()


class Fresh:
    """Servers of one test, for scenarios that may kill a server."""

    def __init__(self, pki, name):
        self.pki, self.name, self.started = pki, name, []

    def start(self, mode):
        t, s = start_front(mode, self.pki, self.name)
        self.started.extend(s)
        t.warm_up_and_record_baseline()
        return t

    def finish(self):
        """Stops every server; returns their problems (non-zero exit,
        sanitizer report). Call it in the test body, so an xfail covers it."""
        started, self.started = self.started, []
        return [s.describe(p) for s in started for p in [s.stop()] if p]


@pytest.fixture
def fresh(pki, request):
    f = Fresh(pki, request.node.name)
    yield f
    failures = f.finish()
    if failures:
        pytest.fail("\n".join(failures), pytrace=False)


@pytest.fixture(autouse=True)
def _servers_alive():
    """A crash in any server of the suite fails the test that caused it."""
    yield
    for srv in list(podterm_server.LIVE):
        if not srv.alive() or srv.sanitizer_reports():
            podterm_server.LIVE.remove(srv)
            pytest.fail(srv.describe([f"status {srv.proc.returncode}"] +
                                     srv.sanitizer_reports()), pytrace=False)
