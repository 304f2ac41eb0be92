#!/usr/bin/env bash
# Keeps only the GPU code of the configured CUDA architectures in the static cuBLAS and cuBLASLt
# that shimmy's CUDA build links (cudart_static and culibos carry no kernels worth pruning).
# NVIDIA ships those archives with machine code (SASS) for every architecture the toolkit supports
# (sm_75 to sm_121 in CUDA 13.0), and all of it ends up in the shimmy binary.
#
# Usage: scripts/gpu/prune-cuda-libs.sh OUT_DIR "75;90" [ptx]
#   ARCHS as CMAKE_CUDA_ARCHITECTURES writes them (";"-separated, "-real"/"-virtual" suffixes allowed).
#   Without `ptx`: SASS of each architecture only (-gencode arch=compute_XX,code=sm_XX).
#   With `ptx`: also the PTX of the highest one (-gencode arch=compute_XX,code=compute_XX), so that
#   a newer GPU can still JIT-compile cuBLAS's kernels (slowly, on first use).
# Writes OUT_DIR/libcublas_static.a, OUT_DIR/libcublasLt_static.a, then OUT_DIR/.done.
# Env CUDA_HOME (default /usr/local/cuda).
set -euo pipefail
out=$(realpath -m "$1")
archs=$2
ptx=${3:-}
cuda=${CUDA_HOME:-/usr/local/cuda}
nvprune=$cuda/bin/nvprune

gencode=()
highest=0
IFS=';' read -r -a list <<<"$archs"
for a in "${list[@]}"; do
    a=${a%-real}
    a=${a%-virtual}
    gencode+=(-gencode "arch=compute_$a,code=sm_$a")
    if ((10#${a//[^0-9]/} > 10#${highest//[^0-9]/})); then highest=$a; fi
done
if [[ $ptx == ptx ]]; then
    gencode+=(-gencode "arch=compute_$highest,code=compute_$highest")
fi

rm -rf "$out" && mkdir -p "$out"
echo "nvprune $(printf '%s ' "${gencode[@]}")"
pids=()
for lib in cublas cublasLt; do
    (
        start=$SECONDS
        "$nvprune" "${gencode[@]}" -o "$out/lib${lib}_static.a" "$cuda/lib64/lib${lib}_static.a"
        echo "lib${lib}_static.a: $(stat -c %s "$cuda/lib64/lib${lib}_static.a") -> $(stat -c %s "$out/lib${lib}_static.a") bytes ($((SECONDS - start)) s)"
    ) &
    pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
touch "$out/.done"
# What the archives carry before and after, by architecture (SASS: elf, PTX: ptx).
for lib in cublas cublasLt; do
    for f in "$cuda/lib64/lib${lib}_static.a" "$out/lib${lib}_static.a"; do
        for kind in elf ptx; do
            echo "$f $kind: $({ cuobjdump --list-$kind "$f" 2>/dev/null || true; } |
                sed -n 's/.*\.\(sm_[0-9a-z]*\)\..*/\1/p' | sort | uniq -c | tr -s ' \n' ' ')"
        done
    done
done
