#!/usr/bin/env bash
# Linker for cargo (CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER) on the machine without nvcc.
# Build scripts and proc macros link normally. The link of the shimmy binary itself cannot happen
# here (llama.cpp/ggml-cuda and the static CUDA libraries exist only on the CUDA machine), so its
# command line and every input file are saved for scripts/gpu/build-on-device.sh, and the link
# fails on purpose: nothing half-linked is installed.
set -euo pipefail
args=("$@")
out=""
for ((i = 0; i < ${#args[@]}; i++)); do
    [[ ${args[i]} == -o ]] && out=${args[i + 1]}
done
if [[ ! $(basename "$out") =~ ^shimmy-[0-9a-f]{16}$ ]]; then
    exec cc "$@"
fi

: "${SHIMMY_GPU_CAPTURE:?directory for the captured build steps}"
dest=$SHIMMY_GPU_CAPTURE/link
rm -rf "$dest" && mkdir -p "$dest/inputs"
# rustc may pass its arguments in a response file.
expanded=()
for a in "${args[@]}"; do
    if [[ $a == @* && -f ${a#@} ]]; then
        while IFS= read -r line; do expanded+=("$line"); done <"${a#@}"
    else
        expanded+=("$a")
    fi
done
n=0
: >"$dest/link.args"
for a in "${expanded[@]}"; do
    if [[ $a == "$out" ]]; then
        a='@OUT@'
    elif [[ -f $a ]]; then
        n=$((n + 1))
        name=$(printf '%03d-%s' "$n" "$(basename "$a")")
        cp "$a" "$dest/inputs/$name"
        a="@IN@/$name"
    fi
    printf '%s\n' "$a" >>"$dest/link.args"
done
echo "link-capture: saved the shimmy link ($n input files) in $dest" >&2
exit 1
