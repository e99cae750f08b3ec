"""Build deploy/Containerfile for real and start the image's podterm. Opt-in
(PODTERM_DEPLOY_IMAGE=1): it takes minutes (the build stage installs the
toolchain and compiles podterm), far beyond the deploy suite's budget.

Where this machine differs from a normal build host, and what the test does:
- No container registry is reachable, so `debian:bookworm` cannot be pulled.
  The base is made from Debian's own packages instead (mmdebstrap, minbase;
  PODTERM_DEPLOY_BASE names an image already in podman's store to skip it)
  and passed as BUILD_IMAGE and RUNTIME_IMAGE.
- podman's crun cannot create containers here ("cgroups in hybrid mode not
  supported"), so RUN steps use `--isolation=chroot`, and the built image is
  started by chroot into its exported root file system as uid 65532, with the
  root file system read-only (a read-only bind mount) as in the Deployment.
"""
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.request

import pytest

import deploylib as dl

pytestmark = pytest.mark.skipif(
    os.environ.get("PODTERM_DEPLOY_IMAGE") != "1" or not shutil.which("podman"),
    reason="opt-in: PODTERM_DEPLOY_IMAGE=1 with podman installed")

IMAGE = "localhost/podterm:deploy-test"


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    base = os.environ.get("PODTERM_DEPLOY_BASE")
    if not base:
        tmp = tmp_path_factory.mktemp("base")
        tar = tmp / "bookworm.tar"
        run(["mmdebstrap", "--variant=minbase", "--format=tar", "bookworm", str(tar)], timeout=900)
        base = "localhost/podterm-base:bookworm"
        run(["podman", "import", str(tar), base], timeout=300)
    ui = os.environ.get("PODTERM_DEPLOY_UI", "ON")
    run(["podman", "build", "--isolation=chroot", "-f", dl.CONTAINERFILE,
         "--build-arg", f"BUILD_IMAGE={base}", "--build-arg", f"RUNTIME_IMAGE={base}",
         "--build-arg", f"PODTERM_UI={ui}", "-t", IMAGE, dl.ROOT], timeout=3000)
    return IMAGE


def test_image_config(image):
    import json
    cfg = json.loads(run(["podman", "image", "inspect", image]).stdout)[0]["Config"]
    assert cfg["User"] == "65532:65532"
    assert cfg["Entrypoint"] == ["/usr/local/bin/podterm"]
    assert not cfg.get("Cmd")
    assert "Healthcheck" not in cfg


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_image_serves_as_non_root_on_a_read_only_root(image, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    cid = run(["podman", "create", image]).stdout.strip()
    try:
        exp = subprocess.Popen(["podman", "export", cid], stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", str(root)], stdin=exp.stdout, check=True)
        assert exp.wait() == 0
    finally:
        run(["podman", "rm", cid])
    # the Deployment's layout: secrets and policy mounted, /tmp writable, the rest read-only
    etc = root / "etc" / "podterm"
    (etc / "tls").mkdir(parents=True)
    (etc / "auth").mkdir()
    (etc / "policy").mkdir()
    run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-keyout", str(etc / "tls" / "tls.key"), "-out", str(etc / "tls" / "tls.crt")])
    (etc / "auth" / "tokens.csv").write_text('token-0123456789abcdef,alice,1001,"oncall"\n')
    import yaml
    with open(os.path.join(dl.MANIFESTS, "policy.yaml")) as f:
        for k, v in yaml.safe_load(f)["data"].items():
            (etc / "policy" / k).write_text(v)
    for p in etc.rglob("*"):
        os.chown(p, 0, 65532)
        os.chmod(p, 0o750 if p.is_dir() else 0o440)
    os.chmod(etc, 0o755)
    os.chmod(root / "tmp", 0o1777)
    mnt = tmp_path / "ro"
    mnt.mkdir()
    run(["mount", "--bind", "-o", "ro", str(root), str(mnt)])
    port = _free_port()
    proc = None
    try:
        run(["mount", "-o", "remount,bind,ro", str(mnt)])
        run(["mount", "-t", "tmpfs", "tmpfs", str(mnt / "tmp")])
        proc = subprocess.Popen(
            ["chroot", "--userspec=65532:65532", str(mnt), "/usr/local/bin/podterm",
             f"--listen=127.0.0.1:{port}", "--tls-cert-file=/etc/podterm/tls/tls.crt",
             "--tls-private-key-file=/etc/podterm/tls/tls.key",
             "--token-auth-file=/etc/podterm/auth/tokens.csv",
             "--authorization-rbac-file=/etc/podterm/policy", "--audit-log-path=-"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        line = ""
        while time.monotonic() < deadline and "serving" not in line:
            line = proc.stderr.readline()
            assert line, "podterm exited: " + proc.stderr.read()
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        # the web terminal is compiled in (UI ON) and the API refuses without a token
        if os.environ.get("PODTERM_DEPLOY_UI", "ON") == "ON":
            with urllib.request.urlopen(f"https://127.0.0.1:{port}/", context=ctx, timeout=10) as r:
                assert r.status == 200 and b"<" in r.read()
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(f"https://127.0.0.1:{port}/api/v1/namespaces/default/pods", context=ctx,
                                   timeout=10)
        assert e.value.code == 401
        req = urllib.request.Request(f"https://127.0.0.1:{port}/version",
                                     headers={"Authorization": "Bearer token-0123456789abcdef"})
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            assert r.status == 200
    finally:
        if proc and proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)
        subprocess.run(["umount", "-R", str(mnt)])
