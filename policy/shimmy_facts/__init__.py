"""What shimmy 1.x is and does, and what this project's image promises: the one home of these facts.

The Pulumi program (config validation, Dockerfile, pod spec), the policy pack's rules and the docs
import them from here, so a check in one can never drift from the other. The package imports
neither side: it ships in policy/ only so that the pack stays self-contained
(tests/test_import_direction.py keeps the direction). Each fact was read in shimmy's own source at
tag v1.9.0 or measured on a real GPU (docs/gpu-results.md).
"""

from __future__ import annotations

from importlib import resources

# --- releases ------------------------------------------------------------------------------------

# Releases whose `llama-cuda` feature really builds llama.cpp with CUDA, both ends included.
# v2.0 removed llama.cpp and CUDA; some 2.x releases accept `llama-cuda` as an empty feature.
CUDA_RELEASES = ((1, 4, 2), (1, 9, 0))
# The same two releases as messages write them ("1.4.2", "1.9.0").
CUDA_RELEASE_FIRST, CUDA_RELEASE_LAST = (".".join(map(str, release)) for release in CUDA_RELEASES)
# sha256 of the published .crate files (crates.io index `cksum`). 1.8.2 and 1.9.0 are yanked:
# `cargo install` refuses them, the .crate itself stays downloadable.
CRATE_SHA256 = {
    "1.4.2": "e5c2297ea2795ba1ef2bd588176e15cbf1306f67cc2d356f915c4571e5d2a5cd",
    "1.5.1": "3df7e918508cbde4e33f87e856aa64c9595478f67cd367944e9f8c9419ea49c7",
    "1.6.0": "ea8d600b56f0663f490c435b17f9042b942411da28b4433d87e6b9d8290e11dd",
    "1.7.0": "33d27a4d88cd3cad65146dd7bac3a2eecc4c8ae97926762c1596147c8811b81a",
    "1.7.3": "3656fc57a1d9e23dc288b31bbd9db9197512c71390f628cbc2f10419f9847eb2",
    "1.7.4": "4d705d9d5ee7d6460563e561236b95d94cf9733c67a3b6e5326b2fa4415a3f0d",
    "1.8.1": "66fbf7571036fa6b08c6db216697d2b1ecdd36f9f30e5445f61d2dd0590a4435",
    "1.8.2": "d067f05977eac6f4df20655e054a09cb9f29cb504fd9a5894ec44e69e83eb8b0",
    "1.9.0": "10de0fc6741dba684633fc364478c72e48bc658c2509e78bc06850657805118d",
}
CRATE_URL = "https://static.crates.io/crates/shimmy/shimmy-{version}.crate"

# --- this project's patches over shimmy 1.9.0 (docker/patches/shimmy-1.9.0/) ----------------------

# The release the patches are written for; any other version builds as published.
PATCHED_RELEASE = "1.9.0"
# In the order they apply, each with the patches it needs. The file of patch N is
# docker/patches/shimmy-<release>/<NNNN>-<name>.patch (tests/test_patches.py keeps both in step).
PATCHES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("sampler", ()),
    ("resident-model", ()),
    ("graceful-shutdown", ()),
    ("client-disconnect", ("resident-model",)),
)
PATCH_NAMES = tuple(name for name, _ in PATCHES)
# What a build without each patch costs, as measured (docs/gpu-results.md); the policy pack and the
# docs say it.
PATCH_COSTS = {
    "sampler": "greedy output repeats itself (repetition penalty 0 forces the last 64 tokens) and "
    "top-p sorts the whole vocabulary every token",
    "resident-model": "the model is loaded again for every request (time to first token 0.37 s "
    "instead of milliseconds) and each concurrent request holds its own copy on the GPU",
    "graceful-shutdown": "SIGTERM is ignored, so every pod stop waits out the grace period and "
    "kills the requests in flight",
    "client-disconnect": "a generation whose client left runs to its last token",
}
# Read by the patched shimmy: contexts per model (resident-model) and the drain bound after
# SIGTERM in seconds (graceful-shutdown).
ENV_MAX_PARALLEL = "SHIMMY_MAX_PARALLEL"
ENV_SHUTDOWN_TIMEOUT = "SHIMMY_SHUTDOWN_TIMEOUT"
MAX_PARALLEL = 256  # the most SHIMMY_MAX_PARALLEL the patch accepts


def patch_file(name: str) -> str:
    """The file name of patch `name` in docker/patches/shimmy-<release>/."""
    return f"{PATCH_NAMES.index(name) + 1:04d}-{name}.patch"


# --- cargo features ------------------------------------------------------------------------------

FEATURES = frozenset(
    {"huggingface", "llama", "llama-cuda", "llama-vulkan", "llama-opencl", "gpu", "mlx", "apple", "fast"}
)
# Only these change the llama.cpp build to CUDA (`gpu` includes llama-cuda in 1.9.0).
CUDA_FEATURES = frozenset({"llama-cuda", "gpu"})
CPU_FEATURE = "llama"  # llama.cpp without CUDA

# --- command line --------------------------------------------------------------------------------

EXECUTABLE = "shimmy"
GPU_BACKENDS = frozenset({"auto", "cpu", "cuda", "vulkan", "opencl"})
# Flags that take a value: globals (before or after the subcommand) and serve's own.
VALUE_FLAGS = frozenset({"--model-dirs", "--gpu-backend", "--n-cpu-moe", "--bind", "--model-path"})
SERVE = "serve"
# Subcommands that run and exit: a container running one of these is a tool, not the server.
TOOL_SUBCOMMANDS = frozenset({"list", "discover", "probe", "bench", "generate", "gpu-info", "init"})
# `--bind auto` (the default) listens here: loopback only, unreachable from a Service.
DEFAULT_BIND = "127.0.0.1:11435"
# Set by shimmy's own Dockerfiles, never read by shimmy 1.x.
UNREAD_ENV = {
    "SHIMMY_PORT": "--bind",
    "SHIMMY_HOST": "--bind",
    "SHIMMY_GPU_BACKEND": "--gpu-backend",
}

# --- HTTP ----------------------------------------------------------------------------------------

HEALTH_PATH = "/health"  # always 200 with JSON once the server listens
METRICS_PATH = "/metrics"  # JSON, and runs nvidia-smi on every call: never a probe
GENERATE_PATH = "/api/generate"  # streams unless the body says "stream": false

# --- model discovery -----------------------------------------------------------------------------

# Folder names discovery never enters, the search root included (src/auto_discovery.rs): a
# `--model-dirs` entry with one of these names finds nothing.
SKIPPED_DIRS = frozenset(
    {
        "usr", "var", "tmp", "opt", "home", "etc", "bin", "dev", "proc", "sbin", "Library",
        "Applications", "System", "Developer", "private", "Volumes", "cores", "net",
    }
)  # fmt: skip
# Below the root discovery also skips these names, names starting `.git`, names containing
# SKIPPED_DIR_PARTS, and hidden folders other than HIDDEN_DIRS_SEARCHED.
SKIPPED_SUBDIRS = frozenset({"target", "cmake", "incremental"})
SKIPPED_DIR_PARTS = ("whisper", "wav2vec", "bert", "clip")
HIDDEN_DIRS_SEARCHED = frozenset({".cache", ".ollama", ".local"})


def discovery_skips(name: str, *, root: bool) -> bool:
    """Whether model discovery skips a folder called `name` (as the search root, or below it)."""
    if name in SKIPPED_DIRS:
        return True
    if root:
        return False
    return (
        name in SKIPPED_SUBDIRS
        or name.startswith(".git")
        or (name.startswith(".") and name not in HIDDEN_DIRS_SEARCHED)
        or any(part in name.lower() for part in SKIPPED_DIR_PARTS)
    )


# --- this project's image ------------------------------------------------------------------------

# Packages the builder needs on top of its base, in builder-packages.txt so that
# scripts/base-images.sh reads the same list (common.sh's `builder_packages`).
BUILDER_PACKAGES = tuple(
    line.strip()
    for line in resources.files(__name__).joinpath("builder-packages.txt").read_text().splitlines()
    if line.strip() and not line.lstrip().startswith("#")
)

# Numeric non-root user of the runtime image (runAsNonRoot can only verify a numeric USER).
RUNTIME_UID = 10001
# Build args through which the image build states what it contains; the Dockerfile declares and
# uses each, and the policy pack's cuda-image rule reads them from the Image's inputs.
ARG_ACCELERATOR = "ACCELERATOR"
ARG_VERSION = "SHIMMY_VERSION"
ARG_FEATURES = "CARGO_FEATURES"
ARG_CUDA_ARCHITECTURES = "CUDA_ARCHITECTURES"
ARG_PATCHES = "SHIMMY_PATCHES"  # comma-separated names of the patches applied; empty: as published

# --- hosts ---------------------------------------------------------------------------------------

# The loopback interface as an address or a registry host is written: a bind there is unreachable
# from a Service, and a registry there is whatever the machine that pulls runs on 127.0.0.1.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")

# --- NVIDIA on Kubernetes ------------------------------------------------------------------------

GPU_RESOURCE = "nvidia.com/gpu"
GPU_TAINT_KEY = "nvidia.com/gpu"
GPU_NODE_LABEL_PREFIX = "nvidia.com/"
# NVIDIA_DRIVER_CAPABILITIES values that mount libcuda.so.1 into the container.
COMPUTE_CAPABILITIES = frozenset({"compute", "all"})
