"""Shared pieces of the deploy suite: where things are, loading manifests, and
the checks every object (plain or rendered) must pass.

The checks are written against the documents, not against a cluster (none is
reachable here): the Kubernetes API reference for each kind's required
fields, and the Pod Security Standards page for the "restricted" profile
(https://kubernetes.io/docs/concepts/security/pod-security-standards/).
"""
import os
import re

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEPLOY = os.path.join(ROOT, "deploy")
MANIFESTS = os.path.join(DEPLOY, "kubernetes")
CHART = os.path.join(DEPLOY, "helm", "podterm")
CONTAINERFILE = os.path.join(DEPLOY, "Containerfile")

# What podterm drains for on SIGTERM by default (--shutdown-grace).
SHUTDOWN_GRACE_DEFAULT = 25

DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# Kinds whose name is a DNS-1123 label rather than a subdomain.
LABEL_NAMED = {"Namespace", "Service"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding"}


def manifest_files():
    out = []
    for dirpath, _, files in os.walk(MANIFESTS):
        out += [os.path.join(dirpath, f) for f in files if f.endswith((".yaml", ".yml"))]
    return sorted(out)


def load_docs(text, where):
    docs = [d for d in yaml.safe_load_all(text) if d is not None]
    for d in docs:
        assert isinstance(d, dict), f"{where}: a document that is not a mapping"
    return docs


def plain_objects(include_optional=True):
    objs = []
    for path in manifest_files():
        if not include_optional and os.sep + "optional" + os.sep in path:
            continue
        with open(path) as f:
            objs += [(os.path.relpath(path, ROOT), d) for d in load_docs(f.read(), path)]
    return objs


def key(obj):
    md = obj["metadata"]
    return (obj["kind"], md.get("namespace", ""), md["name"])


# ---- required fields, kind by kind ----


def _need(cond, where, what):
    assert cond, f"{where}: {what}"


def _label_selector_ok(sel, labels, where):
    _need(isinstance(sel, dict) and sel.get("matchLabels"), where, "selector.matchLabels missing")
    for k, v in sel["matchLabels"].items():
        _need(labels.get(k) == v, where, f"selector {k}={v} does not match the pod labels")


def check_object(obj, where, namespaced_must_have_namespace=True):
    """apiVersion, kind, metadata.name, and what the API requires of the kind."""
    for f in ("apiVersion", "kind", "metadata"):
        _need(f in obj, where, f"no {f}")
    kind = obj["kind"]
    where = f"{where} {kind}"
    md = obj["metadata"]
    name = md.get("name")
    _need(isinstance(name, str) and name, where, "no metadata.name")
    pattern = DNS1123_LABEL if kind in LABEL_NAMED else DNS1123_SUBDOMAIN
    _need(pattern.match(name) and len(name) <= (63 if kind in LABEL_NAMED else 253), where,
          f"metadata.name {name!r} is not a valid DNS-1123 name")
    if kind in CLUSTER_SCOPED:
        _need("namespace" not in md, where, "a cluster-scoped object has a namespace")
    elif namespaced_must_have_namespace:
        _need(md.get("namespace"), where, "a namespaced object without metadata.namespace")
    for k, v in (md.get("labels") or {}).items():
        _need(isinstance(v, str) and len(v) <= 63, where, f"label {k} must be a string")
    for k, v in (md.get("annotations") or {}).items():
        _need(isinstance(v, str), where, f"annotation {k} must be a string (quote it)")
    CHECKS.get(kind, _no_check)(obj, where)


def _no_check(obj, where):
    raise AssertionError(f"{where}: no required-field check for this kind: add one")


def _check_namespace(obj, where):
    _need(obj["apiVersion"] == "v1", where, "apiVersion")


def _check_service_account(obj, where):
    _need(obj["apiVersion"] == "v1", where, "apiVersion")


def _check_cluster_role(obj, where):
    _need(obj["apiVersion"] == "rbac.authorization.k8s.io/v1", where, "apiVersion")
    for r in obj.get("rules") or []:
        _need(r.get("verbs"), where, "a rule without verbs")
        _need(("resources" in r) != ("nonResourceURLs" in r), where,
              "a rule names resources or nonResourceURLs, not both or neither")
        if "resources" in r:
            _need("apiGroups" in r, where, "a resource rule without apiGroups")


def _check_binding(obj, where):
    _need(obj["apiVersion"] == "rbac.authorization.k8s.io/v1", where, "apiVersion")
    ref = obj.get("roleRef") or {}
    _need(ref.get("apiGroup") == "rbac.authorization.k8s.io" and ref.get("kind") and ref.get("name"),
          where, "roleRef needs apiGroup, kind, name")
    for s in obj.get("subjects") or []:
        _need(s.get("kind") in ("User", "Group", "ServiceAccount") and s.get("name"), where,
              "a subject needs kind and name")
        if s["kind"] == "ServiceAccount":
            _need(s.get("namespace"), where, "a ServiceAccount subject needs its namespace")


def _check_config_map(obj, where):
    _need(obj["apiVersion"] == "v1", where, "apiVersion")
    for k, v in (obj.get("data") or {}).items():
        _need(re.match(r"^[-._a-zA-Z0-9]+$", k), where, f"data key {k!r} is not a valid key")
        _need(isinstance(v, str), where, f"data {k} must be a string")


def _check_pvc(obj, where):
    _need(obj["apiVersion"] == "v1", where, "apiVersion")
    spec = obj.get("spec") or {}
    modes = spec.get("accessModes")
    _need(isinstance(modes, list) and modes and
          set(modes) <= {"ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"},
          where, "accessModes")
    storage = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
    _need(isinstance(storage, str) and re.match(r"^[0-9]+(\.[0-9]+)?([KMGTPE]i?)?$", storage),
          where, "resources.requests.storage")


def _check_containers(spec, where):
    cs = spec.get("containers")
    _need(isinstance(cs, list) and cs, where, "no containers")
    names = set()
    for c in cs + (spec.get("initContainers") or []):
        _need(c.get("name") and DNS1123_LABEL.match(c["name"]), where, "a container without a valid name")
        _need(c["name"] not in names, where, f"container name {c['name']} twice")
        names.add(c["name"])
        _need(c.get("image"), where, f"container {c['name']} has no image")
        for p in c.get("ports") or []:
            _need(isinstance(p.get("containerPort"), int) and 0 < p["containerPort"] < 65536, where,
                  "containerPort")
            if "name" in p:
                _need(DNS1123_LABEL.match(p["name"]) and len(p["name"]) <= 15, where, "port name")
        mounts = {m["name"] for m in c.get("volumeMounts") or []}
        vols = {v["name"] for v in spec.get("volumes") or []}
        _need(mounts <= vols, where, f"mounts of undeclared volumes: {sorted(mounts - vols)}")


def _check_deployment(obj, where):
    _need(obj["apiVersion"] == "apps/v1", where, "apiVersion")
    spec = obj.get("spec") or {}
    tmpl = spec.get("template") or {}
    labels = (tmpl.get("metadata") or {}).get("labels") or {}
    _label_selector_ok(spec.get("selector"), labels, where)
    _check_containers(tmpl.get("spec") or {}, where)


def _check_service(obj, where):
    _need(obj["apiVersion"] == "v1", where, "apiVersion")
    ports = (obj.get("spec") or {}).get("ports")
    _need(ports, where, "no ports")
    for p in ports:
        _need(isinstance(p.get("port"), int), where, "a port without a number")
    _need(obj["spec"].get("selector"), where, "no selector (the Deployment's pods are its endpoints)")


def _check_pdb(obj, where):
    _need(obj["apiVersion"] == "policy/v1", where, "apiVersion")
    spec = obj.get("spec") or {}
    _need(("minAvailable" in spec) != ("maxUnavailable" in spec), where,
          "exactly one of minAvailable, maxUnavailable")
    _need((spec.get("selector") or {}).get("matchLabels"), where, "no selector")


def _check_network_policy(obj, where):
    _need(obj["apiVersion"] == "networking.k8s.io/v1", where, "apiVersion")
    spec = obj.get("spec") or {}
    _need("podSelector" in spec, where, "no podSelector")
    for t in spec.get("policyTypes") or []:
        _need(t in ("Ingress", "Egress"), where, f"policyType {t}")


def _check_ingress(obj, where):
    _need(obj["apiVersion"] == "networking.k8s.io/v1", where, "apiVersion")
    for rule in obj["spec"].get("rules") or []:
        for p in rule["http"]["paths"]:
            _need(p.get("pathType") in ("Exact", "Prefix", "ImplementationSpecific"), where, "pathType")
            svc = p["backend"]["service"]
            _need(svc.get("name") and ("name" in svc["port"]) != ("number" in svc["port"]), where,
                  "backend service needs a name and a port name or number")


CHECKS = {
    "Namespace": _check_namespace,
    "ServiceAccount": _check_service_account,
    "ClusterRole": _check_cluster_role,
    "ClusterRoleBinding": _check_binding,
    "ConfigMap": _check_config_map,
    "PersistentVolumeClaim": _check_pvc,
    "Deployment": _check_deployment,
    "Service": _check_service,
    "PodDisruptionBudget": _check_pdb,
    "NetworkPolicy": _check_network_policy,
    "Ingress": _check_ingress,
}


# ---- Pod Security Standards, "restricted" (which includes "baseline") ----

# Baseline "Sysctls": the safe set.
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}
# Restricted "Volume Types".
RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                      "persistentVolumeClaim", "projected", "secret"}
SELINUX_TYPES = {None, "", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}


def restricted_violations(pod_spec):
    """Every rule of the restricted profile this pod spec breaks, as text."""
    bad = []
    psc = pod_spec.get("securityContext") or {}
    containers = (pod_spec.get("containers") or []) + (pod_spec.get("initContainers") or []) + (
        pod_spec.get("ephemeralContainers") or [])
    # baseline: host namespaces, HostProcess
    for f in ("hostNetwork", "hostPID", "hostIPC"):
        if pod_spec.get(f):
            bad.append(f"{f} must be unset or false")
    if (psc.get("windowsOptions") or {}).get("hostProcess"):
        bad.append("windowsOptions.hostProcess")
    # baseline: sysctls
    for s in psc.get("sysctls") or []:
        if s.get("name") not in SAFE_SYSCTLS:
            bad.append(f"sysctl {s.get('name')} is not in the safe set")
    # restricted: volume types (hostPath among them)
    for v in pod_spec.get("volumes") or []:
        kinds = set(v) - {"name"}
        if not kinds <= RESTRICTED_VOLUMES:
            bad.append(f"volume {v.get('name')}: type {sorted(kinds - RESTRICTED_VOLUMES)}")

    def seccomp_ok(sc):
        t = (sc.get("seccompProfile") or {}).get("type")
        return t in ("RuntimeDefault", "Localhost")

    pod_seccomp = seccomp_ok(psc)
    if (psc.get("seccompProfile") or {}).get("type") == "Unconfined":
        bad.append("pod seccompProfile Unconfined")
    if psc.get("runAsUser") == 0:
        bad.append("pod runAsUser 0")
    for f in ("user", "role"):
        if (psc.get("seLinuxOptions") or {}).get(f):
            bad.append(f"pod seLinuxOptions.{f} must be unset")
    if (psc.get("seLinuxOptions") or {}).get("type") not in SELINUX_TYPES:
        bad.append("pod seLinuxOptions.type")
    if (psc.get("appArmorProfile") or {}).get("type") not in (None, "RuntimeDefault", "Localhost"):
        bad.append("pod appArmorProfile")

    for c in containers:
        n = c.get("name")
        sc = c.get("securityContext") or {}
        if sc.get("privileged"):
            bad.append(f"{n}: privileged")
        if (sc.get("windowsOptions") or {}).get("hostProcess"):
            bad.append(f"{n}: hostProcess")
        for p in c.get("ports") or []:
            if p.get("hostPort"):
                bad.append(f"{n}: hostPort {p['hostPort']}")
        if sc.get("procMount") not in (None, "Default"):
            bad.append(f"{n}: procMount")
        for f in ("user", "role"):
            if (sc.get("seLinuxOptions") or {}).get(f):
                bad.append(f"{n}: seLinuxOptions.{f}")
        if (sc.get("seLinuxOptions") or {}).get("type") not in SELINUX_TYPES:
            bad.append(f"{n}: seLinuxOptions.type")
        if (sc.get("appArmorProfile") or {}).get("type") not in (None, "RuntimeDefault", "Localhost"):
            bad.append(f"{n}: appArmorProfile")
        # restricted: privilege escalation
        if sc.get("allowPrivilegeEscalation") is not False:
            bad.append(f"{n}: allowPrivilegeEscalation must be false")
        # restricted: running as non-root (container overrides the pod)
        nonroot = sc.get("runAsNonRoot", psc.get("runAsNonRoot"))
        if nonroot is not True:
            bad.append(f"{n}: runAsNonRoot must be true (pod or container)")
        if sc.get("runAsUser") == 0:
            bad.append(f"{n}: runAsUser 0")
        # restricted: seccomp
        t = (sc.get("seccompProfile") or {}).get("type")
        if t == "Unconfined" or not (t in ("RuntimeDefault", "Localhost") or (t is None and pod_seccomp)):
            bad.append(f"{n}: seccompProfile must be RuntimeDefault or Localhost (pod or container)")
        # restricted: capabilities
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            bad.append(f"{n}: capabilities.drop must include ALL")
        for a in caps.get("add") or []:
            if a != "NET_BIND_SERVICE":
                bad.append(f"{n}: capability {a} added")
    return bad


def pod_specs(objs):
    """(where, pod spec) of every workload among the objects."""
    for where, o in objs:
        if o["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"):
            yield f"{where} {o['kind']}/{o['metadata']['name']}", o["spec"]["template"]["spec"]
        elif o["kind"] == "Pod":
            yield f"{where} Pod/{o['metadata']['name']}", o["spec"]


# ---- podterm's effective flags ----

# Flags that may be repeated (a list in the config file); main.c's
# main_flags_repeatable.
REPEATABLE_FLAGS = {"allowed-origin", "allowed-host", "authorization-rbac-file"}


def config_file_args(flags):
    """A config file's flags: mapping as podterm turns it into arguments
    (src/config/config_flags.c): a switch true is --name, false nothing; a
    list (repeatable flags only) one --name=value each; else --name=value."""
    args = []
    for name, v in flags.items():
        if isinstance(v, bool):
            if v:
                args.append(f"--{name}")
        elif isinstance(v, list):
            assert name in REPEATABLE_FLAGS, f"flag {name} takes one value, not a list"
            args += [f"--{name}={x}" for x in v]
        else:
            assert isinstance(v, (str, int, float)), f"flag {name}: {v!r}"
            args.append(f"--{name}={v}")
    return args


def podterm_args(dep, objs):
    """The arguments podterm acts on in this Deployment: the flags of the
    --config file (read from the ConfigMap mounted where the argument points),
    then the container's own arguments, which win."""
    spec = dep["spec"]["template"]["spec"]
    c = spec["containers"][0]
    cli = [a for a in c.get("args", []) if not a.startswith("--config=")]
    paths = [a.split("=", 1)[1] for a in c.get("args", []) if a.startswith("--config=")]
    assert len(paths) <= 1, paths
    if not paths:
        return cli
    folder, name = os.path.split(paths[0])
    mount = [m for m in c["volumeMounts"] if m["mountPath"] == folder]
    assert len(mount) == 1, f"--config={paths[0]}: no volume mounted at {folder}"
    vol = [v for v in spec["volumes"] if v["name"] == mount[0]["name"]][0]
    cm_name = vol["configMap"]["name"]
    cms = [o for _, o in objs if o["kind"] == "ConfigMap" and o["metadata"]["name"] == cm_name]
    assert len(cms) == 1, f"ConfigMap {cm_name}: {len(cms)} objects"
    doc = yaml.safe_load(cms[0]["data"][name])
    assert set(doc) <= {"flags"}, f"{cm_name}: gateway mode's config holds flags only"
    return config_file_args(doc.get("flags") or {}) + cli
