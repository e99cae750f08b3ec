"""Starting and stopping podterm for the interop suite.

A Podterm is one server process on 127.0.0.1 with a free port, started in its own
temp dir (which is also the cwd of the default container), its stderr kept in
tests/out/interop/ (or $PODTERM_TEST_LOGS) for debugging. stop() ends it by PID (SIGTERM, SIGKILL after
5 s) and reports what went wrong: a non-zero exit, a SIGKILL, or a sanitizer
report in its output.
"""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("PODTERM_BIN", os.path.join(ROOT, "build-asan", "podterm"))
# Server logs; scripts/test.sh gives each suite its own folder, so that
# suites run side by side never clear each other's.
OUT_DIR = os.environ.get("PODTERM_TEST_LOGS", os.path.join(ROOT, "tests", "out", "interop"))
START_TIMEOUT_S = 20
STOP_TIMEOUT_S = 5
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")
SERVING_RE = re.compile(r"podterm: serving (https?://127\.0\.0\.1:(\d+)/)")

# Pods for tests that need more than the default pod. Container cwd: the server's.
CLUSTER_CONFIG = """\
pods:
  - name: local
    containers:
      - name: shell
        tty: true
        stdin: true
  - name: multi
    containers:
      - name: c1
      - name: c2
  - name: done
    phase: Succeeded
    containers:
      - name: main
  - name: web
    namespace: team-a
    containers:
      - name: app
        command: ["/bin/sh"]
        tty: true
        stdin: true
      - name: sidecar
"""

# Servers currently running, so a per-test check can look at shared ones.
LIVE = []


def sanitizer_env():
    """The environment scripts/test.sh sets, for runs of pytest by hand."""
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    env.setdefault("LSAN_OPTIONS", "suppressions=" + os.path.join(ROOT, "tests", "lsan.supp"))
    return env


def _log_name(name):
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:120]
    return os.path.join(OUT_DIR, f"{safe}-{os.getpid()}-{time.monotonic_ns()}.log")


class Podterm:
    """One running podterm. args: extra flags; config: YAML text for --config;
    files: {name: bytes or str} written into the temp dir first (key files...)."""

    def __init__(self, args=(), config=None, files=None, name="podterm"):
        self.dir = tempfile.mkdtemp(prefix="podterm-interop-")
        # No drain grace unless a test asks for one (later flags win): stop()
        # gives SIGTERM 5 s, and a session a test left open would otherwise
        # hold the server for the default 25 s grace.
        argv = [BIN, "--listen", "127.0.0.1:0", "--shutdown-grace", "0"]
        for fname, content in (files or {}).items():
            mode = "wb" if isinstance(content, bytes) else "w"
            with open(os.path.join(self.dir, fname), mode) as f:
                f.write(content)
        if config is not None:
            path = os.path.join(self.dir, "pods.yaml")
            with open(path, "w") as f:
                f.write(config)
            argv += ["--config", path]
        argv += [a.replace("{dir}", self.dir) for a in args]
        os.makedirs(OUT_DIR, exist_ok=True)
        self.log_path = _log_name(name)
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=self._log, cwd=self.dir, env=sanitizer_env())
        self.pid = self.proc.pid
        self.exit_code = None
        self.killed = False
        self.url = None
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and self.proc.poll() is None:
            m = SERVING_RE.search(self.output())
            if m:
                self.url, self.port = m.group(1), int(m.group(2))
                break
            time.sleep(0.02)
        if self.url is None:
            self.stop()
            raise RuntimeError(f"podterm did not print its serving line within {START_TIMEOUT_S} s "
                               f"(exit {self.exit_code}); argv {argv}; output:\n{self.output()}")
        LIVE.append(self)

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def alive(self):
        return self.proc.poll() is None

    def sanitizer_reports(self):
        out = self.output()
        return [m for m in SANITIZER_MARKERS if m in out]

    # ---- leak checks ----

    def fd_count(self):
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def cpu_seconds(self):
        """CPU time (user + system) the server process has used so far."""
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def fds(self):
        """{fd: link target} of the server's open descriptors."""
        res = {}
        for fd in os.listdir(f"/proc/{self.pid}/fd"):
            try:
                res[int(fd)] = os.readlink(f"/proc/{self.pid}/fd/{fd}")
            except OSError:
                pass
        return res

    def children(self):
        """PIDs of the server's live child processes (any thread's)."""
        pids = []
        for task in os.listdir(f"/proc/{self.pid}/task"):
            try:
                with open(f"/proc/{self.pid}/task/{task}/children") as f:
                    pids += [int(p) for p in f.read().split()]
            except OSError:
                pass
        return pids

    def wait_for_baseline(self, fd_baseline, timeout=10.0):
        """Waits until the fd count is back to fd_baseline (or below) and no child
        is left; returns (fds, children) as last seen."""
        deadline = time.monotonic() + timeout
        while True:
            fds, kids = self.fd_count(), self.children()
            if (fds <= fd_baseline and not kids) or time.monotonic() > deadline:
                return fds, kids
            time.sleep(0.1)

    # ---- stopping ----

    def stop(self):
        """Stops the server by PID; returns a list of problems (empty when clean)."""
        if self in LIVE:
            LIVE.remove(self)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.killed = True
                self.proc.kill()
                self.proc.wait()
        self.exit_code = self.proc.returncode
        self._log.close()
        shutil.rmtree(self.dir, ignore_errors=True)  # its config and key files; the log stays
        problems = []
        if self.killed:
            problems.append(f"did not exit within {STOP_TIMEOUT_S} s of SIGTERM (SIGKILLed)")
        elif self.exit_code != 0:
            problems.append(f"exit status {self.exit_code} after SIGTERM (want 0)")
        problems += [f"sanitizer report: {m}" for m in self.sanitizer_reports()]
        return problems

    def describe(self, problems):
        return (f"podterm pid {self.pid} ({self.log_path}): " + "; ".join(problems) +
                "\n--- last output ---\n" + self.output()[-4000:])
