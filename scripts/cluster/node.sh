# shellcheck shell=bash
# The real node of scripts/cluster.sh (sourced by it): containerd, kubelet, the bridge CNI,
# kube-proxy (nftables) and kube-router (NetworkPolicy only) on this machine, beside kwok's nodes.
#
# Everything it starts or writes is named here, so `node_down` can take all of it away again:
#   processes  containerd (own socket, root and state), its shims, kubelet, kube-proxy, kube-router
#   files      $NODE (config, certificates, kubelet root, pod logs, volumes, CNI state); the image
#              store in $NODE_IMAGES outlives `down` so that a warm `up` pulls nothing
#   host       link $NODE_LINK (the node's address), bridge $BRIDGE (pods), cgroup $CGROUP_ROOT under
#              each v1 controller, two DOCKER-USER rules, kube-proxy's nft tables, kube-router's
#              iptables chains and ipsets, /var/log/containers links into $NODE
# Why each setting (measured on this VM, cgroup v1 hybrid, root without CAP_SYS_RESOURCE): inline.

NODE_NAME=real-cpu-0
NODE="$STATE/node"
NODE_IMAGES="$CACHE/node-images"
NODE_LINK=shimmy-node
# The node's address lives on a link of its own (a bridge without ports: this kernel has no dummy
# links): kubelet refuses a loopback node IP, and an address of its own keeps kubelet's and
# kube-proxy's listeners off the machine's real interfaces.
NODE_IP=10.88.0.1
BRIDGE=shimmy0
POD_CIDR=10.244.0.0/24 # kwok's nodes have 10.244.1.0/24 and 10.244.2.0/24
CLUSTER_CIDR=10.244.0.0/16
CGROUP_ROOT=shimmy-node
CONTAINERD_SOCK="$NODE/run/containerd.sock"
CNI_BIN=/usr/lib/cni
NODE_PACKAGES=(containerd runc containernetworking-plugins nftables ipset conntrack iptables iproute2)
NODE_COMPONENTS=(containerd kubelet kube-proxy kube-router)
# Docker's FORWARD policy is DROP; these let pods reach each other (and Services) over the bridge.
DOCKER_USER_RULES=("-i $BRIDGE -o $BRIDGE -j ACCEPT" "-o $BRIDGE -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")

node_install() {
    local missing=() p
    for p in "${NODE_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    ((${#missing[@]} == 0)) && return 0
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

node_pid() { # NAME: its pid while it is the process we started (pid file + command line)
    local f="$NODE/pids/$1.pid" pid
    [[ -f "$f" ]] || return 1
    pid=$(cat "$f")
    [[ "$pid" =~ ^[0-9]+$ ]] && pid_alive "$pid" || return 1
    { tr '\0' '\n' <"/proc/$pid/cmdline"; } 2>/dev/null | head -n1 | grep -qx "$(node_binary "$1")" || return 1
    echo "$pid"
}

node_binary() { if [[ $1 == containerd ]]; then command -v containerd; else echo "$BIN/$1"; fi; }

node_start() { # NAME ARGS...: in the background, detached, logs and pid under $NODE
    local name=$1
    shift
    setsid "$(node_binary "$name")" "$@" >"$NODE/logs/$name.log" 2>&1 </dev/null 9>&- &
    echo $! >"$NODE/pids/$name.pid"
}

# A client certificate from the control plane's CA, and a kubeconfig that uses it.
node_identity() { # FILE-STEM CN [O]
    local stem=$1 cn=$2 org=${3:-} pki="$WORKDIR/pki" subject
    subject="/CN=$cn${org:+/O=$org}"
    openssl req -new -newkey rsa:2048 -nodes -keyout "$NODE/pki/$stem.key" -subj "$subject" 2>/dev/null |
        openssl x509 -req -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 30 \
            -out "$NODE/pki/$stem.crt" 2>/dev/null
    local server
    server=$(k config view -o jsonpath='{.clusters[0].cluster.server}')
    (
        umask 077
        local kc="$NODE/$stem.kubeconfig"
        "$KUBECTL" --kubeconfig "$kc" config set-cluster local --server "$server" \
            --certificate-authority "$pki/ca.crt" --embed-certs >/dev/null
        "$KUBECTL" --kubeconfig "$kc" config set-credentials "$stem" \
            --client-certificate "$NODE/pki/$stem.crt" --client-key "$NODE/pki/$stem.key" --embed-certs >/dev/null
        "$KUBECTL" --kubeconfig "$kc" config set-context local --cluster local --user "$stem" >/dev/null
        "$KUBECTL" --kubeconfig "$kc" config use-context local >/dev/null
    )
}

write_containerd_config() {
    mkdir -p "$NODE/certs.d/127.0.0.1:5000"
    # containerd pulls from the project's registry over plain HTTP, and from nowhere else.
    cat >"$NODE/certs.d/127.0.0.1:5000/hosts.toml" <<EOF
server = "http://127.0.0.1:5000"
[host."http://127.0.0.1:5000"]
  capabilities = ["pull", "resolve"]
EOF
    cat >"$NODE/containerd.toml" <<EOF
version = 2
root = "$NODE_IMAGES"
state = "$NODE/run/containerd"
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # Root here lacks CAP_SYS_RESOURCE: without this every sandbox fails with "can't get final
  # child's PID from pipe: EOF" (runc may not lower oom_score_adj below its own).
  restrict_oom_score_adj = true
  # Network namespaces under containerd's state folder, not /var/run/netns.
  netns_mounts_under_state_dir = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CNI_BIN"
    conf_dir = "$NODE/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$NODE/certs.d"
EOF
}

write_cni_config() {
    mkdir -p "$NODE/cni/net.d" "$NODE/cni/ipam"
    # No masquerade and no route out: Docker's FORWARD DROP keeps pods off the machine's network,
    # and DOCKER_USER_RULES admit only traffic that stays on the bridge. The one route is to the
    # Service addresses, through the bridge, where kube-proxy turns them into pod addresses.
    cat >"$NODE/cni/net.d/10-shimmy.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "shimmy-node",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$NODE/cni/ipam",
        "ranges": [[{"subnet": "$POD_CIDR"}]],
        "routes": [{"dst": "$SERVICE_CIDR"}]
      }
    },
    {"type": "loopback"}
  ]
}
EOF
}

write_kubelet_config() {
    # There is no cluster DNS, and pods must not resolve names outside the cluster: a name lookup
    # fails at once on the pod's own loopback (with no nameserver, containerd would copy the host's).
    echo "nameserver 127.0.0.1" >"$NODE/resolv.conf"
    cat >"$NODE/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 0
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $WORKDIR/pki/ca.crt}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
# This VM mounts cgroup v1 (hybrid); kubelet 1.35 then refuses to start unless told (deprecated).
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: /$CGROUP_ROOT
podLogsDir: $NODE/pod-logs
resolvConf: $NODE/resolv.conf
registerNode: true
maxPods: 30
serializeImagePulls: false
# The machine is shared with builds: no eviction of pods for its disk or memory.
evictionHard: {}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
failSwapOn: false
enableServer: true
staticPodPath: ""
EOF
}

write_kube_proxy_config() {
    cat >"$NODE/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: nftables
hostnameOverride: $NODE_NAME
bindAddress: $NODE_IP
clusterCIDR: $CLUSTER_CIDR
clientConnection: {kubeconfig: $NODE/kube-proxy.kubeconfig}
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: [$NODE_IP/32]
# conntrack sysctls are the host's to set, not ours.
conntrack: {maxPerCore: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
}

# Every v1 controller needs the cgroup root before kubelet starts; cpuset's must inherit cpus/mems.
make_cgroups() {
    local c
    for c in /sys/fs/cgroup/*/; do
        [[ -d "$c" && "$c" != */unified/ ]] || continue
        mkdir -p "$c$CGROUP_ROOT"
    done
    if [[ -d /sys/fs/cgroup/cpuset/$CGROUP_ROOT ]]; then
        cat /sys/fs/cgroup/cpuset/cpuset.cpus >"/sys/fs/cgroup/cpuset/$CGROUP_ROOT/cpuset.cpus"
        cat /sys/fs/cgroup/cpuset/cpuset.mems >"/sys/fs/cgroup/cpuset/$CGROUP_ROOT/cpuset.mems"
    fi
}

node_network() {
    ip link show "$NODE_LINK" >/dev/null 2>&1 || ip link add "$NODE_LINK" type bridge
    ip addr replace "$NODE_IP/32" dev "$NODE_LINK"
    ip link set "$NODE_LINK" up
    local rule
    for rule in "${DOCKER_USER_RULES[@]}"; do
        # shellcheck disable=SC2086 # a rule is several words
        iptables -C DOCKER-USER $rule 2>/dev/null || iptables -I DOCKER-USER $rule
    done
}

node_running() {
    local c
    for c in "${NODE_COMPONENTS[@]}"; do node_pid "$c" >/dev/null || return 1; done
    node_ready
}

# kube-proxy has written its table, kube-router its firewall chains.
node_services_ready() {
    node_pid kube-proxy && node_pid kube-router && nft list table ip kube-proxy &&
        iptables -S KUBE-ROUTER-FORWARD
}

node_ready() { k wait --for=condition=Ready "node/$NODE_NAME" --timeout=1s; }

containerd_ready() { ctr --address "$CONTAINERD_SOCK" version; }

node_up() {
    node_running || node_start_all
    make_volumes
}

node_start_all() {
    node_down # a crashed or half-started node: start afresh
    node_install
    local started=$SECONDS
    mkdir -p "$NODE"/{pids,logs,pki,run,pod-logs,kubelet} "$NODE_IMAGES"
    node_pause_image
    write_containerd_config
    write_cni_config
    write_kubelet_config
    write_kube_proxy_config
    node_identity kubelet "system:node:$NODE_NAME" system:nodes
    node_identity kube-proxy system:kube-proxy
    node_identity kube-router shimmy:kube-router
    make_cgroups
    node_network
    k apply -f "$ROOT/scripts/cluster/node-objects.yaml" >/dev/null
    log "starting the real node $NODE_NAME ($NODE_IP): containerd, kubelet, kube-proxy, kube-router"
    node_start containerd --config "$NODE/containerd.toml"
    wait_until "containerd" 30 containerd_ready
    node_start kubelet --config "$NODE/kubelet.yaml" --kubeconfig "$NODE/kubelet.kubeconfig" \
        --root-dir "$NODE/kubelet" --cert-dir "$NODE/pki/kubelet-serving" \
        --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" \
        --node-labels "shimmy-gpu/node=real"
    wait_until "node $NODE_NAME Ready" 120 node_ready || die "the real node did not become Ready (logs in $NODE/logs)"
    # One nvidia.com/gpu with no device behind it (an extended resource kubelet keeps until it
    # restarts), so that prod's pod shape, GPU limit included, schedules here unchanged; the local
    # stack's shimmy runs --gpu-backend cpu.
    k patch node "$NODE_NAME" --subresource=status --type=merge \
        -p '{"status": {"capacity": {"nvidia.com/gpu": "1"}}}' >/dev/null
    # Both look their node up by name: only once kubelet has registered it.
    node_start kube-proxy --config "$NODE/kube-proxy.yaml"
    # NetworkPolicy only: the bridge routes pods, kube-proxy serves Services.
    node_start kube-router --kubeconfig "$NODE/kube-router.kubeconfig" --hostname-override "$NODE_NAME" \
        --run-firewall=true --run-router=false --run-service-proxy=false --enable-cni=false \
        --health-port=0 --metrics-port=0 --service-cluster-ip-range "$SERVICE_CIDR"
    wait_until "kube-proxy and kube-router" 30 node_services_ready ||
        die "kube-proxy or kube-router did not start (logs in $NODE/logs)"
    log "real node up in $((SECONDS - started)) s"
}

# The sandbox image every pod starts with: the pause binary built with the control plane, in an
# image of its own in the project's registry (nothing can be pulled from registry.k8s.io here).
node_pause_image() {
    local image=127.0.0.1:5000/shimmy-base/pause:$PAUSE_VERSION
    if ! docker image inspect "$image" >/dev/null 2>&1; then
        log "making $image"
        tar -C "$BIN" --owner=0 --group=0 -c pause |
            docker import --change 'ENTRYPOINT ["/pause"]' --change 'USER 65535:65535' - "$image" >/dev/null
    fi
    docker push -q "$image" >/dev/null
    PAUSE_IMAGE=$(docker image inspect --format '{{index .RepoDigests 0}}' "$image")
}

# Static volumes on the real node for the model: each starts with a copy of the Gemma 3 270M GGUF
# (from its PyPI package), which the pod's init container verifies by sha256 like any other.
# Local volumes with node affinity: a claim of class $VOLUME_CLASS binds only where its pod runs.
VOLUME_CLASS=real-cpu-local
VOLUMES=3
make_volumes() {
    local python="$ROOT/.venv/bin/python" model i dir
    [[ -x "$python" ]] || die "the model comes from PyPI through the project's virtualenv: run make setup"
    model=$("$python" "$ROOT/scripts/local_model.py")
    for ((i = 0; i < VOLUMES; i++)); do
        dir="$NODE/volumes/disk-$i"
        fill_volume "$dir" "$model"
        cat <<EOF
apiVersion: v1
kind: PersistentVolume
metadata:
  name: $VOLUME_CLASS-$i
  labels: {app.kubernetes.io/managed-by: shimmy-cluster}
spec:
  capacity: {storage: 8Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: $VOLUME_CLASS
  volumeMode: Filesystem
  local: {path: $dir}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - {key: kubernetes.io/hostname, operator: In, values: [$NODE_NAME]}
---
EOF
    done | k apply -f - >/dev/null
}

fill_volume() { # DIR MODEL: the model in place, as the node's disk would hold it
    mkdir -p "$1"
    cmp -s "$2" "$1/$(basename "$2")" || cp "$2" "$1/"
}

# A Released volume of the real node gets its model back (a test may have made its pod delete it).
refill_volume() { # PV
    [[ "$1" == "$VOLUME_CLASS"-* && -d "$NODE/volumes" ]] || return 0
    fill_volume "$NODE/volumes/disk-${1##*-}" "$("$ROOT/.venv/bin/python" "$ROOT/scripts/local_model.py")"
}

node_stop() { # NAME
    local pid
    pid=$(node_pid "$1") || return 0
    log "stopping $1 ($pid)"
    stop_pid "$1" "$pid"
}

# Our containerd's shims: their command line names our socket.
shim_pids() {
    local p
    for p in /proc/[0-9]*; do
        tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -q -- "-address $CONTAINERD_SOCK " && echo "${p#/proc/}"
    done
    return 0
}

node_down() {
    if [[ -d "$NODE" ]] && api_ready && k get node "$NODE_NAME" >/dev/null 2>&1; then
        # Pods first, while kubelet runs: it stops their sandboxes, and the CNI takes their
        # addresses and links away.
        k cordon "$NODE_NAME" >/dev/null 2>&1 || true
        if node_pid kubelet >/dev/null; then
            k delete pods -A --field-selector "spec.nodeName=$NODE_NAME" --grace-period=5 \
                --timeout=90s >/dev/null 2>&1 || log "pods on $NODE_NAME not all deleted in 90 s"
        fi
        k delete node "$NODE_NAME" --wait=false >/dev/null 2>&1 || true
    fi
    node_stop kube-router
    node_stop kube-proxy
    node_stop kubelet
    if node_pid containerd >/dev/null; then
        local c ctr=(ctr --address "$CONTAINERD_SOCK" -n k8s.io)
        for c in $("${ctr[@]}" containers ls -q 2>/dev/null); do
            "${ctr[@]}" tasks kill -s SIGKILL "$c" >/dev/null 2>&1 || true
            "${ctr[@]}" tasks rm -f "$c" >/dev/null 2>&1 || true
            "${ctr[@]}" containers rm "$c" >/dev/null 2>&1 || true
        done
    fi
    node_stop containerd
    local pid
    for pid in $(shim_pids); do stop_pid containerd-shim "$pid"; done
    node_clean_host
    rm -rf "$NODE"
}

# What the node's components leave on the host when they are stopped rather than asked to clean up.
node_clean_host() {
    local m link rule c
    # Mounts: pod volumes, rootfs overlays, network namespaces; deepest first.
    while read -r m; do
        umount -l "$m" 2>/dev/null || true
    done < <(findmnt -rn -o TARGET | grep -E "^($NODE|$NODE_IMAGES)(/|$)" | sort -r)
    for link in $(ip -o link show master "$BRIDGE" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
        ip link delete "$link" 2>/dev/null || true
    done
    for link in "$BRIDGE" "$NODE_LINK"; do
        if ip link show "$link" >/dev/null 2>&1; then ip link delete "$link"; fi
    done
    for rule in "${DOCKER_USER_RULES[@]}"; do
        # shellcheck disable=SC2086 # a rule is several words
        while iptables -C DOCKER-USER $rule 2>/dev/null; do iptables -D DOCKER-USER $rule; done
    done
    # kube-proxy's state is its own nft tables.
    nft delete table ip kube-proxy 2>/dev/null || true
    nft delete table ip6 kube-proxy 2>/dev/null || true
    # kube-router's chains and ipsets, kubelet's KUBE-FIREWALL and canaries: `kube-router
    # --cleanup-config` (v2.1.0) panics here, so they go the plain way. This machine runs no other
    # Kubernetes node, so every KUBE- chain is ours.
    remove_kube_chains iptables
    remove_kube_chains ip6tables
    local set
    for set in $(ipset list -n 2>/dev/null | grep -E '^KUBE-' || true); do ipset destroy "$set" 2>/dev/null || true; done
    for c in /sys/fs/cgroup/*/"$CGROUP_ROOT"; do
        if [[ -d "$c" ]]; then find "$c" -depth -type d -exec rmdir {} + 2>/dev/null || true; fi
    done
    find /var/log/containers -maxdepth 1 -lname "$NODE/*" -delete 2>/dev/null || true
    rm -f /var/lib/cni/results/shimmy-node-* 2>/dev/null || true
    rmdir /var/lib/cni/results /var/lib/cni 2>/dev/null || true # libcni makes them; only if empty
}

remove_kube_chains() { # iptables|ip6tables: the jumps into KUBE- chains, then the chains
    local cmd=$1 table chain n chains
    for table in filter nat mangle; do
        for chain in INPUT OUTPUT FORWARD PREROUTING POSTROUTING; do
            # By rule number, first match each time: the numbers shift as rules go.
            while n=$("$cmd" -t "$table" -L "$chain" -n --line-numbers 2>/dev/null |
                awk '$2 ~ /^KUBE-/ {print $1; exit}') && [[ -n "$n" ]]; do
                "$cmd" -t "$table" -D "$chain" "$n"
            done
        done
        chains=$("$cmd-save" -t "$table" 2>/dev/null | sed -n 's/^:\(KUBE-[^ ]*\) .*/\1/p')
        for chain in $chains; do "$cmd" -t "$table" -F "$chain"; done
        for chain in $chains; do "$cmd" -t "$table" -X "$chain"; done
    done
}

# What `down` must not leave behind, one line each; nothing printed means clean. Each grep may
# match nothing: `|| true`, or errexit would end the listing at the first clean category.
node_leftovers() {
    local c p
    for c in "${NODE_COMPONENTS[@]}"; do if node_pid "$c" >/dev/null; then echo "process: $c"; fi; done
    for p in $(shim_pids); do echo "process: containerd-shim $p"; done
    { findmnt -rn -o TARGET | grep -E "^($NODE|$NODE_IMAGES)(/|$)" | sed 's/^/mount: /'; } || true
    ip -o link show 2>/dev/null | awk -F': ' -v b="$BRIDGE" -v n="$NODE_LINK" \
        '$2 == b || $2 == n || $0 ~ ("master " b " ") {print "link: " $2}'
    { ip route show 2>/dev/null | grep -E "^(${POD_CIDR%/*}|${NODE_IP}|${SERVICE_CIDR%/*})" | sed 's/^/route: /'; } || true
    { iptables-save 2>/dev/null | grep -E "$BRIDGE|KUBE-" | sed 's/^/iptables: /'; } || true
    { ip6tables-save 2>/dev/null | grep -E "$BRIDGE|KUBE-" | sed 's/^/ip6tables: /'; } || true
    { ipset list -n 2>/dev/null | grep -E '^KUBE-' | sed 's/^/ipset: /'; } || true
    { nft list tables 2>/dev/null | grep -E 'kube-proxy|kube-router' | sed 's/^/nft: /'; } || true
    for c in /sys/fs/cgroup/*/"$CGROUP_ROOT"; do if [[ -d "$c" ]]; then echo "cgroup: $c"; fi; done
    { find /var/log/containers -maxdepth 1 -lname "$NODE/*" 2>/dev/null | sed 's/^/file: /'; } || true
}
