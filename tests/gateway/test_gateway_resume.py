"""Resume in gateway mode (issue 11): while the page is gone, the upstream
exec stays open (the process in the cluster keeps running, the gateway keeps
reading it for the screen); the page takes the session over at the
gateway, with the same process on the other side. After the grace the
upstream exec is closed and the process in the cluster ends."""
import os
import re
import time

from podterm_client import ws_open
from resume_tools import FLOW, ack_all, drop, offer, open_shell, read_until, resume_path

from conftest import kubeconfig, UPSTREAM_TOKEN


def gone(pid, timeout):
    deadline = time.monotonic() + timeout
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.05)
    return not os.path.exists(f"/proc/{pid}")


def test_resume_through_the_gateway_keeps_the_upstream_exec(pki, upstream, podterm):
    kc = kubeconfig(pki, "resume.kubeconfig", upstream.url.rstrip("/"), ca=f"{pki}/ca.crt",
                    token=UPSTREAM_TOKEN)
    gw = podterm(["--kubeconfig", kc, "--session-grace", "3s"], name="gw-resume")
    ws, info, pid = open_shell(gw.port, token=None, container="shell")
    assert pid in upstream.children() or os.path.exists(f"/proc/{pid}")
    ws.send_channel(0, b"printf 'unsaved-words'")
    read_until(ws, lambda o, i: b"unsaved-words" in o)
    drop(ws)
    time.sleep(1)  # the page is away; the process in the "cluster" is not
    assert os.path.exists(f"/proc/{pid}"), "the upstream exec stays open during the grace"
    resp, ws2 = ws_open(gw.port, resume_path(info["id"]), offer(None, info["resume"]))
    assert resp.status == 101 and resp.header("Sec-WebSocket-Protocol") == FLOW, resp
    out, infos = read_until(ws2, lambda o, i: i and b"unsaved-words" in o, what="repaint")
    assert infos[0]["id"] == info["id"] and infos[0]["resume"] != info["resume"]
    ack_all(ws2, out)
    ws2.send_channel(0, b"\x15echo again PID=$$\n")
    out, _ = read_until(ws2, lambda o, i: re.search(rb"again PID=\d+", o))
    assert int(re.search(rb"again PID=(\d+)", out).group(1)) == pid

    # Gone again, for longer than the grace: the upstream exec is closed.
    t0 = time.monotonic()
    drop(ws2)
    assert gone(pid, 10), "the process in the cluster ends after the grace"
    assert 2.5 < time.monotonic() - t0 < 8
    resp, _ = ws_open(gw.port, resume_path(info["id"]), offer(None, infos[0]["resume"]))
    assert resp.status == 404, resp
