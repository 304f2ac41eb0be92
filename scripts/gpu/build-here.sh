#!/usr/bin/env bash
# Compiles the Rust side of the CUDA shimmy binary on a machine WITHOUT nvcc, with the generated
# Dockerfile's builder recipe (shimmy_gpu/dockerfile.py): the sha256-pinned shimmy .crate,
# `cargo install --locked --no-default-features --features huggingface,llama-cuda`,
# SOURCE_DATE_EPOCH=0 (no -march=native), CFLAGS/CXXFLAGS=-march=x86-64-v3,
# CMAKE_CUDA_ARCHITECTURES. Two steps are captured instead of run (cmake-capture.sh, link-capture.sh):
# the llama.cpp CMake build and the final link, which scripts/gpu/build-on-device.sh replays on a
# machine with the CUDA toolkit. Output: a bundle directory (default .gpu-bundle, git-ignored)
# small enough to travel to that machine.
#
# Usage: scripts/gpu/build-here.sh [BUNDLE_DIR]
# Env: SHIMMY_VERSION (1.9.0), SHIMMY_CRATE_SHA256, CUDA_ARCHITECTURES ("75;90"), JOBS (2),
# SHIMMY_PATCHES (comma-separated names from docker/patches/shimmy-<version>/, applied in their
# order after the checksum, as the Dockerfile applies them; empty: shimmy as published).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bundle=$(realpath -m "${1:-.gpu-bundle}")
version=${SHIMMY_VERSION:-1.9.0}
sha256=${SHIMMY_CRATE_SHA256:-10de0fc6741dba684633fc364478c72e48bc658c2509e78bc06850657805118d}
archs=${CUDA_ARCHITECTURES:-75;90}
jobs=${JOBS:-2}
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
cache=$SHIMMY_GPU_CACHE/gpu-build
capture=$cache/capture
src=$cache/shimmy-$version

mkdir -p "$cache"
crate=$cache/shimmy-$version.crate
if ! echo "$sha256  $crate" | sha256sum -c --status - 2>/dev/null; then
    curl -fsSL --retry 3 -o "$crate" "https://static.crates.io/crates/shimmy/shimmy-$version.crate"
    echo "$sha256  $crate" | sha256sum -c -
fi
rm -rf "$src" "$capture" && mkdir -p "$src" "$capture"
# The binding crate's build script must run again so that cmake-capture.sh sees its CMake call.
rm -rf "$cache"/target/release/build/shimmy-llama-cpp-sys-2-*
tar -xzf "$crate" -C "$src" --strip-components=1
patches=$here/../../docker/patches/shimmy-$version
for name in ${SHIMMY_PATCHES//,/ }; do
    [[ $name =~ ^[a-z][a-z0-9-]{0,39}$ ]] || { echo "build-here: bad patch name $name" >&2; exit 1; }
    file=$(find "$patches" -maxdepth 1 -name "[0-9][0-9][0-9][0-9]-$name.patch" | head -n 1)
    [[ -n $file ]] || { echo "build-here: no patch $name in $patches" >&2; exit 1; }
    git -C "$src" apply "$file" || { echo "build-here: $(basename "$file") no longer applies" >&2; exit 1; }
    echo "applied $(basename "$file")"
done

# Empty stand-ins for the static CUDA libraries that build.rs names (cudart_static, cublas_static,
# cublasLt_static, culibos): rustc insists on finding them; the real ones are linked on the device.
fake_cuda=$cache/fake-cuda
mkdir -p "$fake_cuda/lib64/stubs"
for lib in cudart_static cublas_static cublasLt_static culibos; do
    [[ -f $fake_cuda/lib64/lib$lib.a ]] || ar rc "$fake_cuda/lib64/lib$lib.a"
done

# The builder stage's environment (shimmy_gpu/dockerfile.py), plus the two capture hooks.
export SOURCE_DATE_EPOCH=0 CFLAGS=-march=x86-64-v3 CXXFLAGS=-march=x86-64-v3
export CMAKE_CUDA_ARCHITECTURES=$archs CUDA_PATH=/usr/local/cuda CUDA_LIBRARY_PATH=$fake_cuda
export CMAKE=$here/cmake-capture.sh CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER=$here/link-capture.sh
export SHIMMY_GPU_CAPTURE=$capture
# The build stops at the final link on purpose (link-capture.sh); success is a captured link.
nice -n 10 cargo install --locked --path "$src" --root "$cache/root" --target-dir "$cache/target" \
    --jobs "$jobs" --no-default-features --features huggingface,llama-cuda || true
[[ -s $capture/link/link.args && -s $capture/cmake-configure.args ]] || {
    echo "build-here: no captured link; see the cargo output above" >&2
    exit 1
}

# The llama.cpp sources the binding crate built from (its build.rs points CMake at them).
sys_src=$(sed -n 1p "$capture/cmake-configure.args")
rm -rf "$bundle" && mkdir -p "$bundle"
tar -C "$(dirname "$sys_src")" -cf - "$(basename "$sys_src")" | gzip -9 >"$bundle/llama-src.tar.gz"
tar -C "$capture" -cf - . | gzip -9 >"$bundle/capture.tar.gz"
printf 'SHIMMY_VERSION=%q\nSHIMMY_PATCHES=%q\nCUDA_ARCHITECTURES=%q\nFAKE_CUDA=%q\nLLAMA_SRC=%q\n' \
    "$version" "${SHIMMY_PATCHES:-}" "$archs" "$fake_cuda" "$sys_src" >"$bundle/bundle.env"
du -sh "$bundle"/*
