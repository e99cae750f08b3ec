"""The official python client (Debian's python3-kubernetes, in /usr/bin/python3):
stream() over connect_get_namespaced_pod_exec negotiates v4.channel.k8s.io and
reads the exit code from channel 3 (checklist 31, python half)."""
import pytest
from kubernetes import client
from kubernetes.stream import stream

STATIC_TOKEN = "python-client-token-4242"


def core_api(port, token=None):
    cfg = client.Configuration()
    cfg.host = f"http://127.0.0.1:{port}"
    if token:
        cfg.api_key = {"authorization": "Bearer " + token}
    return client.CoreV1Api(client.ApiClient(cfg))


def run(api, command, stdin=False, tty=False, pod="local", ns="default", container=None,
        write=None, timeout=20):
    kw = {"container": container} if container else {}
    resp = stream(api.connect_get_namespaced_pod_exec, pod, ns, command=command,
                  stderr=True, stdin=stdin, stdout=True, tty=tty,
                  _preload_content=False, **kw)
    assert resp.sock.getheaders().get("sec-websocket-protocol") == "v4.channel.k8s.io"
    if write is not None:
        resp.write_stdin(write)
    resp.run_forever(timeout=timeout)
    assert not resp.is_open(), "exec did not end"
    return resp


def test_exit_0_output_and_returncode(server):
    resp = run(core_api(server.port), ["sh", "-c", "echo out; echo err >&2"])
    assert resp.read_stdout() == "out\n"
    assert resp.read_stderr() == "err\n"
    assert resp.returncode == 0


@pytest.mark.parametrize("code", [3, 42])
def test_nonzero_returncode(server, code):
    resp = run(core_api(server.port), ["sh", "-c", f"echo before; exit {code}"])
    assert resp.read_stdout() == "before\n"
    assert resp.returncode == code


def test_stdin_text_frames(server):
    # write_stdin sends str as text frames starting with a raw 0x00 (PROTOCOL.md 3.2)
    resp = stream(core_api(server.port).connect_get_namespaced_pod_exec, "local", "default",
                  command=["head", "-n", "2"], stderr=True, stdin=True, stdout=True, tty=False,
                  _preload_content=False)
    resp.write_stdin("line one\n")
    resp.write_stdin("line two\nline three\n")
    resp.run_forever(timeout=20)
    assert resp.read_stdout() == "line one\nline two\n"
    assert resp.returncode == 0


def test_preloaded_call_returns_output(server):
    out = stream(core_api(server.port).connect_get_namespaced_pod_exec, "local", "default",
                 command=["echo", "preloaded"], stderr=True, stdin=False, stdout=True, tty=False)
    assert out == "preloaded\n"


def test_rest_list_and_read(cluster):
    api = core_api(cluster.port)
    names = sorted(p.metadata.name for p in api.list_namespaced_pod("default").items)
    assert names == ["done", "local", "multi"]
    pod = api.read_namespaced_pod("web", "team-a")
    assert [c.name for c in pod.spec.containers] == ["app", "sidecar"]
    assert pod.status.phase == "Running"
    with pytest.raises(client.exceptions.ApiException) as e:
        api.read_namespaced_pod("nope", "default")
    assert e.value.status == 404


def test_container_choice(cluster):
    resp = run(core_api(cluster.port), ["echo", "sidecar-ok"], pod="web", ns="team-a",
               container="sidecar")
    assert resp.read_stdout() == "sidecar-ok\n" and resp.returncode == 0


def test_unknown_pod_raises_404(server):
    from kubernetes.client.exceptions import ApiException
    with pytest.raises(ApiException) as e:
        stream(core_api(server.port).connect_get_namespaced_pod_exec, "nope", "default",
               command=["true"], stderr=True, stdin=False, stdout=True, tty=False,
               _preload_content=False)
    assert "404" in str(e.value), str(e.value)


def test_bearer_token(podterm):
    srv = podterm(["--token-auth-file", "{dir}/tokens.csv"],
                  files={"tokens.csv": f"{STATIC_TOKEN},bob,1002\n"})
    resp = run(core_api(srv.port, STATIC_TOKEN), ["sh", "-c", "exit 5"])
    assert resp.returncode == 5
    from kubernetes.client.exceptions import ApiException
    with pytest.raises(ApiException) as e:
        run(core_api(srv.port, "wrong"), ["true"])
    assert "401" in str(e.value), str(e.value)
