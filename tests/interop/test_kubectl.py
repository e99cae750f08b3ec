"""Real kubectl binaries (kubectl.1.27 ... kubectl.1.33 next to the `kubectl`
on PATH) against local mode, anonymous over http, each run with a fresh HOME
(kubectl caches discovery). A recording proxy in front of podterm shows which
requests kubectl really sent (PROTOCOL.md 5; checklist 19, 26-30)."""
import os
import subprocess
import time
import types

import pytest

from kube_tools import (RACE_FRACTION_MAX, RACE_RUNS_FREE, RACE_VERSIONS, WS_VERSIONS, Tmux, fresh_env,
                        kbin, tmux_attach_it)
from podterm_client import http_get_json
from podterm_server import CLUSTER_CONFIG, Podterm
from recorder import Recorder



@pytest.fixture(scope="module")
def kube(tmp_path_factory):
    """The cluster server and a recorder in front of it."""
    srv = Podterm(config=CLUSTER_CONFIG, name="test_kubectl")
    rec = Recorder(srv.port)
    tmp = str(tmp_path_factory.mktemp("kubectl"))
    k = types.SimpleNamespace(srv=srv, rec=rec, tmp=tmp, race_runs=0, raced=[])
    yield k
    rec.close()
    problems = srv.stop()
    if problems:
        pytest.fail(srv.describe(problems), pytrace=False)
    allowed = max(RACE_RUNS_FREE, int(k.race_runs * RACE_FRACTION_MAX))
    if len(k.raced) > allowed:
        pytest.fail(f"'Unknown stream id' in {len(k.raced)} of {k.race_runs} kubectl runs "
                    f"(known race: about 1 in 300; allowed {allowed}): {k.raced}", pytrace=False)


def kubectl(kube, version, *args, stdin=None, env=None, timeout=60):
    """Runs kubectl through the recorder. The known race's line is dropped
    from stderr for the versions that have it, and counted (see above)."""
    kube.rec.clear()
    env = env or fresh_env(kube.tmp, kube.rec.port)
    r = subprocess.run([kbin(version), *args], input=stdin, env=env, capture_output=True,
                       text=True, timeout=timeout)
    if version in RACE_VERSIONS:
        kube.race_runs += 1
        lines = r.stderr.splitlines(keepends=True)
        kept = [line for line in lines if "Unknown stream id" not in line]
        if len(kept) != len(lines):
            kube.raced.append(f"kubectl.{version} {' '.join(args)}")
        r.stderr = "".join(kept)
    return r


def exec_requests(kube):
    return kube.rec.exec_requests()


def assert_one_websocket_exec(kube):
    reqs = exec_requests(kube)
    assert len(reqs) == 1, reqs
    r = reqs[0]
    assert (r.method, r.header("Upgrade").lower(), r.header("Sec-WebSocket-Protocol")) == (
        "GET", "websocket", "v5.channel.k8s.io"), r.headers


# ---------------------------------------------------------------- 26: shapes

def test_discovery_and_pod_shapes(kube):
    port = kube.srv.port
    resp, api = http_get_json(port, "/api")
    assert resp.status == 200 and api["kind"] == "APIVersions" and api["versions"] == ["v1"], api
    assert api["serverAddressByClientCIDRs"][0]["clientCIDR"] == "0.0.0.0/0", api
    resp, apis = http_get_json(port, "/apis")
    assert resp.status == 200, resp
    # one group: podterm's own sessions API
    assert (apis["kind"], apis["apiVersion"], apis["groups"]) == ("APIGroupList", "v1", [
        {"name": "podterm.dev",
         "versions": [{"groupVersion": "podterm.dev/v1alpha1", "version": "v1alpha1"}],
         "preferredVersion": {"groupVersion": "podterm.dev/v1alpha1", "version": "v1alpha1"}}]), apis
    resp, v1 = http_get_json(port, "/api/v1")
    assert (v1["kind"], v1["groupVersion"]) == ("APIResourceList", "v1"), v1
    res = {r["name"]: r for r in v1["resources"]}
    assert res["pods"]["namespaced"] is True and res["pods"]["kind"] == "Pod", res
    assert {"get", "list"} <= set(res["pods"]["verbs"]), res
    for sub in ("pods/exec", "pods/attach"):
        assert {"create", "get"} <= set(res[sub]["verbs"]), res
    resp, pod = http_get_json(port, "/api/v1/namespaces/team-a/pods/web")
    assert resp.status == 200, resp
    assert (pod["apiVersion"], pod["kind"]) == ("v1", "Pod"), pod
    assert (pod["metadata"]["name"], pod["metadata"]["namespace"]) == ("web", "team-a"), pod
    assert [c["name"] for c in pod["spec"]["containers"]] == ["app", "sidecar"], pod
    assert pod["status"]["phase"] == "Running", pod
    _, done = http_get_json(port, "/api/v1/namespaces/default/pods/done")
    assert done["status"]["phase"] == "Succeeded", done


# ---------------------------------------------------------------- WebSocket kubectls

@pytest.mark.parametrize("v", WS_VERSIONS)
def test_get_pods(kube, v):
    r = kubectl(kube, v, "get", "pods")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[0] == "NAME", r.stdout
    assert sorted(line.split()[0] for line in lines[1:]) == ["done", "local", "multi"], r.stdout


@pytest.mark.parametrize("v", WS_VERSIONS)
def test_exec_true_is_one_websocket_get(kube, v):
    r = kubectl(kube, v, "exec", "local", "--", "true")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    assert_one_websocket_exec(kube)
    assert not [q for q in kube.rec.requests if q.method == "POST"], kube.rec.requests
    paths = [q.path.split("?")[0] for q in kube.rec.requests]
    assert "/api" in paths and "/apis" in paths, paths  # fresh HOME: discovery ran


@pytest.mark.parametrize("v", WS_VERSIONS)
def test_exec_stdout_stderr_exit_code(kube, v):
    r = kubectl(kube, v, "exec", "local", "--", "sh", "-c", "echo out; echo err >&2; exit 7")
    assert r.returncode == 7, r.stderr
    assert r.stdout == "out\n"
    assert "err\n" in r.stderr and "command terminated with exit code 7" in r.stderr, r.stderr
    assert_one_websocket_exec(kube)


@pytest.mark.parametrize("v", ["1.30", "1.33", "1.28"])
def test_exec_multiline_script(kube, v):
    """A script with newlines (%0A in the query): the WebSocket upgrade
    used to be dropped by lws, and kubectl said "unexpected EOF"."""
    r = kubectl(kube, v, "exec", "local", "--", "sh", "-c", "echo a\necho b\n\techo c")
    assert (r.returncode, r.stdout, r.stderr) == (0, "a\nb\nc\n", ""), r


def test_exit_42(kube):
    r = kubectl(kube, "1.33", "exec", "local", "--", "sh", "-c", "exit 42")
    assert r.returncode == 42, r.stderr
    assert "command terminated with exit code 42" in r.stderr, r.stderr


@pytest.mark.parametrize("v", WS_VERSIONS)
def test_exec_stdin(kube, v):
    r = kubectl(kube, v, "exec", "-i", "local", "--", "cat", stdin="abc")
    assert (r.returncode, r.stdout, r.stderr) == (0, "abc", "")
    r = kubectl(kube, v, "exec", "-i", "local", "--", "cat", stdin="hi\n")
    assert (r.returncode, r.stdout) == (0, "hi\n"), r.stderr


def test_exec_large_stdin_round_trip(kube):
    data = "".join(f"{i:08d}\n" for i in range(200000))  # 1.8 MB
    r = kubectl(kube, "1.33", "exec", "-i", "local", "--", "cat", stdin=data)
    assert r.returncode == 0, r.stderr
    assert r.stdout == data


@pytest.mark.parametrize("v", WS_VERSIONS)
def test_unknown_pod(kube, v):
    r = kubectl(kube, v, "exec", "nope", "--", "true")
    assert r.returncode == 1
    assert r.stderr == 'Error from server (NotFound): pods "nope" not found\n'
    assert exec_requests(kube) == []


@pytest.mark.parametrize("v", WS_VERSIONS)
def test_unknown_container(kube, v):
    r = kubectl(kube, v, "exec", "local", "-c", "nope", "--", "true")
    assert r.returncode == 1
    assert ("Error from server (BadRequest): container nope is not valid for pod local"
            in r.stderr), r.stderr
    # the WebSocket attempt fails, kubectl falls back to SPDY, refused the same way
    assert [q.method for q in exec_requests(kube)] == ["GET", "POST"], exec_requests(kube)


def test_default_container_of_several(kube):
    r = kubectl(kube, "1.33", "exec", "multi", "--", "echo", "hi")
    assert (r.returncode, r.stdout) == (0, "hi\n"), r.stderr
    assert 'Defaulted container "c1" out of: c1, c2' in r.stderr, r.stderr
    assert "container=c1" in exec_requests(kube)[0].path


def test_namespace_and_container_flags(kube):
    r = kubectl(kube, "1.33", "-n", "team-a", "exec", "web", "-c", "sidecar", "--", "echo", "x")
    assert (r.returncode, r.stdout) == (0, "x\n"), r.stderr


def test_server_flag_without_kubeconfig(kube):
    env = fresh_env(kube.tmp, 1)  # kubeconfig points nowhere useful...
    os.remove(env["KUBECONFIG"])
    r = kubectl(kube, "1.33", "--server", f"http://127.0.0.1:{kube.rec.port}",
                "exec", "local", "--", "echo", "via-flag", env=env)
    assert (r.returncode, r.stdout) == (0, "via-flag\n"), r.stderr


# 29
def test_completed_pod_is_refused_client_side(kube):
    r = kubectl(kube, "1.33", "exec", "done", "--", "true")
    assert r.returncode == 1
    assert ("cannot exec into a container in a completed pod; current phase is Succeeded"
            in r.stderr), r.stderr
    assert exec_requests(kube) == [], "kubectl sent an exec request for a completed pod"


# ---------------------------------------------------------------- SPDY-first kubectls (test_spdy.py)

def test_1_29_with_websockets_opt_in(kube):
    env = fresh_env(kube.tmp, kube.rec.port, {"KUBECTL_REMOTE_COMMAND_WEBSOCKETS": "true"})
    r = kubectl(kube, "1.29", "exec", "local", "--", "sh", "-c", "echo out; exit 7", env=env)
    assert (r.returncode, r.stdout) == (7, "out\n"), r.stderr
    assert "command terminated with exit code 7" in r.stderr
    assert_one_websocket_exec(kube)
    r = kubectl(kube, "1.29", "exec", "-i", "local", "--", "cat", stdin="abc", env=env)
    assert (r.returncode, r.stdout) == (0, "abc"), r.stderr


# ---------------------------------------------------------------- terminal

@pytest.mark.parametrize("v", WS_VERSIONS)
def test_exec_it_terminal_and_resize(kube, v):
    env = fresh_env(kube.tmp, kube.rec.port)
    cmd = f"{kbin(v)} exec -it local -- sh; echo KUBECTL-EXIT=$?; sleep 60"
    kube.rec.clear()
    tm = Tmux(kube.tmp, env, cmd)
    try:
        tm.keys("echo READY-$((6*7))")
        tm.wait_for("READY-42")
        size1 = tm.size()
        tm.keys("stty size")
        tm.wait_for("\n" + size1 + "\n")
        tm.run("resize-window", "-t", "t", "-x", "100", "-y", "30")
        size2 = tm.size()
        assert size2 != size1 and size2 == "30 100", (size1, size2)
        time.sleep(0.3)  # SIGWINCH -> kubectl -> resize message
        tm.keys("stty size")
        tm.wait_for("\n" + size2 + "\n")
        tm.keys("exit 3")
        tm.wait_for("KUBECTL-EXIT=3")
    finally:
        tm.kill()
    reqs = exec_requests(kube)
    assert len(reqs) == 1 and "tty=true" in reqs[0].path and "stdin=true" in reqs[0].path, reqs


# ---------------------------------------------------------------- 19: silence

@pytest.mark.slow
def test_70s_silent_exec_survives_on_pongs(silent_exec):
    """kubectl 1.33 cuts a connection whose pings get no pong at 61 s. The exec
    was started when the session began (conftest.silent_exec), so its 70 s
    overlap the rest of the suite."""
    left = silent_exec.seconds + 40 - (time.monotonic() - silent_exec.t0)
    try:
        out, err = silent_exec.proc.communicate(timeout=max(left, 1))
    except subprocess.TimeoutExpired:
        silent_exec.proc.kill()
        out, err = silent_exec.proc.communicate()
        pytest.fail(f"kubectl exec sleep {silent_exec.seconds} still running after "
                    f"{silent_exec.seconds + 40} s: {err}")
    elapsed = time.monotonic() - silent_exec.t0
    assert (silent_exec.proc.returncode, out, err) == (0, "", ""), elapsed
    assert elapsed >= silent_exec.seconds


def test_attach_it_terminal(kube):
    """kubectl attach -it to a main process on a TTY: keystrokes reach it and
    the resize (kubectl sends W+1,H+1 then W,H) lands on its terminal."""
    kube.rec.clear()
    tmux_attach_it(fresh_env(kube.tmp, kube.rec.port), kube.tmp, "1.33")
    reqs = exec_requests(kube)
    assert len(reqs) == 1 and reqs[0].path.split("?")[0].endswith("/attach"), reqs
    assert "tty=true" in reqs[0].path and "command=" not in reqs[0].path, reqs
