#!/usr/bin/env bash
# `make setup`, idempotent (a warm run takes seconds):
#   1. .venv from requirements-dev.txt (pip's downloads cached in the cache folder).
#   2. The official Pulumi CLI (with its Python language host) at the version requirements.txt pins,
#      taken from the first of:
#        a. a `pulumi` on PATH at that version (e.g. the one pulumi/actions installs);
#        b. an offline bundle folder: $SHIMMY_GPU_PULUMI_BUNDLE, else ../shared/pulumi-bundle when it
#           exists; every archive is checked against the bundle's MANIFEST.tsv (sha256) first;
#        c. get.pulumi.com: the release archive the official installer fetches, checked against
#           the release's published checksums file;
#      otherwise it stops, naming what is missing and the two ways to get it.
#   3. The resource plugins at exactly the versions the pinned SDKs declare, from the same source
#      (`pulumi plugin install ... --file` from the bundle, or `pulumi plugin install` online);
#      other versions of them are removed, so `pulumi plugin ls` shows only the pinned ones.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/common.sh
source scripts/common.sh

log() { echo "setup: $*" >&2; }
die() { log "$*"; exit 1; }

# --- 1. virtualenv ---------------------------------------------------------------------------
venv_key=$(cat requirements-dev.txt requirements.txt policy/requirements.txt policy/pyproject.toml | sha256sum | cut -d' ' -f1)
if [[ ! -x .venv/bin/python || "$(cat .venv/.setup-key 2>/dev/null)" != "$venv_key" ]]; then
  log ".venv from requirements-dev.txt"
  [[ -x .venv/bin/python ]] || python3 -m venv .venv
  PIP_CACHE_DIR="$SHIMMY_GPU_CACHE/pip" .venv/bin/pip install --quiet --disable-pip-version-check \
    -r requirements-dev.txt
  echo "$venv_key" >.venv/.setup-key
fi

# --- where the toolchain comes from ------------------------------------------------------------
version=$(pulumi_cli_version) || die "requirements.txt pins no pulumi==X.Y.Z"
mapfile -t plugins < <(required_plugins)
cli_dir="$SHIMMY_GPU_CACHE/pulumi/cli/v$version"
archive="pulumi-v$version-linux-x64.tar.gz"
plugin_archive() { echo "pulumi-resource-$1-v$2-linux-amd64.tar.gz"; }

bundle="${SHIMMY_GPU_PULUMI_BUNDLE:-}"
if [[ -z "$bundle" && -d ../shared/pulumi-bundle ]]; then
  bundle=$(cd ../shared/pulumi-bundle && pwd)
fi
if [[ -n "$bundle" ]]; then
  [[ -f "$bundle/MANIFEST.tsv" ]] || die "bundle $bundle has no MANIFEST.tsv"
  # Every archive the manifest lists must match its sha256, or nothing of the bundle is used.
  (cd "$bundle" && awk -F'\t' 'NR > 1 { print $7 "  " $1 }' MANIFEST.tsv | sha256sum --check --quiet --strict -) ||
    die "bundle $bundle: an archive does not match its sha256 in MANIFEST.tsv; refusing the bundle"
  in_bundle() { awk -F'\t' -v f="$1" 'NR > 1 && $1 == f { found = 1 } END { exit !found }' "$bundle/MANIFEST.tsv"; }
fi

online() { curl -fsSI --connect-timeout 5 --max-time 15 -o /dev/null "https://get.pulumi.com/releases/sdk/$archive" 2>/dev/null; }

# --- 2. CLI ------------------------------------------------------------------------------------
on_path=$(PATH="${PATH//"$cli_dir:"/}" command -v pulumi || true)
if [[ -n "$on_path" && "$("$on_path" version 2>/dev/null)" == "v$version" ]] &&
  [[ -x "$(dirname "$on_path")/pulumi-language-python" ]]; then
  log "Pulumi CLI v$version on PATH: $on_path"
  rm -rf "$cli_dir" # pulumi-env.sh then keeps the PATH's CLI first
elif [[ -x "$cli_dir/pulumi" && "$("$cli_dir/pulumi" version 2>/dev/null)" == "v$version" ]]; then
  log "Pulumi CLI v$version in $cli_dir"
else
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  if [[ -n "$bundle" ]] && in_bundle "$archive"; then
    log "Pulumi CLI v$version from the bundle $bundle"
    cp "$bundle/$archive" "$tmp/"
  elif online; then
    log "Pulumi CLI v$version from get.pulumi.com"
    curl -fsSL --retry 3 -o "$tmp/$archive" "https://get.pulumi.com/releases/sdk/$archive"
    curl -fsSL --retry 3 -o "$tmp/checksums.txt" "https://get.pulumi.com/releases/sdk/pulumi-$version-checksums.txt"
    (cd "$tmp" && grep -E "[[:space:]]$archive\$" checksums.txt | sha256sum --check --strict -) ||
      die "$archive does not match the release's checksums file"
  else
    die "no Pulumi CLI v$version: none on PATH, no offline bundle (SHIMMY_GPU_PULUMI_BUNDLE unset and" \
      "../shared/pulumi-bundle absent) and get.pulumi.com is not reachable. Either install it" \
      "(curl -fsSL https://get.pulumi.com | sh -s -- --version $version) and run make setup again," \
      "or set SHIMMY_GPU_PULUMI_BUNDLE to a folder with MANIFEST.tsv, $archive and" \
      "$(for p in "${plugins[@]}"; do printf '%s ' "$(plugin_archive $p)"; done)"
  fi
  rm -rf "$cli_dir" && mkdir -p "$cli_dir"
  tar -xzf "$tmp/$archive" -C "$cli_dir" --strip-components=1
  [[ "$("$cli_dir/pulumi" version)" == "v$version" ]] || die "$archive holds $("$cli_dir/pulumi" version), not v$version"
fi

# --- 3. resource plugins ------------------------------------------------------------------------
# shellcheck source=scripts/pulumi-env.sh
source scripts/pulumi-env.sh
installed=$(pulumi plugin ls --json | .venv/bin/python -c '
import json, sys
for p in json.load(sys.stdin) or []:
    if p["kind"] == "resource":
        print(p["name"], p["version"].removeprefix("v"))')
for plugin in "${plugins[@]}"; do
  read -r name want <<<"$plugin"
  while read -r have_name have; do
    if [[ "$have_name" == "$name" && "$have" != "$want" ]]; then
      log "removing plugin resource $name v$have (the SDK pins v$want)"
      pulumi plugin rm resource "$name" "$have" --yes >/dev/null
    fi
  done <<<"$installed"
  if grep -qx "$name $want" <<<"$installed"; then
    continue
  fi
  file=$(plugin_archive "$name" "$want")
  if [[ -n "$bundle" ]] && in_bundle "$file"; then
    log "plugin resource $name v$want from the bundle"
    pulumi plugin install resource "$name" "$want" --file "$bundle/$file" --non-interactive >/dev/null
  elif online; then
    log "plugin resource $name v$want from Pulumi's plugin server"
    pulumi plugin install resource "$name" "$want" --exact --non-interactive >/dev/null
  else
    die "plugin resource $name v$want is not installed and neither a bundle holding $file nor" \
      "get.pulumi.com is available (see the CLI message above for the two ways to get it)"
  fi
done

pulumi version >&2
pulumi plugin ls >&2
