#!/usr/bin/env bash
# A Docker engine (Debian docker.io) and a registry (Debian docker-registry) on 127.0.0.1:5000.
#
#   scripts/docker-env.sh start|stop|status
#
# Idempotent: `start` installs what is missing, starts only what is not running and waits until
# both answer; `stop` ends only the processes this script started (pid files). Engine state
# (images, BuildKit cache) and registry blobs live under the cache folder, so they survive stops and
# CI runs. The engine listens on the default socket, where the Docker CLI and pulumi-docker look.
set -euo pipefail

# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
CACHE="$SHIMMY_GPU_CACHE"
STATE="$CACHE/docker-env"
DATA_ROOT="$CACHE/docker/data-root"
REGISTRY_ROOT="$CACHE/registry"
SOCKET=/var/run/docker.sock
REGISTRY_ADDR=127.0.0.1:5000
# Debian's CLI: it speaks BuildKit (DOCKER_BUILDKIT=1) without the buildx plugin that newer CLIs need.
DOCKER=/usr/bin/docker

log() { echo "docker-env: $*" >&2; }

alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

engine_ready() { "$DOCKER" -H "unix://$SOCKET" version >/dev/null 2>&1; }

registry_ready() { curl -fsS "http://$REGISTRY_ADDR/v2/" >/dev/null 2>&1; }

wait_for() {
    local what=$1 check=$2 log_file=$3
    for _ in $(seq 1 60); do
        "$check" && return 0
        sleep 1
    done
    log "$what did not come up; last lines of $log_file:"
    tail -n 20 "$log_file" >&2
    return 1
}

install() {
    local missing=()
    [[ -x /usr/sbin/dockerd && -x "$DOCKER" ]] || missing+=(docker.io)
    [[ -x /usr/bin/docker-registry ]] || missing+=(docker-registry)
    if ((${#missing[@]})); then
        log "installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

start_engine() {
    if engine_ready; then
        return 0
    fi
    mkdir -p "$STATE" "$DATA_ROOT"
    log "starting dockerd (data root $DATA_ROOT)"
    # setsid: the engine outlives the shell that started it (CI steps, make). nice: image builds
    # run under the engine, not under the CLI, and must yield to the rest of the machine.
    setsid nice -n 10 /usr/sbin/dockerd \
        --data-root "$DATA_ROOT" \
        --host "unix://$SOCKET" \
        --pidfile "$STATE/dockerd.pid" \
        >"$STATE/dockerd.log" 2>&1 </dev/null &
    wait_for dockerd engine_ready "$STATE/dockerd.log"
}

start_registry() {
    if registry_ready; then
        return 0
    fi
    mkdir -p "$STATE" "$REGISTRY_ROOT"
    cat >"$STATE/registry.yml" <<EOF
version: 0.1
storage:
  filesystem:
    rootdirectory: $REGISTRY_ROOT
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR
EOF
    log "starting docker-registry on $REGISTRY_ADDR (blobs in $REGISTRY_ROOT)"
    setsid /usr/bin/docker-registry serve "$STATE/registry.yml" >"$STATE/registry.log" 2>&1 </dev/null &
    echo $! >"$STATE/registry.pid"
    wait_for registry registry_ready "$STATE/registry.log"
}

stop_pid() {
    local name=$1 pid_file=$2
    if alive "$pid_file"; then
        local pid
        pid=$(cat "$pid_file")
        log "stopping $name ($pid)"
        kill "$pid"
        for _ in $(seq 1 30); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 1
        done
    fi
    rm -f "$pid_file"
}

status() {
    local rc=0
    if engine_ready; then
        echo "engine: running ($("$DOCKER" info --format '{{.ServerVersion}} {{.Driver}} {{.DockerRootDir}}'))"
    else
        echo "engine: stopped"
        rc=1
    fi
    if registry_ready; then
        echo "registry: running on $REGISTRY_ADDR"
    else
        echo "registry: stopped"
        rc=1
    fi
    return $rc
}

case "${1:-}" in
start)
    install
    start_engine
    start_registry
    status
    ;;
stop)
    stop_pid registry "$STATE/registry.pid"
    stop_pid dockerd "$STATE/dockerd.pid"
    ;;
status) status ;;
*)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
