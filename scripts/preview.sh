#!/usr/bin/env bash
# `pulumi preview` of one stack with the policy pack, as CI runs it. Keeps the engine's JSON events
# in $PREVIEW_DIR/<stack>.json (stderr in <stack>.log) and writes their Markdown summary
# (scripts/preview_summary.py) to $PREVIEW_DIR/<stack>.md, then exits with pulumi's status: a
# mandatory policy violation fails it, and the summary says why.
# Usage: scripts/preview.sh STACK [more `pulumi preview` flags]
set -euo pipefail
cd "$(dirname "$0")/.."

stack=${1:?usage: scripts/preview.sh STACK [pulumi preview flags]}
shift
# shellcheck source=scripts/pulumi-env.sh
source scripts/pulumi-env.sh
dir=${PREVIEW_DIR:-$SHIMMY_GPU_CACHE/preview}
mkdir -p "$dir"

# The pack, and the stack's policy config where it has one (e.g. local relaxes the cpu rules), as
# scripts/up.sh passes them.
mapfile -t policy < <(policy_args "$stack")

# The streamed events carry the policy violations; the default --json digest leaves them out.
# stderr is kept too: errors that come before any event (no such stack, a missing plugin) are there.
status=0
PULUMI_ENABLE_STREAMING_JSON_PREVIEW=true pulumi preview --stack "$stack" "${policy[@]}" \
  --json --color never --non-interactive "$@" >"$dir/$stack.json" 2>"$dir/$stack.log" || status=$?
cat "$dir/$stack.log" >&2
python3 scripts/preview_summary.py "$dir/$stack.json" --stack "$stack" --exit-status "$status" \
  --log "$dir/$stack.log" --output "$dir/$stack.md"
cat "$dir/$stack.md"
exit "$status"
