"""deploy/helm/podterm: the chart renders (with tests/deploy/helm_render.py,
as no helm binary is available here), every rendering passes the same checks
as the plain manifests, and the defaults render the plain manifests' objects."""
import os

import pytest
import yaml

import deploylib as dl
import helm_render
import test_manifests as tm

# Labels only Helm adds (its bookkeeping): not part of the comparison.
HELM_ONLY_LABELS = {"app.kubernetes.io/managed-by", "helm.sh/chart"}

VARIANTS = {
    "defaults": {},
    "ingress": {"ingress": {"enabled": True}},
    "jwt-audit-policy": {
        "auth": {"tokenFileKey": "", "jwtKeyFileKey": "jwt.key"},
        "audit": {"required": True, "policy": "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n"},
        "replicaCount": 3,
        "extraArgs": ["--audit-log-maxsize=100"],
        "extraFlags": {"v": 2, "log-format": "json"},
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "tools", "effect": "NoSchedule"}],
    },
    "recordings": {"recordings": {"enabled": True, "required": True, "size": "50Gi",
                                  "storageClassName": "shared-nfs"}},
    "minimal": {"rbac": {"create": False}, "policy": {"enabled": False}, "networkPolicy": {"enabled": False},
                "audit": {"enabled": False}, "extraArgs": ["--pass-through-token"]},
}


def rendered(values=None, release="podterm", namespace="podterm"):
    out = []
    for name, text in helm_render.render_chart(dl.CHART, release, namespace, values).items():
        out += [(f"templates/{name}", d) for d in dl.load_docs(text, name)]
    return out


def test_chart_metadata():
    with open(os.path.join(dl.CHART, "Chart.yaml")) as f:
        chart = yaml.safe_load(f)
    assert chart["apiVersion"] == "v2"
    assert chart["name"] == "podterm"
    assert chart["type"] == "application"
    import re
    assert re.fullmatch(r"\d+\.\d+\.\d+", chart["version"])
    with open(os.path.join(dl.CHART, "values.yaml")) as f:
        values = yaml.safe_load(f)
    assert values["image"]["tag"] == chart["appVersion"]


@pytest.mark.parametrize("variant", VARIANTS)
def test_rendering_passes_the_checks(variant):
    objs = rendered(VARIANTS[variant])
    assert objs
    for where, o in objs:
        dl.check_object(o, where)
    keys = [dl.key(o) for _, o in objs]
    assert len(keys) == len(set(keys))
    tm.check_restricted(objs)
    tm.check_images(objs)
    dep = tm._get("Deployment", objs)
    tm.check_pod_runtime(dep, objs)
    if VARIANTS[variant].get("rbac", {}).get("create", True):
        tm.check_rbac(objs)


def _strip(o):
    o = yaml.safe_load(yaml.safe_dump(o))
    labels = o["metadata"].get("labels") or {}
    for k in HELM_ONLY_LABELS:
        labels.pop(k, None)
    return o


def test_defaults_render_the_plain_manifests():
    plain = {dl.key(o): o for _, o in dl.plain_objects()}
    chart = {dl.key(o): o for _, o in rendered()}
    # Everything but the Namespace (helm --create-namespace) and the optional Ingress.
    assert set(plain) - set(chart) == {("Namespace", "", "podterm"), ("Ingress", "podterm", "podterm")}
    assert set(chart) <= set(plain)
    for k, o in chart.items():
        assert _strip(o) == plain[k], k
    # with the ingress on, it is the optional one
    ing = [o for _, o in rendered({"ingress": {"enabled": True}}) if o["kind"] == "Ingress"]
    assert [_strip(o) for o in ing] == [plain[("Ingress", "podterm", "podterm")]]


def test_values_reach_the_objects():
    objs = rendered(VARIANTS["jwt-audit-policy"], release="term", namespace="tools")
    dep = tm._get("Deployment", objs)
    args = dl.podterm_args(dep, objs)
    assert dep["spec"]["replicas"] == 3
    assert "--jwt-key-file=/etc/podterm/auth/jwt.key" in args
    assert not any(a.startswith("--token-auth-file") for a in args)
    assert "--audit-log-required" in args
    assert "--audit-policy-file=/etc/podterm/audit/audit-policy.yaml" in args
    # extraFlags end the file's flags; extraArgs come after the file and win
    # (toYaml sorts the keys, as Helm's does)
    assert args[-4:] == ["--allowed-host=term.tools.svc", "--log-format=json", "--v=2",
                         "--audit-log-maxsize=100"]
    audit = [o for _, o in objs if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "term-audit"]
    assert yaml.safe_load(audit[0]["data"]["audit-policy.yaml"])["kind"] == "Policy"
    spec = dep["spec"]["template"]["spec"]
    assert spec["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert spec["tolerations"][0]["key"] == "dedicated"
    assert spec["serviceAccountName"] == "term"
    crb = tm._get("ClusterRoleBinding", objs)
    assert crb["subjects"][0] == {"kind": "ServiceAccount", "name": "term", "namespace": "tools"}


def test_recordings_get_a_claim_the_flag_and_a_writable_mount():
    objs = rendered(VARIANTS["recordings"])
    pvc = tm._get("PersistentVolumeClaim", objs)
    assert pvc["metadata"]["name"] == "podterm-recordings"
    assert pvc["spec"] == {"accessModes": ["ReadWriteMany"], "storageClassName": "shared-nfs",
                           "resources": {"requests": {"storage": "50Gi"}}}
    dep = tm._get("Deployment", objs)
    args = dl.podterm_args(dep, objs)
    assert "--recording-dir=/var/lib/podterm/recordings" in args
    assert "--recording-required" in args
    vol = [v for v in dep["spec"]["template"]["spec"]["volumes"] if v["name"] == "recordings"]
    assert vol == [{"name": "recordings", "persistentVolumeClaim": {"claimName": "podterm-recordings"}}]
    # an existing claim: used, none created
    objs = rendered({"recordings": {"enabled": True, "existingClaim": "team-recordings"}})
    assert not [o for _, o in objs if o["kind"] == "PersistentVolumeClaim"]
    vol = [v for v in tm._get("Deployment", objs)["spec"]["template"]["spec"]["volumes"]
           if v["name"] == "recordings"]
    assert vol[0]["persistentVolumeClaim"] == {"claimName": "team-recordings"}
    # off by default: no claim, no flag
    assert "--recording-dir=/var/lib/podterm/recordings" not in dl.podterm_args(
        tm._get("Deployment", rendered()), rendered())


def test_grace_follows_the_drain_values():
    objs = rendered({"shutdownGraceSeconds": 50, "preStopSleepSeconds": 3})
    spec = tm._get("Deployment", objs)["spec"]["template"]["spec"]
    assert spec["terminationGracePeriodSeconds"] == 63
    assert spec["containers"][0]["lifecycle"]["preStop"]["exec"]["command"] == ["/bin/sleep", "3"]
    assert "--shutdown-grace=50s" in dl.podterm_args(tm._get("Deployment", objs), objs)


def test_minimal_has_no_rbac_policy_or_networkpolicy():
    kinds = sorted(o["kind"] for _, o in rendered(VARIANTS["minimal"]))
    assert kinds == ["ConfigMap", "Deployment", "PodDisruptionBudget", "Service", "ServiceAccount"]
    objs = rendered(VARIANTS["minimal"])
    args = dl.podterm_args(tm._get("Deployment", objs), objs)
    assert not any(a.startswith(("--authorization-rbac-file", "--audit-log-path")) for a in args)
    assert "--pass-through-token" in args


# ---- the renderer itself: its subset is honest ----


def test_renderer_trims_and_branches_like_go_templates():
    root = {"Values": {"a": [1, 2], "on": True, "off": "", "m": {"k": "v"}}, "Release": {"Name": "r"}}
    src = "x:\n  {{- range .Values.a }}\n  - {{ . }}\n  {{- end }}\n{{- if .Values.off }}\nno\n{{- else }}\ny: {{ quote .Release.Name }}\n{{- end }}\nm:\n  {{- toYaml .Values.m | nindent 2 }}\nn: {{ add 1 2 3 }}\n"
    assert helm_render.render_string(src, root) == 'x:\n  - 1\n  - 2\ny: "r"\nm:\n  k: v\nn: 6\n'


@pytest.mark.parametrize("src", [
    "{{ .Values.nope }}",                      # a missing value is an error, not "<no value>"
    "{{ include \"x\" . }}",                   # outside the subset
    "{{ with .Values.a }}{{ end }}",
    "{{ .Values.a | upper }}",                 # unknown function
    "{{ if .Values.a }}",                      # unclosed
    "{{-.Values.a}}",                          # Go needs the space after the dash
    "{{ .Values.m }}",                         # a map printed without toYaml
])
def test_renderer_refuses_what_it_does_not_implement(src):
    root = {"Values": {"a": "x", "m": {"k": 1}}}
    with pytest.raises(helm_render.TemplateError):
        helm_render.render_string(src, root)


def test_every_template_action_is_in_the_subset():
    # The whole chart renders in every variant above, so each action of each
    # template was parsed by the renderer; this also covers branches that
    # none of the variants take.
    import re
    tdir = os.path.join(dl.CHART, "templates")
    for name in os.listdir(tdir):
        with open(os.path.join(tdir, name)) as f:
            for m in helm_render.ACTION.finditer(f.read()):
                body = m.group(2).strip()
                word = body.split()[0]
                assert word in ("if", "else", "end", "range", "toYaml", "quote", "add") or re.match(
                    r"^\.(Values|Release|Chart)\.[A-Za-z.]+$|^\.$", body), f"{name}: {body}"
