"""The sessions API at its edges, with real requests: HEAD of a recording
(answered by lws from the whole file: 200 with the file's length, 413 past
the serving cap, 404 without one), paths with a trailing slash, an attach
recorded as such, a reader that resets the connection mid-stream, and a
server stopped while it streams a recording (it still exits cleanly)."""
import json
import os
import socket
import struct
import time

from podterm_client import assert_status_response, http_request
from podterm_server import CLUSTER_CONFIG

BASE = "/apis/podterm.dev/v1alpha1"
SESSIONS = f"{BASE}/sessions"
SID = "0a1b2c3d-1111-4222-8333-444455556666"
SID_ATTACH = "0a1b2c3d-2222-4222-8333-444455556666"
SERVE_MAX = 64 << 20


def header(sid, kind="exec"):
    h = {"version": 2, "width": 80, "height": 24, "timestamp": 1764490000,
         "command": "sh", "title": "default/local/shell", "env": {"TERM": "xterm-256color"},
         "podterm": {"id": sid, "user": "system:anonymous", "kind": kind,
                     "namespace": "default", "pod": "local", "container": "shell",
                     "command": ["sh"] if kind == "exec" else [], "tty": True,
                     "stdin": True}}
    return json.dumps(h) + "\n"


def write_cast(rec, sid, data, size=None):
    path = os.path.join(rec, f"{sid}.cast")
    with open(path, "wb") as f:
        f.write(data)
        if size is not None:
            f.truncate(size)  # sparse: no disk used
    os.chmod(path, 0o600)
    return path


def rec_server(podterm, tmp_path):
    rec = str(tmp_path / "rec")
    os.mkdir(rec)
    return rec, (lambda: podterm(["--recording-dir", rec], config=CLUSTER_CONFIG))


def test_head_of_a_recording(podterm, tmp_path):
    rec, start = rec_server(podterm, tmp_path)
    data = (header(SID) + '[0.5, "m", "exit 0: exit"]\n').encode()
    write_cast(rec, SID, data)
    srv = start()
    r = http_request(srv.port, "HEAD", f"{SESSIONS}/{SID}/recording")
    assert r.status == 200, r
    assert r.header("Content-Type") == "application/x-asciicast", r
    assert r.header("Content-Length") == str(len(data)), r
    assert r.header("Content-Disposition") == f'attachment; filename="{SID}.cast"', r
    r = http_request(srv.port, "HEAD", f"{SESSIONS}/0a1b2c3d-9999-4222-8333-444455556666/recording")
    assert r.status == 404, r


def test_head_of_a_recording_past_the_cap_is_413(podterm, tmp_path):
    """lws answers a HEAD from the whole file: past 64 MiB it is a 413 Status
    naming the bound, never a read of the file into memory."""
    rec, start = rec_server(podterm, tmp_path)
    write_cast(rec, SID, header(SID).encode(), SERVE_MAX + 1)
    srv = start()
    conn = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
    try:
        conn.sendall(f"HEAD {SESSIONS}/{SID}/recording HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Connection: close\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = conn.recv(4096)
            assert chunk, head
            head += chunk
    finally:
        conn.close()
    assert head.startswith(b"HTTP/1.1 413 "), head


def test_trailing_slashes(podterm, tmp_path):
    """.../sessions/{id}/ and .../sessions/{id}/recording/ are the same
    resources as without the slash."""
    rec, start = rec_server(podterm, tmp_path)
    data = (header(SID) + '[0.5, "m", "exit 2: exit"]\n').encode()
    write_cast(rec, SID, data)
    srv = start()
    r = http_request(srv.port, "GET", f"{SESSIONS}/{SID}/")
    assert r.status == 200, r
    assert r.json()["status"]["exitCode"] == 2, r
    r = http_request(srv.port, "GET", f"{SESSIONS}/{SID}/recording/")
    assert r.status == 200, r
    assert r.body == data


def test_attach_recording_is_listed_as_attach(podterm, tmp_path):
    rec, start = rec_server(podterm, tmp_path)
    write_cast(rec, SID_ATTACH, (header(SID_ATTACH, kind="attach") +
                                 '[0.5, "m", "exit 0: exit"]\n').encode())
    srv = start()
    r = http_request(srv.port, "GET", f"{SESSIONS}/{SID_ATTACH}")
    assert r.status == 200, r
    spec = r.json()["spec"]
    assert (spec["kind"], spec["command"]) == ("attach", []), spec


def test_reader_reset_mid_stream(podterm, tmp_path):
    """A reader that resets the connection while a large recording streams:
    the stream ends (the file closed) and the server serves on."""
    rec, start = rec_server(podterm, tmp_path)
    write_cast(rec, SID, header(SID).encode(), 32 << 20)
    srv = start()
    baseline = srv.fd_count()
    c = socket.create_connection(("127.0.0.1", srv.port))
    c.sendall(f"GET {SESSIONS}/{SID}/recording HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    got = 0
    while got < (1 << 20):
        chunk = c.recv(65536)
        assert chunk
        got += len(chunk)
    # RST instead of FIN: the server's next send fails with ECONNRESET or EPIPE
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
    deadline = time.monotonic() + 20
    while srv.fd_count() > baseline and time.monotonic() < deadline:
        time.sleep(0.1)
    assert srv.fd_count() <= baseline, srv.fds()
    r = http_request(srv.port, "GET", f"{SESSIONS}/{SID}")
    assert r.status == 200, r


def test_stop_while_streaming(podterm, tmp_path):
    """SIGTERM while a reader holds a recording stream open: the stream is
    cut and the server exits 0 within its stop bound (the fixture checks)."""
    rec, start = rec_server(podterm, tmp_path)
    write_cast(rec, SID, header(SID).encode(), 32 << 20)
    srv = start()
    c = socket.create_connection(("127.0.0.1", srv.port))
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        c.sendall(f"GET {SESSIONS}/{SID}/recording HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        assert c.recv(4096).startswith(b"HTTP/1.1 200 ")
        t0 = time.monotonic()
        problems = srv.stop()
        assert problems == [], problems
        assert time.monotonic() - t0 < 10
    finally:
        c.close()


def test_selector_refusals_are_400_statuses(cluster):
    for query, msg in [
        ("labelSelector=%20%3Dweb", 'unable to parse selector term " =web"'),
        ("labelSelector=a%2C!", "invalid label selector: empty key"),
        ("fieldSelector=status.podIP%3D1", "field label not supported: status.podIP"),
        ("labelSelector=" + ",".join(["a"] * 16) + "&fieldSelector=metadata.name%3Dx",
         "too many selector terms (limit 16)"),
    ]:
        r = http_request(cluster.port, "GET", f"/api/v1/namespaces/default/pods?{query}")
        assert_status_response(r, 400, "BadRequest", msg)


def test_refused_reviews_are_exact_statuses(server):
    """A review whose body is not JSON is a 400 and one of another media
    type a 415, each exactly its Status (the body was read past its buffer,
    ASan's heap-buffer-overflow, before api_review.c terminated it)."""
    path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
    r = http_request(server.port, "POST", path, [("Content-Type", "application/json")],
                     b"{not json")
    assert_status_response(r, 400, "BadRequest", "the body is not valid JSON (at byte 4)")
    r = http_request(server.port, "POST", path, [("Content-Type", "text/plain")], b"x")
    assert_status_response(r, 415, "UnsupportedMediaType",
                           'unsupported media type "text/plain": accepted media types include '
                           "application/json, application/vnd.kubernetes.protobuf")


def test_paths_near_the_sessions_api(server):
    """Paths that only start like the sessions API's are no resource."""
    nf = "the server could not find the requested resource"
    for path in ("/apis/podterm.devx", f"{BASE}x", f"{SESSIONS}/{SID}/recording/x",
                 f"{SESSIONS}/{SID}/recordingx"):
        assert_status_response(http_request(server.port, "GET", path), 404, "NotFound", nf)
