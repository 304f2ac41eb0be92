#!/usr/bin/env bash
# checkov, the independent scanner `make test` runs on the rendered manifests of every stack and on
# the Dockerfiles (tests/security). It has a dependency tree of its own, so it lives in its own
# virtualenv in the cache folder, at the version pinned here; arguments go to checkov.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/common.sh
source scripts/common.sh

CHECKOV_VERSION=3.3.30
VENV="$SHIMMY_GPU_CACHE/tools/checkov-$CHECKOV_VERSION"
if [[ ! -x "$VENV/bin/checkov" ]]; then
  echo "checkov: installing $CHECKOV_VERSION into $VENV" >&2
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  PIP_CACHE_DIR="$SHIMMY_GPU_CACHE/pip" "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "checkov==$CHECKOV_VERSION"
fi
exec "$VENV/bin/checkov" "$@"
