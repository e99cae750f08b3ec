"""A small SPDY/3.1 client for tests that need to say what no kubectl says
(the hostile-peer suite): frames built by hand, header blocks compressed
with Python's zlib and the SPDY/3 dictionary (read from src/spdy/spdy_dict.c,
the one copy of it), and a reader that decodes what the server sends."""
import os
import re
import struct
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
DICT_SRC = os.path.join(HERE, "..", "..", "src", "spdy", "spdy_dict.c")

SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE = \
    1, 2, 3, 4, 6, 7, 8, 9
FLAG_FIN = 0x01
RST_PROTOCOL_ERROR, RST_REFUSED_STREAM, RST_FLOW_CONTROL_ERROR, RST_STREAM_IN_USE = 1, 3, 7, 8
GOAWAY_OK, GOAWAY_PROTOCOL_ERROR = 0, 1


def spdy_dict():
    with open(DICT_SRC) as f:
        body = f.read().split("{", 1)[1].split("}", 1)[0]
    data = bytes(int(x, 16) for x in re.findall(r"0x([0-9a-fA-F]{2})", body))
    assert len(data) == 1423, len(data)
    return data


DICT = spdy_dict()


def control(ftype, flags, payload):
    return struct.pack(">HHI", 0x8003, ftype, (flags << 24) | len(payload)) + payload


def data_frame(stream_id, payload, fin=False):
    return struct.pack(">II", stream_id, ((FLAG_FIN if fin else 0) << 24) | len(payload)) + payload


def header_block(pairs):
    out = struct.pack(">I", len(pairs))
    for k, v in pairs:
        k, v = k.encode(), v.encode()
        out += struct.pack(">I", len(k)) + k + struct.pack(">I", len(v)) + v
    return out


class Deflater:
    """One compression context per connection, as SPDY wants."""

    def __init__(self):
        self.z = zlib.compressobj(zdict=DICT)

    def block(self, pairs=None, raw=None):
        return self.z.compress(raw if raw is not None else header_block(pairs)) + \
            self.z.flush(zlib.Z_SYNC_FLUSH)


def syn_stream(deflater, stream_id, stream_type=None, block=None, flags=0):
    blk = block if block is not None else deflater.block([("streamtype", stream_type)])
    return control(SYN_STREAM, flags, struct.pack(">IIBB", stream_id, 0, 0, 0) + blk)


def window_update(stream_id, delta):
    return control(WINDOW_UPDATE, 0, struct.pack(">II", stream_id, delta))


def upgrade_request(port, path, offers=("v4.channel.k8s.io",)):
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: Upgrade",
             "Upgrade: SPDY/3.1"] + [f"X-Stream-Protocol-Version: {v}" for v in offers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class Reader:
    """Frames the server sent: (type, flags, stream_id or None, payload), with
    SYN_REPLY header blocks inflated; data by stream; GOAWAY and RST seen."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.z = zlib.decompressobj(zdict=DICT)
        self.data = {}
        self.fin = set()
        self.rst = {}
        self.goaway = None
        self.replies = []
        self.pings = []  # ids of the server's PINGs (never answered here)
        self.eof = False

    def _frames(self):
        while len(self.buf) >= 8:
            first, second = struct.unpack(">II", self.buf[:8])
            n = second & 0xFFFFFF
            if len(self.buf) < 8 + n:
                return
            payload, self.buf = self.buf[8:8 + n], self.buf[8 + n:]
            flags = second >> 24
            if first & 0x80000000:
                ftype = first & 0xFFFF
                if ftype == SYN_REPLY:
                    sid = struct.unpack(">I", payload[:4])[0] & 0x7FFFFFFF
                    self.z.decompress(payload[4:])
                    self.replies.append(sid)
                    if flags & FLAG_FIN:
                        self.fin.add(sid)
                elif ftype == RST_STREAM:
                    sid, status = struct.unpack(">II", payload[:8])
                    self.rst[sid & 0x7FFFFFFF] = status
                elif ftype == GOAWAY:
                    self.goaway = struct.unpack(">II", payload[:8])
                elif ftype == PING:
                    self.pings.append(struct.unpack(">I", payload[:4])[0])
            else:
                self.data[first] = self.data.get(first, b"") + payload
                if flags & FLAG_FIN:
                    self.fin.add(first)

    def pump(self, timeout, until=lambda r: False):
        """Read until until(self), EOF or the timeout; returns until's value."""
        deadline = time.monotonic() + timeout
        # Frames already buffered first: a loaded machine can hand the whole
        # answer over in the read that took the 101's head (a test then saw
        # nothing but the server's close, and failed with every frame in buf).
        self._frames()
        while not until(self) and not self.eof and time.monotonic() < deadline:
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                break
            except OSError:
                self.eof = True
                break
            if not chunk:
                self.eof = True
                break
            self.buf += chunk
            self._frames()
        return until(self)
