#!/usr/bin/env bash
# One-command set-up (`make setup`), idempotent: a warm run takes seconds.
#   1. .venv from requirements-dev.txt (pip downloads cached in the cache folder).
#   2. The Pulumi CLI and this project's Python language host, built from tools/pulumi (no binary
#      can be downloaded here: get.pulumi.com and GitHub are unreachable, the Go module proxy is
#      not). Skipped when the binaries in the cache were built from the same tools/pulumi sources.
#   3. The resource plugins the pinned Python SDKs ask for (pulumi-plugin.json in the venv),
#      reported as installed or missing (see tools/README.md: the proxy reachable here serves no
#      buildable source for them at those versions).
# Everything heavy lives under $SHIMMY_GPU_CACHE (default ~/.cache/shimmy-gpu): delete it for a
# cold run.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE="${SHIMMY_GPU_CACHE:-$HOME/.cache/shimmy-gpu}"
mkdir -p "$CACHE"

# --- 1. virtualenv ---------------------------------------------------------------------------
venv_key=$(cat requirements-dev.txt requirements.txt policy/requirements.txt | sha256sum | cut -d' ' -f1)
if [[ ! -x .venv/bin/python || "$(cat .venv/.setup-key 2>/dev/null)" != "$venv_key" ]]; then
  echo "setup: .venv from requirements-dev.txt" >&2
  [[ -x .venv/bin/python ]] || python3 -m venv .venv
  PIP_CACHE_DIR="$CACHE/pip" .venv/bin/pip install --quiet --disable-pip-version-check \
    -r requirements-dev.txt
  echo "$venv_key" >.venv/.setup-key
fi

# --- 2. Pulumi CLI and Python language host --------------------------------------------------
BIN="$CACHE/pulumi/bin"
export GOMODCACHE="${GOMODCACHE:-$CACHE/go/mod}" GOCACHE="${GOCACHE:-$CACHE/go/build}" GOFLAGS=-modcacherw
tools_key=$( (go version; find tools/pulumi -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' \) \
  | LC_ALL=C sort | xargs cat) | sha256sum | cut -d' ' -f1)
if [[ ! -x "$BIN/pulumi" || ! -x "$BIN/pulumi-language-python" || ! -f "$BIN/pulumi-language-python-exec" \
  || "$(cat "$BIN/.setup-key" 2>/dev/null)" != "$tools_key" ]]; then
  command -v go >/dev/null || { echo "setup: Go is needed to build the Pulumi CLI" >&2; exit 1; }
  echo "setup: building the Pulumi CLI and language host into $BIN (cold, with module downloads: about 10 minutes)" >&2
  mkdir -p "$BIN"
  (
    cd tools/pulumi
    version=$(go list -m -f '{{.Version}}' github.com/pulumi/pulumi/pkg/v3)
    ldflags="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version"
    # -p 2: the machines have two cores, shared with the rest of the work.
    nice -n 10 go build -p 2 -trimpath -ldflags "$ldflags" -o "$BIN/" \
      github.com/pulumi/pulumi/pkg/v3/cmd/pulumi ./cmd/pulumi-language-python
    # The script that runs a Python program for the host, from the same sdk/v3 module.
    sdk=$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
    install -m 0755 "$sdk/python/cmd/pulumi-language-python-exec" "$BIN/pulumi-language-python-exec"
  )
  echo "$tools_key" >"$BIN/.setup-key"
fi

# --- 3. resource plugins ---------------------------------------------------------------------
# shellcheck source=scripts/pulumi-env.sh
source scripts/pulumi-env.sh
missing=0
while read -r name version; do
  if [[ -d "$PULUMI_HOME/plugins/resource-$name-v$version" ]]; then
    echo "setup: plugin resource $name v$version installed" >&2
  else
    echo "setup: plugin resource $name v$version MISSING: its Go module at that version is not" \
      "served by the module proxy reachable here (tools/README.md); pulumi preview/up cannot run" >&2
    missing=1
  fi
done < <(.venv/bin/python - <<'PY'
# "name version" of each resource plugin that a Pulumi package in the venv declares.
import json, pathlib, sysconfig

for path in sorted(pathlib.Path(sysconfig.get_paths()["purelib"]).glob("*/pulumi-plugin.json")):
    info = json.loads(path.read_text())
    if info.get("resource") and info.get("name"):
        print(info["name"], info["version"].removeprefix("v"))
PY
)
pulumi version >&2
[[ $missing == 0 ]] || echo "setup: done, without the plugins above" >&2
