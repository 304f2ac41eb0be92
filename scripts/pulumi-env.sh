# shellcheck shell=bash
# Sourced (`source scripts/pulumi-env.sh`): the Pulumi CLI, language host and plugins that
# scripts/setup.sh builds into the cache folder, and a self-managed backend, for this shell.
#
# - PATH: $SHIMMY_GPU_CACHE/pulumi/bin (pulumi, pulumi-language-python and its exec script).
# - PULUMI_HOME: plugins and CLI settings under the cache folder, not ~/.pulumi.
# - PULUMI_BACKEND_URL: kept when set (CI sets the team's bucket); otherwise a file backend in
#   $SHIMMY_GPU_CACHE/state, so no Pulumi Cloud account is involved.
# - PULUMI_CONFIG_PASSPHRASE: kept when it or PULUMI_CONFIG_PASSPHRASE_FILE is set; otherwise the
#   fixed passphrase of the `local` stack, whose only secret is the login of the registry on
#   127.0.0.1:5000. Set your own before `pulumi stack init` of any shared stack (README, section "CI").
# - Nothing is downloaded: no update check, no automatic plugin download (get.pulumi.com and
#   GitHub are not reachable here; a missing plugin must fail, not hang on a download).

_shimmy_cache=${SHIMMY_GPU_CACHE:-$HOME/.cache/shimmy-gpu}
case ":$PATH:" in
  *":$_shimmy_cache/pulumi/bin:"*) ;;
  *) export PATH="$_shimmy_cache/pulumi/bin:$PATH" ;;
esac
export PULUMI_HOME="$_shimmy_cache/pulumi/home"
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$_shimmy_cache/state}"
if [[ -z "${PULUMI_CONFIG_PASSPHRASE+set}" && -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]]; then
  export PULUMI_CONFIG_PASSPHRASE=shimmy-gpu-local
fi
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
# The file backend creates its folder on first login; do it here so every command finds it.
if [[ "$PULUMI_BACKEND_URL" == file://* ]]; then
  mkdir -p "${PULUMI_BACKEND_URL#file://}"
fi
unset _shimmy_cache
