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
#   cgroup  shimmy with 7 contexts in a memory cgroup (no swap) at each limit of CGROUP_LIMITS_MIB, 14
#           generations 7 at a time: answered or not, OOM kills, the cgroup's peak and anon/file split
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
NEED=([build]=30 [memory]=90 [cgroup]=200)
CGROUP_LIMITS_MIB=${CGROUP_LIMITS_MIB:-1024 640 480 320 200}

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

# cgroup_root: a writable cgroup v2 (or v1 memory) hierarchy, or nothing
cgroup_root() {
    local d
    for d in /sys/fs/cgroup /sys/fs/cgroup/memory; do
        if mkdir "$d/shimmy-probe" 2>/dev/null; then
            rmdir "$d/shimmy-probe"
            echo "$d"
            return
        fi
    done
}

stage_cgroup() {
    local root mib cg wrapper=$W/in-cgroup.sh
    root=$(cgroup_root)
    [[ -n $root ]] || { echo "no writable cgroup hierarchy: $(stat -fc %T /sys/fs/cgroup)"; return 1; }
    echo "cgroup hierarchy: $root ($(stat -fc %T "$root"))"
    printf '#!/bin/sh\necho $$ >"$CG/cgroup.procs" && exec %q "$@"\n' "$W/patched/shimmy" >"$wrapper"
    chmod +x "$wrapper"
    for mib in $CGROUP_LIMITS_MIB; do
        cg=$root/shimmy-$mib
        mkdir -p "$cg"
        if [[ -e $cg/memory.max ]]; then
            echo $((mib * 1048576)) >"$cg/memory.max"
            echo 0 >"$cg/memory.swap.max" 2>/dev/null
        else
            echo $((mib * 1048576)) >"$cg/memory.limit_in_bytes"
        fi
        echo "-- memory limit ${mib} MiB"
        CG=$cg SHIMMY_MAX_PARALLEL=$T4_LIMIT timeout 150 python3 "$R/benchmarks/gpu/load.py" --server shimmy \
            --binary "$wrapper" --model "$PHI3" --timeout 60 --log-dir "$W/logs/cgroup-$mib" \
            --levels $T4_LIMIT --min-requests 14 --label "shimmy, 7 contexts, limit ${mib} MiB" \
            --json "$W/res/cgroup-$mib.json" | grep -v '^{'
        echo "load.py exit: ${PIPESTATUS[0]}"
        cat "$cg/memory.peak" "$cg/memory.max_usage_in_bytes" 2>/dev/null | sed 's/^/peak bytes: /'
        grep -hE '^(oom|oom_kill) ' "$cg/memory.events" 2>/dev/null
        grep -hE '^(anon|file|total_rss|total_cache) ' "$cg/memory.stat" 2>/dev/null
        pkill -f "$W/patched/shimmy" 2>/dev/null
        sleep 1
        rmdir "$cg" 2>/dev/null
    done
}

stages=("$@")
((${#stages[@]})) || stages=(build memory)
run_stages "${stages[@]}"
