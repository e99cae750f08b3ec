"""Keepalive helpers shared by the interop and gateway suites: a client
loop that reads frames for a while (answering pings or not), and a TCP proxy
that cuts connections idle for too long, as real proxies do."""
import socket
import threading
import time

from podterm_client import OP_PING, OP_PONG


def frames_for(ws, seconds, answer=True):
    """Every frame for `seconds` (answering pings unless told not to); stops
    early at EOF. Returns (frames, eof)."""
    deadline = time.monotonic() + seconds
    frames = []
    try:
        while True:
            f = ws.recv_frame(deadline)
            frames.append(f)
            if f.opcode == OP_PING and answer:
                ws.send_frame(OP_PONG, f.payload)
    except TimeoutError:
        return frames, False
    except (EOFError, ConnectionResetError):
        return frames, True


class IdleCutProxy:
    """A TCP proxy on loopback that cuts a connection as soon as either
    direction has been silent for `idle` seconds: what nginx's
    proxy_read_timeout, an ELB's idle timeout or Cloudflare's 100 s do."""

    def __init__(self, target_port, idle):
        self.target, self.idle = target_port, idle
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(8)
        self.port = self.lsock.getsockname()[1]
        self.cuts = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        try:
            c, _ = self.lsock.accept()
        except OSError:
            return
        u = socket.create_connection(("127.0.0.1", self.target))
        last = {"up": time.monotonic(), "down": time.monotonic()}
        done = threading.Event()

        def pump(src, dst, key):
            src.settimeout(0.1)
            while not done.is_set():
                try:
                    data = src.recv(65536)
                except socket.timeout:
                    if min(last.values()) < time.monotonic() - self.idle:
                        self.cuts += 1
                        done.set()
                    continue
                except OSError:
                    break
                if not data:
                    break
                last[key] = time.monotonic()
                dst.sendall(data)
            done.set()
            for s in (c, u):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        threading.Thread(target=pump, args=(c, u, "up"), daemon=True).start()
        threading.Thread(target=pump, args=(u, c, "down"), daemon=True).start()

    def close(self):
        self.lsock.close()
