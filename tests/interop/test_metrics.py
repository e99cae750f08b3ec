"""/metrics (local mode): guarded as the apiserver guards it (401 without a
token, RBAC's 403 without a grant of nonResourceURLs "/metrics"), checked by
`promtool check metrics`, and scraped by a real Prometheus (Debian
`prometheus`) on loopback during a scripted workload: kubectl execs over HTTPS with
known output sizes, some 401s and 404s. Prometheus'
HTTP API must then show the sessions run, the active gauge back at 0, the
stdout bytes the clients read and the requests by code."""
import json
import os
import shutil
import http.client
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

import pytest

from kube_tools import kbin, kube_env, make_pki
from podterm_client import assert_status_response, http_request
from podterm_server import CLUSTER_CONFIG, Podterm

PROM_TOKEN = "metrics-scraper-token-5b1e7a"
USER_TOKEN = "metrics-user-token-9c2d44"
NOBODY_TOKEN = "metrics-nobody-token-31f0aa"
TOKENS_CSV = (f'{PROM_TOKEN},prom,10,"monitoring"\n'
              f'{USER_TOKEN},alice,11,"devs"\n'
              f'{NOBODY_TOKEN},x,12\n')
# prom may read /metrics; alice may use pods; x has nothing.
RBAC = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: metrics-reader}
rules:
- nonResourceURLs: ["/metrics"]
  verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: prom-metrics}
subjects:
- {kind: User, name: prom, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: ClusterRole, name: metrics-reader, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: pods-exec}
rules:
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list"]
- apiGroups: [""]
  resources: ["pods/exec", "pods/attach"]
  verbs: ["create", "get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: alice-pods}
subjects:
- {kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: ClusterRole, name: pods-exec, apiGroup: rbac.authorization.k8s.io}
"""
PROM_BIN = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")
MISSING = "Debian's prometheus package (prometheus, promtool) is not installed: scripts/deps.sh test"
SCRAPE_WAIT_S = 60


def bearer(token):
    return [("Authorization", f"Bearer {token}")]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def guarded(podterm):
    return podterm(["--token-auth-file", "{dir}/tokens.csv", "--authorization-rbac-file",
                    "{dir}/rbac.yaml"], config=CLUSTER_CONFIG,
                   files={"tokens.csv": TOKENS_CSV, "rbac.yaml": RBAC})


def test_metrics_unauthenticated_is_401(guarded):
    resp = http_request(guarded.port, "GET", "/metrics")
    assert_status_response(resp, 401, "Unauthorized", "Unauthorized")


def test_metrics_without_grant_is_the_apiservers_403(guarded):
    resp = http_request(guarded.port, "GET", "/metrics", bearer(NOBODY_TOKEN))
    assert_status_response(resp, 403, "Forbidden",
                           'forbidden: User "x" cannot get path "/metrics"')
    # alice may exec but was granted nothing on /metrics: the discovery
    # roles do not include it (as in the apiserver).
    resp = http_request(guarded.port, "GET", "/metrics", bearer(USER_TOKEN))
    assert_status_response(resp, 403, "Forbidden",
                           'forbidden: User "alice" cannot get path "/metrics"')


def test_metrics_with_grant_passes_promtool(guarded):
    assert PROMTOOL, MISSING
    resp = http_request(guarded.port, "GET", "/metrics", bearer(PROM_TOKEN))
    assert resp.status == 200, resp
    assert resp.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8"
    body = resp.body.decode()
    for family in ("podterm_sessions_active", "podterm_sessions_total",
                   "podterm_session_duration_seconds", "podterm_session_bytes_total",
                   "podterm_http_requests_total", "podterm_http_request_duration_seconds",
                   "podterm_websocket_upgrade_duration_seconds",
                   "podterm_authentication_attempts_total",
                   "podterm_authorization_decisions_total", "podterm_upstream_requests_total",
                   "podterm_audit_events_dropped_total", "process_resident_memory_bytes",
                   "process_open_fds", "process_max_fds", "process_cpu_seconds_total",
                   "process_start_time_seconds", "process_virtual_memory_bytes"):
        assert f"# TYPE {family} " in body, family
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=resp.body, capture_output=True,
                       timeout=30)
    assert (r.returncode, r.stdout, r.stderr) == (0, b"", b""), r


def test_metrics_post_is_not_granted_by_get(guarded):
    """A grant of get is not one of post: a non-resource request's verb is
    its method, lower case, as in the apiserver."""
    resp = http_request(guarded.port, "POST", "/metrics", bearer(PROM_TOKEN))
    assert_status_response(resp, 403, "Forbidden",
                           'forbidden: User "prom" cannot post path "/metrics"')


class Prometheus:
    """A real Prometheus on 127.0.0.1 (free port), scraping one target every
    second over HTTPS with a bearer token from a file, storage in a temp dir; stopped by
    PID."""

    def __init__(self, target_port, token, ca):
        self.dir = tempfile.mkdtemp(prefix="podterm-prom-")
        token_file = os.path.join(self.dir, "token")
        with open(token_file, "w") as f:
            f.write(token)
        cfg = os.path.join(self.dir, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n- job_name: podterm\n  scheme: https\n"
                    f"  tls_config:\n    ca_file: {ca}\n"
                    "  authorization:\n    type: Bearer\n"
                    f"    credentials_file: {token_file}\n"
                    f"  static_configs:\n  - targets: ['127.0.0.1:{target_port}']\n")
        self.port = free_port()
        self.log = open(os.path.join(self.dir, "prometheus.log"), "wb")
        self.proc = subprocess.Popen(
            [PROM_BIN, f"--config.file={cfg}", f"--storage.tsdb.path={self.dir}/data",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log, cwd=self.dir)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.output()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError("prometheus not ready in 60 s:\n" + self.output())

    def output(self):
        with open(os.path.join(self.dir, "prometheus.log"), "rb") as f:
            return f.read().decode("utf-8", "replace")[-4000:]

    def query(self, expr):
        """The value of a scalar-like instant query, or None when empty."""
        url = (f"http://127.0.0.1:{self.port}/api/v1/query?"
               + urllib.parse.urlencode({"query": expr}))
        with urllib.request.urlopen(url, timeout=10) as r:
            doc = json.load(r)
        assert doc["status"] == "success", doc
        result = doc["data"]["result"]
        if not result:
            return None
        assert len(result) == 1, result
        return float(result[0]["value"][1])

    def wait_for(self, expr, want, timeout=SCRAPE_WAIT_S):
        deadline = time.monotonic() + timeout
        got = None
        while time.monotonic() < deadline:
            got = self.query(expr)
            if got == want:
                return
            time.sleep(0.5)
        raise AssertionError(f"{expr}: want {want}, Prometheus has {got}\n{self.output()}")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)



def https_status(port, ca, path, token=None):
    ctx = ssl.create_default_context(cafile=ca)
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=30)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def test_real_prometheus_scrapes_the_workload(podterm, tmp_path):
    assert PROM_BIN, MISSING
    pki = str(tmp_path)
    make_pki(pki)
    ca = f"{pki}/ca.crt"
    srv = podterm(["--token-auth-file", "{dir}/tokens.csv", "--authorization-rbac-file",
                   "{dir}/rbac.yaml", "--tls-cert-file", f"{pki}/server.crt",
                   "--tls-private-key-file", f"{pki}/server.key"], config=CLUSTER_CONFIG,
                  files={"tokens.csv": TOKENS_CSV, "rbac.yaml": RBAC})
    prom = Prometheus(srv.port, PROM_TOKEN, ca)
    try:
        # A scrape of the idle server first: the counters start from there.
        prom.wait_for('up{job="podterm"}', 1.0)
        prom.wait_for('sum(podterm_sessions_total)', 0.0)
        stdout_read = stderr_read = sessions = 0
        env = kube_env(pki, srv.port, ca, USER_TOKEN)
        # kubectl execs with known output sizes; the last one writes stderr too.
        for size, err in ((1000, 0), (4096, 0), (77, 0), (5, 3)):
            r = subprocess.run([kbin("1.33"), "exec", "local", "--", "sh", "-c",
                                f"head -c {size} /dev/zero | tr '\\0' a; "
                                f"head -c {err} /dev/zero | tr '\\0' e >&2"],
                               env=env, capture_output=True, timeout=60)
            # kubectl's own log line of its known client race (test_kubectl.py
            # counts how often it comes) is not the process's stderr
            r.stderr = b"".join(line for line in r.stderr.splitlines(keepends=True)
                                if b"Unknown stream id" not in line)
            assert (r.returncode, r.stdout, r.stderr) == (0, b"a" * size, b"e" * err), r
            stdout_read += len(r.stdout)
            stderr_read += len(r.stderr)
            sessions += 1
        # 401s (no token, a wrong one) and 404s (pods that do not exist).
        for token in (None, "wrong-token", None):
            assert https_status(srv.port, ca, "/api/v1/namespaces", token) == 401
        for path in ("/api/v1/namespaces/default/pods/no-such-pod", "/api/v1/namespaces/default/pods/gone"):
            assert https_status(srv.port, ca, path, USER_TOKEN) == 404

        prom.wait_for('sum(podterm_sessions_total)', float(sessions))
        prom.wait_for('podterm_sessions_total{result="exit"}', float(sessions))
        prom.wait_for('sum(podterm_sessions_active)', 0.0)
        prom.wait_for('podterm_session_bytes_total{direction="stdout"}', float(stdout_read))
        prom.wait_for('podterm_session_bytes_total{direction="stderr"}', float(stderr_read))
        prom.wait_for('podterm_session_bytes_total{direction="stdin"}', 0.0)
        prom.wait_for('sum(podterm_http_requests_total{code="101"})', float(sessions))
        prom.wait_for('podterm_http_requests_total{verb="create",code="101"}', float(sessions))
        prom.wait_for('sum(podterm_http_requests_total{code="401"})', 3.0)
        prom.wait_for('sum(podterm_http_requests_total{code="404"})', 2.0)
        prom.wait_for('podterm_session_duration_seconds_count', float(sessions))
        prom.wait_for('podterm_websocket_upgrade_duration_seconds_count', float(sessions))
        prom.wait_for('sum(podterm_authentication_attempts_total{result="failure"})', 3.0)
        prom.wait_for('podterm_authorization_decisions_total{decision="forbid"}', 0.0)
        assert prom.query("process_resident_memory_bytes") > 0
        assert prom.query("process_open_fds") > 0
    finally:
        prom.stop()
