#!/usr/bin/env bash
# Finishes the CUDA shimmy binary on a machine with the CUDA toolkit but no Rust, from the bundle
# that scripts/gpu/build-here.sh made: replays the binding crate's CMake configure and build of
# llama.cpp (GGML_CUDA=ON, same flags and environment, SOURCE_DATE_EPOCH=0 so no -march=native),
# then replays rustc's final link with the real libraries.
#
# The one difference from the Dockerfile's link: there, build.rs bundles llama.cpp's static
# libraries and cudart_static/cublas_static/cublasLt_static/culibos into the binding crate's rlib
# and the linker takes what it needs from that archive. Here the same archives are given to the
# linker directly, in one --start-group/--end-group (the same search: an archive is rescanned until
# nothing new resolves). libcuda.so.1 stays the only dynamic CUDA library. If the machine has no
# ld.lld, GNU ld links instead of rustc's bundled rust-lld.
#
# Usage: scripts/gpu/build-on-device.sh BUNDLE_DIR WORK_DIR   (writes WORK_DIR/shimmy)
# Env LLAMA_BUILT=DIR: the llama.cpp that an earlier run built from the same CMake capture (its
# WORK_DIR/out), linked again instead of built again (a second shimmy build, patched or not).
# Env PRUNED_CUDA_LIBS=DIR[:DIR...]: also link WORK_DIR/shimmy-<name of DIR> against the static cuBLAS and
# cuBLASLt in each DIR (scripts/gpu/prune-cuda-libs.sh writes them; the link waits for DIR/.done),
# everything else unchanged, and report both binaries' sizes and the GPU code they carry.
set -euo pipefail
bundle=$(realpath "$1")
work=$(realpath -m "$2")
cuda=${CUDA_HOME:-/usr/local/cuda}
jobs=$(nproc)
# shellcheck source=/dev/null
source "$bundle/bundle.env"

rm -rf "$work" && mkdir -p "$work/capture" "$work/src"
tar -xzf "$bundle/llama-src.tar.gz" -C "$work/src"
tar -xzf "$bundle/capture.tar.gz" -C "$work/capture"
src=$work/src/$(basename "$LLAMA_SRC")
old_prefix=$(sed -n 's/^-DCMAKE_INSTALL_PREFIX=//p' "$work/capture/cmake-configure.args")
prefix=$work/out

rewrite() { # map build-machine paths to this machine's
    local a=$1
    a=${a//"$old_prefix"/"$prefix"}
    a=${a//"$LLAMA_SRC"/"$src"}
    a=${a//"$FAKE_CUDA"/"$cuda"}
    printf '%s' "$a"
}

# CMake, as build.rs ran it: same arguments and environment; the parallelism build.rs would set here.
configure=()
while IFS= read -r a; do
    case $a in
    -DCMAKE_BUILD_PARALLEL_LEVEL=*) configure+=("-DCMAKE_BUILD_PARALLEL_LEVEL=$jobs") ;;
    *) configure+=("$(rewrite "$a")") ;;
    esac
done <"$work/capture/cmake-configure.args"
while IFS= read -r line; do export "${line?}"; done <"$work/capture/cmake-configure.env"
export CMAKE_BUILD_PARALLEL_LEVEL=$jobs CUDA_PATH=$cuda PATH=$cuda/bin:$PATH
unset CMAKE_GENERATOR
if [[ -n ${LLAMA_BUILT:-} ]]; then
    same() { sed -e "s#$(sed -n 's/^-DCMAKE_INSTALL_PREFIX=//p' "$1")#@OUT@#g" "$1"; }
    cmp -s <(same "$work/capture/cmake-configure.args") <(same "$LLAMA_BUILT/../capture/cmake-configure.args") ||
        { echo "build-on-device: $LLAMA_BUILT was configured differently" >&2; exit 1; }
    prefix=$(realpath "$LLAMA_BUILT")
else
    mkdir -p "$prefix/build"
    (cd "$prefix/build" && cmake "${configure[@]}")
    cmake --build "$prefix/build" --target install --config Release --parallel "$jobs"
fi

# The final link, as rustc issued it, with the archives build.rs would have bundled.
use_lld=$(command -v ld.lld >/dev/null && echo yes || echo no)
link_binary() { # OUT CUDA_STATIC_DIR: cudart/culibos always from the toolkit, cuBLAS(Lt) from the dir
    local out=$1 blas_dir=$2 native link inserted a lib
    native=("$prefix"/lib/*.a)
    [[ -d $prefix/lib64 ]] && native+=("$prefix"/lib64/*.a)
    native+=("$cuda/lib64/libcudart_static.a" "$blas_dir/libcublas_static.a" "$blas_dir/libcublasLt_static.a")
    native+=("$cuda/lib64/libculibos.a")
    link=()
    inserted=no
    while IFS= read -r a; do
        case $a in
        @IN@/*) link+=("$work/capture/link/inputs/${a#@IN@/}") ;;
        @OUT@) link+=("$out") ;;
        -B*/gcc-ld) ;;
        -fuse-ld=lld) [[ $use_lld == yes ]] && link+=("$a") ;;
        -Wl,-Bdynamic)
            if [[ $inserted == no ]]; then
                link+=("-Wl,--start-group" "${native[@]}" "-Wl,--end-group")
                inserted=yes
            fi
            link+=("$a")
            ;;
        *) link+=("$(rewrite "$a")") ;;
        esac
    done <"$work/capture/link/link.args"
    printf '%q ' cc "${link[@]}" >"$out.link-command.sh"
    echo >>"$out.link-command.sh"
    cc "${link[@]}"
    strip "$out"
}
describe() { # what a binary carries: size, dynamic libraries, GPU code per architecture
    echo "built $1 ($(stat -c %s "$1") bytes stripped; linker: $([[ $use_lld == yes ]] && echo lld || echo GNU ld))"
    ldd "$1" || true
    echo "cuobjdump --list-elf (SASS) by architecture:"
    { cuobjdump --list-elf "$1" || true; } | sed 's/.*\.\(sm_[0-9a-z]*\)\..*/\1/' | sort | uniq -c
    echo "cuobjdump --list-ptx (PTX) by architecture:"
    { cuobjdump --list-ptx "$1" 2>&1 || true; } | sed 's/.*\.\(sm_[0-9a-z]*\)\..*/\1/' | sort | uniq -c
    { size -A "$1" || true; } | grep -E '^\.(text|rodata|nv_fatbin) ' | while read -r name bytes _; do
        echo "section $name: $bytes bytes"
    done || true
}
link_binary "$work/shimmy" "$cuda/lib64" &
pids=($!)
IFS=: read -r -a pruned_dirs <<<"${PRUNED_CUDA_LIBS:-}"
for dir in "${pruned_dirs[@]}"; do
    ( # a failed prune (DIR/.failed) or link leaves that variant out; the main binary stands
        while [[ ! -e $dir/.done ]]; do
            [[ -e $dir/.failed ]] && exit 0
            sleep 2
        done
        link_binary "$work/shimmy-$(basename "$dir")" "$dir" || echo "link against $dir failed"
    ) &
    pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
describe "$work/shimmy"
for dir in "${pruned_dirs[@]}"; do
    if [[ -x $work/shimmy-$(basename "$dir") ]]; then describe "$work/shimmy-$(basename "$dir")"; fi
done
