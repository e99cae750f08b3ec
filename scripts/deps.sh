#!/usr/bin/env bash
# Installs what podterm needs to build, run and test, and nothing when it is all
# there already: `make run` and `make test` call this every time, so the fast
# path (a dpkg query and two lockfile checks) must stay well under a second.
#
# Usage: scripts/deps.sh [build|test]
#   build: libraries and tools to build and serve (the default)
#   test:  also the real clients the suites drive (Chromium, python3-kubernetes, ...)
set -euo pipefail
cd "$(dirname "$0")/.."

what=${1:-build}

build_pkgs=(gcc make cmake pkg-config clang libclang-rt-14-dev
    libwebsockets-dev libwebsockets-evlib-uv libuv1-dev libssl-dev
    libjansson-dev libjwt-dev libfyaml-dev libcmocka-dev zlib1g-dev libvterm-dev)
# llvm-14: llvm-profdata and llvm-cov for the coverage step of scripts/test.sh.
# prometheus: the real server and promtool of tests/interop/test_metrics.py.
# asciinema: plays recordings back in tests/interop (a recording must replay there).
test_pkgs=(chromium python3 python3-kubernetes python3-pytest python3-websocket
    tmux openssl procps iproute2 curl llvm-14 prometheus asciinema)

pkgs=("${build_pkgs[@]}")
[ "$what" = test ] && pkgs+=("${test_pkgs[@]}")

# Node and npm may come from elsewhere than Debian (a machine image's own
# Node with its bundled npm): only a missing command asks apt for them.
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)

missing=()
for p in "${pkgs[@]}"; do
    # Only "install ok installed" counts: a removed package leaves a config-files entry.
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "deps: installing ${missing[*]}" >&2
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >&2
fi

# npm ci only when the lockfile changed since the last install, so reruns are instant.
npm_ci() {
    local dir=$1
    [ -f "$dir/package-lock.json" ] || return 0
    if [ ! -f "$dir/node_modules/.package-lock.json" ] ||
        [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
        echo "deps: npm ci in $dir" >&2
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
    fi
}
npm_ci web
[ "$what" = test ] && npm_ci tests
exit 0
