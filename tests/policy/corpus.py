"""Workloads written as other programs write them (kubectl manifests, Helm output, ConfigFile), with the
mandatory violations each must give, and correct variants that must give none at all.

Each manifest is what the engine hands the pack for that resource: the object's fields in camelCase.
`@DIGEST` stands for a real-looking sha256 digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

DIGEST = "sha256:" + "3f9a1c0de5b27481" * 4


@dataclass(frozen=True)
class Case:
    id: str
    manifest: str
    expected: frozenset[tuple[str, str]] = frozenset()  # (rule, container or resource name)

    def resource(self) -> tuple[str, str, dict[str, Any]]:
        """(type token, Pulumi name, properties) as the engine passes them."""
        doc = yaml.safe_load(self.manifest.replace("@DIGEST", "@" + DIGEST))
        if "type" in doc:  # a non-Kubernetes resource: its token and inputs
            return doc["type"], doc["name"], doc["props"]
        group, _, version = doc["apiVersion"].rpartition("/")
        return f"kubernetes:{group or 'core'}/{version}:{doc['kind']}", doc["metadata"]["name"], doc


def case(id_: str, expected: str, manifest: str) -> Case:
    pairs = frozenset(tuple(item.strip().split(":", 1)) for item in expected.split(",") if item.strip())
    return Case(id_, manifest, pairs)  # type: ignore[arg-type]


MISCONFIGURED = [
    case(
        "the-outage-deployment",
        "gpu-resource:shimmy, gpu-backend-flag:shimmy, image-digest:shimmy",
        """
apiVersion: apps/v1
kind: Deployment
metadata: {name: shimmy, namespace: llm}
spec:
  replicas: 1
  selector: {matchLabels: {app: shimmy}}
  template:
    metadata: {labels: {app: shimmy}}
    spec:
      containers:
        - name: shimmy
          image: ghcr.io/acme/shimmy:1.9.0
          args: [serve, --bind, "0.0.0.0:11435", --model-path, /models/phi3-mini.gguf]
          ports: [{containerPort: 11435}]
          resources: {limits: {memory: 8Gi}}
""",
    ),
    case(
        "gpu-only-in-requests",
        "gpu-resource:shimmy",
        """
apiVersion: apps/v1
kind: Deployment
metadata: {name: llm}
spec:
  selector: {matchLabels: {app: llm}}
  template:
    metadata: {labels: {app: llm}}
    spec:
      containers:
        - name: shimmy
          image: registry.example.com/ml/shimmy@DIGEST
          args: [serve, --bind, "0.0.0.0:8080", --gpu-backend, cuda, --model-path, /models/llama.gguf]
          ports: [{containerPort: 8080, name: http}]
          resources:
            requests: {cpu: "2", nvidia.com/gpu: "1"}
""",
    ),
    case(
        "backend-auto-equals-form",
        "gpu-backend-flag:shimmy",
        """
apiVersion: apps/v1
kind: Deployment
metadata: {name: chat}
spec:
  selector: {matchLabels: {app: chat}}
  template:
    metadata: {labels: {app: chat}}
    spec:
      containers:
        - name: shimmy
          image: registry.example.com/shimmy@DIGEST
          args: [serve, --bind=0.0.0.0:8080, --gpu-backend=auto, --model-path=/models/qwen.gguf]
          ports: [{containerPort: 8080}]
          resources: {limits: {nvidia.com/gpu: 1}}
""",
    ),
    case(
        "backend-cpu",
        "gpu-backend-flag:shimmy",
        """
apiVersion: apps/v1
kind: Deployment
metadata: {name: chat}
spec:
  selector: {matchLabels: {app: chat}}
  template:
    metadata: {labels: {app: chat}}
    spec:
      containers:
        - name: shimmy
          image: registry.example.com/shimmy@DIGEST
          args: [serve, --gpu-backend, cpu, --bind, "0.0.0.0:8080", --model-path, /models/qwen.gguf]
          ports: [{containerPort: 8080}]
          resources: {limits: {nvidia.com/gpu: "1"}}
""",
    ),
    case(
        "backend-vulkan",
        "gpu-backend-flag:shimmy",
        """
apiVersion: v1
kind: Pod
metadata: {name: shimmy-vulkan}
spec:
  containers:
    - name: shimmy
      image: registry.example.com/shimmy@DIGEST
      args: [--gpu-backend, vulkan, serve, --bind, "0.0.0.0:8080", --model-path, /m/a.gguf]
      ports: [{containerPort: 8080}]
      resources: {limits: {nvidia.com/gpu: 1}}
""",
    ),
    case(
        "backend-given-twice",
        "gpu-backend-flag:shimmy",
        """
apiVersion: apps/v1
kind: Deployment
metadata: {name: chat}
spec:
  selector: {matchLabels: {app: chat}}
  template:
    metadata: {labels: {app: chat}}
    spec:
      containers:
        - name: shimmy
          image: registry.example.com/shimmy@DIGEST
          args:
            [--gpu-backend, cuda, serve, --bind, "0.0.0.0:8080", --model-path, /m/a.gguf, --gpu-backend=auto]
          ports: [{containerPort: 8080}]
          resources: {limits: {nvidia.com/gpu: 1}}
""",
    ),
    case(
        "env-vars-shimmy-does-not-read",
        "gpu-backend-flag:shimmy, bind-address:shimmy",
        """
apiVersion: apps/v1
kind: Deployment
metadata: {name: shimmy}
spec:
  selector: {matchLabels: {app: shimmy}}
  template:
    metadata: {labels: {app: shimmy}}
    spec:
      containers:
        - name: shimmy
          image: registry.example.com/shimmy@DIGEST
          args: [serve, --model-path, /models/phi3.gguf]
          env:
            - {name: SHIMMY_GPU_BACKEND, value: cuda}
            - {name: SHIMMY_PORT, value: "8080"}
            - {name: SHIMMY_HOST, value: 0.0.0.0}
          ports: [{containerPort: 8080}]
          resources: {limits: {nvidia.com/gpu: 1}}
""",
    ),
    case(
        "bind-loopback",
        "bind-address:shimmy",
        """
apiVersion: apps/v1
kind: Deployment
metadata: {name: chat}
spec:
  selector: {matchLabels: {app: chat}}
  template:
    metadata: {labels: {app: chat}}
    spec:
      containers:
        - name: shimmy
          image: registry.example.com/shimmy@DIGEST
          args: [serve, --bind, "127.0.0.1:8080", --gpu-backend, cuda, --model-path, /m/a.gguf]
          ports: [{containerPort: 8080}]
          resources: {limits: {nvidia.com/gpu: 1}}
""",
    ),
    case(
        "bind-wrong-port",
        "bind-address:shimmy",
        """
apiVersion: apps/v1
kind: Deployment
metadata: {name: chat}
spec:
  selector: {matchLabels: {app: chat}}
  template:
    metadata: {labels: {app: chat}}
    spec:
      containers:
        - name: shimmy
          image: registry.example.com/shimmy@DIGEST
          args: [serve, --bind, "0.0.0.0:8080", --gpu-backend, cuda, --model-path, /m/a.gguf]
          ports: [{containerPort: 11435, name: http}]
          resources: {limits: {nvidia.com/gpu: 1}}
""",
    ),
    case(
        "bind-missing",
        "bind-address:shimmy",
        """
apiVersion: v1
kind: Pod
metadata: {name: shimmy-dev}
spec:
  containers:
    - name: shimmy
      image: registry.example.com/shimmy@DIGEST
      args: [serve, --gpu-backend, cuda, --model-path, /m/a.gguf]
      ports: [{containerPort: 11435}]
      resources: {limits: {nvidia.com/gpu: 1}}
""",
    ),
    case(
        "bind-auto",
        "bind-address:shimmy",
        """
apiVersion: v1
kind: Pod
metadata: {name: shimmy-dev}
spec:
  containers:
    - name: shimmy
      image: registry.example.com/shimmy@DIGEST
      args: [serve, --bind, auto, --gpu-backend, cuda, --model-path, /m/a.gguf]
      ports: [{containerPort: 11435}]
      resources: {limits: {nvidia.com/gpu: 1}}
""",
    ),
    case(
        "model-path-is-a-folder",
        "model-flag:shimmy",
        """
apiVersion: apps/v1
kind: Deployment
metadata: {name: chat}
spec:
  selector: {matchLabels: {app: chat}}
  template:
    metadata: {labels: {app: chat}}
    spec:
      containers:
        - name: shimmy
          image: registry.example.com/shimmy@DIGEST
          args: [serve, --bind, "0.0.0.0:8080", --gpu-backend, cuda, --model-path, /models]
          ports: [{containerPort: 8080}]
          resources: {limits: {nvidia.com/gpu: 1}}
          volumeMounts: [{name: models, mountPath: /models}]
      volumes: [{name: models, persistentVolumeClaim: {claimName: models}}]
""",
    ),
    case(
        "model-path-folder-equals-form",
        "model-flag:shimmy",
        """
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: chat}
spec:
  serviceName: chat
  selector: {matchLabels: {app: chat}}
  template:
    metadata: {labels: {app: chat}}
    spec:
      containers:
        - name: shimmy
          image: registry.example.com/shimmy@DIGEST
          args: [serve, --bind=0.0.0.0:8080, --gpu-backend=cuda, --model-path=/models/llama/]
          ports: [{containerPort: 8080}]
          resources: {limits: {nvidia.com/gpu: 1}}
""",
    ),
    case(
        "model-dirs-in-a-skipped-folder",
        "model-flag:shimmy",
        """
apiVersion: apps/v1
kind: Deployment
metadata: {name: chat}
spec:
  selector: {matchLabels: {app: chat}}
  template:
    metadata: {labels: {app: chat}}
    spec:
      containers:
        - name: shimmy
          image: registry.example.com/shimmy@DIGEST
          args: [serve, --bind, "0.0.0.0:8080", --gpu-backend, cuda, --model-dirs, "/data/gguf;/opt"]
          ports: [{containerPort: 8080}]
          resources: {limits: {nvidia.com/gpu: 1}}
""",
    ),
    case(
        "image-by-tag",
        "image-digest:shimmy",
        """
apiVersion: apps/v1
kind: Deployment
metadata: {name: chat}
spec:
  selector: {matchLabels: {app: chat}}
  template:
    metadata: {labels: {app: chat}}
    spec:
      containers:
        - name: shimmy
          image: registry.example.com/ml/shimmy:1.9.0-cuda
          args: [serve, --bind, "0.0.0.0:8080", --gpu-backend, cuda, --model-path, /m/a.gguf]
          ports: [{containerPort: 8080}]
          resources: {limits: {nvidia.com/gpu: 1}}
""",
    ),
    case(
        "pod-global-flag-before-serve-auto",
        "gpu-backend-flag:llm",
        """
apiVersion: v1
kind: Pod
metadata: {name: llm}
spec:
  containers:
    - name: llm
      image: registry.example.com/shimmy@DIGEST
      command: [/usr/local/bin/shimmy, --gpu-backend, auto, serve]
      args: [--bind, "0.0.0.0:8080", --model-path, /m/a.gguf]
      ports: [{containerPort: 8080}]
      resources: {limits: {nvidia.com/gpu: 1}}
""",
    ),
    case(
        "job-half-a-gpu",
        "gpu-resource:shimmy",
        """
apiVersion: batch/v1
kind: Job
metadata: {name: eval-server}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: shimmy
          image: registry.example.com/shimmy@DIGEST
          args: [serve, --bind, "0.0.0.0:8080", --gpu-backend, cuda, --model-path, /m/a.gguf]
          ports: [{containerPort: 8080}]
          resources: {limits: {nvidia.com/gpu: "0.5"}}
""",
    ),
    case(
        "cronjob-requests-unequal-to-limits",
        "gpu-resource:shimmy",
        """
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly-eval}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: shimmy
              image: registry.example.com/shimmy@DIGEST
              args: [serve, --bind, "0.0.0.0:8080", --gpu-backend, cuda, --model-path, /m/a.gguf]
              ports: [{containerPort: 8080}]
              resources:
                limits: {nvidia.com/gpu: 1}
                requests: {nvidia.com/gpu: 2}
""",
    ),
    case(
        "two-shimmy-containers-one-without-gpu",
        "gpu-resource:small",
        """
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: models}
spec:
  serviceName: models
  selector: {matchLabels: {app: models}}
  template:
    metadata: {labels: {app: models}}
    spec:
      containers:
        - name: shimmy
          image: registry.example.com/shimmy@DIGEST
          args: [serve, --bind, "0.0.0.0:8080", --gpu-backend, cuda, --model-path, /m/big.gguf]
          ports: [{containerPort: 8080}]
          resources: {limits: {nvidia.com/gpu: 1}}
        - name: small
          image: registry.example.com/shimmy@DIGEST
          args: [serve, --bind, "0.0.0.0:8081", --gpu-backend, cuda, --model-path, /m/small.gguf]
          ports: [{containerPort: 8081}]
        - name: exporter
          image: quay.io/prometheus/node-exporter:v1.8.2
          args: [--web.listen-address=:9100]
""",
    ),
    case(
        "init-container-is-not-shimmy",
        "gpu-backend-flag:shimmy",
        """
apiVersion: apps/v1
kind: Deployment
metadata: {name: chat}
spec:
  selector: {matchLabels: {app: chat}}
  template:
    metadata: {labels: {app: chat}}
    spec:
      initContainers:
        - name: shimmy
          image: registry.example.com/shimmy:latest
          command: [shimmy, serve, --bind, "127.0.0.1:1"]
      containers:
        - name: shimmy
          image: registry.example.com/shimmy@DIGEST
          args: [serve, --bind, "0.0.0.0:8080", --model-path, /m/a.gguf]
          ports: [{containerPort: 8080}]
          resources: {limits: {nvidia.com/gpu: 1}}
""",
    ),
    case(
        "shell-wrapper-without-backend",
        "gpu-backend-flag:server",
        """
apiVersion: apps/v1
kind: Deployment
metadata: {name: inference}
spec:
  selector: {matchLabels: {app: inference}}
  template:
    metadata: {labels: {app: inference}}
    spec:
      containers:
        - name: server
          image: registry.example.com/platform/llm-runtime@DIGEST
          command: [/bin/sh, -c]
          args: ["mkdir -p /cache && exec shimmy serve --bind 0.0.0.0:${PORT} --model-path /m/a.gguf"]
          env: [{name: PORT, value: "8080"}]
          ports: [{containerPort: 8080}]
          resources: {limits: {nvidia.com/gpu: 1}}
""",
    ),
    case(
        "daemonset-driver-capabilities-without-compute",
        "driver-capabilities:shimmy",
        """
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: edge-llm}
spec:
  selector: {matchLabels: {app: edge-llm}}
  template:
    metadata: {labels: {app: edge-llm}}
    spec:
      containers:
        - name: shimmy
          image: registry.example.com/shimmy@DIGEST
          args: [serve, --bind, "0.0.0.0:8080", --gpu-backend, cuda, --model-path, /m/a.gguf]
          env: [{name: NVIDIA_DRIVER_CAPABILITIES, value: "utility"}]
          ports: [{containerPort: 8080}]
          resources: {limits: {nvidia.com/gpu: 1}}
""",
    ),
    case(
        "replicaset-zero-gpus",
        "gpu-resource:shimmy",
        """
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: chat}
spec:
  selector: {matchLabels: {app: chat}}
  template:
    metadata: {labels: {app: chat}}
    spec:
      containers:
        - name: shimmy
          image: registry.example.com/shimmy@DIGEST
          args: [serve, --bind, "0.0.0.0:8080", --gpu-backend, cuda, --model-path, /m/a.gguf]
          ports: [{containerPort: 8080}]
          resources: {limits: {nvidia.com/gpu: 0}}
""",
    ),
    case(
        "tini-wrapper-ipv6-wrong-port",
        "bind-address:api",
        """
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - name: api
          image: registry.example.com/shimmy@DIGEST
          command: [/usr/bin/tini, --, shimmy]
          args: [serve, --bind, "[::]:9000", --gpu-backend, cuda, --model-path, /m/a.gguf]
          ports: [{containerPort: 8080}]
          resources: {limits: {nvidia.com/gpu: 1}}
""",
    ),
    case(
        "the-seed-manifest",
        "gpu-resource:shimmy, gpu-backend-flag:shimmy, bind-address:shimmy, image-digest:shimmy",
        """
apiVersion: apps/v1
kind: Deployment
metadata: {name: shimmy}
spec:
  selector: {matchLabels: {app: shimmy}}
  template:
    metadata: {labels: {app: shimmy}}
    spec:
      containers:
        - name: shimmy
          image: myregistry/shimmy:latest
          args: [serve]
          ports: [{containerPort: 8080}]
""",
    ),
    case(
        "kubernetes-env-expansion",
        "gpu-backend-flag:shimmy",
        """
apiVersion: apps/v1
kind: Deployment
metadata: {name: chat}
spec:
  selector: {matchLabels: {app: chat}}
  template:
    metadata: {labels: {app: chat}}
    spec:
      containers:
        - name: shimmy
          image: registry.example.com/shimmy@DIGEST
          args: [serve, --bind, "0.0.0.0:$(HTTP_PORT)", --gpu-backend, "$(BACKEND)", --model-path, /m/a.gguf]
          env:
            - {name: HTTP_PORT, value: "8080"}
            - {name: BACKEND, value: auto}
          ports: [{containerPort: 8080}]
          resources: {limits: {nvidia.com/gpu: 1}}
""",
    ),
    case(
        "image-build-without-llama-cuda",
        "cuda-image:shimmy-image",
        """
type: docker:index/image:Image
name: shimmy-image
props:
  imageName: registry.example.com/ml/shimmy:1.9.0
  build:
    context: ./docker
    args: {SHIMMY_VERSION: 1.9.0, CARGO_FEATURES: "huggingface,llama", CUDA_ARCHITECTURES: "75"}
""",
    ),
    case(
        "image-build-shimmy-2x",
        "cuda-image:shimmy-image",
        """
type: docker:index/image:Image
name: shimmy-image
props:
  imageName: registry.example.com/ml/shimmy:2.2.0
  build:
    args: {SHIMMY_VERSION: 2.2.0, CARGO_FEATURES: "huggingface,llama-cuda", CUDA_ARCHITECTURES: "75"}
""",
    ),
    case(
        "image-build-native-architecture",
        "cuda-image:shimmy-image",
        """
type: docker:index/image:Image
name: shimmy-image
props:
  imageName: registry.example.com/ml/shimmy:1.9.0
  build:
    args: {SHIMMY_VERSION: 1.9.0, CARGO_FEATURES: llama-cuda, CUDA_ARCHITECTURES: native}
""",
    ),
    case(
        "docker-build-cpu-accelerator",
        "cuda-image:llm",
        """
type: docker-build:index:Image
name: llm
props:
  tags: [registry.example.com/ml/shimmy:dev]
  buildArgs:
    {ACCELERATOR: cpu, SHIMMY_VERSION: 1.9.0, CARGO_FEATURES: "huggingface,llama", CUDA_ARCHITECTURES: "75"}
""",
    ),
]

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
    case(
        "image-build-with-cuda",
        "",
        """
type: docker:index/image:Image
name: shimmy
props:
  imageName: registry.example.com/ml/shimmy:1.9.0-cuda12.4.1-sm75
  build:
    context: docker
    dockerfile: docker/Dockerfile
    args:
      ACCELERATOR: cuda
      SHIMMY_VERSION: 1.9.0
      CARGO_FEATURES: huggingface,llama-cuda
      CUDA_ARCHITECTURES: "75;86"
""",
    ),
]
