"""Admission suite: authorization (Kubernetes RBAC objects, podterm's
ExecPolicy) and the audit log (kube-apiserver's audit.k8s.io/v1 Events),
end to end with real kubectl, raw HTTP/WebSocket clients and, for gateway
mode, an upstream podterm behind a gateway podterm.

It reuses the interop suite's server wrapper (podterm_server.Podterm: free
port on 127.0.0.1, stopped by PID, sanitizer reports fail the test) and
kubectl helpers (kube_tools), the way tests/gateway/conftest.py does.

Users (authentication as today):
  alice  static token, group devs: a RoleBinding in `default` to Role exec
  bob    static token, group viewers: may read pods in `default`, nothing more
  dave   static token, no group: bound to nothing
  carol  HS256 JWT (sub carol, groups [sre]): a ClusterRoleBinding to
         ClusterRole exec-everywhere (exec, not attach, in every namespace)
"""
import asyncio
import json
import os
import re
import ssl
import subprocess
import sys
import threading
import time
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "interop"))

import podterm_server  # noqa: E402
from kube_tools import (RACE_FRACTION_MAX, RACE_RUNS_FREE, RACE_VERSIONS, kbin,  # noqa: E402
                        make_pki)
from podterm_client import http_request, mint_jwt, status_json  # noqa: E402
from podterm_server import Podterm  # noqa: E402

JWT_SECRET = b"admission-suite-hmac-secret-0123456789abcdef"
TOKENS = {
    "alice": "adm-alice-static-token-7f3a9c",
    "bob": "adm-bob-static-token-41d2e8",
    "dave": "adm-dave-static-token-c0ffee",
}
TOKEN_CSV = (f'{TOKENS["alice"]},alice,1001,"devs"\n'
             f'{TOKENS["bob"]},bob,1002,"viewers"\n'
             f'{TOKENS["dave"]},dave,1004\n')
CAROL_GROUPS = ["sre"]


_CAROL = {}


def carol_token():
    """One JWT for the whole run (valid an hour), so the secrets checked
    against the logs are the ones that were sent."""
    if "token" not in _CAROL:
        _CAROL["token"] = mint_jwt(JWT_SECRET, sub="carol", alg="HS256", uid="3003",
                                   groups=CAROL_GROUPS)
    return _CAROL["token"]


def token_of(user):
    return carol_token() if user == "carol" else TOKENS[user]


def all_secrets():
    """Every credential the suite uses: none may appear in any audit line."""
    return list(TOKENS.values()) + [carol_token(), JWT_SECRET.decode()]


# Pods: the default one, a second namespace with a pod, a labeled pod.
CLUSTER = """\
pods:
  - name: local
    containers:
      - name: shell
        tty: true
        stdin: true
  - name: web
    namespace: other
    labels: {app: web, tier: front}
    containers:
      - name: app
      - name: sidecar
"""

# Roles and bindings as a cluster would have them (multi-document YAML).
RBAC = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: exec
  namespace: default
rules:
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list"]
- apiGroups: [""]
  resources: ["pods/exec", "pods/attach"]
  verbs: ["create"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: devs-exec
  namespace: default
subjects:
- kind: Group
  name: devs
  apiGroup: rbac.authorization.k8s.io
roleRef:
  kind: Role
  name: exec
  apiGroup: rbac.authorization.k8s.io
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: viewer
  namespace: default
rules:
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: bob-view
  namespace: default
subjects:
- kind: User
  name: bob
  apiGroup: rbac.authorization.k8s.io
roleRef:
  kind: Role
  name: viewer
  apiGroup: rbac.authorization.k8s.io
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: exec-everywhere
rules:
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list"]
- apiGroups: [""]
  resources: ["pods/exec"]
  verbs: ["create"]
- apiGroups: [""]
  resources: ["namespaces"]
  verbs: ["get", "list"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: carol-exec
subjects:
- kind: User
  name: carol
  apiGroup: rbac.authorization.k8s.io
roleRef:
  kind: ClusterRole
  name: exec-everywhere
  apiGroup: rbac.authorization.k8s.io
"""


def auth_files(rbac=RBAC):
    return {"tokens.csv": TOKEN_CSV, "jwt.key": JWT_SECRET, "rbac.yaml": rbac,
            "pods.yaml": CLUSTER}


def auth_args(*extra):
    """Flags of an authenticating, authorizing, auditing local-mode server
    whose files auth_files() wrote into its dir."""
    return ["--config", "{dir}/pods.yaml", "--token-auth-file", "{dir}/tokens.csv",
            "--jwt-key-file", "{dir}/jwt.key", "--authorization-rbac-file", "{dir}/rbac.yaml",
            *extra]


# ---------------------------------------------------------------- messages

def forbidden_message(user, verb, resource, ns, name=None):
    """kube-apiserver's Forbidden message, word for word."""
    group, _, sub = resource.partition("/")
    head = f'pods "{name}" is forbidden' if name else f"{group} is forbidden"
    return (f'{head}: User "{user}" cannot {verb} resource "{resource}" in API group "" '
            f'in the namespace "{ns}"')


def forbidden_body(message, name=None, kind="pods"):
    details = {"name": name, "kind": kind} if name else {"kind": kind}
    return status_json(403, "Forbidden", message, details)


def bearer(user):
    return [("Authorization", f"Bearer {token_of(user)}")]


# ---------------------------------------------------------------- kubectl

RACE = {"runs": 0, "raced": []}


# kubectl (clientcmd) sends a kubeconfig's token only over TLS: over http://
# it goes anonymous. The servers here speak plain HTTP (so the raw clients of
# podterm_client can reach them), and kubectl reaches them through a TLS
# front of the suite's own, with a CA made by openssl for the run.


class TlsFront:
    """TLS on 127.0.0.1 (free port) relaying bytes to a plain port, one
    asyncio loop in a thread; HTTP/1.1 only (no ALPN), as podterm's own."""

    def __init__(self, target_port, pki):
        self.target_port = target_port
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(f"{pki}/server.crt", f"{pki}/server.key")
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run():
            asyncio.set_event_loop(self.loop)
            self.server = self.loop.run_until_complete(
                asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=ctx))
            self.port = self.server.sockets[0].getsockname()[1]
            ready.set()
            self.loop.run_forever()
        threading.Thread(target=run, daemon=True).start()
        assert ready.wait(10), "TLS front did not start"

    async def _handle(self, cr, cw):
        try:
            ur, uw = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            cw.close()
            return

        async def pipe(r, w):
            try:
                while True:
                    data = await r.read(1 << 16)
                    if not data:
                        break
                    w.write(data)
                    await w.drain()
            except (OSError, ssl.SSLError, asyncio.IncompleteReadError):
                pass
            finally:
                try:
                    if w.can_write_eof():
                        w.write_eof()
                    else:
                        w.close()
                except (OSError, RuntimeError):
                    pass
        await asyncio.gather(pipe(cr, uw), pipe(ur, cw))
        for w in (cw, uw):
            w.close()

    def close(self):
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)


def kubeconfig_env(tmp, server, ca, token=None, ns="default"):
    """A HOME and KUBECONFIG of their own pointing at server (https) with token."""
    home = os.path.join(tmp, f"home-{uuid.uuid4().hex[:12]}")
    os.makedirs(home)
    cfg = os.path.join(home, "kubeconfig")
    user = f"{{token: '{token}'}}" if token else "{}"
    with open(cfg, "w") as f:
        f.write("apiVersion: v1\nkind: Config\ncurrent-context: c\n"
                f"contexts:\n- name: c\n  context: {{cluster: k, user: u, namespace: {ns}}}\n"
                f"clusters:\n- name: k\n  cluster: {{server: '{server}', "
                f"certificate-authority: '{ca}'}}\n"
                f"users:\n- name: u\n  user: {user}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBECTL_")}
    env.update(HOME=home, KUBECONFIG=cfg)
    return env


class Kubectl:
    """Runs kubectl VERSION as a user against a podterm's port (through a
    TLS front per port); one HOME per (port, user) so discovery is cached
    between runs of the same user."""

    def __init__(self, tmp, pki):
        self.tmp, self.pki = tmp, pki
        self.envs, self.fronts = {}, {}
        self.lock = threading.Lock()

    def env(self, port, user):
        with self.lock:
            if port not in self.fronts:
                self.fronts[port] = TlsFront(port, self.pki)
            key = (port, user)
            if key not in self.envs:
                self.envs[key] = kubeconfig_env(
                    self.tmp, f"https://127.0.0.1:{self.fronts[port].port}",
                    f"{self.pki}/ca.crt", token_of(user) if user else None)
            return self.envs[key]

    def __call__(self, version, port, user, *args, stdin=None, timeout=60):
        r = subprocess.run([kbin(version), *args], env=self.env(port, user), input=stdin,
                           capture_output=True, text=True, timeout=timeout)
        if version in RACE_VERSIONS:
            lines = r.stderr.splitlines(keepends=True)
            kept = [line for line in lines if "Unknown stream id" not in line]
            with self.lock:
                RACE["runs"] += 1
                if len(kept) != len(lines):
                    RACE["raced"].append(f"kubectl.{version} {' '.join(args)}")
            r.stderr = "".join(kept)
        return r

    def close(self):
        for f in self.fronts.values():
            f.close()


@pytest.fixture(scope="session")
def kubectl(tmp_path_factory):
    k = Kubectl(str(tmp_path_factory.mktemp("kubectl")),
                make_pki(str(tmp_path_factory.mktemp("pki"))))
    yield k
    k.close()
    allowed = max(RACE_RUNS_FREE, int(RACE["runs"] * RACE_FRACTION_MAX))
    if len(RACE["raced"]) > allowed:
        pytest.fail(f"'Unknown stream id' in {len(RACE['raced'])} of {RACE['runs']} kubectl "
                    f"runs (allowed {allowed}): {RACE['raced']}", pytrace=False)


# ---------------------------------------------------------------- audit log

# kube-apiserver's audit.k8s.io/v1 types (k8s.io/apiserver/pkg/apis/audit/v1/types.go):
# the only fields an Event line may have.
EVENT_FIELDS = {"kind", "apiVersion", "level", "auditID", "stage", "requestURI", "verb", "user",
                "impersonatedUser", "sourceIPs", "userAgent", "objectRef", "responseStatus",
                "requestObject", "responseObject", "requestReceivedTimestamp", "stageTimestamp",
                "annotations"}
EVENT_REQUIRED = {"kind", "apiVersion", "level", "auditID", "stage", "requestURI", "verb", "user",
                  "requestReceivedTimestamp", "stageTimestamp"}
USER_FIELDS = {"username", "uid", "groups", "extra"}  # authentication/v1 UserInfo
OBJECT_REF_FIELDS = {"resource", "namespace", "name", "uid", "apiGroup", "apiVersion",
                     "resourceVersion", "subresource"}
STATUS_FIELDS = {"kind", "apiVersion", "metadata", "status", "message", "reason", "details",
                 "code"}  # meta/v1 Status
LEVELS = {"None", "Metadata", "Request", "RequestResponse"}
STAGES = {"RequestReceived", "ResponseStarted", "ResponseComplete", "Panic"}
MICROTIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def check_event_shape(ev, line=""):
    """One parsed line is an audit.k8s.io/v1 Event with only the apiserver's fields."""
    where = f"in audit line {line!r}"
    extra = set(ev) - EVENT_FIELDS
    assert not extra, f"fields not in audit/v1 Event: {extra} {where}"
    assert EVENT_REQUIRED <= set(ev), f"missing: {EVENT_REQUIRED - set(ev)} {where}"
    assert (ev["kind"], ev["apiVersion"]) == ("Event", "audit.k8s.io/v1"), where
    assert ev["level"] in LEVELS and ev["stage"] in STAGES, where
    assert UUID_RE.match(ev["auditID"]), where
    assert isinstance(ev["user"], dict) and set(ev["user"]) <= USER_FIELDS, where
    if "impersonatedUser" in ev:
        assert set(ev["impersonatedUser"]) <= USER_FIELDS, where
    if "objectRef" in ev:
        assert set(ev["objectRef"]) <= OBJECT_REF_FIELDS, where
    if "responseStatus" in ev:
        assert set(ev["responseStatus"]) <= STATUS_FIELDS, where
        assert isinstance(ev["responseStatus"].get("code"), int), where
    for k in ("requestReceivedTimestamp", "stageTimestamp"):
        assert MICROTIME_RE.match(ev[k]), f"{k} not RFC 3339 microseconds UTC {where}"
    assert ev["stageTimestamp"] >= ev["requestReceivedTimestamp"], where
    if "annotations" in ev:
        assert all(isinstance(v, str) for v in ev["annotations"].values()), where
    if "sourceIPs" in ev:
        assert isinstance(ev["sourceIPs"], list), where


class AuditLog:
    """Reads a live audit log file (written asynchronously by the server)."""

    def __init__(self, path):
        self.path = path

    def lines(self):
        try:
            with open(self.path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return []
        # a line being written may be incomplete: only whole lines count
        return [ln.decode("utf-8") for ln in data.split(b"\n")[:-1]]

    def events(self):
        out = []
        for ln in self.lines():
            ev = json.loads(ln)
            check_event_shape(ev, ln)
            out.append(ev)
        return out

    def wait(self, pred, timeout=10.0, what="events"):
        """Polls until pred(events) is truthy; returns it."""
        deadline = time.monotonic() + timeout
        while True:
            evs = self.events()
            got = pred(evs)
            if got:
                return got
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} not in {self.path} within {timeout} s; last "
                                     f"{len(evs)} events:\n" +
                                     "\n".join(json.dumps(e) for e in evs[-12:]))
            time.sleep(0.05)

    def request(self, user_agent, timeout=10.0, stages=("RequestReceived", "ResponseComplete")):
        """The events of the one request sent with this User-Agent, once its
        stages are all there (in log order)."""
        def done(evs):
            mine = [e for e in evs if e.get("userAgent") == user_agent]
            return mine if all(any(e["stage"] == s for e in mine) for s in stages) else None
        return self.wait(done, timeout, f"events of User-Agent {user_agent}")


def unique_agent(tag):
    return f"admission-test/{tag}-{uuid.uuid4().hex[:10]}"


# ---------------------------------------------------------------- servers

def stop_or_fail(srv):
    problems = srv.stop()
    if problems:
        pytest.fail(srv.describe(problems), pytrace=False)


@pytest.fixture(scope="session")
def adm():
    """The shared server: local mode, token file + JWT, RBAC, audit log."""
    srv = Podterm(auth_args("--audit-log-path", "{dir}/audit.log"), files=auth_files(),
                  name="admission-shared")
    srv.audit = AuditLog(os.path.join(srv.dir, "audit.log"))
    yield srv
    stop_or_fail(srv)


@pytest.fixture(autouse=True)
def shared_servers_healthy():
    """After each test the running servers still run with a clean log."""
    yield
    for srv in list(podterm_server.LIVE):
        assert srv.alive(), srv.describe(["exited during the test"])
        assert not srv.sanitizer_reports(), srv.describe(srv.sanitizer_reports())


@pytest.fixture
def podterm(request):
    """start(args, files=..., name=...) -> Podterm owned by the test, stopped
    and checked at its end."""
    started = []

    def start(args, files=None, name=None):
        srv = Podterm(args, files=files, name=name or request.node.name)
        started.append(srv)
        return srv

    yield start
    failures = [s.describe(p) for s in started for p in [s.stop()] if p]
    if failures:
        pytest.fail("\n".join(failures), pytrace=False)


def wait_until(fn, timeout=10.0, interval=0.1):
    """Polls fn() until truthy; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(interval)


def get(port, path, user=None, agent=None, headers=()):
    h = list(headers)
    if user:
        h += bearer(user)
    if agent:
        h.append(("User-Agent", agent))
    return http_request(port, "GET", path, h)
