# Sourced by the scripts that advance work on a GPU machine in stages over several `run`
# calls while it stays warm (its /tmp survives between calls then; nothing else does). The caller
# sets W (work folder in /tmp), OUT (what comes back), START=$SECONDS, DEADLINE (seconds this call
# may use), defines stage_NAME for each stage and may set NEED[NAME] (seconds a stage needs, 60 by
# default). Each finished stage leaves a marker in $W; stages after `build` wait for its marker.

declare -A NEED=()

left() { echo $((DEADLINE - (SECONDS - START))); }

# run_stages STAGE...: each not yet done, with enough time left; its output in $OUT/STAGE.txt and
# its results and logs in $OUT/STAGE.tar.gz.
run_stages() {
    local stage
    for stage in "$@"; do
        if [[ -e $W/stage-$stage.done ]]; then
            echo "== $stage: done in an earlier call"
            continue
        fi
        if [[ $stage != build && ! -e $W/stage-build.done ]]; then
            echo "== $stage: SKIPPED (build not finished)"
            continue
        fi
        if (($(left) < ${NEED[$stage]:-60})); then
            echo "== $stage: SKIPPED ($(left) s left, needs ${NEED[$stage]:-60}); run again"
            continue
        fi
        echo "== $stage: starting at $((SECONDS - START)) s"
        if "stage_$stage" 2>&1 | tee "$OUT/$stage.txt"; then
            touch "$W/stage-$stage.done"
            echo "== $stage: done at $((SECONDS - START)) s"
        else
            echo "== $stage: FAILED or unfinished at $((SECONDS - START)) s"
        fi
        tar -C "$W" -czf "$OUT/$stage.tar.gz" res logs 2>/dev/null
    done
}

# start_builds FUNCTION VAR...: once per machine, FUNCTION detached (setsid) with the named
# variables exported, after the GPU's name and memory; it must touch $W/builds.finished at its end.
start_builds() {
    local function=$1
    shift
    [[ -e $W/build.started ]] && return
    touch "$W/build.started"
    nproc
    nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used --format=csv
    export -f "${function?}"
    export "${@?}"
    setsid bash -c "$function" </dev/null >"$W/logs/build-all.log" 2>&1 &
}

# wait_for_builds: until $W/builds.finished or 20 s before the call's deadline.
wait_for_builds() {
    while [[ ! -e $W/builds.finished ]] && (($(left) > 20)); do sleep 10; done
}
