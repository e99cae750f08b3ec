"""/metrics in gateway mode: served by the gateway itself (this replica's
numbers, never relayed upstream), with the upstream's status codes counted
where the gateway reads them, the mode label "gateway", and sessions through
the gateway counted as in local mode."""
import re
import shutil
import subprocess

from conftest import UPSTREAM_TOKEN, kubeconfig
from podterm_client import V5, exec_path, http_request, ws_exec


def metric(text, series):
    m = re.search("^" + re.escape(series) + r" (\S+)$", text, re.M)
    return None if m is None else float(m.group(1))


def test_gateway_counts_upstream_codes_and_sessions(pki, upstream, podterm):
    kc = kubeconfig(pki, "gw-metrics.kubeconfig", upstream.url.rstrip("/"), ca=f"{pki}/ca.crt",
                    token=UPSTREAM_TOKEN)
    gw = podterm(["--kubeconfig", kc], name="gw-metrics")
    assert http_request(gw.port, "GET", "/api/v1/namespaces/default/pods").status == 200
    assert http_request(gw.port, "GET", "/api/v1/namespaces/default/pods/nosuch").status == 404
    resp, t = ws_exec(gw.port, exec_path(["sh", "-c", "printf 12345"]), V5)
    assert resp.status == 101 and t.data(1) == b"12345", t

    resp = http_request(gw.port, "GET", "/metrics")
    assert resp.status == 200, resp
    text = resp.body.decode()
    assert metric(text, 'podterm_upstream_requests_total{code="200"}') == 1, text
    assert metric(text, 'podterm_upstream_requests_total{code="404"}') == 1, text
    assert metric(text, 'podterm_upstream_requests_total{code="101"}') == 1, text
    assert metric(text, 'podterm_sessions_total{result="exit"}') == 1, text
    assert metric(text, 'podterm_sessions_active{kind="exec",tty="false",mode="gateway"}') == 0
    assert metric(text, 'podterm_session_bytes_total{direction="stdout"}') == 5, text
    assert metric(text, 'podterm_http_requests_total{verb="list",code="200"}') == 1, text
    assert metric(text, 'podterm_http_requests_total{verb="get",code="404"}') == 1, text
    assert metric(text, 'podterm_http_requests_total{verb="create",code="101"}') == 1, text
    promtool = shutil.which("promtool")
    assert promtool, "Debian's prometheus package (promtool) is not installed"
    r = subprocess.run([promtool, "check", "metrics"], input=resp.body, capture_output=True,
                       timeout=30)
    assert (r.returncode, r.stdout, r.stderr) == (0, b"", b""), r
