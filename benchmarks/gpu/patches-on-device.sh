#!/usr/bin/env bash
# Our patch set on a GPU machine: shimmy 1.9.0 as published, shimmy with our patches, and
# llama.cpp's llama-server, one run on one card, same GGUF, same requests (docs/gpu-results.md).
#
# Usage, on the GPU machine from the repository root, repeated while it stays warm (a marker in
# /tmp/gw18 records each finished stage; each call resumes):
#   bash benchmarks/gpu/patches-on-device.sh [STAGE ...]
# with .gpu-carry/ holding bundle-pristine/ and bundle-patched/ (scripts/gpu/build-here.sh with
# SHIMMY_PATCHES empty and all, CUDA_ARCHITECTURES=90), llama-peer-src.tar.xz
# (scripts/gpu/pack-peer-source.sh) and whl/ (the `gguf` wheel).
#
# Stages (benchmarks/gpu/stages.sh runs them; skipped when too little of the call's DEADLINE_S,
# default 570 s, is left):
#   build   in the background: llama.cpp and the patched shimmy (scripts/gpu/build-on-device.sh),
#           the pristine shimmy linked against the same llama.cpp, llama-server and llama-bench
#           (scripts/gpu/build-peers-on-device.sh), the phi-3-mini-shaped model (make_model.py)
#   peers   peers.py: time to first token, decode tokens/s, 30 tokens end to end, all three
#   load    load.py at 1/4/8/16 clients with hog.py leaving a T4's 14.5 GiB free: pristine shimmy
#           behind the gate at today's limit 3, patched shimmy behind the gate at the limit the
#           program derives for a T4 (7), patched shimmy alone, llama-server with as many slots
# Each stage leaves STAGE.txt and STAGE.tar.gz (JSON and logs) in $OUT.
set -uo pipefail
R=$(pwd)
C=$R/.gpu-carry
W=/tmp/gw18
OUT=${OUT:-$W/out}
START=$SECONDS
DEADLINE=${DEADLINE_S:-570}
PHI3=$W/models/phi3-mini-random-q4k.gguf
T4_LIMIT=7 # the gate's derived limit for phi-3-mini on a T4 (shimmy_gpu/sizing.py, Pulumi.yaml)
export PATH=/usr/local/cuda/bin:$PATH PYTHONUNBUFFERED=1
mkdir -p "$W/logs" "$W/models" "$W/res" "$OUT"
# shellcheck source=benchmarks/gpu/stages.sh
source "$R/benchmarks/gpu/stages.sh"
NEED=([build]=30 [peers]=120 [load]=150)

build_all() { # runs detached; every part logs to $W/logs and leaves NAME.rc
    (
        python3 -m pip install -q --no-index --no-deps --target "$W/site" "$C"/whl/*.whl &&
            PYTHONPATH=$W/site python3 "$R/benchmarks/gpu/make_model.py" "$PHI3"
        echo $? >"$W/models.rc"
    ) >"$W/logs/models.log" 2>&1 &
    (
        LLAMA_PEER_COMMIT=0c1e570 bash "$R/scripts/gpu/build-peers-on-device.sh" "$C/llama-peer-src.tar.xz" "$W/peer" 90
        echo $? >"$W/peer.rc"
    ) >"$W/logs/peer.log" 2>&1 &
    (
        bash "$R/scripts/gpu/build-on-device.sh" "$C/bundle-patched" "$W/patched" &&
            LLAMA_BUILT=$W/patched/out bash "$R/scripts/gpu/build-on-device.sh" "$C/bundle-pristine" "$W/pristine"
        echo $? >"$W/shimmy.rc"
    ) >"$W/logs/shimmy.log" 2>&1 &
    wait
    touch "$W/builds.finished"
}

stage_build() {
    start_builds build_all C R W PHI3
    wait_for_builds
    for f in models peer shimmy; do echo "$f rc: $(cat "$W/$f.rc" 2>/dev/null || echo running)"; done
    tail -n 3 "$W/logs/peer.log"
    grep -E '^(built|applied)|libcuda' "$W/logs/shimmy.log" | tail -n 20
    [[ -e $W/builds.finished && $(cat "$W/shimmy.rc") == 0 && $(cat "$W/peer.rc") == 0 && $(cat "$W/models.rc") == 0 ]]
}

stage_peers() {
    python3 "$R/benchmarks/gpu/peers.py" --shimmy "pristine=$W/pristine/shimmy" --shimmy "patched=$W/patched/shimmy" \
        --llama-server "$W/peer/bin/llama-server" --llama-bench "$W/peer/bin/llama-bench" --model "$PHI3" \
        --log-dir "$W/logs/peers" --json "$W/res/peers.json"
}

stage_load() {
    python3 "$R/benchmarks/gpu/hog.py" --leave-mib 14848 >"$W/logs/hog.log" 2>&1 &
    local hog=$!
    for _ in $(seq 60); do grep -q holding "$W/logs/hog.log" && break; sleep 1; done
    cat "$W/logs/hog.log"
    local common=(--model "$PHI3" --levels 1,4,8,16 --timeout 120 --log-dir "$W/logs/load")
    python3 "$R/benchmarks/gpu/load.py" --server gate --limit 3 --binary "$W/pristine/shimmy" "${common[@]}" \
        --label "pristine shimmy behind the gate, limit 3, T4-sized" --json "$W/res/load-pristine-gate.json" | grep -v '^{'
    SHIMMY_MAX_PARALLEL=$T4_LIMIT python3 "$R/benchmarks/gpu/load.py" --server gate --limit "$T4_LIMIT" \
        --binary "$W/patched/shimmy" "${common[@]}" --label "patched shimmy behind the gate, limit $T4_LIMIT, T4-sized" \
        --json "$W/res/load-patched-gate.json" | grep -v '^{'
    SHIMMY_MAX_PARALLEL=$T4_LIMIT python3 "$R/benchmarks/gpu/load.py" --server shimmy --binary "$W/patched/shimmy" \
        "${common[@]}" --label "patched shimmy alone, $T4_LIMIT contexts, T4-sized" \
        --json "$W/res/load-patched-alone.json" | grep -v '^{'
    python3 "$R/benchmarks/gpu/load.py" --server llama-server --slots "$T4_LIMIT" --binary "$W/peer/bin/llama-server" \
        "${common[@]}" --label "llama-server -np $T4_LIMIT, T4-sized" --json "$W/res/load-llama-server.json" | grep -v '^{'
    kill "$hog"
    wait "$hog" 2>/dev/null
    true # attempted: not again in a later call
}

stages=("$@")
((${#stages[@]})) || stages=(build peers load)
run_stages "${stages[@]}"
