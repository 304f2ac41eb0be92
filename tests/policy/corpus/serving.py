"""Misconfigured workloads whose shimmy cannot serve: the address it binds, the model it is given."""

from tests.policy.corpus.case import case

MISCONFIGURED = [
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
]
