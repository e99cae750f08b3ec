"""Fixtures of the interop suite: podterm servers started from PODTERM_BIN on
127.0.0.1 (free port), stopped by PID, and failed when they do not exit 0 on
SIGTERM or when a sanitizer reported anything.

- podterm: a factory for servers owned by one test (start(args, config=...)).
- server: the default server (no --config, anonymous), shared by a module.
- cluster: a server with CLUSTER_CONFIG, shared by a module.
After every test, each shared server must still be running with a clean log.
"""
import os
import subprocess
import sys
import tempfile
import time
import types

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import podterm_server  # noqa: E402
from kube_tools import fresh_env, kbin  # noqa: E402
from podterm_server import CLUSTER_CONFIG, Podterm  # noqa: E402

SILENT_S = 70



def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than 10 s (the 70 s silent exec)")
    # server logs of the previous run go; this run's stay for debugging
    if os.path.isdir(podterm_server.OUT_DIR):
        for name in os.listdir(podterm_server.OUT_DIR):
            if name.endswith(".log"):
                os.remove(os.path.join(podterm_server.OUT_DIR, name))


def _stop_or_fail(srv):
    problems = srv.stop()
    if problems:
        pytest.fail(srv.describe(problems), pytrace=False)


@pytest.fixture
def podterm(request):
    """start(args=(), config=None, files=None) -> Podterm, stopped and checked
    at the end of the test."""
    started = []

    def start(args=(), config=None, files=None):
        srv = Podterm(args, config=config, files=files, name=request.node.name)
        started.append(srv)
        return srv

    yield start
    failures = []
    for srv in started:
        problems = srv.stop()
        if problems:
            failures.append(srv.describe(problems))
    if failures:
        pytest.fail("\n".join(failures), pytrace=False)


@pytest.fixture(scope="module")
def server(request):
    srv = Podterm(name=f"{request.module.__name__}-default")
    yield srv
    _stop_or_fail(srv)


@pytest.fixture(scope="module")
def cluster(request):
    srv = Podterm(config=CLUSTER_CONFIG, name=f"{request.module.__name__}-cluster")
    yield srv
    _stop_or_fail(srv)


@pytest.fixture(scope="session", autouse=True)
def silent_exec(request):
    """`kubectl.1.33 exec local -- sleep 70` against a server of its own, started
    with the session when a slow test is selected, so that its 70 s overlap
    the other tests; test_kubectl.py checks the result at the end."""
    if not any(item.get_closest_marker("slow") for item in request.session.items):
        yield None
        return
    srv = Podterm(name="silent-exec")
    tmp = tempfile.mkdtemp(prefix="podterm-silent-")
    proc = subprocess.Popen([kbin("1.33"), "exec", "local", "--", "sleep", str(SILENT_S)],
                            env=fresh_env(tmp, srv.port), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    yield types.SimpleNamespace(proc=proc, t0=time.monotonic(), seconds=SILENT_S)
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    _stop_or_fail(srv)


@pytest.fixture(autouse=True)
def _shared_servers_healthy():
    """A crash or a sanitizer report in a shared server fails the test that
    caused it, not only the module's last one."""
    yield
    for srv in list(podterm_server.LIVE):
        problems = []
        if not srv.alive():
            problems.append(f"exited with status {srv.proc.returncode} during the test")
        problems += [f"sanitizer report: {m}" for m in srv.sanitizer_reports()]
        if problems:
            podterm_server.LIVE.remove(srv)  # reported once, here
            pytest.fail(srv.describe(problems), pytrace=False)
