#!/usr/bin/env python3
"""Allocation-failure sweep: runs podterm-faults (tests/faults/fault_alloc.c) once per
N, failing its N-th allocation, through a scripted session, and checks that every
injected failure ends cleanly.

Two modes, each with its own count and sample: local (--config and --token-auth-file)
and gateway (podterm-faults with --kubeconfig and --pass-through-token in front of an
upstream podterm in local mode). The session: REST list and get, a REST 404, an exec
with stdin, stdout, stderr and an exit status, a TTY exec with a resize, an attach to
a main process. One pass of it is "tolerant": each step must either succeed (REST:
byte for byte what the clean run got) or be refused cleanly (an HTTP error with a
metav1.Status body, or a stream ending with a Failure Status and Close 1000). Once
the failure has been injected, the next pass is strict: every step must succeed
(the server recovered). Then SIGTERM: exit 0 within 5 s, no sanitizer report (LSan
checks leaks at exit). A start-up failure must be a refusal: exit 1 with a
"podterm: " message, no report. Every read has a deadline, so a hang or a stalled
session is a failure, not a hang. Findings in files other branches are changing
are listed in KNOWN (printed, tolerated) until fixed there.

N is swept over 1..T, T the allocations a clean run counts; when T is larger than
the budget (FAULT_SWEEP_MODES, default local:48,gateway:20) the N are evenly spaced
from 1 to T, the first FAULT_SWEEP_HEAD (default 16, at most a third of the runs) always included (start-up is
where most sites are), shifted by FAULT_SWEEP_OFFSET (default 0). The chosen N are
printed, so a run can be repeated with FAULT_SWEEP_MODES=local FAULT_SWEEP_N=17,42.

Usage: PODTERM_FAULTS_BIN=build-asan/podterm-faults tests/faults/alloc_sweep.py
Exit status 0 when every run was clean.
"""
import concurrent.futures
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "interop"))

from podterm_client import (OP_CLOSE, V5, exec_path, http_request,  # noqa: E402
                            token_item, ws_open)
from podterm_server import (CLUSTER_CONFIG, OUT_DIR, SANITIZER_MARKERS, Podterm,  # noqa: E402
                            sanitizer_env)

BIN = os.environ.get("PODTERM_FAULTS_BIN", os.path.join(ROOT, "build-asan", "podterm-faults"))
TOKEN = "fault-sweep-token-4711"
TOKENS_CSV = f'{TOKEN},alice,1001,"devs,ops"\n'
AUTH = [("Authorization", f"Bearer {TOKEN}")]
START_TIMEOUT_S = 20
STEP_TIMEOUT_S = 10
STOP_TIMEOUT_S = 5
SERVING_RE = re.compile(r"podterm: serving http://127\.0\.0\.1:(\d+)/")
INJECTED_RE = re.compile(r"fault: failing allocation #(\d+) \((\w+) of (\d+) bytes\)")
COUNTED_RE = re.compile(r"fault: (\d+) allocations counted")
STACK_LINES = 12
TIMESTAMP_RE = re.compile(rb'"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ"')
REST_PATHS = ("/api/v1/namespaces/default/pods", "/api/v1/namespaces/team-a/pods/web",
              "/api/v1/namespaces/default/pods/nope", "/api/v1/namespaces")
CLEAN_ANSWERS = {}  # path -> (status, normalized body) of the clean run
GATEWAY_KUBECONFIG = None  # gateway mode: podterm-faults proxies an upstream podterm


class Unclean(Exception):
    """A step ended in a way no client should see."""


class Dropped(Unclean):
    """The connection ended without an answer (EOF or reset)."""


# Functions (innermost frame of podterm's code in the failed allocation's stack)
# where closing a new connection unanswered is the designed answer: the listener's
# per-connection state could not be allocated, which it treats like its
# pending-connection cap (accept and drop; the client retries).
DROP_SITES = ("listener_pending_start",)
# Findings of this sweep in files being changed elsewhere, reported rather than
# fixed here: function -> (what is wrong, whether a sanitizer report is part of
# it). Tolerated and printed while that function is where the allocation failed;
# the fix deletes its line, so the sweep then guards it.
KNOWN = {
    # jansson reports some allocation failures as syntax errors, so the decoder
    # takes them for a malformed object and ends resize handling for the session
    "resize_parse": ("proto_decoder.c: out of memory in a resize ends resizing", False),
}
SRC_FRAME_RE = re.compile(r"#\d+ 0x[0-9a-f]+ in (\w+) \S*/src/")


# ---------------------------------------------------------------- checks

def is_status(body, code):
    try:
        st = json.loads(body)
    except ValueError:
        return False
    return (isinstance(st, dict) and st.get("kind") == "Status" and
            st.get("status") == "Failure" and st.get("code") == code)


def refused_cleanly(resp):
    """An HTTP refusal a client can act on: 4xx/5xx with a Status body."""
    return resp.status >= 400 and is_status(resp.body, resp.status)


def stream_failed_cleanly(t):
    """A stream that ended with a Failure Status on channel 3, then Close 1000."""
    try:
        st = json.loads(t.status())
    except ValueError:
        return False
    return st.get("status") == "Failure" and t.close_code == 1000 and t.eof


def normalized(body):
    """A REST body with its start-time timestamps blanked (they differ per run)."""
    return TIMESTAMP_RE.sub(b'"T"', body)


def rest(port, path, strict):
    """GET path: the answer a clean run gave, byte for byte (a 200 missing a field
    because an allocation failed must not pass), or a clean refusal."""
    try:
        resp = http_request(port, "GET", path, AUTH, timeout=STEP_TIMEOUT_S)
    except (OSError, EOFError) as e:
        raise Dropped(f"GET {path}: {type(e).__name__} {e}")
    want = CLEAN_ANSWERS.get(path)
    if want is None:  # the clean run itself: record
        CLEAN_ANSWERS[path] = (resp.status, normalized(resp.body))
        return
    if (resp.status, normalized(resp.body)) == want:
        return
    if not strict and refused_cleanly(resp) and resp.status != want[0]:
        return
    raise Unclean(f"GET {path}: {resp!r}")


def ws_step(name, port, path, strict, talk, check, protocols=V5, headers=AUTH):
    """Opens path, runs talk(ws) (which returns a transcript), checks it."""
    try:
        resp, ws = ws_open(port, path, protocols, headers, timeout=STEP_TIMEOUT_S)
    except (OSError, EOFError) as e:
        raise Dropped(f"{name}: upgrade: {type(e).__name__} {e}")
    if ws is None:
        if not strict and refused_cleanly(resp):
            return
        raise Unclean(f"{name}: upgrade answered {resp!r}")
    try:
        t = talk(ws)
    except (OSError, EOFError) as e:
        raise Unclean(f"{name}: {type(e).__name__} {e}")
    finally:
        ws.close()
    if check(t):
        return
    if not strict and stream_failed_cleanly(t):
        return
    raise Unclean(f"{name}: {t!r}")


def exec_stdin(ws):
    ws.send_channel(0, b"hello\n")
    ws.send_binary(b"\xff\x00")  # v5: close stdin
    return ws.collect(STEP_TIMEOUT_S)


def exec_stdin_ok(t):
    try:
        st = json.loads(t.status())
    except ValueError:
        return False
    return (t.data(1) == b"hello\n" and t.data(2) == b"err\n" and t.close_code == 1000 and
            st.get("reason") == "NonZeroExitCode" and
            st["details"]["causes"][0]["message"] == "3")


def exec_resize(ws):
    ws.send_binary(b'\x04{"Width":101,"Height":33}\n')
    ws.send_binary(b"\x00\n")
    return ws.collect(STEP_TIMEOUT_S)


def exec_resize_ok(t):
    return b"33 101" in t.data(1) and t.status() == b'{"metadata":{},"status":"Success"}'


def attach(ws):
    ws.send_binary(b"\x00echo attached-$((2+3))\n")
    # Stop early only on success (the main process keeps running): a failure
    # Status must be read on to its Close 1000 and TCP close, which
    # stream_failed_cleanly checks.
    t = ws.collect(STEP_TIMEOUT_S, until=lambda t: b"attached-5" in t.data(1))
    return t


def attach_ok(t):
    return b"attached-5" in t.data(1)


def session(port, strict):
    """One pass of the scripted session; raises Unclean."""
    for path in REST_PATHS:
        rest(port, path, strict)
    ws_step("exec", port,
            exec_path(["sh", "-c", "cat; echo err >&2; exit 3"], stdin=True, stderr=True),
            strict, exec_stdin, exec_stdin_ok)
    # the token as a subprotocol item instead of a header
    ws_step("exec-tty-resize", port,
            exec_path(["sh", "-c", "read x; stty size"], stdin=True, tty=True), strict,
            exec_resize, exec_resize_ok, protocols=[V5, token_item(TOKEN)], headers=())
    ws_step("attach", port,
            exec_path(ns="team-a", pod="web", container="app", verb="attach", stdin=True,
                      tty=True), strict, attach, attach_ok)


# ---------------------------------------------------------------- one run

class Run:
    def __init__(self, n, log_counts=False):
        self.n = n
        self.dir = tempfile.mkdtemp(prefix="podterm-faults-")
        cfg = os.path.join(self.dir, "pods.yaml")
        with open(cfg, "w") as f:
            f.write(CLUSTER_CONFIG)
        with open(os.path.join(self.dir, "tokens.csv"), "w") as f:
            f.write(TOKENS_CSV)
        os.makedirs(OUT_DIR, exist_ok=True)
        mode = "gateway" if GATEWAY_KUBECONFIG else "local"
        self.log_path = os.path.join(OUT_DIR, f"faults-alloc-{mode}-{n}.log")
        self.log = open(self.log_path, "wb")
        env = sanitizer_env()
        env["PODTERM_FAULT_ALLOC_AT"] = str(n)
        if log_counts:
            env["PODTERM_FAULT_ALLOC_LOG"] = "1"
        if GATEWAY_KUBECONFIG:  # the client's token goes through to the upstream
            mode = ["--kubeconfig", GATEWAY_KUBECONFIG, "--pass-through-token"]
        else:
            mode = ["--config", cfg, "--token-auth-file", os.path.join(self.dir, "tokens.csv")]
        self.proc = subprocess.Popen(
            # no drain grace: a session a failed allocation left open would
            # otherwise hold SIGTERM for the default 25 s
            [BIN, "--listen", "127.0.0.1:0", "--shutdown-grace", "0"] + mode,
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log, cwd=self.dir, env=env)

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_serving(self):
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            m = SERVING_RE.search(self.output())
            if m:
                return int(m.group(1))
            if self.proc.poll() is not None:
                return None
            time.sleep(0.02)
        raise Unclean(f"neither serving nor exited within {START_TIMEOUT_S} s")

    def stop(self):
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
                    return f"did not exit within {STOP_TIMEOUT_S} s of SIGTERM"
            return None
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def injected(self):
        return INJECTED_RE.search(self.output())

    def site(self):
        """The injected allocation's description and the top of its stack."""
        out = self.output()
        m = INJECTED_RE.search(out)
        if not m:
            return "(no allocation was failed)"
        stack = [ln.strip() for ln in out[m.end():].splitlines() if ln.strip().startswith("#")]
        stack = [s for s in stack if "fault_alloc.c" not in s][:STACK_LINES]
        return m.group(0) + "\n      " + "\n      ".join(stack)

    def function(self):
        """The innermost function of podterm's own code where the allocation failed."""
        m = SRC_FRAME_RE.search(self.site())
        return m.group(1) if m else None


def run_one(n):
    """Returns (n, problem or None, detail)."""
    r = Run(n)
    problem = port = None
    unrecovered = False  # the pass after the failure failed too: never tolerated
    try:
        port = r.wait_serving()
        if port is None:
            r.proc.wait()
            out = r.output()
            if r.proc.returncode != 1 or not re.search(r"^podterm: \S", out, re.M):
                problem = f"start-up failure is not a clean refusal (exit {r.proc.returncode})"
        else:
            for _ in range(2):
                was_injected = bool(r.injected())
                session(port, strict=was_injected)
                if was_injected:
                    break
    except Unclean as e:
        known = r.function() in KNOWN
        designed = isinstance(e, Dropped) and r.function() in DROP_SITES
        if port and (known or designed):
            try:  # the next pass must then be clean (a known failure is printed below)
                session(port, strict=True)
            except Unclean as e2:
                problem = f"not recovered after {e}: {e2}"
                unrecovered = True
            if known and not problem:
                problem = str(e)  # reported as known below, after the checks at exit
        else:
            problem = str(e)
    except Exception as e:  # a bug in the client script is reported, not hidden
        problem = f"{type(e).__name__}: {e}"
    stop_problem = r.stop()
    problem = problem or stop_problem
    rc = r.proc.returncode
    if problem is None and rc != 0 and port_was_served(r):
        problem = f"exit status {rc} after SIGTERM"
    reports = [m for m in SANITIZER_MARKERS if m in r.output()]
    if reports:
        problem = (problem + "; " if problem else "") + "sanitizer: " + ", ".join(reports)
    why, with_report = KNOWN.get(r.function(), (None, False))
    if problem and why and not unrecovered and (with_report or not reports):
        print(f"N={n}: known, reported: {why} ({problem})", flush=True)
        problem = None
    r.log.close()
    return n, problem, r


def port_was_served(r):
    return bool(SERVING_RE.search(r.output()))


def count_allocations():
    """Allocations a clean run counts over one pass and shutdown."""
    r = Run(0, log_counts=True)
    port = r.wait_serving()
    if port is None:
        sys.exit(f"podterm-faults did not start:\n{r.output()}")
    session(port, strict=True)
    r.stop()
    r.log.close()
    m = COUNTED_RE.search(r.output())
    if r.proc.returncode != 0 or not m:
        sys.exit(f"clean run failed (exit {r.proc.returncode}):\n{r.output()[-3000:]}")
    return int(m.group(1))


def choose(total, runs, head, offset):
    if total <= runs:
        return list(range(1, total + 1))
    picks = set(range(1, head + 1))
    rest = runs - head
    for i in range(rest):
        picks.add(min(total, head + 1 + offset + (i * (total - head - 1)) // max(1, rest - 1)))
    return sorted(picks)


def sweep(mode, runs):
    """One sweep in mode ("local" or "gateway"); returns the failing N."""
    global GATEWAY_KUBECONFIG
    t0 = time.monotonic()
    CLEAN_ANSWERS.clear()
    upstream = None
    if mode == "gateway":
        upstream = Podterm(["--token-auth-file", "{dir}/tokens.csv"], config=CLUSTER_CONFIG,
                           files={"tokens.csv": TOKENS_CSV}, name="faults-upstream")
        GATEWAY_KUBECONFIG = os.path.join(upstream.dir, "kubeconfig")
        with open(GATEWAY_KUBECONFIG, "w") as f:
            f.write("apiVersion: v1\nkind: Config\ncurrent-context: c\n"
                    "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
                    f"clusters: [{{name: k, cluster: {{server: \"http://127.0.0.1:{upstream.port}\"}}}}]\n"
                    "users: [{name: u, user: {}}]\n")
    try:
        total = count_allocations()  # also records the clean REST answers
        if os.environ.get("FAULT_SWEEP_N"):
            ns = [int(x) for x in os.environ["FAULT_SWEEP_N"].split(",")]
        else:
            head = min(int(os.environ.get("FAULT_SWEEP_HEAD", "16")), runs // 3)
            ns = choose(total, runs, head, int(os.environ.get("FAULT_SWEEP_OFFSET", "0")))
        print(f"alloc sweep ({mode}): {total} allocations in a clean session; failing N = "
              f"{','.join(map(str, ns))}", flush=True)
        jobs = int(os.environ.get("FAULT_SWEEP_JOBS", "2"))
        bad = []
        with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
            for n, problem, r in pool.map(run_one, ns):
                if problem:
                    bad.append(n)
                    print(f"N={n}: FAIL: {problem}\n    {r.site()}\n    log: {r.log_path}",
                          flush=True)
                elif not os.environ.get("FAULT_SWEEP_KEEP_LOGS"):
                    os.remove(r.log_path)
        print(f"alloc sweep ({mode}): {len(ns) - len(bad)}/{len(ns)} runs clean "
              f"({time.monotonic() - t0:.0f} s)" + (f"; failing N: {bad}" if bad else ""),
              flush=True)
    finally:
        GATEWAY_KUBECONFIG = None
        if upstream is not None:
            problems = upstream.stop()
            if problems:
                print(upstream.describe(problems))
                bad = bad + ["upstream"] if "bad" in dir() else ["upstream"]
    return bad


def main():
    if not os.access(BIN, os.X_OK):
        sys.exit(f"{BIN} is missing: build it (cmake --build build-asan --target podterm-faults)")
    modes = os.environ.get("FAULT_SWEEP_MODES", "local:48,gateway:20").split(",")
    bad = []
    for m in modes:
        mode, _, runs = m.partition(":")
        bad += sweep(mode, int(runs or os.environ.get("FAULT_SWEEP_RUNS", "64")))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
