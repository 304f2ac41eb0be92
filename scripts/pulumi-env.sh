# shellcheck shell=bash
# Sourced (`source scripts/pulumi-env.sh`): the Pulumi toolchain of scripts/setup.sh and a
# self-managed backend, for this shell.
#
# - PATH: $SHIMMY_GPU_CACHE/pulumi/cli/v<version> first when setup installed the CLI there (from
#   the offline bundle or get.pulumi.com); a CLI already on PATH at the pinned version stays as is.
# - PULUMI_HOME: plugins and CLI settings under the cache folder, not ~/.pulumi.
# - PULUMI_BACKEND_URL: kept when set (CI sets the team's bucket); otherwise a file backend in
#   $SHIMMY_GPU_CACHE/state, so no Pulumi Cloud account is involved.
# - No passphrase is set here: a shared stack's passphrase is yours to give
#   (PULUMI_CONFIG_PASSPHRASE or _FILE); only scripts/up.sh makes one, for the `local` stack.
# - The engine never fetches a plugin by itself: setup installed exactly the pinned ones, and a
#   missing plugin must fail at once instead of quietly downloading another version.

# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

_shimmy_cli="$SHIMMY_GPU_CACHE/pulumi/cli/v$(pulumi_cli_version)"
if [[ -x "$_shimmy_cli/pulumi" ]]; then
  case ":$PATH:" in
    *":$_shimmy_cli:"*) ;;
    *) export PATH="$_shimmy_cli:$PATH" ;;
  esac
fi
unset _shimmy_cli
export PULUMI_HOME="$SHIMMY_GPU_CACHE/pulumi/home"
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$SHIMMY_GPU_CACHE/state}"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
# The file backend creates its folder on first login; do it here so every command finds it.
if [[ "$PULUMI_BACKEND_URL" == file://* ]]; then
  mkdir -p "${PULUMI_BACKEND_URL#file://}"
fi
