"""Correct workloads, written as other programs write them: each gives no finding at all."""

from tests.policy.corpus.case import case

_SECURE = "{runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, " + (
    "seccompProfile: {type: RuntimeDefault}}"
)
_PROBES = """
          readinessProbe: {httpGet: {path: /health, port: http}}
          livenessProbe: {httpGet: {path: /health, port: http}}"""

CORRECT = [
    case(
        "like-the-shipped-program",
        "",
        f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: shimmy, namespace: shimmy}}
spec:
  replicas: 1
  strategy: {{type: Recreate}}
  selector: {{matchLabels: {{app.kubernetes.io/name: shimmy}}}}
  template:
    metadata: {{labels: {{app.kubernetes.io/name: shimmy}}}}
    spec:
      nodeSelector: {{nvidia.com/gpu.product: Tesla-T4}}
      tolerations: [{{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}}]
      runtimeClassName: nvidia
      initContainers:
        - name: fetch-model
          image: curlimages/curl:8.11.1
          command: [sh, -c, "curl -fL -o /models/a.gguf https://example.com/a.gguf"]
      containers:
        - name: shimmy
          image: registry.example.com/ml/shimmy@DIGEST
          args: [serve, --bind, "0.0.0.0:8081", --gpu-backend, cuda, --model-path, /models/a.gguf]
          ports: [{{name: http, containerPort: 8081, protocol: TCP}}]
          resources:
            requests: {{cpu: "2", memory: 8Gi}}
            limits: {{cpu: "4", memory: 12Gi, nvidia.com/gpu: "1"}}
          securityContext: {_SECURE}{_PROBES}
""",
    ),
    case(
        "pod-equals-forms-flags-after-serve",
        "",
        """
apiVersion: v1
kind: Pod
metadata: {name: shimmy}
spec:
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
    - name: inference
      image: registry.example.com/shimmy@DIGEST
      command: [shimmy]
      args: [serve, "--bind=[::]:8080", --gpu-backend=cuda, --model-path=/models/Llama-3.GGUF]
      ports: [{containerPort: 8080, name: http}]
      resources:
        limits: {nvidia.com/gpu: 2}
        requests: {nvidia.com/gpu: 2}
      securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
      readinessProbe: {httpGet: {path: /health, port: 8080}}
      livenessProbe: {tcpSocket: {port: 8080}}
""",
    ),
    case(
        "job-shell-wrapper-with-every-flag",
        "",
        f"""
apiVersion: batch/v1
kind: Job
metadata: {{name: eval-server}}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: server
          image: registry.example.com/platform/llm-runtime@DIGEST
          command:
            - /bin/bash
            - -c
            - exec shimmy --gpu-backend cuda serve --bind 0.0.0.0:$PORT --model-path /m/a.gguf
          env: [{{name: PORT, value: "8080"}}, {{name: NVIDIA_DRIVER_CAPABILITIES, value: "compute,utility"}}]
          ports: [{{containerPort: 8080, name: http}}]
          resources: {{limits: {{nvidia.com/gpu: 1}}}}
          securityContext: {_SECURE}{_PROBES}
""",
    ),
    case(
        "statefulset-with-sidecar-and-tools",
        "",
        f"""
apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: models}}
spec:
  serviceName: models
  selector: {{matchLabels: {{app: models}}}}
  template:
    metadata: {{labels: {{app: models}}}}
    spec:
      initContainers:
        - name: list-models
          image: registry.example.com/shimmy@DIGEST
          args: [list]
      containers:
        - name: shimmy
          image: registry.example.com/shimmy@DIGEST
          args: [serve, --bind, "0.0.0.0:8080", --gpu-backend, cuda, --model-dirs, /data/models]
          ports: [{{containerPort: 8080, name: http}}]
          resources: {{limits: {{nvidia.com/gpu: 1}}}}
          securityContext: {_SECURE}{_PROBES}
        - name: gpu-info
          image: registry.example.com/shimmy@DIGEST
          args: [gpu-info]
        - name: exporter
          image: quay.io/prometheus/node-exporter:v1.8.2
""",
    ),
    case(
        "rolling-update-without-surge-and-affinity",
        "",
        f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: chat}}
spec:
  strategy: {{type: RollingUpdate, rollingUpdate: {{maxSurge: 0, maxUnavailable: 1}}}}
  selector: {{matchLabels: {{app: chat}}}}
  template:
    metadata: {{labels: {{app: chat}}}}
    spec:
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
              - matchExpressions: [{{key: nvidia.com/gpu.present, operator: In, values: ["true"]}}]
      tolerations: [{{operator: Exists}}]
      containers:
        - name: shimmy
          image: registry.example.com/shimmy@DIGEST
          args: [serve, --bind, "0.0.0.0:8080", --gpu-backend, cuda, --model-path, /m/a.gguf]
          ports: [{{containerPort: 8080, name: http}}]
          resources: {{limits: {{nvidia.com/gpu: "1"}}}}
          securityContext: {_SECURE}{_PROBES}
""",
    ),
    case(
        "a-gpu-workload-that-is-not-shimmy",
        "",
        """
apiVersion: batch/v1
kind: Job
metadata: {name: train}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: trainer
          image: nvcr.io/nvidia/pytorch:24.05-py3
          command: [python, train.py, --device, cuda]
          resources: {limits: {nvidia.com/gpu: 8}}
""",
    ),
]
