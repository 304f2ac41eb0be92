"""Misconfigured workloads whose shimmy is not told `--gpu-backend cuda`: auto, cpu, another backend, the
flag twice, an env var shimmy does not read, the flag hidden behind wrappers, init containers and $(VAR)."""

from tests.policy.corpus.case import case

MISCONFIGURED = [
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
]
