"""Channel framing, status, close sequence, stdin, resize and TTY rules
(PROTOCOL.md 3; checklist 5-18)."""
import base64
import json
import time

import pytest

from podterm_client import (BASE64, CHANNEL, OP_BINARY, OP_TEXT, SUCCESS_STATUS, V4, V4_BASE64,
                            V5, assert_clean_end, assert_json_exact, assert_nonzero_status,
                            exec_path, ws_exec, ws_open)

SH = "/bin/sh"


def first_and_empties(t):
    chans = t.channels()
    return chans[0], [c for c in chans[1:] if c[1] == b""]


# 5
@pytest.mark.parametrize("proto,flags,first", [
    (V5, dict(stdout=True, stderr=True), (OP_BINARY, b"\x01")),
    (V4, dict(stdout=True), (OP_BINARY, b"\x01")),
    (V4, dict(stdout=False, stderr=True), (OP_BINARY, b"\x02")),
    (V4, dict(stdout=False, stdin=True), (OP_BINARY, b"\x03")),
    (CHANNEL, dict(stdout=True, stderr=True), (OP_BINARY, b"\x01")),
    (BASE64, dict(stdout=True, stderr=True), (OP_TEXT, b"1")),
    (V4_BASE64, dict(stdout=False, stderr=True), (OP_TEXT, b"2")),
    (BASE64, dict(stdout=False, stdin=True), (OP_TEXT, b"3")),
])
def test_first_message_is_one_empty_frame(server, proto, flags, first):
    path = exec_path(["sh", "-c", "echo o; echo e >&2"], **flags)
    _, t = ws_exec(server.port, path, proto)
    assert t.messages[0] == first, t
    assert [m for m in t.messages[1:] if len(m[1]) <= 1] == [], f"more empty messages: {t!r}"
    assert_clean_end(t)


# 6
def test_base64_tty_shell_echo(server):
    resp, ws = ws_open(server.port, exec_path([SH], stdin=True, stderr=True, tty=True), BASE64)
    assert resp.header("Sec-WebSocket-Protocol") == BASE64
    ws.send_text("0" + base64.b64encode(b"echo hi-$((40+2))\n").decode())
    got = ws.collect(10, until=lambda t: b"hi-42" in t.data(1))
    assert b"hi-42" in got.data(1), got
    ws.send_text("0" + base64.b64encode(b"exit\n").decode())
    t = ws.collect(10)
    ws.close()
    assert all(op == OP_TEXT and p[:1] in b"0123456789" for op, p in got.messages + t.messages)
    assert t.status() == b"", t  # base64.channel.k8s.io: nothing on 3 on success
    assert_clean_end(t)


def test_base64_padding_is_standard(server):
    # "\n" -> "1Cg==" (PROTOCOL.md 3.3)
    _, t = ws_exec(server.port, exec_path(["echo"]), BASE64)
    assert t.messages == [(OP_TEXT, b"1"), (OP_TEXT, b"1Cg==")], t


# 7
@pytest.mark.parametrize("proto", [V4, V5, V4_BASE64])
def test_exit_code_status(server, proto):
    _, t = ws_exec(server.port, exec_path(["sh", "-c", "exit 3"]), proto)
    statuses = [p for ch, p in t.channels() if ch == 3]
    assert len(statuses) == 1, t
    assert_nonzero_status(statuses[0], 3)
    assert t.channels()[-1][0] == 3, "status is not the last message"
    assert_clean_end(t)


@pytest.mark.parametrize("code", [1, 42, 255])
def test_exit_code_range(server, code):
    _, t = ws_exec(server.port, exec_path(["sh", "-c", f"exit {code}"]), V5)
    assert_nonzero_status(t.status(), code)


def test_killed_by_signal_is_a_failure(server):
    # As the kubelet reports it (the CRI's 128 + signal number).
    _, t = ws_exec(server.port, exec_path(["sh", "-c", "kill -9 $$"]), V5)
    assert_json_exact(t.status(), json.dumps({
        "metadata": {}, "status": "Failure",
        "message": "command terminated with non-zero exit code: error executing command "
                   "[sh -c kill -9 $$], exit code 137",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": "137"}]}}))
    assert_clean_end(t)


# 8
@pytest.mark.parametrize("proto", [V4, V5, V4_BASE64])
def test_success_status(server, proto):
    _, t = ws_exec(server.port, exec_path(["true"]), proto)
    assert [ch for ch, _ in t.channels()] == [1, 3], t
    assert_json_exact(t.status(), SUCCESS_STATUS)
    assert_clean_end(t)


# 9
@pytest.mark.parametrize("proto", [CHANNEL, BASE64, None])
def test_pre_v4_status_is_text_on_failure_only(server, proto):
    _, ok = ws_exec(server.port, exec_path(["true"]), proto)
    assert ok.status() == b"", ok
    assert_clean_end(ok)
    _, bad = ws_exec(server.port, exec_path(["sh", "-c", "exit 3"]), proto)
    text = bad.status().decode()
    assert "exit code" in text and not text.lstrip().startswith("{"), bad
    assert_clean_end(bad)


def internal_error_status(message):
    """PROTOCOL.md 3.6's "other error" Status, in Go's key order."""
    return json.dumps({
        "metadata": {}, "status": "Failure", "message": "Internal error occurred: " + message,
        "reason": "InternalError", "details": {"causes": [{"message": message}]}, "code": 500})


@pytest.mark.parametrize("cmd,message", [
    ("/nonexistent/podterm-cmd",
     'exec: "/nonexistent/podterm-cmd": stat /nonexistent/podterm-cmd: no such file or directory'),
    ("podterm-no-such-cmd", 'exec: "podterm-no-such-cmd": executable file not found in $PATH'),
], ids=["path", "name"])
def test_command_not_found_is_a_failure_status(server, cmd, message):
    _, t = ws_exec(server.port, exec_path([cmd], stderr=True), V5)
    assert t.data(1) == b"" and t.data(2) == b"", t
    assert_json_exact(t.status(), internal_error_status(message))
    assert_clean_end(t)


# 10
def test_all_output_precedes_status_and_nothing_follows_close(server):
    n = 100000
    _, t = ws_exec(server.port, exec_path(["seq", str(n)], stderr=True), V5, timeout=60)
    want = "".join(f"{i}\n" for i in range(1, n + 1)).encode()
    assert t.data(1) == want
    chans = [ch for ch, _ in t.channels()]
    assert chans[-1] == 3 and chans.count(3) == 1, chans[-5:]
    assert_json_exact(t.status(), SUCCESS_STATUS)
    assert_clean_end(t)


def test_interleaved_stdout_stderr_bytes_complete(server):
    script = "i=0; while [ $i -lt 2000 ]; do echo out$i; echo err$i >&2; i=$((i+1)); done"
    _, t = ws_exec(server.port, exec_path(["sh", "-c", script], stderr=True), V4, timeout=60)
    assert t.data(1) == "".join(f"out{i}\n" for i in range(2000)).encode()
    assert t.data(2) == "".join(f"err{i}\n" for i in range(2000)).encode()
    assert_clean_end(t)


# 11
def test_v5_close_signal_ends_stdin(server):
    _, t = ws_exec(server.port, exec_path(["cat"], stdin=True), V5,
                   stdin_chunks=[b"abc\n"], close_stdin=True)
    assert t.data(1) == b"abc\n", t
    assert_json_exact(t.status(), SUCCESS_STATUS)
    assert_clean_end(t)


def test_v5_close_signal_with_binary_stdin(server):
    payload = bytes(range(256)) * 64
    _, t = ws_exec(server.port, exec_path(["cat"], stdin=True), V5,
                   stdin_chunks=[payload[:1000], payload[1000:]], close_stdin=True)
    assert t.data(1) == payload
    assert_json_exact(t.status(), SUCCESS_STATUS)


# 12
@pytest.mark.parametrize("signal_bytes", [b"\xff", b"\xff\x00\x00", b"\xff\x05"])
def test_v5_malformed_close_signal_drops_connection(server, signal_bytes):
    resp, ws = ws_open(server.port, exec_path(["cat"], stdin=True), V5)
    ws.send_binary(signal_bytes)
    assert ws.wait_closed(5), f"connection still open after {signal_bytes!r}"
    ws.close()


# 13
def test_v4_ignores_close_signal(server):
    resp, ws = ws_open(server.port, exec_path(["cat"], stdin=True), V4)
    ws.send_binary(b"\xff\x00")
    ws.send_binary(b"\x00abc\n")
    t = ws.collect(5, until=lambda t: t.data(1) == b"abc\n")
    assert t.data(1) == b"abc\n" and t.close_code is None, t
    ws.close()


# 14
@pytest.mark.parametrize("proto", [V5, V4])
def test_channel_byte_alone_is_not_eof(server, proto):
    resp, ws = ws_open(server.port, exec_path(["cat"], stdin=True), proto)
    ws.send_binary(b"\x00")
    ws.send_binary(b"")  # empty message: ignored too
    time.sleep(0.3)
    ws.send_binary(b"\x00still here\n")
    t = ws.collect(5, until=lambda t: t.data(1) == b"still here\n")
    assert t.data(1) == b"still here\n" and t.close_code is None and not t.eof, t
    ws.close()


def test_unknown_channels_are_dropped(server):
    resp, ws = ws_open(server.port, exec_path(["cat"], stdin=True), V5)
    for ch in (1, 2, 3, 5, 9, 200):
        ws.send_binary(bytes([ch]) + b"nope\n")
    ws.send_binary(b"\x00ok\n")
    ws.send_binary(b"\xff\x00")
    t = ws.collect(5)
    ws.close()
    assert t.data(1) == b"ok\n", t
    assert_json_exact(t.status(), SUCCESS_STATUS)


# 15
STTY_AFTER_LINE = ["sh", "-c", "read x; stty size"]


@pytest.mark.parametrize("resize_msgs", [
    [b'\x04{"Width":101,"Height":33}\n'],
    [b'\x04{"Width":101,', b'\x04"Height":33}\n'],
    [b'\x04{"width":50,"height":10}{"WIDTH":101,"HEIGHT":33}'],  # concatenated, any case
], ids=["one", "split", "concatenated"])
def test_resize_sets_tty_size(server, resize_msgs):
    resp, ws = ws_open(server.port, exec_path(STTY_AFTER_LINE, stdin=True, tty=True), V5)
    for m in resize_msgs:
        ws.send_binary(m)
    ws.send_binary(b"\x00\n")
    t = ws.collect(10)
    ws.close()
    assert b"33 101" in t.data(1), t
    assert_json_exact(t.status(), SUCCESS_STATUS)


def test_resize_base64(server):
    resp, ws = ws_open(server.port, exec_path(STTY_AFTER_LINE, stdin=True, tty=True), BASE64)
    ws.send_text("4" + base64.b64encode(b'{"Width":101,"Height":33}').decode())
    ws.send_text("0" + base64.b64encode(b"\n").decode())
    t = ws.collect(10)
    ws.close()
    assert b"33 101" in t.data(1), t


def test_resize_without_tty_is_harmless(server):
    resp, ws = ws_open(server.port, exec_path(["cat"], stdin=True), V5)
    ws.send_binary(b'\x04{"Width":101,"Height":33}\n')
    ws.send_binary(b"\x00x\n")
    ws.send_binary(b"\xff\x00")
    t = ws.collect(5)
    ws.close()
    assert t.data(1) == b"x\n", t
    assert_json_exact(t.status(), SUCCESS_STATUS)


# 16
def test_tty_stderr_arrives_on_stdout(server):
    path = exec_path(["sh", "-c", "echo e >&2"], stderr=True, tty=True)
    _, t = ws_exec(server.port, path, V5)
    assert t.data(1) == b"e\r\n", t
    assert [ch for ch, _ in t.channels() if ch == 2] == [], t
    assert_json_exact(t.status(), SUCCESS_STATUS)


def test_tty_is_a_terminal_and_pipes_are_not(server):
    _, tty = ws_exec(server.port, exec_path(["sh", "-c", "test -t 0 && test -t 1 && tty"],
                                            stdin=True, tty=True), V5)
    assert tty.data(1).startswith(b"/dev/pts/"), tty
    _, pipes = ws_exec(server.port, exec_path(["sh", "-c", "test -t 1 || echo notty"]), V5)
    assert pipes.data(1) == b"notty\n", pipes


# 17
def test_no_tty_separates_stdout_and_stderr(server):
    path = exec_path(["sh", "-c", "echo o; echo e >&2"], stderr=True)
    _, t = ws_exec(server.port, path, V5)
    assert (t.data(1), t.data(2)) == (b"o\n", b"e\n"), t


def test_unrequested_streams_are_not_sent(server):
    _, t = ws_exec(server.port, exec_path(["sh", "-c", "echo o; echo e >&2"], stderr=False), V5)
    assert (t.data(1), [ch for ch, _ in t.channels() if ch == 2]) == (b"o\n", []), t
    _, t = ws_exec(server.port, exec_path(["sh", "-c", "echo o; echo e >&2"], stdout=False,
                                          stderr=True), V5)
    assert (t.data(2), [ch for ch, _ in t.channels() if ch == 1]) == (b"e\n", []), t


# 18
def test_v4_text_frame_stdin(server):
    resp, ws = ws_open(server.port, exec_path(["cat"], stdin=True), V4)
    ws.send_text(b"\x00abc\n")
    t = ws.collect(5, until=lambda t: t.data(1) == b"abc\n")
    ws.close()
    assert t.data(1) == b"abc\n", t


def test_argv_is_not_run_through_a_shell(server):
    _, t = ws_exec(server.port, exec_path(["echo", "$HOME", "a;b", "*"]), V5)
    assert t.data(1) == b"$HOME a;b *\n", t


def test_default_container_runs_in_server_cwd(server):
    _, t = ws_exec(server.port, exec_path(["pwd"]), V5)
    assert t.data(1) == server.dir.encode() + b"\n", t


def test_resize_stops_after_a_parse_error(server):
    # channel 4 is one JSON stream; its first parse error ends resize handling
    resp, ws = ws_open(server.port, exec_path(STTY_AFTER_LINE, stdin=True, tty=True), V5)
    ws.send_binary(b'\x04{"Width":77,"Height":22}')
    ws.send_binary(b"\x04{not json")
    ws.send_binary(b'\x04{"Width":101,"Height":33}')
    ws.send_binary(b"\x00\n")
    t = ws.collect(10)
    ws.close()
    assert b"22 77" in t.data(1) and b"33 101" not in t.data(1), t


def test_empty_bool_value_is_true(server):
    path = exec_path(["sh", "-c", "test -t 1 && echo tty"], extra=[("tty", ""), ("stdin", "yes")])
    _, t = ws_exec(server.port, path, V5, close_stdin=True)
    assert t.data(1) == b"tty\r\n", t


def test_query_pair_with_semicolon_is_dropped_like_go(server):
    """The apiserver parses the query with Go's ParseQuery, which skips a whole
    '&' segment holding a ';' (Go >= 1.17); an escaped %3B is an ordinary
    character. So the command below is `echo kept a;b`."""
    path = ("/api/v1/namespaces/default/pods/local/exec?command=echo&command=kept"
            "&command=dropped;x&command=a%3Bb&stdout=true")
    _, t = ws_exec(server.port, path, V5)
    assert t.data(1) == b"kept a;b\n", t
    assert t.status() == SUCCESS_STATUS.encode(), t
