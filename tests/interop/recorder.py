"""A recording TCP proxy on 127.0.0.1: clients talk to Recorder.port, bytes go
unchanged to podterm, and the head of every HTTP request is kept (method,
path, headers), so tests can assert what a real client sent (e.g. exactly one
GET upgrade and no SPDY POST). After an upgrade request the connection is
relayed without parsing."""
import socket
import threading


class Request:
    def __init__(self, method, path, headers):
        self.method, self.path, self.headers = method, path, headers

    def header(self, name):
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def is_exec(self):
        p = self.path.split("?")[0]
        return p.endswith("/exec") or p.endswith("/attach")

    def __repr__(self):
        return f"<{self.method} {self.path} upgrade={self.header('Upgrade')}>"


REFUSED_WEBSOCKET = (b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n"
                     b"Content-Length: 24\r\nConnection: close\r\n\r\nwebsockets refused here\n")


class Recorder:
    """refuse_websocket: answer WebSocket upgrades 400 (recorded, never
    forwarded), as a proxy that cannot pass them would: kubectl 1.30+ then
    falls back to SPDY."""

    def __init__(self, target_port, refuse_websocket=False):
        self.refuse_websocket = refuse_websocket
        self.target_port = target_port
        self.requests = []
        self._lock = threading.Lock()
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._conns = []
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def exec_requests(self):
        with self._lock:
            return [r for r in self.requests if r.is_exec()]

    def clear(self):
        with self._lock:
            self.requests.clear()

    def close(self):
        self._closed = True
        self._listener.close()
        for s in list(self._conns):
            try:
                s.close()
            except OSError:
                pass

    def _accept(self):
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            self._conns += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _refused(self, src, dst):
        """refuse_websocket: the first head read before anything is
        forwarded; a WebSocket upgrade is answered here. True: refused."""
        head = b""
        while b"\r\n\r\n" not in head:
            data = src.recv(65536)
            if not data:
                return True
            head += data
        req = self._record(head.split(b"\r\n\r\n", 1)[0])
        if (req.header("Upgrade") or "").lower() == "websocket":
            src.sendall(REFUSED_WEBSOCKET)
            src.shutdown(socket.SHUT_WR)
            dst.close()
            return True
        dst.sendall(head)
        return False

    def _pump(self, src, dst, parse):
        pending, body_left, raw = b"", 0, not parse
        try:
            if parse and self.refuse_websocket:
                if self._refused(src, dst):
                    return
                raw = True  # the SPDY upgrade (or a plain request) follows unparsed
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
                if raw:
                    continue
                pending += data
                while not raw:
                    if body_left:
                        n = min(body_left, len(pending))
                        pending, body_left = pending[n:], body_left - n
                        if body_left:
                            break
                    if b"\r\n\r\n" not in pending:
                        break
                    head, pending = pending.split(b"\r\n\r\n", 1)
                    req = self._record(head)
                    body_left = int(req.header("Content-Length") or 0)
                    raw = req.header("Upgrade") is not None
        except OSError:
            pass
        finally:
            try:
                dst.shutdown(socket.SHUT_WR)  # pass the half-close on
            except OSError:
                pass

    def _record(self, head):
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        headers = []
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers.append((k.strip(), v.strip()))
        req = Request(parts[0], parts[1] if len(parts) > 1 else "", headers)
        with self._lock:
            self.requests.append(req)
        return req
