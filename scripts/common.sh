# shellcheck shell=bash
# Sourced by every script: the one cache folder and the lookups several scripts need.
#
# SHIMMY_GPU_CACHE (default ~/.cache/shimmy-gpu) holds everything heavy: the Pulumi toolchain,
# state of the local stacks, the Docker engine's data root, registry blobs, base images, Go and
# pip caches, the control plane's binaries. Delete it for a cold run.

export SHIMMY_GPU_CACHE="${SHIMMY_GPU_CACHE:-$HOME/.cache/shimmy-gpu}"
SHIMMY_GPU_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# The Pulumi CLI version: the `pulumi` SDK pin in requirements.txt (the engine and the SDK move
# together; scripts/setup.sh installs exactly this CLI), read by scripts/pins.py.
pulumi_cli_version() {
  python3 "$SHIMMY_GPU_ROOT/scripts/pins.py" pulumi
}

# "name version" of each resource plugin that a Pulumi SDK in the project's virtualenv declares
# (its pulumi-plugin.json): the plugins the program needs, at exactly the SDKs' versions.
required_plugins() {
  "$SHIMMY_GPU_ROOT/.venv/bin/python" - <<'PY'
import json, pathlib, sysconfig

for path in sorted(pathlib.Path(sysconfig.get_paths()["purelib"]).glob("*/pulumi-plugin.json")):
    info = json.loads(path.read_text())
    if info.get("resource") and info.get("name"):
        print(info["name"], info["version"].removeprefix("v"))
PY
}

# The packages a builder image needs, one a line: policy/shimmy_facts/builder-packages.txt, which the
# generated Dockerfile installs too (shimmy_facts.BUILDER_PACKAGES).
builder_packages() {
  grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$SHIMMY_GPU_ROOT/policy/shimmy_facts/builder-packages.txt" |
    tr -d '[:blank:]'
}

# The `--policy-pack` arguments for STACK: the pack, and the stack's policy config if it has one.
policy_args() {
  local stack=$1
  printf '%s\n' --policy-pack "$SHIMMY_GPU_ROOT/policy"
  if [[ -f "$SHIMMY_GPU_ROOT/policy/config/$stack.json" ]]; then
    printf '%s\n' --policy-pack-config "$SHIMMY_GPU_ROOT/policy/config/$stack.json"
  fi
}
