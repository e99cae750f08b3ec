"""Session recording (--recording-dir, issue 11): asciicast v2 files that
follow the contract exactly and replay in the real asciinema player.

- a scripted tty session through real `kubectl exec -it` in a tmux pane
  (colours, a password typed without echo, a resize, the alternate screen,
  exit 3): the file is 0600, its header is the contract's field by field,
  it has the "r" event, no "i" event, ends with `exit 3: exit`, and
  `asciinema play` in a pane of the same size ends on the same screen;
- --record-input records "i"; --recording-max-bytes cuts the file with the
  marker while the client still gets every byte; a file-size limit
  (RLIMIT_FSIZE) makes writes fail: without --recording-required the
  session goes on and the audit says the recording stopped, with it the
  session ends with a Status, the next one is refused (503) and /readyz
  says so; non-tty sessions only with --recording-all.
"""
import json
import os
import resource
import shlex
import stat
import subprocess
import threading
import time

import pytest

from kube_tools import Tmux, fresh_env, kbin
from podterm_client import V5, assert_status_response, exec_path, http_request, ws_exec, ws_open

KUBECTL = "1.33"
WIDTH, HEIGHT = 100, 30
WIDTH2, HEIGHT2 = 120, 35
REPLAY_TIMEOUT_S = 60


# ---------------------------------------------------------------- helpers

def start(podterm, tmp_path, *flags, audit=True, fsize=None):
    """A server recording into tmp_path/rec (and auditing into
    tmp_path/audit.log); fsize: RLIMIT_FSIZE of the server process."""
    rec = tmp_path / "rec"
    rec.mkdir(exist_ok=True)
    args = ["--recording-dir", str(rec), *flags]
    if audit:
        args += ["--audit-log-path", str(tmp_path / "audit.log")]
    if fsize is None:
        return podterm(args), rec
    real = subprocess.Popen

    def popen(*a, **kw):
        kw["preexec_fn"] = lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        return real(*a, **kw)

    subprocess.Popen = popen  # only while this server starts
    try:
        return podterm(args), rec
    finally:
        subprocess.Popen = real


def casts(rec):
    return sorted(p for p in rec.iterdir() if p.name.endswith(".cast"))


def wait_for(pred, what, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"{what} within {timeout} s")


def read_cast(path, complete=True):
    """(header as ordered pairs, events); complete: the last line ends with '\\n'."""
    data = path.read_bytes()
    text = data.decode("utf-8")  # strict: every byte is UTF-8
    if complete:
        assert text.endswith("\n"), text[-200:]
    lines = text.split("\n")[:-1]  # a cut last line (a failed write) is left out
    header = json.loads(lines[0], object_pairs_hook=list)
    events = [json.loads(line) for line in lines[1:]]
    for ev in events:
        assert len(ev) == 3 and isinstance(ev[0], float) and ev[1] in "oirm", ev
        assert isinstance(ev[2], str), ev
    times = [ev[0] for ev in events]
    assert times == sorted(times), times
    return header, events


def wait_recording_closed(path, last, timeout=20):
    """The file once its last line is `last` (the writer flushes after the end)."""
    def done():
        try:
            _, events = read_cast(path)
        except (AssertionError, ValueError, IndexError):
            return None
        return events if events and events[-1][1:] == ["m", last] else None
    return wait_for(done, f"{path.name} ending with {last!r}", timeout)


def audit_complete(tmp_path, audit_id, timeout=10):
    """The annotations of the ResponseComplete event of audit_id."""
    def find():
        try:
            with open(tmp_path / "audit.log") as f:
                for line in f:
                    ev = json.loads(line)
                    if ev.get("auditID") == audit_id and ev.get("stage") == "ResponseComplete":
                        return ev.get("annotations", {})
        except FileNotFoundError:
            pass
        return None
    return wait_for(find, f"ResponseComplete of {audit_id}", timeout)


def tty_exec(srv, script, stdin_chunks=(), timeout=30):
    path = exec_path(["sh", "-c", script], stdin=bool(stdin_chunks), tty=True)
    return ws_exec(srv.port, path, stdin_chunks=stdin_chunks, timeout=timeout)


def status_of(t):
    return json.loads(t.status())


def output_of(t):
    return t.data(1)


# ---------------------------------------------------------------- kubectl -it and replay

SCRIPT = r"""
printf '\033[1;31mred\033[0m \033[42;30mgreen\033[0m \033[38;5;208morange\033[0m\n'
printf 'password: '; stty -echo; read pw; stty echo; printf '\n'
printf 'READY-%s\n' "$(stty size)"
while [ ! -e "$1/go-resize" ]; do sleep 0.05; done
while [ "$(stty size)" = "{h1} {w1}" ]; do sleep 0.05; done
printf '\033[?1049h\033[2J\033[HALT-SCREEN \033[7minverse\033[0m\n'
sleep 0.2
printf '\033[?1049l'
printf '\033[2J\033[H\033[1mfinal screen\033[0m size %s\n' "$(stty size)"
i=1; while [ $i -le 5 ]; do printf '\033[3%dmrow %d\033[0m\n' $i $i; i=$((i+1)); done
printf '\033[%d;1H\033[44mbottom line\033[0m' "$(stty size | cut -d' ' -f1)"
printf '\033[10;20H'
touch "$1/drawn"
while [ ! -e "$1/go-exit" ]; do sleep 0.05; done
exit 3
""".replace("{h1}", str(HEIGHT)).replace("{w1}", str(WIDTH))


def capture(tm):
    """The pane's visible screen, plain and with attributes (-e)."""
    plain = tm.run("capture-pane", "-p", "-t", "t")
    attrs = tm.run("capture-pane", "-p", "-e", "-t", "t")
    return plain, attrs


def test_kubectl_tty_session_recorded_and_replays(podterm, tmp_path):
    srv, rec = start(podterm, tmp_path)
    sync = tmp_path / "sync"
    sync.mkdir()
    env = fresh_env(str(tmp_path), srv.port)
    script = tmp_path / "session script.sh"  # a space: the header's command quotes it
    script.write_text(SCRIPT)
    argv = ["sh", str(script), str(sync)]
    t0 = int(time.time())
    cmd = (f"{kbin(KUBECTL)} exec -it local -- {shlex.join(argv)}; "
           f"echo KUBECTL-EXIT=$?; sleep 600")
    tm = Tmux(str(tmp_path), env, cmd, width=WIDTH, height=HEIGHT)
    try:
        tm.wait_for("password:")
        tm.keys("typed-secret")
        tm.wait_for(f"READY-{HEIGHT} {WIDTH}")
        tm.run("resize-window", "-t", "t", "-x", str(WIDTH2), "-y", str(HEIGHT2))
        assert tm.size() == f"{HEIGHT2} {WIDTH2}"
        (sync / "go-resize").touch()
        wait_for(lambda: (sync / "drawn").exists(), "the final screen drawn")
        time.sleep(0.5)  # kubectl -> tmux: the last bytes reach the pane
        session_screen = capture(tm)
        assert "bottom line" in session_screen[0], session_screen[0]
        (sync / "go-exit").touch()
        tm.wait_for("KUBECTL-EXIT=3")
    finally:
        tm.kill()
    t1 = int(time.time())

    [path] = casts(rec)
    audit_id = path.name[:-len(".cast")]
    events = wait_recording_closed(path, "exit 3: exit")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    header, _ = read_cast(path)

    # the header, field by field, in the contract's order
    h = dict(header)
    assert [k for k, _ in header] == ["version", "width", "height", "timestamp", "command",
                                      "title", "env", "podterm"], header
    assert h["version"] == 2, header
    assert isinstance(h["timestamp"], int) and t0 <= h["timestamp"] <= t1, header
    assert h["command"] == shlex.join(argv), h["command"]
    assert h["title"] == "default/local/shell"
    assert h["env"] == [("TERM", "xterm-256color")]
    assert h["podterm"] == [("id", audit_id), ("user", "system:anonymous"), ("kind", "exec"),
                            ("namespace", "default"), ("pod", "local"), ("container", "shell"),
                            ("command", argv), ("tty", True), ("stdin", True)], h["podterm"]

    types = [ev[1] for ev in events]
    # the first size kubectl sends is the header's; output that wins the
    # race against it gets 80x24 (the contract), then that size as an "r"
    sizes = [f"{h['width']}x{h['height']}"] + [ev[2] for ev in events if ev[1] == "r"]
    if sizes[:2] == ["80x24", f"{WIDTH}x{HEIGHT}"]:
        sizes = sizes[1:]
    assert sizes == [f"{WIDTH}x{HEIGHT}", f"{WIDTH2}x{HEIGHT2}"], (header, events)
    assert "i" not in types, "input was recorded without --record-input"
    assert "typed-secret" not in path.read_text()
    assert types.count("m") == 1 and events[-1][1:] == ["m", "exit 3: exit"], events[-3:]
    out = "".join(ev[2] for ev in events if ev[1] == "o")
    assert "\x1b[1;31mred\x1b[0m" in out and "\x1b[?1049h" in out and "ALT-SCREEN" in out, out

    ann = audit_complete(tmp_path, audit_id)
    assert ann["podterm.dev/recording"] == path.name, ann

    # the real player, in a pane of the session's final size
    done = tmp_path / "replayed"
    play = f"asciinema play -s 100 {shlex.quote(str(path))}; touch {shlex.quote(str(done))}; sleep 600"
    player = Tmux(str(tmp_path), dict(os.environ), play, width=WIDTH2, height=HEIGHT2)
    try:
        wait_for(done.exists, "asciinema play to finish", REPLAY_TIMEOUT_S)
        replay_screen = capture(player)
    finally:
        player.kill()
    assert replay_screen[0] == session_screen[0], (
        f"plain screens differ\n--- session\n{session_screen[0]}\n--- replay\n{replay_screen[0]}")
    assert replay_screen[1] == session_screen[1], (
        f"screens' attributes differ\n--- session\n{session_screen[1]!r}\n"
        f"--- replay\n{replay_screen[1]!r}")


# ---------------------------------------------------------------- flags

def test_record_input_records_keystrokes(podterm, tmp_path):
    srv, rec = start(podterm, tmp_path, "--record-input")
    _, t = tty_exec(srv, "read x; echo got-$x", stdin_chunks=[b"abc\r"])
    assert status_of(t)["status"] == "Success", t
    [path] = casts(rec)
    events = wait_recording_closed(path, "exit 0: exit")
    assert "".join(ev[2] for ev in events if ev[1] == "i") == "abc\r", events
    assert "got-abc" in "".join(ev[2] for ev in events if ev[1] == "o")


def test_max_bytes_cuts_recording_not_session(podterm, tmp_path):
    srv, rec = start(podterm, tmp_path, "--recording-max-bytes", "4096")
    script = "i=0; while [ $i -lt 400 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done"
    _, t = tty_exec(srv, script)
    want = "".join(f"line-{i}-{'x' * 32}\r\n" for i in range(400)).encode()
    assert output_of(t) == want, "the client did not get every byte"
    assert status_of(t)["status"] == "Success"
    [path] = casts(rec)
    marker = "recording stopped: size limit of 4096 bytes reached"
    events = wait_recording_closed(path, marker)
    assert os.path.getsize(path) <= 4096
    assert [ev[2] for ev in events if ev[1] == "m"] == [marker], "an exit line after the cut"
    audit_id = path.name[:-len(".cast")]
    ann = audit_complete(tmp_path, audit_id)
    assert ann["podterm.dev/recording"] == "stopped: size limit of 4096 bytes reached", ann


FSIZE = 64 * 1024  # the server's RLIMIT_FSIZE: recordings pass it, the audit log does not
BIG = "i=0; while [ $i -lt 3000 ]; do echo big-$i-yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy; i=$((i+1)); done"
BIG_OUT = "".join(f"big-{i}-{'y' * 48}\r\n" for i in range(3000)).encode()
EFBIG_WHY = "cannot write the recording: file too large"


def test_write_failure_without_required_session_goes_on(podterm, tmp_path):
    srv, rec = start(podterm, tmp_path, fsize=FSIZE)
    _, t = tty_exec(srv, BIG)
    assert output_of(t) == BIG_OUT
    assert status_of(t)["status"] == "Success", t.status()
    [path] = casts(rec)
    assert os.path.getsize(path) <= FSIZE
    read_cast(path, complete=False)  # the lines before the failure parse
    ann = audit_complete(tmp_path, path.name[:-len(".cast")])
    assert ann["podterm.dev/recording"] == "stopped: " + EFBIG_WHY, ann
    assert ann["podterm.dev/end-reason"] == "exit", ann
    # not required: the next session is admitted (and recorded again)
    _, t = tty_exec(srv, "echo next")
    assert output_of(t) == b"next\r\n"
    assert len(casts(rec)) == 2


REFUSED = ("session recordings cannot be written and --recording-required is set: podterm "
           "starts no session it cannot record")


def test_write_failure_with_required_ends_session_and_refuses(podterm, tmp_path):
    srv, rec = start(podterm, tmp_path, "--recording-required", fsize=FSIZE)
    r = http_request(srv.port, "GET", "/readyz?verbose")
    assert r.status == 200 and b"[+]recording ok\n" in r.body, r.body
    started = time.monotonic()
    _, t = tty_exec(srv, BIG + "; sleep 30")
    assert time.monotonic() - started < 20, "the session was not ended by podterm"
    st = status_of(t)
    assert st["status"] == "Failure" and st["reason"] == "InternalError", st
    assert st["message"] == ("Internal error occurred: podterm: this session cannot be recorded (" + EFBIG_WHY +
                             ") and recording is required: the session ends"), st
    assert BIG_OUT.startswith(output_of(t))  # all of it or less: the disk fails meanwhile
    [path] = casts(rec)
    ann = audit_complete(tmp_path, path.name[:-len(".cast")])
    assert ann["podterm.dev/recording"] == "stopped: " + EFBIG_WHY, ann
    assert ann["podterm.dev/end-reason"] == "error", ann
    # the next recorded session is refused before the upgrade
    resp, ws = ws_open(srv.port, exec_path(["sh", "-c", "echo no"], tty=True), [V5])
    assert ws is None
    assert_status_response(resp, 503, "ServiceUnavailable", REFUSED)
    assert len(casts(rec)) == 1
    r = http_request(srv.port, "GET", "/readyz?verbose")
    assert r.status == 500 and b"[-]recording failed: reason withheld\n" in r.body, r.body
    # a non-tty session is not recorded, so not refused
    _, t = ws_exec(srv.port, exec_path(["echo", "plain"]))
    assert output_of(t) == b"plain\n"


def test_directory_gone(podterm, tmp_path):
    srv, rec = start(podterm, tmp_path)
    os.rmdir(rec)
    _, t = tty_exec(srv, "echo still-here")
    assert output_of(t) == b"still-here\r\n"

    def find():
        if not (tmp_path / "audit.log").exists():
            return None
        with open(tmp_path / "audit.log") as f:
            for line in f:
                ev = json.loads(line)
                if ev["stage"] == "ResponseComplete" and "podterm.dev/recording" in ev.get(
                        "annotations", {}):
                    return ev
        return None
    ev = wait_for(find, "the session's ResponseComplete")
    ev_id = ev["auditID"]
    assert ev["annotations"]["podterm.dev/recording"] == (
        f"stopped: cannot create {ev_id}.cast: No such file or directory"), ev


def test_directory_gone_required_refuses(podterm, tmp_path):
    srv, rec = start(podterm, tmp_path, "--recording-required")
    os.rmdir(rec)
    resp, ws = ws_open(srv.port, exec_path(["sh", "-c", "echo no"], tty=True), [V5])
    assert ws is None
    assert_status_response(resp, 503, "ServiceUnavailable", REFUSED)
    r = http_request(srv.port, "GET", "/readyz?verbose")
    assert r.status == 500 and b"[-]recording failed: reason withheld\n" in r.body, r.body


def test_directory_gone_required_refuses_spdy_too(podterm, tmp_path):
    """kubectl 1.28 (SPDY) gets the same refusal before its 101."""
    from kube_tools import fresh_env, kbin
    srv, rec = start(podterm, tmp_path, "--recording-required", "--recording-all")
    os.rmdir(rec)
    env = fresh_env(str(tmp_path), srv.port)
    r = subprocess.run([kbin("1.28"), "exec", "local", "--", "true"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1, r
    assert r.stderr.endswith(f"Error from server (ServiceUnavailable): {REFUSED}\n"), r.stderr


def test_non_tty_recorded_only_with_recording_all(podterm, tmp_path):
    srv, rec = start(podterm, tmp_path)
    _, t = ws_exec(srv.port, exec_path(["sh", "-c", "echo out; echo err >&2"], stderr=True))
    assert t.data(1) == b"out\n" and t.data(2) == b"err\n"
    assert casts(rec) == []
    srv.stop()

    srv, rec = start(podterm, tmp_path, "--recording-all")
    _, t = ws_exec(srv.port, exec_path(["sh", "-c", "echo out; sleep 0.2; echo err >&2"],
                                       stderr=True))
    [path] = casts(rec)
    events = wait_recording_closed(path, "exit 0: exit")
    header = dict(read_cast(path)[0])
    assert (header["width"], header["height"]) == (80, 24)  # no size came before output
    podterm_fields = dict(header["podterm"])
    assert podterm_fields["tty"] is False and podterm_fields["stdin"] is False
    assert [ev[1:] for ev in events] == [["o", "out\n"], ["o", "err\n"], ["m", "exit 0: exit"]]


def test_flags_need_recording_dir(podterm, tmp_path):
    from podterm_server import BIN
    for flag in (["--recording-all"], ["--record-input"], ["--recording-required"],
                 ["--recording-max-bytes", "100000"]):
        r = subprocess.run([BIN, "--listen", "127.0.0.1:0", *flag], capture_output=True,
                           text=True, timeout=20)
        assert r.returncode == 2, (flag, r.stderr)
        assert r.stderr == ("podterm: --recording-all, --record-input, --recording-max-bytes "
                            "and --recording-required need --recording-dir\n"), r.stderr
    r = subprocess.run([BIN, "--recording-dir", str(tmp_path), "--recording-max-bytes", "100"],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 2
    assert r.stderr == ("podterm: --recording-max-bytes wants a number of bytes from 4096, "
                        "got \"100\"\n"), r.stderr
    for bad in (str(tmp_path / "missing"), str(tmp_path / "a-file")):
        if bad.endswith("a-file"):
            (tmp_path / "a-file").write_text("")
        r = subprocess.run([BIN, "--listen", "127.0.0.1:0", "--recording-dir", bad],
                           capture_output=True, text=True, timeout=20)
        assert r.returncode == 2, r.stderr
        assert r.stderr == f"podterm: --recording-dir {bad}: not a folder podterm can write to\n"


@pytest.fixture
def slow_disk():
    """slow(pid, path): every write of that process (its threads too:
    libuv's pool does the recording's writes) to the file at path waits
    100 ms first, by strace's fault injection (-P: that file only).
    Stopped by PID at the end."""
    tracers = []

    def slow(pid, path):
        p = subprocess.Popen(["strace", "-f", "-qq", "-o", "/dev/null", "-p", str(pid),
                              "-P", str(path), "-e", "trace=write,writev,pwrite64,pwritev",
                              "-e", "inject=write,writev,pwrite64,pwritev:delay_enter=100000"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        tracers.append(p)
        wait_for(lambda: "TracerPid:\t0\n" not in open(f"/proc/{pid}/status").read(),
                 "strace attached")

    yield slow
    for p in tracers:
        p.terminate()
        p.wait(10)


BURST = 20_000_000


def burst_through_slow_disk(srv, rec, tmp_path, slow_disk):
    """A tty session writing BURST bytes at full speed once its recording's
    writes are slowed; returns (transcript, cast path)."""
    go = tmp_path / "go"
    result = {}

    def run():
        script = (f"while [ ! -e {go} ]; do sleep 0.05; done; "
                  f"head -c {BURST} /dev/zero | tr '\\0' x")
        result["t"] = tty_exec(srv, script, timeout=240)[1]

    th = threading.Thread(target=run)
    th.start()
    [path] = wait_for(lambda: casts(rec), "the recording's file")
    slow_disk(srv.pid, path)
    go.touch()
    th.join(300)
    assert "t" in result, "the session did not end"
    return result["t"], path


def test_required_recording_waits_for_a_slow_disk(podterm, tmp_path, slow_disk):
    """With --recording-required the terminal waits for the disk instead of
    the recording dropping lines: 20 MB at full speed through writes that
    each wait 100 ms; every byte is in the file, nothing stopped."""
    srv, rec = start(podterm, tmp_path, "--recording-required", audit=False)
    t, path = burst_through_slow_disk(srv, rec, tmp_path, slow_disk)
    assert status_of(t)["status"] == "Success", t.status()
    assert output_of(t) == b"x" * BURST
    events = wait_recording_closed(path, "exit 0: exit", timeout=120)
    out = "".join(ev[2] for ev in events if ev[1] == "o")
    assert len(out) == BURST and out == "x" * BURST


def test_slow_disk_without_required_stops_recording_not_session(podterm, tmp_path, slow_disk):
    """Without --recording-required the session never waits for the disk:
    the recording stops with its marker, the client gets every byte."""
    srv, rec = start(podterm, tmp_path, audit=False)
    t, path = burst_through_slow_disk(srv, rec, tmp_path, slow_disk)
    assert status_of(t)["status"] == "Success", t.status()
    assert output_of(t) == b"x" * BURST
    marker = "recording stopped: the disk fell behind the terminal (2 MiB waiting)"
    events = wait_recording_closed(path, marker, timeout=120)
    assert [ev[2] for ev in events if ev[1] == "m"] == [marker]


def test_write_failure_after_session_end_reaches_audit(podterm, tmp_path, slow_disk):
    """The last writes of a recording happen after its session ended; when
    they fail, the audit's ResponseComplete (which waits for the file) still
    says the recording stopped. Writes slowed so that the EFBIG surely
    comes after the process exited."""
    srv, rec = start(podterm, tmp_path, fsize=FSIZE)
    go = tmp_path / "go"
    result = {}

    def run():
        result["t"] = tty_exec(srv, f"while [ ! -e {go} ]; do sleep 0.05; done; {BIG}")[1]

    th = threading.Thread(target=run)
    th.start()
    [path] = wait_for(lambda: casts(rec), "the recording's file")
    slow_disk(srv.pid, path)
    go.touch()
    th.join(120)
    assert output_of(result["t"]) == BIG_OUT
    ann = audit_complete(tmp_path, path.name[:-len(".cast")], timeout=60)
    assert ann["podterm.dev/recording"] == "stopped: " + EFBIG_WHY, ann
    assert ann["podterm.dev/end-reason"] == "exit", ann
