#!/usr/bin/env bash
# A real Kubernetes control plane on this machine, with kwok playing a Tesla T4 node and a CPU node.
#
#   scripts/cluster.sh up             start it (building the binaries the first time); when it runs
#                                     already, only re-apply the objects below and reset volumes
#   scripts/cluster.sh down           stop it and delete its state (etcd data, certificates, kubeconfig)
#   scripts/cluster.sh status         versions, nodes, kubeconfig; exit status 1 when it is not running
#   scripts/cluster.sh reset-volumes  make Released volumes Available again (`up` does it too)
#   scripts/cluster.sh env            `export KUBECONFIG=...; export PATH=<kubectl of the same version>:$PATH`
#   scripts/cluster.sh build          only build the binaries (what `up` does first)
#   scripts/cluster.sh leftovers      what of the real node is on the host, one line each (after
#                                     `down`: nothing; `make e2e` fails otherwise)
#
# One script (about 390 lines) because build, start, objects and stop share one layout of the cache.
#
# Interface (stable; the end-to-end tests rely on it):
#   - kubeconfig: $SHIMMY_GPU_CACHE/cluster/kubeconfig (default cache ~/.cache/shimmy-gpu), context
#     `shimmy-kwok`, user `kwok-admin` (client certificate, group system:masters), server
#     https://127.0.0.1:<random port> with its own CA. `status` prints the path.
#   - kubectl matching the server: $SHIMMY_GPU_CACHE/k8s/<versions>/bin/kubectl (`env` puts it first).
#   - nodes `kwok-t4-0` (labels nvidia.com/gpu.product=Tesla-T4, gpu.present, gpu.count=1,
#     gpu.memory=15360; capacity nvidia.com/gpu: 1; taint nvidia.com/gpu=present:NoSchedule) and
#     `kwok-cpu-0` (no GPU; taint shimmy-gpu/simulated=true:NoSchedule); RuntimeClass `nvidia`; default StorageClass `local-t4`
#     (WaitForFirstConsumer, no provisioner) with four 50Gi ReadWriteOnce volumes on kwok-t4-0.
#     All in scripts/cluster/objects.yaml.
#   - every listener on 127.0.0.1 only; `up` returns once the API answers /readyz, the controller
#     manager and scheduler hold their leases and both nodes are Ready.
#
# What runs: kube-apiserver, kube-controller-manager, kube-scheduler (k8s.io/kubernetes, built from
# the Go module in tools/k8s), etcd (tools/etcd; why not Debian's: tools/etcd/go.mod) and kwok's
# controller, laid out and started by kwokctl's `binary` runtime (tools/kwok). Nothing is downloaded
# at run time; the first `up` needs the Go module proxy. Everything lives under $SHIMMY_GPU_CACHE:
# binaries in k8s/<versions>/bin (keyed on the versions and tools/*/go.{mod,sum}), Go caches in
# k8s/go, cluster state in cluster/.
# The API server runs with client-certificate authentication, Node,RBAC authorization, the default
# admission plugins plus NodeRestriction (PodSecurity among them); etcd is reached over mutual TLS.
# kwok's pods run no container: see docs/local-cluster.md.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
CACHE="$SHIMMY_GPU_CACHE"

# Versions come from the wrapper modules, so a bump there is a new binary folder here.
mod_version() { awk -v m="$2" '$1 == "require" && $2 == m { print $3 } $1 == m { print $2 }' "$ROOT/tools/$1/go.mod" | head -n1; }
K8S_VERSION=$(mod_version k8s k8s.io/kubernetes)
KWOK_VERSION=$(mod_version kwok sigs.k8s.io/kwok)
ETCD_VERSION=$(mod_version etcd go.etcd.io/etcd/server/v3)
KUBE_ROUTER_VERSION=$(mod_version kube-router github.com/cloudnativelabs/kube-router/v2)
# The sandbox ("pause") image's version, as upstream's build/pause/Makefile tags it.
PAUSE_VERSION=3.10.1
# Bump when the way the binaries are built changes, so cached binaries are rebuilt.
BUILD_RECIPE=3

K8S_CACHE="$CACHE/k8s"
BIN="$K8S_CACHE/kubernetes-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION/bin"
STATE="$CACHE/cluster"
KUBECONFIG_PATH="$STATE/kubeconfig"
CONTEXT=shimmy-kwok
CLUSTER=shimmy
# kwokctl keeps its clusters under $KWOK_WORKDIR/clusters/<name>.
export KWOK_WORKDIR="$STATE/kwok"
WORKDIR="$KWOK_WORKDIR/clusters/$CLUSTER"
KUBECTL="$BIN/kubectl"
K8S_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy)
KWOK_BINARIES=(kwok kwokctl)
MODULES=(k8s etcd kwok kube-router)
# The API server's Service addresses (kube-router needs to know them).
SERVICE_CIDR=10.96.0.0/16

log() { echo "cluster: $*" >&2; }
die() {
    log "$*"
    exit 1
}

# kubectl of the server's version, on our kubeconfig.
k() { "$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" "$@"; }

# shellcheck source=scripts/cluster/node.sh
source "$ROOT/scripts/cluster/node.sh"

build_stamp() {
    {
        echo "recipe $BUILD_RECIPE"
        go version
        local m
        for m in "${MODULES[@]}"; do cat "$ROOT/tools/$m/go.mod" "$ROOT/tools/$m/go.sum"; done
    } | sha256sum | cut -d' ' -f1
}

binaries_present() {
    local b
    for b in "${K8S_BINARIES[@]}" etcd "${KWOK_BINARIES[@]}" kube-router pause; do
        [[ -x "$BIN/$b" ]] || return 1
    done
}

# Present, and built from the modules and Go version of now.
binaries_built() { binaries_present && [[ -f "$BIN/.stamp" && "$(cat "$BIN/.stamp")" == "$(build_stamp)" ]]; }

build() {
    command -v go >/dev/null || die "Go is needed to build the control plane (tools/k8s/go.mod names the version)"
    binaries_built && return 0
    local tmp="$BIN.tmp" major minor v=k8s.io/component-base/version started=$SECONDS
    major=$(echo "${K8S_VERSION#v}" | cut -d. -f1)
    minor=$(echo "${K8S_VERSION#v}" | cut -d. -f2)
    rm -rf "$tmp"
    mkdir -p "$tmp"
    # Module downloads and build artefacts stay in the cache folder: deleting $K8S_CACHE is a cold build.
    # -p 2 and nice: the machine is shared with other builds. CGO off, as upstream's release binaries.
    export GOMODCACHE="$K8S_CACHE/go/mod" GOCACHE="$K8S_CACHE/go/build" GOFLAGS="-modcacherw -buildvcs=false" CGO_ENABLED=0
    # The version variables upstream's hack/lib/version.sh sets. The module proxy gives no commit:
    # gitCommit empty (unset it would read "$Format:%H$"); the tree is a module archive:
    # gitTreeState "archive", as for builds from a source tarball.
    local ldflags build_date
    build_date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    ldflags="-s -w -X $v.gitVersion=$K8S_VERSION -X $v.gitMajor=$major -X $v.gitMinor=$minor"
    ldflags+=" -X $v.gitCommit= -X $v.gitTreeState=archive -X $v.buildDate=$build_date"
    ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION -X k8s.io/client-go/pkg/version.gitMajor=$major"
    ldflags+=" -X k8s.io/client-go/pkg/version.gitMinor=$minor -X k8s.io/client-go/pkg/version.gitCommit="
    ldflags+=" -X k8s.io/client-go/pkg/version.gitTreeState=archive"
    log "building ${K8S_BINARIES[*]} $K8S_VERSION (first time: tens of minutes on 2 cores)"
    (cd "$ROOT/tools/k8s" && nice -n 10 go build -p 2 -trimpath -ldflags "$ldflags" -o "$tmp/" \
        "${K8S_BINARIES[@]/#/k8s.io/kubernetes/cmd/}")
    log "building etcd $ETCD_VERSION"
    (cd "$ROOT/tools/etcd" && nice -n 10 go build -p 2 -trimpath -ldflags "-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3)
    log "building kwok, kwokctl $KWOK_VERSION"
    (cd "$ROOT/tools/kwok" && nice -n 10 go build -p 2 -trimpath \
        -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v} -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${K8S_VERSION#v}" \
        -o "$tmp/" "${KWOK_BINARIES[@]/#/sigs.k8s.io/kwok/cmd/}")
    log "building kube-router $KUBE_ROUTER_VERSION (the real node's NetworkPolicy controller)"
    local kr=github.com/cloudnativelabs/kube-router/v2
    (cd "$ROOT/tools/kube-router" && nice -n 10 go build -p 2 -trimpath \
        -ldflags "-s -w -X $kr/pkg/version.Version=$KUBE_ROUTER_VERSION -X $kr/pkg/version.BuildDate=$build_date" \
        -o "$tmp/kube-router" "$kr/cmd/kube-router")
    # The sandbox process of every pod: upstream's pause.c from the same k8s.io/kubernetes module,
    # built as upstream's build/pause/Makefile does (static, so the image needs nothing else).
    local pause_src
    pause_src=$(cd "$ROOT/tools/k8s" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause/linux/pause.c
    log "building pause $PAUSE_VERSION"
    gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_VERSION-shimmy" -o "$tmp/pause" "$pause_src"
    build_stamp >"$tmp/.stamp"
    rm -rf "$BIN"
    mv "$tmp" "$BIN"
    log "built into $BIN in $((SECONDS - started)) s"
}

# Two free ports on the loopback for etcd (client, peer); the others kwokctl picks itself.
free_ports() {
    python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])'
}

write_kwokctl_config() {
    local etcd_port=$1 peer_port=$2 pki="$WORKDIR/pki"
    cat <<EOF
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  runtime: binary
  kubeVersion: $K8S_VERSION
  bindAddress: 127.0.0.1
  securePort: true
  kubeAuthorization: true
  kubeAdmission: true
  etcdPort: $etcd_port
  etcdPeerPort: $peer_port
  cacheDir: $KWOK_WORKDIR/cache
  kubeBinaryPrefix: $BIN
  kubeApiserverBinary: $BIN/kube-apiserver
  kubeControllerManagerBinary: $BIN/kube-controller-manager
  kubeSchedulerBinary: $BIN/kube-scheduler
  kubectlBinary: $BIN/kubectl
  kwokBinaryPrefix: $BIN
  kwokControllerBinary: $BIN/kwok
  etcdBinary: $BIN/etcd
componentsPatches:
# kwokctl serves etcd over plain HTTP; these make it mutual TLS with kwokctl's own CA and the one
# certificate it issues (serverAuth and clientAuth, SANs 127.0.0.1 and localhost).
- name: etcd
  extraArgs:
  - {key: listen-client-urls, value: "https://127.0.0.1:$etcd_port", override: true}
  - {key: advertise-client-urls, value: "https://127.0.0.1:$etcd_port", override: true}
  - {key: listen-peer-urls, value: "https://127.0.0.1:$peer_port", override: true}
  - {key: initial-advertise-peer-urls, value: "https://127.0.0.1:$peer_port", override: true}
  - {key: initial-cluster, value: "node0=https://127.0.0.1:$peer_port", override: true}
  - {key: cert-file, value: "$pki/admin.crt"}
  - {key: key-file, value: "$pki/admin.key"}
  - {key: trusted-ca-file, value: "$pki/ca.crt"}
  - {key: client-cert-auth, value: "true"}
  - {key: peer-cert-file, value: "$pki/admin.crt"}
  - {key: peer-key-file, value: "$pki/admin.key"}
  - {key: peer-trusted-ca-file, value: "$pki/ca.crt"}
  - {key: peer-client-cert-auth, value: "true"}
- name: kube-apiserver
  extraArgs:
  - {key: etcd-servers, value: "https://127.0.0.1:$etcd_port", override: true}
  - {key: etcd-cafile, value: "$pki/ca.crt"}
  - {key: etcd-certfile, value: "$pki/admin.crt"}
  - {key: etcd-keyfile, value: "$pki/admin.key"}
  # On top of the default plugins (PodSecurity, RuntimeClass, DefaultStorageClass, ...), as kubeadm.
  - {key: enable-admission-plugins, value: NodeRestriction}
  - {key: service-cluster-ip-range, value: "$SERVICE_CIDR"}
  # logs, exec and attach reach the real node's kubelet at its InternalIP, as this admin.
  - {key: kubelet-preferred-address-types, value: InternalIP}
  - {key: kubelet-client-certificate, value: "$pki/admin.crt"}
  - {key: kubelet-client-key, value: "$pki/admin.key"}
# kwok fakes only the nodes annotated as its own; the real node has a kubelet.
- name: kwok-controller
  extraArgs:
  - {key: manage-all-nodes, value: "false", override: true}
  - {key: manage-nodes-with-annotation-selector, value: "kwok.x-k8s.io/node=fake"}
EOF
}

# The pid of component NAME, from its pid file in our cluster's folder, and only while that process
# is the component kwokctl started (a stale pid file may name an unrelated process by now).
component_pid() {
    local f="$WORKDIR/pids/$1.pid" pid
    [[ -f "$f" ]] || return 1
    pid=$(cat "$f")
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    { tr '\0' '\n' <"/proc/$pid/cmdline"; } 2>/dev/null | head -n1 | grep -qx "$WORKDIR/bin/$1" || return 1
    echo "$pid"
}

component_pids() {
    local f
    for f in "$WORKDIR"/pids/*.pid; do
        [[ -f "$f" ]] && component_pid "$(basename "$f" .pid)"
    done
    return 0
}

components_running() {
    [[ -f "$WORKDIR/kwok.yaml" ]] || return 1
    local want have
    want=$(find "$WORKDIR/pids" -name '*.pid' 2>/dev/null | wc -l)
    have=$(component_pids | wc -l)
    ((want >= 5 && have == want))
}

api_ready() { [[ -f "$KUBECONFIG_PATH" ]] && k get --raw /readyz >/dev/null 2>&1; }

running() { components_running && api_ready; }

write_kubeconfig() {
    local server tmp="$KUBECONFIG_PATH.tmp"
    server=$("$KUBECTL" --kubeconfig "$WORKDIR/kubeconfig.yaml" config view -o jsonpath='{.clusters[0].cluster.server}')
    rm -f "$tmp"
    (
        umask 077
        "$KUBECTL" --kubeconfig "$tmp" config set-cluster "$CONTEXT" --server "$server" \
            --certificate-authority "$WORKDIR/pki/ca.crt" --embed-certs >/dev/null
        "$KUBECTL" --kubeconfig "$tmp" config set-credentials kwok-admin \
            --client-certificate "$WORKDIR/pki/admin.crt" --client-key "$WORKDIR/pki/admin.key" --embed-certs >/dev/null
        "$KUBECTL" --kubeconfig "$tmp" config set-context "$CONTEXT" --cluster "$CONTEXT" --user kwok-admin >/dev/null
        "$KUBECTL" --kubeconfig "$tmp" config use-context "$CONTEXT" >/dev/null
    )
    mv "$tmp" "$KUBECONFIG_PATH"
}

wait_until() {
    local what=$1 seconds=$2
    shift 2
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then
            log "$what: not after $seconds s; logs in $WORKDIR/logs"
            return 1
        fi
        sleep 0.5
    done
}

leases_held() { k -n kube-system get lease kube-controller-manager kube-scheduler; }

nodes_ready() { k wait --for=condition=Ready node/kwok-t4-0 node/kwok-cpu-0 --timeout=1s; }

# Claims deleted by a previous test leave their volume Released (reclaim policy Retain); dropping
# the claim reference makes it Available for the next claim.
reset_volumes() {
    local pv
    for pv in $(k get pv -l app.kubernetes.io/managed-by=shimmy-cluster \
        -o jsonpath='{range .items[?(@.status.phase=="Released")]}{.metadata.name}{"\n"}{end}'); do
        log "volume $pv: Released -> Available"
        refill_volume "$pv"
        k patch pv "$pv" --type json -p '[{"op": "remove", "path": "/spec/claimRef"}]' >/dev/null
    done
}

apply_objects() {
    k apply -f "$ROOT/scripts/cluster/objects.yaml" >/dev/null
    wait_until "nodes Ready" 60 nodes_ready
    reset_volumes
}

# A process that exited but was not reaped yet (a zombie: kwokctl's children are orphans, and some
# init processes reap them only every few seconds) counts as gone.
pid_alive() { [[ -r "/proc/$1/stat" && "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]]; }

stop_pid() { # NAME PID: SIGTERM, then SIGKILL after 20 s
    local name=$1 pid=$2
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 200); do
        pid_alive "$pid" || return 0
        sleep 0.1
    done
    log "$name ($pid) still running after 20 s, killing it"
    kill -KILL "$pid" 2>/dev/null || true
}

# Clients first, etcd last, so that each one can shut down cleanly.
stop_components() {
    local name pid
    for name in kwok-controller kube-scheduler kube-controller-manager kube-apiserver etcd; do
        pid=$(component_pid "$name") || continue
        log "stopping $name ($pid)"
        stop_pid "$name" "$pid"
    done
}

down() {
    node_down
    stop_components
    # Not `kwokctl delete cluster`: it SIGKILLs whatever pid its pid files name, checked or not.
    # Its cluster is this folder and nothing else (no context was added to ~/.kube/config).
    rm -rf "$WORKDIR"
    rm -f "$KUBECONFIG_PATH" "$STATE/kwokctl.yaml"
}

up() {
    build
    mkdir -p "$STATE"
    if running; then
        apply_objects
        node_up
        return 0
    fi
    # Left over from a crash or a killed `up`: start afresh.
    [[ -d "$WORKDIR" ]] && down
    local started=$SECONDS ports
    ports=$(free_ports)
    # shellcheck disable=SC2086
    write_kwokctl_config $ports >"$STATE/kwokctl.yaml"
    log "starting the control plane (kwokctl, binary runtime)"
    # PATH: kwokctl runs `kubectl` from the PATH for its own checks; ours matches the server.
    # --kubeconfig '': leave ~/.kube/config alone; we write our own kubeconfig below.
    # 9>&-: the components must not inherit the lock of `up`, or they would hold it while they run.
    if ! PATH="$BIN:$PATH" "$BIN/kwokctl" create cluster --name "$CLUSTER" --runtime binary \
        --config "$STATE/kwokctl.yaml" --kubeconfig '' --timeout 2m >"$STATE/kwokctl.log" 2>&1 9>&-; then
        cat "$STATE/kwokctl.log" >&2
        die "kwokctl create cluster failed (logs in $WORKDIR/logs)"
    fi
    write_kubeconfig
    wait_until "API server /readyz" 60 api_ready
    wait_until "controller manager and scheduler leases" 60 leases_held
    apply_objects
    node_up
    log "up in $((SECONDS - started)) s"
}

versions() {
    echo "kubernetes: $("$BIN/kube-apiserver" --version 2>/dev/null | awk '{print $2}') (kube-apiserver, kube-controller-manager, kube-scheduler, kubectl)"
    echo "etcd: $("$BIN/etcd" --version 2>/dev/null | awk '/etcd Version/ {print $3}')"
    echo "kwok: $("$BIN/kwok" --version 2>/dev/null | head -n1)"
    echo "real node: kubelet, kube-proxy $K8S_VERSION; kube-router $KUBE_ROUTER_VERSION; $(containerd --version 2>/dev/null | awk '{print "containerd " $3}')"
}

status() {
    if ! binaries_present; then
        echo "binaries: not built ($BIN)"
        echo "cluster: down"
        return 1
    fi
    versions
    echo "binaries: $BIN"
    if ! running; then
        echo "cluster: down"
        return 1
    fi
    echo "cluster: running, API server $(k config view -o jsonpath='{.clusters[0].cluster.server}')"
    echo "kubeconfig: $KUBECONFIG_PATH (context $CONTEXT)"
    echo "logs: $WORKDIR/logs, real node: $NODE/logs"
    k get nodes -o wide
}

main() {
    local cmd=${1:-}
    case "$cmd" in
    up | down | reset-volumes)
        mkdir -p "$STATE"
        # One `up`/`down` at a time.
        exec 9>"$STATE/.lock"
        flock 9
        ;;
    esac
    case "$cmd" in
    up)
        up
        status
        ;;
    down) down ;;
    status) status ;;
    leftovers) node_leftovers ;;
    reset-volumes)
        running || die "the cluster is not running"
        reset_volumes
        ;;
    build) build ;;
    env)
        echo "export KUBECONFIG=$KUBECONFIG_PATH"
        echo "export PATH=$BIN:\$PATH"
        ;;
    *)
        echo "usage: $0 up|down|status|reset-volumes|env|build|leftovers" >&2
        exit 2
        ;;
    esac
}

main "$@"
