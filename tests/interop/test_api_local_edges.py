"""The local mode's core API at its edges, with real requests: discovery
paths with a trailing slash, one Namespace (found or a NotFound Status),
a pod's default-container annotation, workingDir and env as kubectl reads
them, paths that are no resource (a namespace longer than a name, a pod
path with more segments), HEAD of an API path, and the web UI without
gzip."""
from podterm_client import assert_status_response, http_request

CONFIG = """\
pods:
  - name: app
    annotations:
      kubectl.kubernetes.io/default-container: main
    containers:
      - name: side
      - name: main
        command: ["/bin/sh", "-l"]
        workingDir: /tmp
        env:
          - name: GREETING
            value: hello
        tty: true
        stdin: true
"""

NOT_FOUND = "the server could not find the requested resource"


def get(port, path, headers=()):
    return http_request(port, "GET", path, headers)


def test_discovery_trailing_slashes(podterm):
    srv = podterm(config=CONFIG)
    r = get(srv.port, "/api/")
    assert r.status == 200 and r.json()["kind"] == "APIVersions", r
    assert r.json()["versions"] == ["v1"], r
    r = get(srv.port, "/apis/")
    assert r.status == 200 and r.json()["kind"] == "APIGroupList", r
    r = get(srv.port, "/api/v1/")
    assert r.status == 200 and r.json()["kind"] == "APIResourceList", r
    assert [x["name"] for x in r.json()["resources"]] == [
        "pods", "pods/exec", "pods/attach", "namespaces"], r
    r = http_request(srv.port, "HEAD", "/api/v1")
    assert r.status == 200 and r.body == b"", r


def test_one_namespace(podterm):
    srv = podterm(config=CONFIG)
    for path in ("/api/v1/namespaces/default", "/api/v1/namespaces/default/"):
        r = get(srv.port, path)
        assert r.status == 200, r
        body = r.json()
        assert (body["kind"], body["apiVersion"], body["metadata"]["name"],
                body["status"]) == ("Namespace", "v1", "default", {"phase": "Active"}), body
    assert_status_response(get(srv.port, "/api/v1/namespaces/nope"), 404, "NotFound",
                           'namespaces "nope" not found', {"name": "nope", "kind": "namespaces"})


def test_pod_annotation_workdir_env(podterm):
    srv = podterm(config=CONFIG)
    r = get(srv.port, "/api/v1/namespaces/default/pods/app")
    assert r.status == 200, r
    pod = r.json()
    assert pod["metadata"]["annotations"] == {
        "kubectl.kubernetes.io/default-container": "main"}, pod
    side, main = pod["spec"]["containers"]
    assert side == {"name": "side", "image": "podterm/local", "command": ["/bin/sh"]}, side
    assert main == {"name": "main", "image": "podterm/local", "command": ["/bin/sh", "-l"],
                    "workingDir": "/tmp", "env": [{"name": "GREETING", "value": "hello"}],
                    "tty": True, "stdin": True}, main
    r = get(srv.port, "/api/v1/namespaces/default/pods/")
    assert r.status == 200 and [p["metadata"]["name"] for p in r.json()["items"]] == ["app"], r


def test_paths_that_are_no_resource(podterm):
    srv = podterm(config=CONFIG)
    for path in ("/api/v1/namespaces/" + "n" * 300 + "/pods",
                 "/api/v1/namespaces/default/pods/app/extra/more",
                 "/api/v1/namespaces/default/secrets"):
        assert_status_response(get(srv.port, path), 404, "NotFound", NOT_FOUND)


def test_ui_without_gzip(podterm):
    srv = podterm(config=CONFIG)
    r = get(srv.port, "/", [("Accept-Encoding", "identity")])
    assert r.status == 200, r
    assert r.header("Content-Encoding") is None, r
    assert b"<html" in r.body.lower(), r.body[:200]
    r = get(srv.port, "/", [("Accept-Encoding", "gzip")])
    assert r.status == 200 and r.header("Content-Encoding") == "gzip", r
