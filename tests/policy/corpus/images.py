"""Misconfigured images: a shimmy container by tag, and image builds without CUDA; one correct build."""

from tests.policy.corpus.case import case

MISCONFIGURED = [
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

CORRECT = [
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
      SHIMMY_PATCHES: sampler,resident-model,graceful-shutdown,client-disconnect
""",
    ),
]
