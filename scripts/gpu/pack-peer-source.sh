#!/usr/bin/env bash
# Packs the llama.cpp that the llama-cpp-python sdist vendors into a tarball small enough for the GPU
# machine (about 6 MB instead of 77): the sources that llama-server and llama-bench need, without
# the vocabulary models, docs, tests and the web UI's sources (the server then embeds no UI).
#
# Usage: scripts/gpu/pack-peer-source.sh OUT.tar.xz [VERSION]   (VERSION default 0.3.36)
# Prints the vendored llama.cpp commit (the sdist carries its submodule's git metadata).
set -euo pipefail
out=$(realpath -m "$1")
version=${2:-0.3.36}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --no-binary :all: "llama-cpp-python==$version" -d "$tmp"
tar -xzf "$tmp/llama_cpp_python-$version.tar.gz" -C "$tmp"
src=$tmp/llama_cpp_python-$version/vendor/llama.cpp
git -C "$src" log -1 --format='vendored llama.cpp: commit %H (%cd) %s' 2>/dev/null || echo "vendored llama.cpp: commit unknown"
grep -E 'set\(GGML_VERSION_(MAJOR|MINOR|PATCH)' "$src/ggml/CMakeLists.txt"
tar -C "$src" --exclude='tools/ui/src' --exclude='tools/ui/tests' --exclude='*.gguf' -cf - \
    CMakeLists.txt CMakePresets.json LICENSE licenses cmake ggml src include common vendor tools app \
    scripts/ui-assets.cmake | xz -T2 -6 >"$out"
ls -l "$out"
