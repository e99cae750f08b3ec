"""deploy/Containerfile, parsed (no image can be built on this machine: the
base images come from a container registry it cannot reach). Checked: the
stages and their FROM lines, a numeric non-root USER, no ADD of URLs, the exec
form ENTRYPOINT, no HEALTHCHECK, that the build stage gets every source file
the CMake configure step names, and that the runtime stage installs exactly
the Debian packages whose libraries the built podterm loads."""
import glob
import os
import re
import subprocess

import pytest

import deploylib as dl


def instructions(text):
    """(INSTRUCTION, argument text) with continuation lines joined, comments dropped."""
    out = []
    cur = ""
    for line in text.splitlines():
        if not cur and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.lstrip().startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            cur += line[:-1] + " "
            continue
        cur += line
        word, _, rest = cur.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
        cur = ""
    assert not cur, "the file ends inside a continued line"
    return out


with open(dl.CONTAINERFILE) as _f:
    INSTR = instructions(_f.read())


def stages():
    """[(name, base, [instructions])] in order; global ARGs before the first FROM go to 'args'."""
    res = []
    for word, rest in INSTR:
        if word == "FROM":
            m = re.fullmatch(r"(\S+)(?: AS (\S+))?", rest, re.I)
            assert m, rest
            res.append((m.group(2), m.group(1), []))
        elif res:
            res[-1][2].append((word, rest))
    return res


def global_args():
    args = {}
    for word, rest in INSTR:
        if word == "FROM":
            break
        assert word == "ARG", f"{word} before the first FROM"
        k, _, v = rest.partition("=")
        args[k] = v
    return args


def test_two_named_stages_from_bookworm():
    st = stages()
    assert [s[0] for s in st] == ["build", "runtime"]
    args = global_args()
    bases = [args[s[1][2:-1]] if s[1].startswith("${") else s[1] for s in st]
    assert bases == ["debian:bookworm", "debian:bookworm-slim"]
    for b in bases:
        assert ":" in b and not b.endswith(":latest")


def test_runtime_user_is_numeric_non_root():
    runtime = stages()[-1][2]
    users = [rest for w, rest in runtime if w == "USER"]
    assert users, "no USER: the image would run as root"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) > 0, users[-1]  # restricted's runAsNonRoot checks a number
    assert not gid or (gid.isdigit() and int(gid) > 0)
    # and it matches what the manifests run as
    import yaml
    with open(os.path.join(dl.MANIFESTS, "deployment.yaml")) as f:
        dep = yaml.safe_load(f)
    assert dep["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == int(uid)


def test_entrypoint_healthcheck_add():
    runtime = stages()[-1][2]
    eps = [rest for w, rest in runtime if w == "ENTRYPOINT"]
    assert eps == ['["/usr/local/bin/podterm"]']  # exec form: podterm is PID 1 and gets SIGTERM
    assert not any(w == "HEALTHCHECK" for w, _ in INSTR)  # Kubernetes probes instead
    assert not any(w == "CMD" for w, _ in runtime)
    for w, rest in INSTR:
        if w == "ADD":
            assert not re.search(r"\w+://", rest), f"ADD of a URL: {rest}"
    copies = [rest for w, rest in runtime if w == "COPY"]
    assert copies == ["--from=build /podterm /usr/local/bin/podterm"]


def _apt_packages(stage):
    """The packages `apt-get install` names in the stage's RUNs (a $(...)
    that adds packages conditionally, the UI's node and npm, is left out)."""
    pkgs = []
    for w, rest in stage:
        if w != "RUN":
            continue
        rest = re.sub(r"\$\([^)]*\)", " ", rest)
        for part in rest.split("&&"):
            words = part.split()
            if "apt-get" in words and "install" in words:
                pkgs += [x for x in words[words.index("install") + 1:] if not x.startswith("-")]
    return pkgs


def test_build_stage_has_the_build_libraries_of_deps_sh():
    with open(os.path.join(dl.ROOT, "scripts", "deps.sh")) as f:
        deps = f.read()
    m = re.search(r"build_pkgs=\(([^)]*)\)", deps)
    wanted = set(m.group(1).split())
    # the library headers scripts/deps.sh installs (not the test-only cmocka, not clang)
    libs = {p for p in wanted if p.endswith("-dev") and p not in ("libcmocka-dev", "libclang-rt-14-dev")}
    libs.add("libwebsockets-evlib-uv")
    build = _apt_packages(stages()[0][2])
    assert libs <= set(build), sorted(libs - set(build))
    assert {"cmake", "gcc", "make", "pkg-config"} <= set(build)


def _without_test_blocks(text):
    """The CMake text without its if(PODTERM_TESTS) ... endif() blocks (nested
    ifs counted): what they name is configured only with the tests, which are
    OFF in the image."""
    out, depth = [], 0
    for line in text.splitlines():
        word = line.strip()
        if depth:
            depth += word.startswith("if(") - word.startswith("endif(")
            continue
        if word.startswith("if(PODTERM_TESTS)"):
            depth = 1
            continue
        out.append(line)
    return "\n".join(out)


def _cmake_sources():
    """Every path under the source tree that the configure step names."""
    files = [os.path.join(dl.ROOT, "CMakeLists.txt")] + glob.glob(os.path.join(dl.ROOT, "cmake", "*.cmake"))
    paths = set()
    for f in files:
        with open(f) as fh:
            text = _without_test_blocks(fh.read())
        paths |= set(re.findall(r"\$\{CMAKE_SOURCE_DIR\}/([A-Za-z0-9_./-]+)", text))
    return sorted(p for p in paths if "*" not in p)


def test_build_stage_copies_what_configure_reads():
    copies = []
    for w, rest in stages()[0][2]:
        if w == "COPY":
            srcs = rest.split()[:-1]
            copies += [s.rstrip("/") for s in srcs if not s.startswith("--")]
    need = _cmake_sources()
    assert need, "no source paths found in the CMake files"
    # src/ tools/ web/ and the odd ones out (bench tools, fault injection) are configured even
    # when only the podterm target is built
    for p in need:
        if p.startswith(("tests/unit", "tests/fuzz")):
            continue  # only with PODTERM_TESTS/PODTERM_FUZZ, both OFF in the image
        assert any(p == c or p.startswith(c + "/") for c in copies), f"{p} is not copied into the build stage"


def _needed_packages(binary):
    """Debian packages owning the shared libraries the binary loads (ldd);
    one dpkg query for all (merged /usr: /lib and /usr/lib are one folder)."""
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    libs = re.findall(r"=> (/\S+)", out)
    norm = lambda path: path[4:] if path.startswith("/usr/") else path  # noqa: E731
    r = subprocess.run(["dpkg", "-S", *sorted({os.path.basename(x) for x in libs})],
                       capture_output=True, text=True)
    owners = {}
    for line in r.stdout.splitlines():
        pkg, _, path = line.partition(": ")
        owners.setdefault(norm(path), set()).add(pkg.split(":")[0])
    pkgs = set()
    for lib in libs:
        found = owners.get(norm(lib))
        pkgs |= found if found else {"?" + lib}
    return pkgs


def _depends_closure(pkgs):
    """The packages and everything they depend on, from the local apt cache
    (one recursive call: one per package takes seconds each)."""
    r = subprocess.run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
                        "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances", *sorted(pkgs)],
                       capture_output=True, text=True, check=True)
    return {line.split(":", 1)[0] for line in r.stdout.splitlines() if line and not line[0].isspace()}


def _release_binary():
    for b in (os.path.join(dl.ROOT, "build", "podterm"), os.environ.get("PODTERM_BIN", "")):
        if b and os.access(b, os.X_OK):
            return b
    return None


@pytest.mark.skipif(_release_binary() is None, reason="no podterm binary built")
def test_runtime_packages_are_what_podterm_loads():
    runtime = set(_apt_packages(stages()[-1][2]))
    needed = _needed_packages(_release_binary())
    assert not any(p.startswith("?") for p in needed), needed
    # the sanitizer build may link libraries the product does not: only check the product's
    # own libraries are all covered by the runtime packages and what they depend on
    closure = _depends_closure(runtime)
    base = {"libc6", "libgcc-s1"}  # in every Debian image
    missing = needed - closure - base
    assert not missing, f"runtime stage lacks {sorted(missing)}"
    # and nothing is installed that podterm does not load (the evlib plugin is dlopen'ed)
    extra = runtime - needed - {"libwebsockets-evlib-uv"}
    assert not extra, f"runtime stage installs what podterm does not load: {sorted(extra)}"
