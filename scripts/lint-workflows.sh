#!/usr/bin/env bash
# Lints the GitHub Actions workflows with actionlint. No release binary can be downloaded here, so
# the pinned version is built once from its Go module into the project's cache folder.
# Arguments are passed to actionlint (default: every file under .github/workflows).
set -euo pipefail
cd "$(dirname "$0")/.."

ACTIONLINT_VERSION=v1.7.12
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
CACHE="$SHIMMY_GPU_CACHE"
BIN="$CACHE/bin/actionlint"

if [[ ! -x "$BIN" || "$("$BIN" -version 2>/dev/null | head -n1)" != "$ACTIONLINT_VERSION" ]]; then
  command -v go >/dev/null || { echo "lint-workflows: Go is needed to build actionlint" >&2; exit 1; }
  echo "lint-workflows: building actionlint $ACTIONLINT_VERSION into $CACHE/bin" >&2
  mkdir -p "$CACHE/bin"
  # Module downloads and build artefacts stay in the cache folder too, so deleting it means a cold run.
  GOBIN="$CACHE/bin" GOMODCACHE="${GOMODCACHE:-$CACHE/go/mod}" GOCACHE="${GOCACHE:-$CACHE/go/build}" \
    GOFLAGS=-modcacherw nice -n 10 go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
fi

# actionlint also runs shellcheck on every `run:` script when shellcheck is on PATH.
exec "$BIN" "$@"
