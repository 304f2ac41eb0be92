#!/usr/bin/env bash
# Host memory of the CUDA shimmy with our patches, on a GPU machine: what a cuda stack's
# memoryLimit and memoryRequest must hold (shimmy_gpu/bounds.py, docs/gpu-results.md). All layers
# are on the GPU; the host keeps the CUDA context, the binary and whatever of the mapped model
# llama.cpp has not released.
#
# Usage, on the GPU machine from the repository root (one call; a marker in /tmp/gw21 records each
# finished stage while the machine stays warm):
#   bash benchmarks/gpu/host-memory-on-device.sh [STAGE ...]
# with .gpu-carry/ holding bundle-patched/ (scripts/gpu/build-here.sh with the default patches and
# CUDA_ARCHITECTURES=90) and whl/ (the `gguf` wheel).
#
# Stages (benchmarks/gpu/stages.sh):
#   build   llama.cpp and the patched shimmy (scripts/gpu/build-on-device.sh), the phi-3-mini-shaped
#           model (make_model.py)
#   memory  load.py, shimmy alone with 7 contexts (a T4's derived limit) at 1 and 7 concurrent
#           generations, then behind the gate with limit 1: peak VmRSS and RssAnon of the process
set -uo pipefail
R=$(pwd)
C=$R/.gpu-carry
W=/tmp/gw21
OUT=${OUT:-$W/out}
START=$SECONDS
DEADLINE=${DEADLINE_S:-570}
PHI3=$W/models/phi3-mini-random-q4k.gguf
T4_LIMIT=7 # the gate's derived limit for phi-3-mini on a T4 (shimmy_gpu/sizing.py)
export PATH=/usr/local/cuda/bin:$PATH PYTHONUNBUFFERED=1
mkdir -p "$W/logs" "$W/models" "$W/res" "$OUT"
# shellcheck source=benchmarks/gpu/stages.sh
source "$R/benchmarks/gpu/stages.sh"
NEED=([build]=30 [memory]=90)

build_all() { # runs detached; every part logs to $W/logs and leaves NAME.rc
    (
        python3 -m pip install -q --no-index --no-deps --target "$W/site" "$C"/whl/*.whl &&
            PYTHONPATH=$W/site python3 "$R/benchmarks/gpu/make_model.py" "$PHI3"
        echo $? >"$W/models.rc"
    ) >"$W/logs/models.log" 2>&1 &
    (
        bash "$R/scripts/gpu/build-on-device.sh" "$C/bundle-patched" "$W/patched"
        echo $? >"$W/shimmy.rc"
    ) >"$W/logs/shimmy.log" 2>&1 &
    wait
    touch "$W/builds.finished"
}

stage_build() {
    start_builds build_all C R W PHI3
    wait_for_builds
    for f in models shimmy; do echo "$f rc: $(cat "$W/$f.rc" 2>/dev/null || echo running)"; done
    grep -E '^(built|applied)|libcuda' "$W/logs/shimmy.log" | tail -n 20
    [[ -e $W/builds.finished && $(cat "$W/shimmy.rc") == 0 && $(cat "$W/models.rc") == 0 ]]
}

stage_memory() {
    free -m
    local common=(--binary "$W/patched/shimmy" --model "$PHI3" --timeout 120 --log-dir "$W/logs/memory")
    SHIMMY_MAX_PARALLEL=$T4_LIMIT python3 "$R/benchmarks/gpu/load.py" --server shimmy --levels 1,$T4_LIMIT \
        --min-requests 14 "${common[@]}" --label "patched shimmy alone, $T4_LIMIT contexts" \
        --json "$W/res/memory-patched-7.json" | grep -v '^{'
    SHIMMY_MAX_PARALLEL=1 python3 "$R/benchmarks/gpu/load.py" --server gate --limit 1 --levels 1 \
        "${common[@]}" --label "patched shimmy behind the gate, 1 context" \
        --json "$W/res/memory-patched-1.json" | grep -v '^{'
    grep -hE 'offloaded|using device|CUDA0 (model|KV|compute) buffer|CPU_Mapped|CPU (model|KV|compute)' \
        "$W"/logs/memory/*shimmy*.log | sort | uniq -c | head -n 20
}

stages=("$@")
((${#stages[@]})) || stages=(build memory)
run_stages "${stages[@]}"
