"""The self reviews' bodies, which the front door reads itself (front.c,
net_exchange.h): a Content-Length over 64 KiB is refused before any body is
read (413), a body that arrives after its head is read whole, a body of the
wrong type or shape gets the apiserver's 415 and 400 with their reason
phrases, and a client that leaves before its body is in is audited as 499
(never answered, never left holding the exchange)."""
import json
import socket
import time

from conftest import bearer, unique_agent

PATH = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
BODY = json.dumps({"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
                   "spec": {"resourceAttributes": {"namespace": "default", "verb": "create",
                                                   "resource": "pods",
                                                   "subresource": "exec"}}}).encode()
BODY_MAX = 64 * 1024


def head(port, length, content_type="application/json", user="alice", agent="review-body"):
    lines = [f"POST {PATH} HTTP/1.1", f"Host: 127.0.0.1:{port}",
             f"Content-Type: {content_type}", f"Content-Length: {length}",
             f"User-Agent: {agent}"]
    lines += [f"{k}: {v}" for k, v in bearer(user)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def exchange(port, parts, pause=0.0, timeout=20):
    """Send the parts (a pause before each after the first), read to EOF."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        for i, p in enumerate(parts):
            if i and pause:
                time.sleep(pause)
            s.sendall(p)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk
    finally:
        s.close()


def split(resp):
    h, _, body = resp.partition(b"\r\n\r\n")
    return h.split(b"\r\n")[0].decode(), body


def status(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


def test_content_length_over_64k_is_413_before_any_body(adm):
    line, body = split(exchange(adm.port, [head(adm.port, BODY_MAX + 1)]))
    assert line == "HTTP/1.1 413 Request Entity Too Large"
    assert json.loads(body) == status(
        413, "RequestEntityTooLarge",
        "the request body must have a Content-Length of at most 65536 bytes")


def test_body_after_its_head_is_read_whole(adm):
    line, body = split(exchange(adm.port, [head(adm.port, len(BODY)), BODY[:10], BODY[10:]],
                                pause=0.3))
    assert line == "HTTP/1.1 201 Created"
    got = json.loads(body)
    assert got["kind"] == "SelfSubjectAccessReview" and got["status"]["allowed"] is True, got


def test_wrong_media_type_is_415_and_a_bad_body_400(adm):
    line, body = split(exchange(adm.port, [head(adm.port, 2, "text/plain") + b"{}"]))
    assert line == "HTTP/1.1 415 Unsupported Media Type"
    st = json.loads(body)
    assert (st["code"], st["reason"]) == (415, "UnsupportedMediaType"), st
    line, body = split(exchange(adm.port, [head(adm.port, 3) + b"{x}"]))
    assert line == "HTTP/1.1 400 Bad Request"
    st = json.loads(body)
    assert (st["code"], st["reason"]) == (400, "BadRequest"), st


def test_client_leaving_mid_body_is_audited_499(adm):
    agent = unique_agent("review-left")
    s = socket.create_connection(("127.0.0.1", adm.port), timeout=20)
    s.sendall(head(adm.port, len(BODY), agent=agent) + BODY[:10])
    time.sleep(0.2)
    s.close()
    evs = adm.audit.request(agent)
    assert evs[-1]["stage"] == "ResponseComplete", evs
    assert evs[-1]["responseStatus"]["code"] == 499, evs[-1]


def test_overlong_content_type_keeps_its_media_type(adm):
    # Parameters past the front door's 255 bytes: the media type still decides.
    params = ";charset=utf-8" + ";x=" + "y" * 300
    line, body = split(exchange(adm.port, [head(adm.port, len(BODY), "text/plain" + params) + BODY]))
    assert line == "HTTP/1.1 415 Unsupported Media Type"
    assert json.loads(body)["reason"] == "UnsupportedMediaType"
    line, body = split(exchange(adm.port, [head(adm.port, len(BODY), "application/json" + params)
                                           + BODY]))
    assert line == "HTTP/1.1 201 Created"
    assert json.loads(body)["status"]["allowed"] is True


def test_content_length_that_is_not_a_number_is_refused(adm):
    line, body = split(exchange(adm.port, [head(adm.port, "12x") + BODY]))
    assert line == "HTTP/1.1 413 Request Entity Too Large", line
    assert json.loads(body)["reason"] == "RequestEntityTooLarge"
