#!/usr/bin/env bash
# Smoke test of the local control plane (scripts/cluster.sh): what a shimmy-shaped GPU workload meets
# on it. Needs a running cluster (`scripts/cluster.sh up`); leaves it as it found it (its namespace
# deleted, the volumes it used Available again).
#
# Checks, in a namespace that enforces the `restricted` Pod Security Standard:
#   1. a Deployment with a restricted pod, runtimeClassName nvidia, the T4 node selector, the
#      nvidia.com/gpu toleration, limits nvidia.com/gpu: 1, an init container and a PVC (RWO 10Gi,
#      default class) becomes Available, on kwok-t4-0, with its claim Bound
#   2. a Service over it gets an EndpointSlice with the pod's IP, ready
#   3. two replicas: the second stays Pending, FailedScheduling "Insufficient nvidia.com/gpu"
#   4. the same pod without the toleration stays Pending, FailedScheduling for the untolerated taint
#   5. a GPU pod with the toleration but no node selector still never lands on kwok-cpu-0
#   6. a pod that is not restricted is refused by the PodSecurity admission
# Usage: tests/cluster/smoke.sh     (exit status 0 when every check passed)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
eval "$(bash "$root/scripts/cluster.sh" env)"
bash "$root/scripts/cluster.sh" status >/dev/null || {
    echo "smoke: the cluster is not running: scripts/cluster.sh up" >&2
    exit 1
}

ns=shimmy-smoke-$RANDOM
failed=0
pass() { echo "PASS $*"; }
fail() {
    echo "FAIL $*"
    failed=1
}
k() { kubectl -n "$ns" "$@"; }

# shellcheck disable=SC2329 # called by the EXIT trap
cleanup() {
    kubectl delete namespace "$ns" --wait=true --timeout=120s >/dev/null 2>&1 || true
    # The PV controller marks a volume Released shortly after its claim is gone.
    for _ in $(seq 1 60); do
        kubectl get pv -o jsonpath='{range .items[?(@.status.phase=="Bound")]}{.spec.claimRef.namespace}{"\n"}{end}' |
            grep -qx "$ns" || break
        sleep 0.5
    done
    bash "$root/scripts/cluster.sh" reset-volumes >/dev/null 2>&1 || true
}
trap cleanup EXIT

# The pod template of shimmy's Deployment, in the shape components/service.py renders it.
pod_spec() { # TOLERATE(true|false) NODE_SELECTOR(true|false)
    cat <<EOF
      runtimeClassName: nvidia
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: {type: RuntimeDefault}
EOF
    [[ $2 == true ]] && cat <<EOF
      nodeSelector:
        nvidia.com/gpu.product: Tesla-T4
EOF
    [[ $1 == true ]] && cat <<EOF
      tolerations:
      - {key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}
EOF
    cat <<EOF
      initContainers:
      - name: fetch-model
        image: 127.0.0.1:5000/curl:smoke
        command: [sh, -c, "true"]
        securityContext: &restricted
          allowPrivilegeEscalation: false
          capabilities: {drop: [ALL]}
        volumeMounts: [{name: models, mountPath: /models}]
      containers:
      - name: shimmy
        image: 127.0.0.1:5000/shimmy-gpu/shimmy:smoke
        args: [serve, --bind, "0.0.0.0:8081", --gpu-backend, cuda, --model-path, /models/m.gguf]
        ports: [{name: http, containerPort: 8081}]
        resources:
          requests: {cpu: "2", memory: 8Gi}
          limits: {cpu: "4", memory: 12Gi, nvidia.com/gpu: 1}
        securityContext: *restricted
        volumeMounts: [{name: models, mountPath: /models}]
EOF
}

deployment() { # NAME TOLERATE NODE_SELECTOR CLAIM(name or "")
    cat <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: $1}
spec:
  replicas: 1
  strategy: {type: Recreate}
  selector: {matchLabels: {app: $1}}
  template:
    metadata: {labels: {app: $1}}
    spec:
EOF
    pod_spec "$2" "$3"
    if [[ -n "$4" ]]; then
        echo "      volumes: [{name: models, persistentVolumeClaim: {claimName: $4}}]"
    else
        echo "      volumes: [{name: models, emptyDir: {}}]"
    fi
}

pods_of() { k get pods -l "app=$1" -o jsonpath='{range .items[*]}{.metadata.name} {.status.phase} {.spec.nodeName}{"\n"}{end}'; }

scheduling_message() { # POD: the FailedScheduling events' messages, once there is one
    local msg=""
    for _ in $(seq 1 60); do
        msg=$(k get events --field-selector "involvedObject.name=$1,reason=FailedScheduling" -o jsonpath='{.items[*].message}')
        [[ -n "$msg" ]] && break
        sleep 0.5
    done
    echo "$msg"
}

pending_pod() { # APP: name of its pod that is Pending
    local pod=""
    for _ in $(seq 1 60); do
        pod=$(k get pods -l "app=$1" --field-selector status.phase=Pending -o jsonpath='{.items[0].metadata.name}' 2>/dev/null || true)
        [[ -n "$pod" ]] && break
        sleep 0.5
    done
    echo "$pod"
}

kubectl create namespace "$ns" >/dev/null
kubectl label namespace "$ns" pod-security.kubernetes.io/enforce=restricted \
    pod-security.kubernetes.io/enforce-version=latest >/dev/null
echo "namespace $ns (pod-security enforce=restricted), server $(kubectl version -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["serverVersion"]["gitVersion"])')"

# 1. The GPU Deployment with its claim.
k apply -f - >/dev/null <<EOF
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: models}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 10Gi}}
EOF
deployment gpu true true models | k apply -f - >/dev/null
if k wait deployment/gpu --for=condition=Available --timeout=90s >/dev/null; then
    pass "deployment gpu Available"
else
    fail "deployment gpu not Available: $(pods_of gpu)"
fi
read -r pod phase node <<<"$(pods_of gpu | head -n1)"
if [[ "$node" == kwok-t4-0 && "$phase" == Running ]]; then
    pass "pod $pod Running on $node"
else
    fail "pod $pod: $phase on '$node'"
fi
init=$(k get pod "$pod" -o jsonpath='{.status.initContainerStatuses[0].state.terminated.reason}')
if [[ "$init" == Completed ]]; then
    pass "init container Completed"
else
    fail "init container: '$init'"
fi
read -r claim_phase volume <<<"$(k get pvc models -o jsonpath='{.status.phase} {.spec.volumeName}')"
if [[ "$claim_phase" == Bound && "$volume" == local-t4-* ]]; then
    pass "claim models Bound to $volume"
else
    fail "claim models: $claim_phase '$volume'"
fi

# 2. Service and EndpointSlice.
k apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Service
metadata: {name: gpu}
spec:
  selector: {app: gpu}
  ports: [{name: http, port: 80, targetPort: http}]
EOF
ip=$(k get pod "$pod" -o jsonpath='{.status.podIP}')
got=""
for _ in $(seq 1 40); do
    got=$(k get endpointslices -l kubernetes.io/service-name=gpu \
        -o jsonpath='{range .items[*].endpoints[?(@.conditions.ready==true)]}{.addresses[0]}{" "}{end}')
    [[ " $got " == *" $ip "* ]] && break
    sleep 0.5
done
if [[ -n "$ip" && " $got " == *" $ip "* ]]; then
    pass "EndpointSlice of service gpu has the pod IP $ip (ready)"
else
    fail "EndpointSlice addresses '$got', pod IP '$ip'"
fi

# 3. A second replica finds no GPU left.
k scale deployment/gpu --replicas=2 >/dev/null
second=$(pending_pod gpu)
msg=$(scheduling_message "$second")
if [[ "$msg" == *"Insufficient nvidia.com/gpu"* ]]; then
    pass "second replica Pending: $msg"
else
    fail "second replica '$second': '$msg'"
fi
k scale deployment/gpu --replicas=1 >/dev/null

# 4. Without the toleration: the taint keeps it off the T4 node, the selector off the CPU node.
deployment no-toleration false true "" | k apply -f - >/dev/null
pod=$(pending_pod no-toleration)
msg=$(scheduling_message "$pod")
# Kubernetes 1.35 does not name the taint in the event ("node(s) had untolerated taint(s)";
# the scheduler logs it at -v=4); kwok-t4-0 carries only the GPU taint.
taints=$(kubectl get node kwok-t4-0 -o jsonpath='{range .spec.taints[*]}{.key}={.value}:{.effect} {end}')
if [[ "$msg" == *"had untolerated taint"* && "$taints" == "nvidia.com/gpu=present:NoSchedule " ]]; then
    pass "without toleration Pending: $msg (kwok-t4-0 taints: $taints)"
else
    fail "without toleration '$pod': '$msg' (kwok-t4-0 taints: '$taints')"
fi
k delete deployment no-toleration --wait=false >/dev/null

# 5. A GPU pod that tolerates the taint but selects no node: only kwok-t4-0 has nvidia.com/gpu; the
# one on it is taken, so it waits rather than going to kwok-cpu-0.
deployment no-selector true false "" | k apply -f - >/dev/null
pod=$(pending_pod no-selector)
msg=$(scheduling_message "$pod")
node=$(k get pod "$pod" -o jsonpath='{.spec.nodeName}' 2>/dev/null || true)
if [[ -z "$node" && "$msg" == *"Insufficient nvidia.com/gpu"* ]]; then
    pass "GPU pod without selector never on kwok-cpu-0: $msg"
else
    fail "no-selector pod '$pod' node '$node': '$msg'"
fi
k delete deployment no-selector --wait=false >/dev/null

# 6. PodSecurity admission enforces the namespace's level.
if out=$(k run not-restricted --image=127.0.0.1:5000/x:smoke --restart=Never 2>&1); then
    fail "a pod without a restricted security context was admitted"
else
    if [[ "$out" == *"violates PodSecurity \"restricted:latest\""* ]]; then
        pass "non-restricted pod refused: ${out%%:*}: violates PodSecurity"
    else
        fail "refused, but not by PodSecurity: $out"
    fi
fi

exit $failed
