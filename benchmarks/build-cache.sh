#!/usr/bin/env bash
# What the registry build cache (config buildCache) saves a fresh builder, such as a new CI runner
# whose BuildKit cache is empty. On the local stack's image (cpu profile), with the project's Docker
# engine and the registry on 127.0.0.1:5000, as pulumi-docker builds it (BuildKit, inline cache
# metadata in the pushed image, --cache-from that image). Each build is pushed, and the next one
# takes its cache from that push, as successive CI runs would. Prints seconds for:
#   1. a fresh builder without the cache (everything compiled)
#   2. a fresh builder with the cache of build 1, one late layer changed (only that layer rebuilt)
#   3. a fresh builder with the cache of build 2, nothing changed. Docker 20.10's BuildKit leaves
#      the layers it took from the remote cache out of the new image's inline cache
#      (moby/buildkit#1981), so this compiles again: the cache holds for one generation.
# Each "fresh builder" is this engine with its build cache pruned (`docker builder prune --all`); the
# last build leaves the unchanged Dockerfile's layers in it again, but not the cargo cache mounts.
# Usage: benchmarks/build-cache.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/common.sh
source scripts/common.sh

DOCKER=/usr/bin/docker
export DOCKER_BUILDKIT=1
TAG=127.0.0.1:5000/shimmy-gpu/cache-bench:latest
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

bash scripts/docker-env.sh start >/dev/null
bash scripts/base-images.sh cpu >/dev/null
.venv/bin/python scripts/dockerfile.py --stack local >"$work/Dockerfile"
# The late change: one more layer in the runtime stage, before its USER line.
sed 's|^USER |RUN echo changed >/etc/shimmy-build-note\nUSER |' "$work/Dockerfile" >"$work/Dockerfile.changed"
mapfile -t args < <(.venv/bin/python - <<'PY'
from shimmy_gpu.config import parse_settings
from shimmy_gpu.dockerfile import build_args
from shimmy_gpu.stack_config import raw_config

for key, value in build_args(parse_settings("local", raw_config("local", secret="x")).build).items():
    print(f"--build-arg={key}={value}")
PY
)

fresh_builder() {
  "$DOCKER" builder prune --all --force >/dev/null
  "$DOCKER" image rm --force "$TAG" >/dev/null 2>&1 || true
}

build() { # DOCKERFILE [--cache-from IMAGE]: seconds of `docker build`, pushed after
  local file=$1 start end
  shift
  start=$(date +%s.%N)
  "$DOCKER" build --quiet "${args[@]}" --build-arg BUILDKIT_INLINE_CACHE=1 "$@" \
    -f "$file" -t "$TAG" docker >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; return 1; }
  end=$(date +%s.%N)
  "$DOCKER" push --quiet "$TAG" >/dev/null
  printf '%.1f' "$(echo "$end - $start" | bc)"
}

fresh_builder
echo "fresh builder, no cache (build 1): $(build "$work/Dockerfile") s"
fresh_builder
echo "fresh builder, cache of build 1, a late layer changed: $(build "$work/Dockerfile.changed" --cache-from "$TAG") s"
# Last, so that the engine keeps the unchanged Dockerfile's layers for the builds that follow.
fresh_builder
echo "fresh builder, cache of build 2 (itself built from the cache), nothing changed: $(build "$work/Dockerfile" --cache-from "$TAG") s"
