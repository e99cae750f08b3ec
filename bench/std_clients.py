"""std_clients.py - the exec API read by the clients people use most after
browsers, for `make bench` (bench/README.md; issue 13): kubectl (Go, client-go)
and python3-kubernetes (the official Python client, websocket-client under it).

    /usr/bin/python3 bench/std_clients.py kubectl|kubectl128|python PORT SERVER_PID BYTES -- ARGV...

Non-tty exec of ARGV in default/local; checks the byte count on stdout and a
clean end. Prints key=value lines like podterm-loadgen's: <label>.mbps,
<label>.bytes, <label>.client_cpu (fraction of a core, the client's process),
<label>.server_cpu_s_per_gb (the server's CPU seconds per GB moved, from
/proc). Exits 1 when a check fails, 2 on bad usage."""
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
CHUNK = 1 << 16


def server_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def kubeconfig(port):
    d = tempfile.mkdtemp(prefix="podterm-bench-kube-")
    path = os.path.join(d, "kubeconfig")
    with open(path, "w") as f:
        f.write("apiVersion: v1\nkind: Config\ncurrent-context: c\n"
                "contexts: [{name: c, context: {cluster: k, user: u, namespace: default}}]\n"
                f"clusters: [{{name: k, cluster: {{server: 'http://127.0.0.1:{port}'}}}}]\n"
                "users: [{name: u, user: {}}]\n")
    return d, path


def kubectl_binary(version=None):
    """The kubectl on PATH, or kubectl.VERSION beside the file it links to."""
    path = shutil.which("kubectl") or "kubectl"
    if version:
        path = os.path.join(os.path.dirname(os.path.realpath(path)), f"kubectl.{version}")
    return path


def run_kubectl(port, argv, version=None):
    """kubectl exec, its stdout read and counted here (as `| wc -c` would).
    version "1.28": that kubectl, which speaks SPDY/3.1 (the others: WebSocket)."""
    d, cfg = kubeconfig(port)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBECTL_")}
    env.update(KUBECONFIG=cfg, HOME=d)
    try:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        p = subprocess.Popen([kubectl_binary(version), "exec", "local", "--", *argv],
                             stdout=subprocess.PIPE, env=env)
        n = 0
        while True:
            b = p.stdout.read1(CHUNK)
            if not b:
                break
            n += len(b)
        rc = p.wait()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return n, rc == 0, cpu
    finally:
        shutil.rmtree(d, ignore_errors=True)


def run_python(port, argv):
    """python3-kubernetes' stream(), as its examples read an exec's output."""
    from kubernetes import client
    from kubernetes.stream import stream
    cfg = client.Configuration()
    cfg.host = f"http://127.0.0.1:{port}"
    api = client.CoreV1Api(client.ApiClient(cfg))
    t0 = time.process_time()
    resp = stream(api.connect_get_namespaced_pod_exec, "local", "default", command=argv,
                  stderr=False, stdin=False, stdout=True, tty=False, _preload_content=False)
    n = 0
    while resp.is_open():
        resp.update(timeout=1)
        if resp.peek_stdout():
            n += len(resp.read_stdout().encode())
    ok = resp.returncode == 0
    resp.close()
    return n, ok, time.process_time() - t0


def main():
    clients = {"kubectl": run_kubectl, "python": run_python,
               "kubectl128": lambda port, argv: run_kubectl(port, argv, "1.28")}
    if len(sys.argv) < 7 or sys.argv[5] != "--" or sys.argv[1] not in clients:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    label, port, pid, want = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    argv = sys.argv[6:]
    s0 = server_cpu(pid)
    t0 = time.monotonic()
    n, ok, cpu = clients[label](port, argv)
    secs = time.monotonic() - t0
    s1 = server_cpu(pid)
    print(f"{label}.bytes={n}")
    print(f"{label}.secs={secs:.3f}")
    print(f"{label}.mbps={n / secs / 1e6:.2f}")
    print(f"{label}.client_cpu={cpu / secs:.2f}")
    print(f"{label}.server_cpu_s_per_gb={(s1 - s0) / max(n, 1) * 1e9:.2f}")
    if n != want or not ok:
        print(f"{label}: got {n} bytes (want {want}), clean end {ok}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
