#!/usr/bin/env bash
# Stands in for `cmake` (through the cmake crate's CMAKE variable) while the Rust side of shimmy is
# compiled on a machine without nvcc. It records the exact configure command the binding crate's
# build.rs issues (flags, CMAKE_* passthrough, GGML_CUDA=ON) so the CUDA machine can replay it,
# and installs empty archives under the install prefix so build.rs finds library names to link.
# The real llama.cpp/ggml-cuda build and the final link happen on the CUDA machine
# (scripts/gpu/build-on-device.sh), from what this script and link-capture.sh recorded.
set -euo pipefail
: "${SHIMMY_GPU_CAPTURE:?directory for the captured build steps}"
real_cmake=${SHIMMY_GPU_REAL_CMAKE:-/usr/bin/cmake}

case "${1:-}" in
--version) exec "$real_cmake" --version ;;
--build)
    printf '%s\n' "$@" >"$SHIMMY_GPU_CAPTURE/cmake-build.args"
    prefix=$(sed -n 's/^-DCMAKE_INSTALL_PREFIX=//p' "$SHIMMY_GPU_CAPTURE/cmake-configure.args")
    mkdir -p "$prefix/lib"
    # The library names the real install produces (checked on the device build).
    for lib in llama ggml ggml-base ggml-cpu ggml-cuda; do
        ar rc "$prefix/lib/lib$lib.a"
    done
    ;;
*)
    mkdir -p "$SHIMMY_GPU_CAPTURE"
    printf '%s\n' "$PWD" >"$SHIMMY_GPU_CAPTURE/cmake-configure.cwd"
    printf '%s\n' "$@" >"$SHIMMY_GPU_CAPTURE/cmake-configure.args"
    env | grep -E '^(CMAKE_|CFLAGS|CXXFLAGS|SOURCE_DATE_EPOCH|CC|CXX)' | sort >"$SHIMMY_GPU_CAPTURE/cmake-configure.env" || true
    ;;
esac
