#!/usr/bin/env bash
# The GPU measurements on a borrowed GPU machine, as a pipeline of stages that several calls advance
# while the machine stays warm (its /tmp survives between calls then; nothing else does).
#
# Usage, on the GPU machine from the repository root:
#   bash .gpu-carry/repo/benchmarks/gpu/run-on-device.sh [STAGE ...]
# with the carried folder .gpu-carry/ holding: repo/ (this branch's benchmarks/, scripts/gpu/,
# shimmy_gpu/ for the GPU proof and the sizing), bundle/ (scripts/gpu/build-here.sh), llama-peer-src.tar.xz
# (scripts/gpu/pack-peer-source.sh), whl/ (the `gguf` wheel), gemma/ (pieces of the xz-compressed
# Gemma 3 270M GGUF, any number per call; assembled and sha256-checked once all are there).
#
# Stages, each run once (a marker in /tmp/gw records it), skipped when too little of the call's
# time is left (DEADLINE_S, default 570 s after the start) and then tried again by the next call:
#   build      start (once, in the background, setsid) the builds: shimmy from the bundle
#              (scripts/gpu/build-on-device.sh, plus links against pruned cuBLAS), llama-server and
#              llama-bench (scripts/gpu/build-peers-on-device.sh), nvprune (scripts/gpu/prune-cuda-libs.sh),
#              the models (make_model.py) and decode_probe; then wait for them
#   part12     peers.py, decode_probe and prune_proof.py on the phi-3-shaped model (+ the tiny F16 one)
#   load-h200  load.py: shimmy and llama-server at 1..16 concurrent requests, the whole GPU
#   load-t4    load.py with hog.py leaving a T4's 14.5 GiB free: shimmy unprotected, then behind gate.py
#   gemma      peers.py and decode_probe on Gemma 3 270M
# Each stage leaves STAGE.txt (its output) and STAGE.tar.gz (JSON and logs) in $OUT.
set -uo pipefail
C=$(realpath .gpu-carry)
R=$C/repo
W=/tmp/gw
OUT=${OUT:-$W/out}
START=$SECONDS
DEADLINE=${DEADLINE_S:-570}
GEMMA=$W/models/gemma-3-270m-q4_k_m.gguf
GEMMA_SHA256=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
PHI3=$W/models/phi3-mini-random-q4k.gguf
TINY=$W/models/tiny-f16.gguf
export PATH=/usr/local/cuda/bin:$PATH PYTHONUNBUFFERED=1
mkdir -p "$W/logs" "$W/models" "$W/gemma" "$W/res" "$OUT"

# shellcheck source=benchmarks/gpu/stages.sh
source "$R/benchmarks/gpu/stages.sh"

collect_gemma() {
    cp "$C"/gemma/piece* "$W/gemma/" 2>/dev/null || true
    local n
    n=$(find "$W/gemma" -name 'piece*' | wc -l)
    echo "gemma pieces here: $n of ${GEMMA_PIECES:-4}"
    if [[ ! -s $GEMMA && $n -eq ${GEMMA_PIECES:-4} ]]; then
        cat "$W"/gemma/piece* | python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.stdin.buffer), sys.stdout.buffer)' >"$GEMMA.part" &&
            echo "$GEMMA_SHA256  $GEMMA.part" | sha256sum -c - && mv "$GEMMA.part" "$GEMMA"
    fi
}

build_all() { # runs detached; every part logs to $W/logs
    (
        python3 -m pip install -q --no-index --no-deps --target "$W/site" "$C"/whl/*.whl &&
            PYTHONPATH=$W/site python3 "$R/benchmarks/gpu/make_model.py" "$PHI3" &&
            PYTHONPATH=$W/site python3 "$R/benchmarks/gpu/make_model.py" "$TINY" --preset tiny --dtype f16
        echo $? >"$W/models.rc"
    ) >"$W/logs/models.log" 2>&1 &
    (
        bash "$R/scripts/gpu/prune-cuda-libs.sh" "$W/pruned" "75;90" || { mkdir -p "$W/pruned"; touch "$W/pruned/.failed"; }
        bash "$R/scripts/gpu/prune-cuda-libs.sh" "$W/pruned-ptx" "75;90" ptx ||
            { mkdir -p "$W/pruned-ptx"; touch "$W/pruned-ptx/.failed"; }
    ) >"$W/logs/prune.log" 2>&1 &
    (
        LLAMA_PEER_COMMIT=0c1e570 bash "$R/scripts/gpu/build-peers-on-device.sh" "$C/llama-peer-src.tar.xz" "$W/peer" 90
        echo $? >"$W/peer.rc"
    ) >"$W/logs/peer.log" 2>&1 &
    (
        PRUNED_CUDA_LIBS=$W/pruned:$W/pruned-ptx bash "$R/scripts/gpu/build-on-device.sh" "$C/bundle" "$W/shimmy"
        echo $? >"$W/shimmy.rc"
        g++ -O2 -std=c++17 "$R/benchmarks/gpu/decode_probe.cpp" -I"$W/shimmy/out/include" -o "$W/decode_probe" \
            -Wl,--start-group "$W"/shimmy/out/lib/*.a -Wl,--end-group -L/usr/local/cuda/lib64 \
            -L/usr/local/cuda/lib64/stubs -Wl,-rpath,/usr/local/cuda/lib64 -lcudart -lcublas -lcublasLt -lcuda \
            -lpthread -ldl -lm -lrt
        echo $? >"$W/probe.rc"
    ) >"$W/logs/shimmy.log" 2>&1 &
    wait
    touch "$W/builds.finished"
}

stage_build() {
    start_builds build_all C R W PHI3 TINY
    wait_for_builds
    for f in models peer shimmy probe; do echo "$f rc: $(cat "$W/$f.rc" 2>/dev/null || echo running)"; done
    tail -n 3 "$W/logs/peer.log"
    grep -E '^(built|section|nvprune|lib)|sm_|^ +[0-9]+ ' "$W/logs/shimmy.log" "$W/logs/prune.log" | tail -n 60
    [[ -e $W/builds.finished ]]
}

# MODEL NAME: shimmy against the peers over HTTP, then shimmy's decode loop on its own llama.cpp
# (decode_probe, 256 tokens), with CUDA graphs and without.
peers_and_probe() {
    local model=$1 name=$2
    python3 "$R/benchmarks/gpu/peers.py" --shimmy "$W/shimmy/shimmy" --llama-server "$W/peer/bin/llama-server" \
        --llama-bench "$W/peer/bin/llama-bench" --model "$model" --log-dir "$W/logs/peers-$name" \
        --json "$W/res/peers-$name.json"
    echo "== decode_probe, $name, 256 tokens"
    "$W/decode_probe" "$model" 256 2>"$W/logs/probe-$name.log" | tee "$W/res/probe-$name.jsonl"
    GGML_CUDA_DISABLE_GRAPHS=1 "$W/decode_probe" "$model" 256 shimmy,greedy 2>>"$W/logs/probe-$name.log" |
        tee -a "$W/res/probe-$name.jsonl"
}

stage_part12() {
    peers_and_probe "$PHI3" phi3
    echo "== pruned cuBLAS: proof"
    local bins=(--binary "$W/shimmy/shimmy")
    for v in pruned pruned-ptx; do [[ -x $W/shimmy/shimmy-$v ]] && bins+=(--binary "$W/shimmy/shimmy-$v"); done
    python3 "$R/benchmarks/gpu/prune_proof.py" "${bins[@]}" --model "$TINY" --model "$PHI3" \
        --log-dir "$W/logs/prune-proof" --json "$W/res/prune-proof.json"
    ls -l "$W"/shimmy/shimmy* "$W"/pruned*/*.a /usr/local/cuda/lib64/libcublas*_static.a
    true # attempted: not again in a later call
}

stage_load-h200() {
    python3 "$R/benchmarks/gpu/load.py" --server shimmy --binary "$W/shimmy/shimmy" --model "$PHI3" \
        --label "shimmy, H200" --timeout 90 --log-dir "$W/logs/load" --json "$W/res/load-shimmy-h200.json" | grep -v '^{'
    python3 "$R/benchmarks/gpu/load.py" --server llama-server --slots 4 --binary "$W/peer/bin/llama-server" \
        --model "$PHI3" --label "llama-server -np 4, H200" --timeout 90 --log-dir "$W/logs/load" \
        --json "$W/res/load-llama-server-h200.json" | grep -v '^{'
}

stage_load-t4() {
    python3 "$R/benchmarks/gpu/hog.py" --leave-mib 14848 >"$W/logs/hog.log" 2>&1 &
    local hog=$!
    for _ in $(seq 60); do grep -q holding "$W/logs/hog.log" && break; sleep 1; done
    cat "$W/logs/hog.log"
    local limit
    limit=$(python3 - "$W/logs/load" "$R" <<'EOF'
import re, sys
from pathlib import Path
sys.path[:0] = [sys.argv[2], sys.argv[2] + "/policy"]
from shimmy_gpu.sizing import concurrent_generations
log = next(Path(sys.argv[1]).glob("*shimmy-shimmy-0.log")).read_text(errors="replace")
model, kv, compute = (float(x) for x in re.findall(r"CUDA0 (?:model|KV|compute) buffer size =\s+([\d.]+) MiB", log)[:3])
print(concurrent_generations(15360, model, kv + compute, resident=False), end="")
print(f"from llama.cpp's log: model {model:.0f} MiB, context {kv + compute:.0f} MiB (shimmy as published)", file=sys.stderr)
EOF
    )
    echo "gate limit for a 16 GB T4: $limit"
    python3 "$R/benchmarks/gpu/load.py" --server shimmy --binary "$W/shimmy/shimmy" --model "$PHI3" \
        --label "shimmy, T4-sized memory, unprotected" --timeout 90 --log-dir "$W/logs/load-t4" \
        --json "$W/res/load-shimmy-t4.json" | grep -v '^{'
    python3 "$R/benchmarks/gpu/load.py" --server gate --limit "${limit:-3}" --binary "$W/shimmy/shimmy" --model "$PHI3" \
        --label "shimmy behind gate.py --limit ${limit:-3}, T4-sized memory" --timeout 120 --log-dir "$W/logs/load-t4" \
        --json "$W/res/load-gate-t4.json" | grep -v '^{'
    kill "$hog"
    wait "$hog"
    true
}

stage_gemma() {
    [[ -s $GEMMA ]] || { echo "gemma not assembled yet"; return 1; }
    peers_and_probe "$GEMMA" gemma
    true
}

NEED=([build]=30 [part12]=200 [load-h200]=200 [load-t4]=230 [gemma]=120)
stages=("$@")
((${#stages[@]})) || stages=(build part12 load-h200 load-t4 gemma)
collect_gemma
run_stages "${stages[@]}"
