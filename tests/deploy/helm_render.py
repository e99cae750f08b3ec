"""A renderer for the subset of Helm's Go templates that deploy/helm/podterm uses.

There is no helm binary on the machines that run `make test` (and nothing can
be downloaded), so the chart is rendered here. The subset is small on purpose,
and everything outside it is an error rather than a guess, so a template
cannot silently render to something Helm would not produce:

  {{ expr }} {{- expr }} {{ expr -}}     output, with Go's whitespace trimming
  {{ if PIPE }} ... {{ else }} ... {{ end }}
  {{ range PIPE }} ... {{ end }}          over a list; `.` is the element
  values   .  .Values.a.b  .Release.Name|Namespace|Service  .Chart.Name|Version|AppVersion
           $.Values...  "string"  123
  funcs    toYaml X | nindent N | indent N | quote X | add A B ...

A missing key is an error (Helm would print "<no value>": a typo in a
template or in values would otherwise pass).
"""
import json
import os
import re

import yaml

ACTION = re.compile(r"\{\{(- )?(.*?)( -)?\}\}", re.S)


class TemplateError(Exception):
    pass


# ---- parsing ----


def _lex(src):
    """Text and action tokens with Go's trim markers applied to the text."""
    out = []
    pos = 0
    for m in ACTION.finditer(src):
        text = src[pos : m.start()]
        if m.group(1):
            text = text.rstrip(" \t\r\n")
        out.append(("text", text))
        out.append(("action", m.group(2).strip()))
        pos = m.end()
        if m.group(3):
            # trim the whitespace that follows, lazily: mark it
            out.append(("trim", None))
    out.append(("text", src[pos:]))
    # apply right-trims
    res = []
    trim_next = False
    for kind, val in out:
        if kind == "trim":
            trim_next = True
            continue
        if kind == "text" and trim_next:
            val = val.lstrip(" \t\r\n")
        trim_next = False
        res.append((kind, val))
    if "{{" in "".join(v for k, v in res if k == "text") or "}}" in "".join(
        v for k, v in res if k == "text"
    ):
        raise TemplateError("an action this renderer cannot parse (e.g. {{-x}} without a space)")
    return res


def _parse(tokens, i=0, closers=()):
    """Nodes until one of `closers` ("end", "else"); returns (nodes, index, closer)."""
    nodes = []
    while i < len(tokens):
        kind, val = tokens[i]
        i += 1
        if kind == "text":
            if val:
                nodes.append(("text", val))
            continue
        word = val.split(None, 1)[0] if val else ""
        if word in ("end", "else"):
            if word not in closers:
                raise TemplateError(f"unexpected {{{{ {val} }}}}")
            return nodes, i, word
        if word == "if":
            then, i, closer = _parse(tokens, i, ("end", "else"))
            other = []
            if closer == "else":
                other, i, _ = _parse(tokens, i, ("end",))
            nodes.append(("if", val[2:].strip(), then, other))
        elif word == "range":
            body, i, _ = _parse(tokens, i, ("end",))
            rest = val[5:].strip()
            if ":=" in rest:
                raise TemplateError("range with variables is outside the subset")
            nodes.append(("range", rest, body))
        elif word in ("with", "define", "template", "include", "block", "tpl") or val.startswith(
            "/*"
        ):
            raise TemplateError(f"{{{{ {val} }}}} is outside the subset this renderer implements")
        else:
            nodes.append(("expr", val))
    if closers:
        raise TemplateError("missing {{ end }}")
    return nodes, i, None


# ---- evaluation ----


def _words(cmd):
    words = re.findall(r'"(?:[^"\\]|\\.)*"|\S+', cmd)
    if not words:
        raise TemplateError("empty command in a pipeline")
    return words


def _lookup(root, dot, word):
    if word == ".":
        return dot
    if word.startswith("$"):
        base, path = root, word[1:]
    elif word.startswith("."):
        base, path = dot, word
    else:
        raise TemplateError(f"unknown word {word!r}")
    if not path:
        return base
    for key in path.lstrip(".").split("."):
        if not isinstance(base, dict) or key not in base:
            raise TemplateError(f"{word}: no key {key!r}")
        base = base[key]
    return base


def _value(root, dot, word):
    if word.startswith('"'):
        return json.loads(word)
    if re.fullmatch(r"-?[0-9]+", word):
        return int(word)
    if word in ("true", "false"):
        return word == "true"
    return _lookup(root, dot, word)


class _Dumper(yaml.SafeDumper):
    pass


def _str_block(dumper, s):
    # Multi-line strings as literal blocks, as Helm's toYaml (go-yaml) writes them.
    style = "|" if "\n" in s else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", s, style=style)


_Dumper.add_representer(str, _str_block)


def _to_yaml(v):
    return yaml.dump(v, Dumper=_Dumper, default_flow_style=False, sort_keys=True).rstrip("\n")


def _indent(n, s):
    return "\n".join((" " * n + line) if line else line for line in str(s).split("\n"))


def _quote(v):
    return json.dumps(_print(v))


def _add(*xs):
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in xs):
        raise TemplateError(f"add needs integers, got {xs!r}")
    return sum(xs)


FUNCS = {
    "toYaml": _to_yaml,
    "nindent": lambda n, s: "\n" + _indent(n, s),
    "indent": _indent,
    "quote": _quote,
    "add": _add,
}


def _pipeline(root, dot, expr):
    piped = None
    first = True
    for cmd in expr.split("|"):
        words = _words(cmd.strip())
        if words[0] in FUNCS:
            args = [_value(root, dot, w) for w in words[1:]]
            if not first:
                args.append(piped)
            piped = FUNCS[words[0]](*args)
        else:
            if len(words) != 1 or not first:
                raise TemplateError(f"{cmd.strip()!r}: not a function of the subset")
            piped = _value(root, dot, words[0])
        first = False
    return piped


def _truthy(v):
    return v not in (None, False, 0, "") and not (isinstance(v, (list, dict)) and not v)


def _print(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        raise TemplateError("printing a null value")
    if isinstance(v, (dict, list)):
        raise TemplateError("printing a map or list without toYaml")
    return str(v)


def _eval(nodes, root, dot, out):
    for node in nodes:
        kind = node[0]
        if kind == "text":
            out.append(node[1])
        elif kind == "expr":
            out.append(_print(_pipeline(root, dot, node[1])))
        elif kind == "if":
            branch = node[2] if _truthy(_pipeline(root, dot, node[1])) else node[3]
            _eval(branch, root, dot, out)
        elif kind == "range":
            seq = _pipeline(root, dot, node[1])
            if seq is None:
                continue
            if not isinstance(seq, list):
                raise TemplateError("range over something other than a list")
            for item in seq:
                _eval(node[2], root, item, out)


def render_string(src, root):
    nodes, _, _ = _parse(_lex(src))
    out = []
    _eval(nodes, root, root, out)
    return "".join(out)


def merge(base, over):
    """Helm's values merge: maps merge key by key, anything else replaces."""
    res = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(res.get(k), dict):
            res[k] = merge(res[k], v)
        else:
            res[k] = v
    return res


def render_chart(chart_dir, release="podterm", namespace="podterm", values=None):
    """{template file name: rendered text} for every template, like `helm template`."""
    with open(os.path.join(chart_dir, "Chart.yaml")) as f:
        chart = yaml.safe_load(f)
    with open(os.path.join(chart_dir, "values.yaml")) as f:
        vals = yaml.safe_load(f) or {}
    if values:
        vals = merge(vals, values)
    root = {
        "Values": vals,
        "Release": {"Name": release, "Namespace": namespace, "Service": "Helm"},
        "Chart": {
            "Name": chart["name"],
            "Version": chart["version"],
            "AppVersion": chart.get("appVersion", ""),
        },
    }
    tdir = os.path.join(chart_dir, "templates")
    out = {}
    for name in sorted(os.listdir(tdir)):
        if name.startswith("_") or not name.endswith(".yaml"):
            continue
        with open(os.path.join(tdir, name)) as f:
            out[name] = render_string(f.read(), root)
    return out
