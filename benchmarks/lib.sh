# Sourced by the benchmark scripts: a throw-away work folder and a timer.

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

seconds() { # COMMAND...: its wall time in seconds, its output in $work/last.log
    local start end
    start=$(date +%s.%N)
    "$@" >"$work/last.log" 2>&1 || {
        cat "$work/last.log" >&2
        return 1
    }
    end=$(date +%s.%N)
    printf '%.1f' "$(echo "$end - $start" | bc)"
}
