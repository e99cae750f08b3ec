"""A small raw HTTP/1.1 + RFC 6455 client for exact-bytes assertions.

websocket-client hides what these tests must see (header lines of the 101, frame
boundaries, fragmentation, bytes after a Close), so the conformance tests speak
the protocol themselves. Every read has a deadline; nothing here retries.
"""
import base64
import hashlib
import hmac
import json
import os
import socket
import struct
import time
import urllib.parse

V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
V4_BASE64 = "v4.base64.channel.k8s.io"
CHANNEL = "channel.k8s.io"
BASE64 = "base64.channel.k8s.io"
TOKEN_PREFIX = "base64url.bearer.authorization.k8s.io."
BASE64_KINDS = (BASE64, V4_BASE64)

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
DEFAULT_TIMEOUT = 15.0

SUCCESS_STATUS = '{"metadata":{},"status":"Success"}'
NONZERO_PREFIX = "command terminated with non-zero exit code: "


# ---------------------------------------------------------------- URLs

def exec_path(command=(), ns="default", pod="local", container=None, stdin=False,
              stdout=True, stderr=False, tty=False, extra=(), verb="exec"):
    """A kubectl-like exec/attach path: only the true flags, as `=true`.
    extra: more (key, value) query items, sent as given."""
    q = [("command", c) for c in command]
    if container is not None:
        q.append(("container", container))
    for name, on in (("stdin", stdin), ("stdout", stdout), ("stderr", stderr), ("tty", tty)):
        if on:
            q.append((name, "true"))
    q += list(extra)
    base = (f"/api/v1/namespaces/{urllib.parse.quote(ns, safe='')}"
            f"/pods/{urllib.parse.quote(pod, safe='')}/{verb}")
    return base + ("?" + urllib.parse.urlencode(q) if q else "")


def token_item(token):
    """The bearer-token subprotocol item (base64url, no padding)."""
    enc = base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")
    return TOKEN_PREFIX + enc


# ---------------------------------------------------------------- HTTP

class Response:
    def __init__(self, status, reason, headers, body=b""):
        self.status, self.reason, self.headers, self.body = status, reason, headers, body

    def header(self, name):
        vals = self.header_all(name)
        return vals[0] if vals else None

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<HTTP {self.status} {self.reason} {self.headers} {self.body[:300]!r}>"


class Conn:
    """A socket with a receive buffer and deadline-bound reads."""

    def __init__(self, port, timeout=DEFAULT_TIMEOUT):
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.timeout = timeout

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("read deadline passed")
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(1 << 16)
        except socket.timeout:
            raise TimeoutError("read deadline passed") from None
        if not chunk:
            raise EOFError("connection closed by server")
        self.buf += chunk

    def read_exact(self, n, deadline):
        while len(self.buf) < n:
            self._fill(deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_until(self, sep, deadline, limit=1 << 20):
        while sep not in self.buf:
            if len(self.buf) > limit:
                raise ValueError("no separator within limit")
            self._fill(deadline)
        i = self.buf.index(sep) + len(sep)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def read_to_eof(self, deadline):
        """Everything until the peer closes (a reset counts as the end)."""
        try:
            while True:
                self._fill(deadline)
        except EOFError:
            pass
        except ConnectionResetError:
            pass
        out, self.buf = self.buf, b""
        return out

    def sendall(self, data):
        self.sock.sendall(data)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def build_request(method, path, headers=(), body=b"", host="127.0.0.1"):
    """host: the Host header's value unless headers has one (clients send the port)."""
    lines = [f"{method} {path} HTTP/1.1"]
    names = {k.lower() for k, _ in headers}
    if "host" not in names:
        lines.append(f"Host: {host}")
    lines += [f"{k}: {v}" for k, v in headers]
    if body and "content-length" not in names:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body


def read_response_head(conn, deadline):
    head = conn.read_until(b"\r\n\r\n", deadline).decode("latin-1")
    lines = head.split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise ValueError(f"bad status line {lines[0]!r}")
    headers = []
    for line in lines[1:]:
        if line:
            k, _, v = line.partition(":")
            headers.append((k.strip(), v.strip()))
    return Response(int(parts[1]), parts[2] if len(parts) > 2 else "", headers)


def read_response_body(conn, resp, deadline, method="GET"):
    if method == "HEAD" or resp.status in (101, 204, 304) or 100 <= resp.status < 200:
        return b""
    te = (resp.header("Transfer-Encoding") or "").lower()
    if "chunked" in te:
        body = b""
        while True:
            size = int(conn.read_until(b"\r\n", deadline).split(b";")[0].strip(), 16)
            if size == 0:
                conn.read_until(b"\r\n", deadline)  # no trailers expected
                return body
            body += conn.read_exact(size, deadline)
            conn.read_exact(2, deadline)
    cl = resp.header("Content-Length")
    if cl is not None:
        return conn.read_exact(int(cl), deadline)
    return conn.read_to_eof(deadline)


def http_request(port, method, path, headers=(), body=b"", timeout=DEFAULT_TIMEOUT):
    """One request on a fresh connection; returns the Response with its body."""
    conn = Conn(port, timeout)
    try:
        deadline = time.monotonic() + timeout
        conn.sendall(build_request(method, path, headers, body, f"127.0.0.1:{port}"))
        resp = read_response_head(conn, deadline)
        resp.body = read_response_body(conn, resp, deadline, method)
        return resp
    finally:
        conn.close()


def http_get_json(port, path, headers=(), timeout=DEFAULT_TIMEOUT):
    resp = http_request(port, "GET", path, headers, timeout=timeout)
    return resp, (json.loads(resp.body) if resp.body else None)


# ---------------------------------------------------------------- WebSocket

def ws_key():
    return base64.b64encode(os.urandom(16)).decode()


def ws_accept(key):
    return base64.b64encode(hashlib.sha1(key.encode() + WS_GUID).digest()).decode()


def upgrade_headers(protocols=None, extra=(), key=None, version="13", connection="Upgrade"):
    """protocols: None (no header), a str (one header line as given), or a list of
    header lines (one Sec-WebSocket-Protocol line each)."""
    h = [("Upgrade", "websocket"), ("Connection", connection),
         ("Sec-WebSocket-Key", key or ws_key()), ("Sec-WebSocket-Version", version)]
    if isinstance(protocols, str):
        h.append(("Sec-WebSocket-Protocol", protocols))
    elif protocols:
        h += [("Sec-WebSocket-Protocol", p) for p in protocols]
    return h + list(extra)


class Frame:
    def __init__(self, fin, rsv, opcode, payload):
        self.fin, self.rsv, self.opcode, self.payload = fin, rsv, opcode, payload

    def __repr__(self):
        return f"<Frame fin={self.fin} op={self.opcode} {self.payload[:80]!r}>"


class Transcript:
    """What a server sent over one WebSocket connection, in order."""

    def __init__(self, protocol):
        self.protocol = protocol
        self.messages = []  # (opcode, payload) of data messages, reassembled
        self.frames = []  # every frame as received
        self.pongs = []
        self.close_code = None  # None: no Close frame seen
        self.close_reason = b""
        self.close_payload = None
        self.after_close = b""  # bytes that arrived after the Close frame
        self.eof = False  # TCP closed by the server

    def channels(self):
        """[(channel, payload bytes)] decoded for the negotiated subprotocol."""
        out = []
        for op, payload in self.messages:
            if self.protocol in BASE64_KINDS:
                text = payload.decode("ascii")
                out.append((int(text[0]), base64.b64decode(text[1:], validate=True)))
            else:
                out.append((payload[0], payload[1:]))
        return out

    def data(self, channel):
        return b"".join(p for ch, p in self.channels() if ch == channel)

    def status(self):
        """Channel 3's payload (the status), as bytes; b"" when none."""
        return self.data(3)

    def __repr__(self):
        return (f"<Transcript {self.protocol!r} {len(self.messages)} messages "
                f"{self.channels()[:12]!r} close={self.close_code} eof={self.eof} "
                f"after_close={self.after_close[:40]!r}>")


class WebSocket:
    """A client WebSocket over a Conn (client frames are masked unless told)."""

    def __init__(self, conn, response):
        self.conn = conn
        self.response = response
        self.protocol = response.header("Sec-WebSocket-Protocol")

    # ---- sending ----

    def send_frame(self, opcode, payload=b"", fin=True, mask=True, rsv=0):
        self.conn.sendall(encode_frame(opcode, payload, fin, mask, rsv))

    def send_binary(self, payload):
        self.send_frame(OP_BINARY, payload)

    def send_text(self, payload):
        self.send_frame(OP_TEXT, payload.encode() if isinstance(payload, str) else payload)

    def send_channel(self, channel, data):
        """data on a channel, framed for the negotiated subprotocol."""
        if self.protocol in BASE64_KINDS:
            self.send_text(str(channel).encode() + base64.b64encode(data))
        else:
            self.send_binary(bytes([channel]) + data)

    def send_close(self, code=1000, reason=b""):
        payload = b"" if code is None else struct.pack("!H", code) + reason
        self.send_frame(OP_CLOSE, payload)

    def ping(self, payload):
        self.send_frame(OP_PING, payload)

    # ---- receiving ----

    def recv_frame(self, deadline):
        c = self.conn
        b0, b1 = c.read_exact(2, deadline)
        fin, rsv, opcode = bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0x0F
        masked, n = bool(b1 & 0x80), b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", c.read_exact(2, deadline))[0]
        elif n == 127:
            n = struct.unpack("!Q", c.read_exact(8, deadline))[0]
        if masked:
            raise AssertionError("server sent a masked frame (RFC 6455 5.1 forbids it)")
        return Frame(fin, rsv, opcode, c.read_exact(n, deadline))

    def recv_message(self, deadline, transcript=None):
        """The next data message (opcode, payload), reassembling fragments;
        control frames on the way are handled (ping -> pong, pong recorded);
        a Close frame returns (OP_CLOSE, payload)."""
        parts, first_op = [], None
        while True:
            f = self.recv_frame(deadline)
            if transcript is not None:
                transcript.frames.append(f)
            if f.opcode == OP_PING:
                self.send_frame(OP_PONG, f.payload)
                continue
            if f.opcode == OP_PONG:
                if transcript is not None:
                    transcript.pongs.append(f.payload)
                continue
            if f.opcode == OP_CLOSE:
                return OP_CLOSE, f.payload
            if first_op is None:
                if f.opcode == OP_CONT:
                    raise AssertionError("continuation frame without a start")
                first_op = f.opcode
            elif f.opcode != OP_CONT:
                raise AssertionError(f"new data frame (op {f.opcode}) inside a fragmented message")
            parts.append(f.payload)
            if f.fin:
                return first_op, b"".join(parts)

    def collect(self, timeout=DEFAULT_TIMEOUT, reply_close=True, until=None):
        """Reads until the server's Close frame (replying with Close 1000 unless
        told not to), then until TCP EOF; returns a Transcript. until: a
        predicate on the transcript that stops reading early (no close)."""
        t = Transcript(self.protocol)
        deadline = time.monotonic() + timeout
        try:
            while True:
                op, payload = self.recv_message(deadline, t)
                if op == OP_CLOSE:
                    t.close_payload = payload
                    t.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 0
                    t.close_reason = payload[2:]
                    break
                t.messages.append((op, payload))
                if until is not None and until(t):
                    return t
        except (EOFError, ConnectionResetError):
            t.eof = True
            return t
        if reply_close:
            try:
                self.send_close(1000)
            except OSError:
                pass
        try:
            t.after_close = self.conn.read_to_eof(deadline)
            t.eof = True
        except TimeoutError:
            t.after_close = self.conn.buf
        return t

    def wait_closed(self, timeout=5.0):
        """True when the server ends the connection (Close frame or EOF/reset)
        within timeout; data messages on the way are discarded."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                op, _ = self.recv_message(deadline)
                if op == OP_CLOSE:
                    return True
        except (EOFError, ConnectionResetError, BrokenPipeError):
            return True
        except TimeoutError:
            return False

    def close(self):
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def encode_frame(opcode, payload=b"", fin=True, mask=True, rsv=0):
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    n = len(payload)
    mbit = 0x80 if mask else 0
    if n < 126:
        head += bytes([mbit | n])
    elif n < 65536:
        head += bytes([mbit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([mbit | 127]) + struct.pack("!Q", n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + mask_bytes(payload, key)


def mask_bytes(payload, key):
    if not payload:
        return b""
    k = int.from_bytes((key * (len(payload) // 4 + 1))[:len(payload)], "big")
    return (int.from_bytes(payload, "big") ^ k).to_bytes(len(payload), "big")


def ws_open(port, path, protocols=None, headers=(), method="GET", key=None, version="13",
            connection="Upgrade", timeout=DEFAULT_TIMEOUT):
    """Sends an upgrade request. Returns (response, WebSocket or None): a
    WebSocket when the answer is 101 (its Sec-WebSocket-Accept checked), else
    None with the response body read."""
    key = key or ws_key()
    conn = Conn(port, timeout)
    deadline = time.monotonic() + timeout
    conn.sendall(build_request(method, path, upgrade_headers(protocols, headers, key, version,
                                                             connection), host=f"127.0.0.1:{port}"))
    resp = read_response_head(conn, deadline)
    if resp.status != 101:
        try:
            resp.body = read_response_body(conn, resp, deadline, method)
        finally:
            conn.close()
        return resp, None
    assert resp.header("Sec-WebSocket-Accept") == ws_accept(key), resp
    return resp, WebSocket(conn, resp)


def ws_exec(port, path, protocols=V5, headers=(), stdin_chunks=(), close_stdin=False,
            timeout=DEFAULT_TIMEOUT):
    """Opens path, sends stdin chunks (and the v5 close signal if asked), and
    collects everything to the end. Returns (response, transcript)."""
    resp, ws = ws_open(port, path, protocols, headers)
    assert ws is not None, f"expected 101, got {resp!r}"
    try:
        for chunk in stdin_chunks:
            ws.send_channel(0, chunk)
        if close_stdin:
            ws.send_binary(b"\xff\x00")
        return resp, ws.collect(timeout)
    finally:
        ws.close()


# ---------------------------------------------------------------- assertions

def json_pairs(data):
    """JSON parsed with objects as ordered [(key, value)] lists: equality then
    means same keys, same order, same values."""
    if isinstance(data, bytes):
        data = data.decode("utf-8")
    return json.loads(data, object_pairs_hook=list)


def assert_json_exact(got, expected):
    assert json_pairs(got) == json_pairs(expected), f"got {got!r}\nwant {expected!r}"


def status_json(code, reason, message, details=None):
    """The apiserver's HTTP error body (PROTOCOL.md 1.2), compact, in its key order."""
    d = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
         "message": message, "reason": reason}
    if details is not None:
        d["details"] = details
    d["code"] = code
    return json.dumps(d, separators=(",", ":"), ensure_ascii=False)


def assert_status_response(resp, code, reason, message, details=None):
    assert resp.status == code, resp
    ctype = resp.header("Content-Type") or ""
    assert ctype.split(";")[0].strip() == "application/json", resp
    assert_json_exact(resp.body, status_json(code, reason, message, details))


def assert_clean_end(t, data_opcode=None):
    """The end-of-stream rules of PROTOCOL.md 3.2, 3.4 and 3.9: every data
    message of the expected type, none fragmented, Close 1000 with no reason,
    nothing after it, TCP closed."""
    if data_opcode is None:
        data_opcode = OP_TEXT if t.protocol in BASE64_KINDS else OP_BINARY
    assert [op for op, _ in t.messages if op != data_opcode] == [], t
    assert all(f.fin for f in t.frames), f"server fragmented a message: {t.frames!r}"
    assert t.close_code == 1000, f"want Close 1000, got {t.close_code} {t.close_reason!r}: {t!r}"
    assert t.close_reason == b"", t
    assert t.after_close == b"", f"bytes after the Close frame: {t.after_close!r}"
    assert t.eof, "server did not close TCP after the Close handshake"


def nonzero_status(code):
    return {"metadata": {}, "status": "Failure", "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}


def assert_nonzero_status(raw, code):
    """§3.6's exit-code Status: exact except for the message's tail."""
    pairs = json_pairs(raw)
    keys = [k for k, _ in pairs]
    assert keys == ["metadata", "status", "message", "reason", "details"], raw
    st = json.loads(raw)
    assert st["message"].startswith(NONZERO_PREFIX), raw
    del st["message"]
    assert st == nonzero_status(code), raw


# ---------------------------------------------------------------- tokens

def _b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def mint_jwt(secret, sub="admin", alg="HS512", lifetime_s=3600, **claims):
    """An HMAC-signed JWT like the seed's (HS512, sub=admin, iat/nbf/exp)."""
    now = int(time.time())
    header = {"alg": alg, "typ": "JWT"}
    body = {"exp": now + lifetime_s, "iat": now, "nbf": now, "sub": sub, **claims}
    signing = (_b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
               _b64url(json.dumps(body, separators=(",", ":")).encode()))
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    sig = hmac.new(secret, signing.encode(), digest).digest()
    return signing + "." + _b64url(sig)
