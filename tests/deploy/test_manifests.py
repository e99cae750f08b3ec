"""deploy/kubernetes/: every file parses, every object has what the API requires
of its kind, the pods pass Pod Security "restricted", the probes and the grace
period fit podterm's drain, the ClusterRole is least privilege, images are
pinned. The same checks run on the Helm chart's renderings (test_chart.py)."""
import copy
import os
import re
import subprocess
import time

import pytest
import yaml

import deploylib as dl

PLAIN = dl.plain_objects()

# podterm's service account needs exactly this (README "RBAC for podterm's
# service account"), plus watch on pods (kubectl get -w passes through).
ALLOWED_RULES = {
    ("", "pods"): {"get", "list", "watch"},
    ("", "namespaces"): {"get", "list"},
    ("", "pods/exec"): {"create", "get"},
    ("", "pods/attach"): {"create", "get"},
    ("", "users"): {"impersonate"},
    ("", "groups"): {"impersonate"},
    ("authentication.k8s.io", "uids"): {"impersonate"},
}


def test_every_file_parses_and_has_objects():
    files = dl.manifest_files()
    names = {os.path.relpath(f, dl.MANIFESTS) for f in files}
    assert {"namespace.yaml", "rbac.yaml", "config.yaml", "policy.yaml", "deployment.yaml", "service.yaml",
            "poddisruptionbudget.yaml", "networkpolicy.yaml", "optional/ingress.yaml"} <= names
    for f in files:
        with open(f) as fh:
            assert dl.load_docs(fh.read(), f), f"{f}: no object"


def test_the_kinds_the_issue_asks_for_are_there():
    kinds = sorted(o["kind"] for _, o in PLAIN)
    assert kinds == sorted(["Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding",
                            "ConfigMap", "ConfigMap", "Deployment", "Service", "PodDisruptionBudget",
                            "NetworkPolicy", "Ingress"])
    # no Secret is committed: the Deployment only refers to them
    assert all(o["kind"] != "Secret" for _, o in PLAIN)


@pytest.mark.parametrize("where,obj", PLAIN, ids=[f"{w}:{o['kind']}" for w, o in PLAIN])
def test_object_has_required_fields(where, obj):
    dl.check_object(obj, where)


def test_objects_are_unique_and_in_the_namespace():
    keys = [dl.key(o) for _, o in PLAIN]
    assert len(keys) == len(set(keys))
    ns = {o["metadata"].get("namespace") for _, o in PLAIN if o["kind"] not in dl.CLUSTER_SCOPED}
    assert ns == {"podterm"}


def _get(kind, objs=PLAIN, name=None):
    found = [o for _, o in objs if o["kind"] == kind and name in (None, o["metadata"]["name"])]
    assert len(found) == 1, f"{kind}: {len(found)} objects"
    return found[0]


def check_restricted(objs):
    specs = list(dl.pod_specs(objs))
    assert specs, "no workload"
    for where, spec in specs:
        assert dl.restricted_violations(spec) == [], where


def test_pods_pass_pod_security_restricted():
    check_restricted(PLAIN)


@pytest.mark.parametrize("mutate,expect", [
    (lambda s: s["containers"][0]["securityContext"].pop("allowPrivilegeEscalation"), "allowPrivilegeEscalation"),
    (lambda s: s["containers"][0]["securityContext"]["capabilities"].update(drop=[]), "drop must include ALL"),
    (lambda s: s["containers"][0]["securityContext"]["capabilities"].update(add=["NET_ADMIN"]), "NET_ADMIN"),
    (lambda s: (s["securityContext"].pop("seccompProfile"),
                s["containers"][0]["securityContext"].pop("seccompProfile")), "seccompProfile"),
    (lambda s: (s["securityContext"].pop("runAsNonRoot"),
                s["containers"][0]["securityContext"].pop("runAsNonRoot")), "runAsNonRoot"),
    (lambda s: s["volumes"].append({"name": "h", "hostPath": {"path": "/"}}), "hostPath"),
    (lambda s: s.update(hostNetwork=True), "hostNetwork"),
    (lambda s: s["containers"][0]["ports"][0].update(hostPort=8443), "hostPort"),
    (lambda s: s["containers"][0]["securityContext"].update(privileged=True), "privileged"),
])
def test_restricted_check_catches_each_rule(mutate, expect):
    # The checker must be able to fail: break one rule at a time.
    spec = copy.deepcopy(_get("Deployment")["spec"]["template"]["spec"])
    mutate(spec)
    assert any(expect in v for v in dl.restricted_violations(spec))


def check_pod_runtime(dep, objs=PLAIN):
    """Probes, read-only root, non-root uid, grace above the drain."""
    spec = dep["spec"]["template"]["spec"]
    c = spec["containers"][0]
    args = dl.podterm_args(dep, objs)
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    for probe, path in (("livenessProbe", "/livez"), ("readinessProbe", "/readyz"), ("startupProbe", "/livez")):
        get = c[probe]["httpGet"]
        assert (get["path"], get["scheme"]) == (path, "HTTPS"), probe
        assert get["port"] in ports or get["port"] in ports.values(), probe
    # served on the port the probes use
    listen = [a for a in args if a.startswith("--listen=")]
    assert listen == [f"--listen=0.0.0.0:{ports['https']}"]
    sc = c["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True
    uid = sc.get("runAsUser", spec["securityContext"].get("runAsUser"))
    assert isinstance(uid, int) and uid > 0
    # the only writable places: an emptyDir at /tmp, and the recordings'
    # claim where --recording-dir points, when there is one
    writable = [m for m in c["volumeMounts"] if not m.get("readOnly")]
    vols = {v["name"]: v for v in spec["volumes"]}
    rec = [a.split("=", 1)[1] for a in args if a.startswith("--recording-dir=")]
    want = [("/tmp", "emptyDir")] + [(d, "persistentVolumeClaim") for d in rec]
    assert [(m["mountPath"], next(k for k in ("emptyDir", "persistentVolumeClaim", "configMap",
                                               "secret") if k in vols[m["name"]]))
            for m in writable] == want
    # kubelet SIGKILLs at terminationGracePeriodSeconds, counted from the preStop hook's start
    pre = c["lifecycle"]["preStop"]["exec"]["command"]
    assert pre[0] == "/bin/sleep"
    grace = [a.split("=", 1)[1] for a in args if a.startswith("--shutdown-grace=")]
    assert len(grace) <= 1 and all(re.fullmatch(r"[0-9]+s", g) for g in grace), grace
    drain = int(grace[0][:-1]) if grace else dl.SHUTDOWN_GRACE_DEFAULT
    assert spec["terminationGracePeriodSeconds"] > int(pre[1]) + drain
    assert c["resources"]["requests"]["cpu"] and c["resources"]["requests"]["memory"]
    assert c["resources"]["limits"]["memory"]
    anti = spec["affinity"]["podAntiAffinity"]
    term = anti["preferredDuringSchedulingIgnoredDuringExecution"][0]["podAffinityTerm"]
    assert term["labelSelector"]["matchLabels"] == dep["spec"]["selector"]["matchLabels"]
    # the files podterm is told to read are on mounted volumes
    mounts = [m["mountPath"] for m in c["volumeMounts"]]
    for a in args:
        if a.startswith(("--tls-cert-file=", "--tls-private-key-file=", "--token-auth-file=",
                         "--jwt-key-file=", "--authorization-rbac-file=", "--audit-policy-file=")):
            path = a.split("=", 1)[1]
            assert any(path == m or path.startswith(m + "/") for m in mounts), a


def test_deployment_probes_grace_and_runtime():
    dep = _get("Deployment")
    assert dep["spec"]["replicas"] == 2
    assert dep["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    check_pod_runtime(dep)
    args = dl.podterm_args(dep, PLAIN)
    assert "--in-cluster" in args and "--audit-log-path=-" in args


def test_service_pdb_networkpolicy_select_the_pods():
    labels = _get("Deployment")["spec"]["template"]["metadata"]["labels"]
    svc = _get("Service")
    assert all(labels.get(k) == v for k, v in svc["spec"]["selector"].items())
    assert svc["spec"]["ports"][0]["targetPort"] == "https"
    for kind in ("PodDisruptionBudget",):
        sel = _get(kind)["spec"]["selector"]["matchLabels"]
        assert all(labels.get(k) == v for k, v in sel.items())
    np = _get("NetworkPolicy")
    assert all(labels.get(k) == v for k, v in np["spec"]["podSelector"]["matchLabels"].items())
    assert [p["port"] for r in np["spec"]["ingress"] for p in r["ports"]] == [8443]
    # with 2 replicas the budget lets exactly one drain at a time
    assert _get("PodDisruptionBudget")["spec"]["maxUnavailable"] == 1


def test_ingress_keeps_websockets_open():
    ing = _get("Ingress")
    ann = ing["metadata"]["annotations"]
    assert ann["nginx.ingress.kubernetes.io/backend-protocol"] == "HTTPS"
    for k in ("proxy-read-timeout", "proxy-send-timeout"):
        assert int(ann["nginx.ingress.kubernetes.io/" + k]) >= 3600
    host = ing["spec"]["rules"][0]["host"]
    args = dl.podterm_args(_get("Deployment"), PLAIN)
    # podterm answers only the Host names it is told (README --allowed-host)
    assert f"--allowed-host={host}" in args
    assert ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] == _get("Service")["metadata"]["name"]


def rbac_excess(role):
    """Grants of the ClusterRole beyond ALLOWED_RULES, as text."""
    extra = []
    for r in role["rules"]:
        if "nonResourceURLs" in r or r.get("resourceNames"):
            extra.append(f"rule {r}")
            continue
        for g in r["apiGroups"]:
            for res in r["resources"]:
                allowed = ALLOWED_RULES.get((g, res), set())
                for v in r["verbs"]:
                    if v not in allowed:
                        extra.append(f"{v} {g or 'core'}/{res}")
    return extra


def check_rbac(objs):
    role = _get("ClusterRole", objs)
    assert rbac_excess(role) == []
    granted = {(g, res, v) for r in role["rules"] for g in r["apiGroups"] for res in r["resources"] for v in r["verbs"]}
    # and everything podterm needs is there
    for (g, res), verbs in ALLOWED_RULES.items():
        for v in verbs:
            assert (g, res, v) in granted, f"{v} {res} missing"
    binding = _get("ClusterRoleBinding", objs)
    sa = _get("ServiceAccount", objs)
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": sa["metadata"]["name"],
                                    "namespace": sa["metadata"]["namespace"]}]
    dep = _get("Deployment", objs)
    assert dep["spec"]["template"]["spec"]["serviceAccountName"] == sa["metadata"]["name"]


def test_cluster_role_is_least_privilege():
    check_rbac(PLAIN)


def test_rbac_check_catches_a_wider_grant():
    role = copy.deepcopy(_get("ClusterRole"))
    role["rules"].append({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]})
    role["rules"][0]["verbs"].append("delete")
    role["rules"].append({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]})
    assert rbac_excess(role) == ["delete core/pods", "get core/secrets", "* */*"]


def check_images(objs):
    for where, spec in dl.pod_specs(objs):
        for c in spec["containers"]:
            img = c["image"]
            assert "@sha256:" in img or (":" in img.rsplit("/", 1)[-1]), f"{where}: {img} has no tag"
            assert not img.endswith(":latest"), f"{where}: {img}"
            assert c.get("imagePullPolicy") in (None, "IfNotPresent", "Always")


def test_images_are_pinned():
    check_images(PLAIN)


def test_configmap_policy_parses_as_podterm_objects():
    cm = _get("ConfigMap", name="podterm-policy")
    kinds = []
    for k, v in cm["data"].items():
        assert k.endswith((".yaml", ".yml", ".json")), k  # podterm reads only these from a folder
        kinds += [d["kind"] for d in yaml.safe_load_all(v) if d]
    assert sorted(set(kinds)) == ["ClusterRole", "ClusterRoleBinding", "ExecPolicy"]


def _podterm_bin():
    b = os.environ.get("PODTERM_BIN") or os.path.join(dl.ROOT, "build-asan", "podterm")
    return b if os.access(b, os.X_OK) else None


def _start_with_policy(folder, token_file):
    """podterm's exit code and stderr when started with this policy folder
    (None for the code when it served: it was then stopped by its PID)."""
    proc = subprocess.Popen(
        [_podterm_bin(), "--listen", "127.0.0.1:0", "--token-auth-file", token_file,
         "--authorization-rbac-file", folder],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines = []
    deadline = time.monotonic() + 30
    code = None
    try:
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                code = proc.wait(timeout=30)
                break
            lines.append(line)
            if "serving http" in line:
                break
        else:
            raise AssertionError("podterm neither served nor exited: " + "".join(lines))
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        rest = proc.stderr.read()
        proc.stderr.close()
    return code, "".join(lines) + rest


@pytest.mark.skipif(_podterm_bin() is None, reason="no podterm binary (set PODTERM_BIN)")
def test_configmap_policy_loads_in_podterm(tmp_path):
    # The ConfigMap's files, laid out as the kubelet mounts them (each key a
    # symlink into ..data), must load: a policy that does not load stops
    # podterm at start-up, so a typo here would crash-loop the Deployment.
    cm = _get("ConfigMap", name="podterm-policy")
    data = tmp_path / "policy" / "..2026_11_30_00_00_00.000000000"
    data.mkdir(parents=True)
    for k, v in cm["data"].items():
        (data / k).write_text(v)
    os.symlink(data.name, tmp_path / "policy" / "..data")
    for k in cm["data"]:
        os.symlink(os.path.join("..data", k), tmp_path / "policy" / k)
    tokens = tmp_path / "tokens.csv"
    tokens.write_text('token-0123456789abcdef,alice,1001,"oncall"\n')
    code, err = _start_with_policy(str(tmp_path / "policy"), str(tokens))
    assert code is None, err

    # and the same start-up refuses a broken policy (the check can fail)
    (data / "policy.yaml").write_text(cm["data"]["policy.yaml"].replace("roleRef:", "roleReff:", 1))
    code, err = _start_with_policy(str(tmp_path / "policy"), str(tokens))
    assert code not in (None, 0), err
    assert "policy.yaml" in err


@pytest.mark.skipif(_podterm_bin() is None, reason="no podterm binary (set PODTERM_BIN)")
@pytest.mark.parametrize("source", ["plain", "chart"])
def test_config_file_loads_in_podterm(tmp_path, source):
    """The ConfigMap's config.yaml is read by podterm itself: every flag is
    known and of the right shape. It cannot serve here (in-cluster needs a
    cluster), so --kubeconfig is added to provoke the one refusal that comes
    only after the whole file was read and every flag parsed."""
    import test_chart
    objs = PLAIN if source == "plain" else test_chart.rendered(test_chart.VARIANTS["jwt-audit-policy"])
    dep = _get("Deployment", objs)
    path = [a for a in dep["spec"]["template"]["spec"]["containers"][0]["args"]
            if a.startswith("--config=")][0].split("=", 1)[1]
    cm_name = [v for v in dep["spec"]["template"]["spec"]["volumes"] if v["name"] == "config"][0]
    cm = _get("ConfigMap", objs, name=cm_name["configMap"]["name"])
    conf = tmp_path / os.path.basename(path)
    conf.write_text(cm["data"][os.path.basename(path)])
    p = subprocess.run([_podterm_bin(), "--config", str(conf), "--kubeconfig", "kc"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert (p.returncode, p.stdout, p.stderr) == (
        2, "", "podterm: --in-cluster and --kubeconfig/--context exclude each other\n")
    # and a flag the file does not know is refused by that same reading
    conf.write_text(cm["data"][os.path.basename(path)] + "  no-such-flag: 1\n")
    p = subprocess.run([_podterm_bin(), "--config", str(conf)], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and 'unknown flag "no-such-flag" in flags' in p.stderr, p.stderr
