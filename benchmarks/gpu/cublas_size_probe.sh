#!/usr/bin/env bash
# Where the size of a program that links static cuBLAS/cuBLASLt goes, section by section: the
# toolkit's archives against nvprune'd ones (scripts/gpu/prune-cuda-libs.sh), linked as a
# position-independent executable (-pie, how rustc links shimmy) and as a fixed-address one
# (-no-pie). The program creates both handles and runs an SGEMM and an FP16 GemmEx on the GPU,
# so each variant is also shown to run. Run on a machine with the CUDA toolkit.
#
# Usage: benchmarks/gpu/cublas_size_probe.sh WORK_DIR ARCHS   (ARCHS like "75;90")
set -euo pipefail
work=$(realpath -m "$1")
archs=$2
here=$(cd "$(dirname "$0")" && pwd)
cuda=${CUDA_HOME:-/usr/local/cuda}
mkdir -p "$work"
cat >"$work/t.cpp" <<'CPP'
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_fp16.h>
#include <cstdio>
int main() {
    cublasHandle_t h; cublasLtHandle_t lt;
    if (cublasCreate(&h) != CUBLAS_STATUS_SUCCESS) { puts("cublasCreate failed"); return 1; }
    if (cublasLtCreate(&lt) != CUBLAS_STATUS_SUCCESS) { puts("cublasLtCreate failed"); return 1; }
    const int n = 512; float one = 1, zero = 0; float *a; __half *x;
    cudaMalloc((void **) &a, n * n * sizeof(float)); cudaMalloc((void **) &x, n * n * sizeof(__half));
    cudaMemset(a, 0, n * n * sizeof(float)); cudaMemset(x, 0, n * n * sizeof(__half));
    cublasStatus_t s1 = cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, a, n, a, n, &zero, a, n);
    cublasStatus_t s2 = cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, n, n, n, &one, x, CUDA_R_16F, n, x, CUDA_R_16F, n,
                                     &zero, a, CUDA_R_32F, n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
    cudaError_t e = cudaDeviceSynchronize();
    printf("sgemm %d, gemmex f16 %d, sync %s\n", (int) s1, (int) s2, cudaGetErrorString(e));
    return s1 || s2 || e;
}
CPP
[[ -e $work/pruned/.done ]] || bash "$here/../../scripts/gpu/prune-cuda-libs.sh" "$work/pruned" "$archs" >"$work/prune.log" 2>&1
pids=()
for libs in toolkit pruned; do
    dir=$cuda/lib64
    [[ $libs == pruned ]] && dir=$work/pruned
    for pie in pie no-pie; do
        (
            out=$work/t-$libs-$pie
            flags=(-pie -fPIE)
            [[ $pie == no-pie ]] && flags=(-no-pie -fno-PIE)
            g++ -O2 "${flags[@]}" "$work/t.cpp" -I"$cuda/include" -o "$out" -Wl,--gc-sections -Wl,--start-group \
                "$cuda/lib64/libcudart_static.a" "$dir/libcublas_static.a" "$dir/libcublasLt_static.a" \
                "$cuda/lib64/libculibos.a" -Wl,--end-group -L"$cuda/lib64/stubs" -lcuda -ldl -lpthread -lrt
            strip "$out"
        ) &
        pids+=($!)
    done
done
for pid in "${pids[@]}"; do wait "$pid"; done
for f in "$work"/t-*; do
    [[ -x $f ]] || continue
    echo "== $(basename "$f"): $(stat -c %s "$f") bytes stripped; runs: $("$f" 2>&1)"
    size -A "$f" | awk 'NR > 2 && $2 > 1000000 {printf "   %-22s %12d\n", $1, $2}'
done
