#!/usr/bin/env bash
# Builds the peers of the comparison, llama.cpp's own `llama-server` and `llama-bench`, with CUDA,
# from the llama.cpp that the llama-cpp-python sdist vendors (vendor/llama.cpp; FACTS). For the
# measurement only: nothing built here is committed or shipped.
#
# Usage: scripts/gpu/build-peers-on-device.sh SRC_TARBALL WORK_DIR [ARCHS]   (ARCHS default "90")
#   SRC_TARBALL: vendor/llama.cpp of llama-cpp-python's sdist, packed without models/docs/tests
#   (scripts/gpu/pack-peer-source.sh). Writes WORK_DIR/bin/llama-server and WORK_DIR/bin/llama-bench.
# No -march=native (GGML_NATIVE=OFF, like shimmy's recipe) and the same -march=x86-64-v3.
set -euo pipefail
tarball=$(realpath "$1")
work=$(realpath -m "$2")
archs=${3:-90}
cuda=${CUDA_HOME:-/usr/local/cuda}
commit=${LLAMA_PEER_COMMIT:-unknown}

rm -rf "$work" && mkdir -p "$work/src"
# python's tarfile reads .tar.xz where no xz program is installed
python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$tarball" "$work/src"
export PATH=$cuda/bin:$PATH
cmake -S "$work/src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="$archs" -DGGML_NATIVE=OFF \
    -DCMAKE_C_FLAGS=-march=x86-64-v3 -DCMAKE_CXX_FLAGS=-march=x86-64-v3 \
    -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
    -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DBUILD_SHARED_LIBS=OFF \
    -DLLAMA_BUILD_COMMIT="$commit" >"$work/configure.log"
ninja -C "$work/build" llama-server llama-bench
mkdir -p "$work/bin"
cp "$work/build/bin/llama-server" "$work/build/bin/llama-bench" "$work/bin/"
"$work/bin/llama-server" --version 2>&1 | tail -2
