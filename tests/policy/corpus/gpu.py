"""Misconfigured workloads that would run shimmy on the CPU or without its GPU: no or no whole GPU in
the limits, a driver without compute, and the outage manifests that had every mistake at once."""

from tests.policy.corpus.case import case

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
]
