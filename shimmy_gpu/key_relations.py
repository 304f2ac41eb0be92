"""Rules that tie several config keys together, run once every value is valid on its own.

Each rule reports through the reader, so one run still lists every problem, before any resource.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

import shimmy_facts as facts

from shimmy_gpu import references, values
from shimmy_gpu.config_reader import Reader
from shimmy_gpu.settings import Settings

# Mounting the model volume over one of these would hide what the image needs to run.
SYSTEM_FOLDERS = frozenset(
    {"bin", "boot", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "root", "run", "sbin", "sys",
     "tmp", "usr", "var", "opt", "home", "srv", "mnt", "media"}
)  # fmt: skip
# Kubernetes' own namespaces: a stack never deploys there, let alone owns one.
SYSTEM_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease")


def report(r: Reader, s: Settings) -> None:
    """Every broken relation between keys, through the reader."""
    for rule in (_accelerator, _source, _registry, _workload, _model, _exposure, _builder, _monitoring):
        rule(r, s)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def _accelerator(r: Reader, s: Settings) -> None:
    build = s.build
    features = set(build.shimmy.features)
    unknown = sorted(features - facts.FEATURES)
    if unknown:
        r.fail("cargoFeatures", list(build.shimmy.features), f"unknown shimmy 1.x features {unknown}")
    if build.accelerator == "cuda":
        low, high = facts.CUDA_RELEASES
        if not low <= _version(build.shimmy.version) <= high:
            r.fail(
                "shimmyVersion",
                build.shimmy.version,
                f"the cuda accelerator needs a shimmy release from {facts.CUDA_RELEASE_FIRST} to "
                f"{facts.CUDA_RELEASE_LAST}: 2.x removed llama.cpp and CUDA (its llama-cuda feature, where "
                "present, builds no CUDA), older 1.x has no --gpu-backend",
            )
        if not features & facts.CUDA_FEATURES:
            r.fail(
                "cargoFeatures",
                list(build.shimmy.features),
                'the cuda accelerator needs "llama-cuda": without it llama.cpp is built CPU-only',
            )
        if not build.cuda_architectures:
            r.fail(
                "cudaArchitectures", [], 'the cuda accelerator needs CUDA architectures such as ["75"] (T4)'
            )
    else:
        if features & facts.CUDA_FEATURES:
            r.fail(
                "cargoFeatures",
                list(build.shimmy.features),
                'the cpu accelerator builds without "llama-cuda"/"gpu"',
            )
        if facts.CPU_FEATURE not in features:
            r.fail(
                "cargoFeatures", list(build.shimmy.features), 'the cpu accelerator needs "llama" (llama.cpp)'
            )


def _source(r: Reader, s: Settings) -> None:
    shimmy = s.build.shimmy
    if shimmy.source == "crate" and not shimmy.crate_sha256:
        r.require(
            "shimmyCrateSha256",
            f"there is no known checksum for shimmy {shimmy.version}: set the .crate's sha256 (the crates.io "
            "index field `cksum`)",
        )
    if shimmy.patches and shimmy.version != facts.PATCHED_RELEASE:
        r.fail(
            "shimmyPatches",
            list(shimmy.patches),
            f"the patches are written for shimmy {facts.PATCHED_RELEASE}: set shimmyPatches to [] to build "
            f"{shimmy.version} as published",
        )
    if (
        shimmy.source == "git"
        and values.GIT_TAG.matches(shimmy.git_ref)
        and shimmy.git_ref != f"v{shimmy.version}"
    ):
        r.fail(
            "shimmyGitRef", shimmy.git_ref, f"the tag of shimmyVersion {shimmy.version} is v{shimmy.version}"
        )


def _registry(r: Reader, s: Settings) -> None:
    image = s.image
    name = f"{image.registry_server}/{image.repository}"
    if len(name) > references.NAME_MAX:
        r.fail(
            "imageRepository",
            image.repository,
            f"with registryServer the image name is {len(name)} characters; the reference grammar allows "
            f"at most {references.NAME_MAX}",
        )
    if image.push and not image.registry_server:
        r.require("registryServer", "pushImage is true: the registry to push to")
    if image.username and not image.password:
        r.require(
            "registryPassword",
            "registryUsername is set: run `pulumi config set --secret registryPassword ...`",
        )
    if image.password and not image.username:
        r.require("registryUsername", "registryPassword is set, but a login needs the user too")
    if image.build_cache and not image.push:
        r.fail("buildCache", True, "the build cache is the pushed image: it needs pushImage true")


def _workload(r: Reader, s: Settings) -> None:
    w = s.workload
    _namespace(r, w.namespace, w.create_namespace)
    if values.quantity(w.cpu_request) > values.quantity(w.cpu_limit):
        r.fail("cpuRequest", w.cpu_request, f"more than cpuLimit {w.cpu_limit}; a request must fit its limit")
    if values.quantity(w.memory_request) > values.quantity(w.memory_limit):
        r.fail(
            "memoryRequest",
            w.memory_request,
            f"more than memoryLimit {w.memory_limit}; a request must fit its limit",
        )
    for i, t in enumerate(w.tolerations):
        if t.operator == "Exists" and not t.key:
            r.fail(
                f"tolerations[{i}]",
                {"operator": "Exists"},
                "Exists without a key tolerates every taint (node pressure and NoExecute evictions too): "
                "name "
                "the key, e.g. nvidia.com/gpu",
            )
        elif t.operator == "Exists" and t.value:
            r.fail(f"tolerations[{i}].value", t.value, "operator Exists takes no value")
        elif t.operator == "Equal" and not t.key:
            r.fail(f"tolerations[{i}].key", "", "operator Equal needs a key")
    if s.gate.enabled and w.port == 65535:
        r.fail("port", w.port, "the request gate puts shimmy on the next port: at most 65534")


def _namespace(r: Reader, namespace: str, owned: bool) -> None:
    if namespace in SYSTEM_NAMESPACES:
        r.fail(
            "namespace",
            namespace,
            "a system namespace of Kubernetes holds the cluster's own objects; name one of the stack's "
            "own such as shimmy",
        )
    elif owned and namespace.startswith("kube-"):
        r.fail(
            "namespace",
            namespace,
            "the kube- prefix is reserved for Kubernetes' system namespaces; name another such as shimmy",
        )
    elif owned and namespace == "default":
        r.fail(
            "namespace",
            namespace,
            "the stack would own the default namespace (label it, delete it on destroy): set "
            "createNamespace false to deploy into it without owning it, or name another such as shimmy",
        )


def _model(r: Reader, s: Settings) -> None:
    m = s.model
    downloads = m.source != "pvc"
    if m.source == "url" and not m.url:
        r.require("modelUrl", "modelSource is url: the https:// URL of the GGUF file")
    if m.source == "huggingface":
        if not m.hf_repo:
            r.require("modelHfRepo", "modelSource is huggingface: the repository, owner/name")
        if not m.hf_revision:
            r.require("modelHfRevision", f"modelSource is huggingface: {values.COMMIT.describes}")
    if m.source == "pvc" and not m.existing_claim:
        r.require("modelExistingClaim", "modelSource is pvc: the claim that holds the model")
    if downloads and not m.sha256:
        r.require(
            "modelSha256",
            "the model is downloaded: its sha256, which the init container checks on every start",
        )
    if m.auth_secret and not downloads:
        r.fail("modelAuthSecret", m.auth_secret, "a credential for downloads, but modelSource is pvc")
    parts = PurePosixPath(m.mount_path).parts[1:]
    if parts[0] in SYSTEM_FOLDERS:
        r.fail(
            "modelMountPath",
            m.mount_path,
            f"a volume over /{parts[0]} would hide the image's own files; use e.g. /models",
        )
    skipped = [p for p in parts if facts.discovery_skips(p, root=False)]
    if skipped:
        r.fail(
            "modelMountPath",
            m.mount_path,
            f"shimmy's model discovery skips folders named {skipped}; use e.g. /models",
        )
    if downloads and s.workload.replicas > 1:
        r.fail(
            "replicas",
            s.workload.replicas,
            "the model claim this program creates is ReadWriteOnce and binds one node: for more replicas set "
            "modelSource pvc with a ReadWriteMany claim (modelExistingClaim)",
        )


def _exposure(r: Reader, s: Settings) -> None:
    external = s.service.type in ("NodePort", "LoadBalancer")
    if external and not s.service.allow_external:
        r.fail(
            "serviceType",
            s.service.type,
            "shimmy's API has no authentication; a NodePort or LoadBalancer reaches it from outside the "
            "cluster: set allowExternalService true to mean it (with clientCidrs), or keep ClusterIP",
        )
    if external and s.network.policy and not s.network.client_cidrs:
        r.require(
            "clientCidrs", f"serviceType is {s.service.type} and the NetworkPolicy admits no outside client"
        )
    if s.network.client_cidrs and not external:
        r.fail(
            "clientCidrs",
            list(s.network.client_cidrs),
            "only a NodePort or LoadBalancer Service takes outside clients",
        )


def _builder(r: Reader, s: Settings) -> None:
    build = s.build
    tag = re.search(r"cuda:([0-9.]+)-", build.builder_image)
    if build.accelerator == "cuda" and tag and tag.group(1) != build.cuda_version:
        r.fail(
            "cudaVersion",
            build.cuda_version,
            f"builderImage is CUDA {tag.group(1)}: set cudaVersion to match it (it labels and tags the "
            "image)",
        )


def _monitoring(r: Reader, s: Settings) -> None:
    m, port = s.monitoring, s.workload.port
    if m.mode != "none" and not s.gate.enabled:
        r.fail(
            "monitoring",
            m.mode,
            "the metrics come from the request gate: set requestGate true, or monitoring none",
        )
    if s.gate.enabled and m.metrics_port in (port, port + 1):
        r.fail(
            "metricsPort", m.metrics_port, f"port {port} is the gate's and {port + 1} shimmy's: pick another"
        )
