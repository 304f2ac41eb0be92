"""The rules: pure functions from a resource's properties (camelCase, as the engine hands them over)
and the rule's config to findings. `RULES` is the pack; `pack.py` only adapts it to pulumi_policy.

Every message names the resource, the container, what is wrong and the exact fix. A value that is
unknown during preview gives a *deferred* finding ("checked at update"), never a silent pass.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Any

from shimmy_policy.cmdline import Invocation
from shimmy_policy.facts import (
    ARG_ACCELERATOR,
    ARG_CUDA_ARCHITECTURES,
    ARG_FEATURES,
    ARG_VERSION,
    CUDA_FEATURES,
    CUDA_RELEASES,
    GPU_BACKENDS,
    discovery_skips,
)
from shimmy_policy.props import get, holds_secret, is_unknown, items, mapping, reveal, secret
from shimmy_policy.workloads import (
    RECOGNITION_SCHEMA,
    Container,
    Recognition,
    Workload,
    image_repository,
    workload,
)

MANDATORY = "mandatory"
ADVISORY = "advisory"

IMAGE_TYPES = {
    # pulumi-docker v4: imageName + build.args; docker-build: tags + buildArgs.
    "docker:index/image:Image": (("imageName",), ("build", "args")),
    "docker-build:index:Image": (("tags",), ("buildArgs",)),
}
WILDCARD_HOSTS = frozenset({"0.0.0.0", "[::]"})


@dataclass(frozen=True)
class Finding:
    rule: str
    message: str
    # The value needed is unknown during preview: reported as such and checked again at update.
    deferred: bool = False
    urn: str | None = None  # stack rules: the resource the finding is about
    container: str | None = None  # container rules: the container at fault


def _violation(message: str) -> Finding:
    return Finding("", message)


def _pending(where: str, what: str) -> Finding:
    return Finding("", f"{where}: {what} is unknown during preview; checked at update", deferred=True)


def _fix(where: str, problem: str, fix: str) -> Finding:
    return _violation(f"{where}: {problem}. Fix: {fix}.")


Check = Callable[[str, str, Mapping[str, Any], Mapping[str, Any]], list[Finding]]
Remediation = Callable[[str, str, Mapping[str, Any], Mapping[str, Any]], dict[str, Any] | None]


@dataclass(frozen=True)
class StackResource:
    type: str
    name: str
    urn: str
    props: Mapping[str, Any]


@dataclass(frozen=True)
class Rule:
    name: str
    level: str
    description: str
    catches: str  # one line for the README table
    check: Check | None = None  # resource rules
    check_stack: Callable[[Sequence[StackResource], Mapping[str, Any]], list[Finding]] | None = None
    remediate: Remediation | None = None
    schema: Mapping[str, dict[str, Any]] = field(default_factory=dict)

    def settings(self, config: Mapping[str, Any] | None) -> dict[str, Any]:
        """The rule's config: schema defaults overlaid with what the stack's policy config sets."""
        values = {key: spec["default"] for key, spec in self.schema.items()}
        values.update({k: v for k, v in (config or {}).items() if k != "enforcementLevel"})
        return values


# --- shared reading -------------------------------------------------------------------------------


def whole_count(value: Any) -> int | None:
    """A whole number as Kubernetes quantities and protobuf numbers carry it ("1", 1, 1.0)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value):
        return int(value)
    return None


def env_names(container: Mapping[str, Any]) -> set[str]:
    return {get(var, "name") for var in items(container.get("env")) if isinstance(get(var, "name"), str)}


def declared_ports(container: Mapping[str, Any]) -> dict[int, str | None]:
    """TCP container ports -> their names."""
    ports: dict[int, str | None] = {}
    for port in items(container.get("ports")):
        number = whole_count(get(port, "containerPort"))
        if number is not None and get(port, "protocol") in (None, "TCP"):
            name = get(port, "name")
            ports[number] = name if isinstance(name, str) else None
    return ports


def split_bind(value: str) -> tuple[str, int | None]:
    """`0.0.0.0:8081` -> ("0.0.0.0", 8081); `[::]:8081` -> ("[::]", 8081)."""
    host, sep, port = value.rpartition(":")
    if not sep:
        return value, None
    return host, whole_count(port) if port.isdigit() else None


def bound_port(run: Invocation) -> int | None:
    values = run.values("--bind")
    return split_bind(values[-1])[1] if values else None


def _per_container(
    fn: Callable[[Workload, Container, Mapping[str, Any]], Iterable[Finding]],
) -> Check:
    def check(resource_type: str, name: str, props: Mapping[str, Any], config: Mapping[str, Any]):
        w = workload(resource_type, name, props, Recognition.from_config(config))
        return [] if w is None else [replace(f, container=c.name) for c in w.shimmy for f in fn(w, c, config)]

    return check


def _per_workload(fn: Callable[[Workload, Mapping[str, Any]], Iterable[Finding]]) -> Check:
    def check(resource_type: str, name: str, props: Mapping[str, Any], config: Mapping[str, Any]):
        w = workload(resource_type, name, props, Recognition.from_config(config))
        return [] if w is None or not w.shimmy else list(fn(w, config))

    return check


# --- gpu-resource ---------------------------------------------------------------------------------


def _gpu_problems(where: str, c: Container, names: Sequence[str]) -> tuple[list[Finding], str, int]:
    """Findings, and the resource name and count a remediation would set."""
    resources = c.spec.get("resources")
    limits, requests = get(resources, "limits"), get(resources, "requests")
    if any(is_unknown(v) for v in (resources, limits, requests)):
        return [_pending(where, "resources")], names[0], 1
    limits, requests = mapping(limits), mapping(requests)
    name = next((n for n in names if n in limits), None) or next(
        (n for n in names if n in requests), names[0]
    )
    if is_unknown(limits.get(name)) or is_unknown(requests.get(name)):
        return [_pending(where, f"the {name} count")], name, 1
    limit, request = whole_count(limits.get(name)), whole_count(requests.get(name))
    count = limit if limit and limit >= 1 else request if request and request >= 1 else 1
    findings = []
    if name not in limits and name in requests:
        findings.append(
            _fix(
                where,
                f"{name} is only in resources.requests; GPUs are granted through limits, so no GPU is "
                "attached",
                f'set resources.limits["{name}"]: {count}',
            )
        )
    elif name not in limits:
        findings.append(
            _fix(
                where,
                f"resources.limits has no {' or '.join(names)}: the pod is scheduled without a GPU and "
                "shimmy runs on the CPU",
                f'set resources.limits["{name}"]: 1',
            )
        )
    elif limit is None or limit < 1:
        findings.append(
            _fix(
                where,
                f'resources.limits["{name}"] is {limits[name]!r}, not a whole number >= 1',
                f'set resources.limits["{name}"]: {count}',
            )
        )
    if name in limits and name in requests and request != limit:
        findings.append(
            _fix(
                where,
                f'resources.requests["{name}"] is {requests[name]!r} but the limit is {limits[name]!r}; '
                "for GPUs they must be equal",
                f'set resources.requests["{name}"] to the limit or remove it',
            )
        )
    return findings, name, count


def _gpu_resource(w: Workload, c: Container, config: Mapping[str, Any]) -> list[Finding]:
    return _gpu_problems(w.describe(c), c, config["resourceNames"])[0]


def _set_field(container: dict[str, Any], key: str, value: Any) -> None:
    """Write `value`, keeping the field secret when the value it replaces held a secret."""
    container[key] = secret(value) if holds_secret(container.get(key)) else value


def _remediate_containers(
    check: Callable[[Workload, Container, Mapping[str, Any]], list[Finding]],
    fix: Callable[[Workload, Container, dict[str, Any], Mapping[str, Any]], bool],
) -> Remediation:
    """A remediation that rewrites only the shimmy containers `check` finds at fault.

    `props` are on the wire (secrets as signature maps, unknowns as sentinels) and are returned so:
    only the rewritten fields change.
    """

    def remediate(resource_type: str, name: str, props: Mapping[str, Any], config: Mapping[str, Any]):
        w = workload(resource_type, name, reveal(props), Recognition.from_config(config))
        if w is None:
            return None
        result = copy.deepcopy(dict(props))
        containers = get(result, *w.pod_spec_path, "containers")
        if not isinstance(containers, list):
            return None
        changed = False
        for c in w.shimmy:
            findings = check(w, c, config)
            if findings and not any(f.deferred for f in findings) and isinstance(containers[c.index], dict):
                changed |= fix(w, c, containers[c.index], config)
        return result if changed else None

    return remediate


def _fix_gpu_resource(w: Workload, c: Container, wire: dict[str, Any], config: Mapping[str, Any]) -> bool:
    _, name, count = _gpu_problems(w.describe(c), c, config["resourceNames"])
    if holds_secret(wire.get("resources")):
        return False
    resources = copy.deepcopy(mapping(wire.get("resources")))
    resources = {**resources, "limits": {**mapping(resources.get("limits")), name: str(count)}}
    if name in mapping(resources.get("requests")):
        resources["requests"] = {**mapping(resources["requests"]), name: str(count)}
    wire["resources"] = resources
    return True


# --- gpu-backend-flag -----------------------------------------------------------------------------


def _backend_problem(value: str, allow_cpu: bool) -> str:
    if value == "":
        return "--gpu-backend has no value"
    if value == "auto":
        return (
            "--gpu-backend auto silently runs on the CPU when CUDA is not compiled in or nvidia-smi is gone"
        )
    if value == "cpu":
        relax = "" if allow_cpu else " (allowCpu relaxes this for GPU-less stacks)"
        return f"--gpu-backend cpu never uses the GPU{relax}"
    if value in GPU_BACKENDS:
        return f"--gpu-backend {value} is not compiled into the CUDA build; shimmy falls back to auto"
    return f"--gpu-backend {value!r} is not a backend shimmy knows; it falls back to auto"


def _gpu_backend(w: Workload, c: Container, config: Mapping[str, Any]) -> list[Finding]:
    where = w.describe(c)
    allowed = {"cuda", "cpu"} if config["allowCpu"] else {"cuda"}
    values = c.run.values("--gpu-backend")
    if c.run.unknown and not values:
        return [_pending(where, "the command line")]
    if not values:
        ignored = (
            " (shimmy 1.x does not read SHIMMY_GPU_BACKEND)"
            if "SHIMMY_GPU_BACKEND" in env_names(c.spec)
            else ""
        )
        return [
            _fix(
                where,
                "no --gpu-backend flag: shimmy picks auto, which silently runs on the CPU when CUDA is not "
                f"compiled in or nvidia-smi is missing{ignored}",
                "add `--gpu-backend cuda` to the container args",
            )
        ]
    findings = []
    if len(values) > 1:
        findings.append(
            _fix(
                where,
                f"--gpu-backend is given {len(values)} times ({', '.join(values)})",
                "keep exactly one `--gpu-backend cuda`",
            )
        )
    findings += [
        _fix(where, _backend_problem(v, config["allowCpu"]), "use `--gpu-backend cuda`")
        for v in dict.fromkeys(values)
        if v not in allowed
    ]
    return findings


def without_flag(tokens: list[Any], flag: str) -> list[Any]:
    """`tokens` less every `flag value` pair and `flag=value` token."""
    out: list[Any] = []
    skip = False
    for token in tokens:
        if skip:
            skip = False
        elif token == flag:
            skip = True
        elif not (isinstance(token, str) and token.startswith(flag + "=")):
            out.append(token)
    return out


def _fix_gpu_backend(w: Workload, c: Container, wire: dict[str, Any], config: Mapping[str, Any]) -> bool:
    if c.run.editable is None or c.run.unknown:
        return False  # a shell script or the image's CMD: not safely rewritable
    lines = {key: without_flag(items(reveal(wire.get(key))), "--gpu-backend") for key in ("command", "args")}
    lines[c.run.editable] += ["--gpu-backend", "cuda"]
    for key, tokens in lines.items():
        if tokens or key in wire:
            _set_field(wire, key, tokens)
    return True


# --- bind-address ---------------------------------------------------------------------------------


def _bind_address(w: Workload, c: Container, config: Mapping[str, Any]) -> list[Finding]:
    where = w.describe(c)
    ports = declared_ports(c.spec)
    suggestion = next(iter(ports), 8080)
    values = c.run.values("--bind")
    if c.run.unknown and not values:
        return [_pending(where, "the command line")]
    if not values:
        ignored = sorted({"SHIMMY_PORT", "SHIMMY_HOST"} & env_names(c.spec))
        note = f" ({' and '.join(ignored)} are not read by shimmy)" if ignored else ""
        return [
            _fix(
                where,
                "no --bind flag: shimmy listens on 127.0.0.1:11435 (loopback only), unreachable from the "
                f"Service and the kubelet{note}",
                f"add `--bind 0.0.0.0:{suggestion}` to the container args",
            )
        ]
    findings = []
    if len(values) > 1:
        findings.append(
            _fix(
                where,
                f"--bind is given {len(values)} times ({', '.join(values)})",
                f"keep exactly one `--bind 0.0.0.0:{suggestion}`",
            )
        )
    for value in dict.fromkeys(values):
        host, port = split_bind(value)
        if value == "auto" or host not in WILDCARD_HOSTS:
            shown = "127.0.0.1:11435" if value == "auto" else value
            findings.append(
                _fix(
                    where,
                    f"--bind {value} listens on {shown.rpartition(':')[0] or shown} only, unreachable from "
                    "the Service",
                    f"use `--bind 0.0.0.0:{port or suggestion}`",
                )
            )
        elif port is None:
            findings.append(
                _fix(where, f"--bind {value} has no valid port", f"use `--bind 0.0.0.0:{suggestion}`")
            )
        elif port not in ports:
            declared = ", ".join(map(str, ports)) or "none"
            findings.append(
                _fix(
                    where,
                    f"--bind {value} binds port {port}, which is not a declared containerPort (declared: "
                    f"{declared})",
                    f"declare `ports: [{{containerPort: {port}}}]` or bind a declared port",
                )
            )
    return findings


# --- model-flag -----------------------------------------------------------------------------------


def _model_flag(w: Workload, c: Container, config: Mapping[str, Any]) -> list[Finding]:
    where = w.describe(c)
    paths = c.run.values("--model-path")
    findings = []
    if len(paths) > 1:
        findings.append(
            _fix(
                where,
                f"--model-path is given {len(paths)} times",
                "keep exactly one `--model-path <file>.gguf`",
            )
        )
    for path in dict.fromkeys(paths):
        if not path.lower().endswith(".gguf"):
            folder = path.rstrip("/") or "/models"
            findings.append(
                _fix(
                    where,
                    f"--model-path {path!r} does not name a .gguf file: given a folder shimmy starts, "
                    "registers "
                    "a model named after it and fails at the first request",
                    f"pass the file (`--model-path {folder}/<model>.gguf`), or `--model-dirs {folder}` for "
                    "a folder",
                )
            )
    for entry in (e for value in c.run.values("--model-dirs") for e in value.split(";") if e):
        name = PurePosixPath(entry).name
        if discovery_skips(name, root=True):
            findings.append(
                _fix(
                    where,
                    f"--model-dirs entry {entry!r} is a folder named {name!r}, which shimmy's discovery "
                    "skips",
                    "mount the models in a folder with another name, e.g. /models",
                )
            )
    return findings


# --- driver-capabilities --------------------------------------------------------------------------


def _driver_capabilities(w: Workload, c: Container, config: Mapping[str, Any]) -> list[Finding]:
    where = w.describe(c)
    findings = []
    for var in items(c.spec.get("env")):
        if get(var, "name") != "NVIDIA_DRIVER_CAPABILITIES":
            continue
        value = get(var, "value")
        if is_unknown(value):
            findings.append(_pending(where, "NVIDIA_DRIVER_CAPABILITIES"))
        elif not isinstance(value, str):
            findings.append(
                _fix(
                    where,
                    "NVIDIA_DRIVER_CAPABILITIES comes from valueFrom, so the policy cannot see whether it "
                    "includes compute",
                    "set it as a literal value, e.g. `compute,utility`",
                )
            )
        elif not {cap.strip() for cap in value.split(",")} & {"compute", "all"}:
            findings.append(
                _fix(
                    where,
                    f"NVIDIA_DRIVER_CAPABILITIES={value!r} lacks compute, so the NVIDIA runtime does not "
                    "mount "
                    "the CUDA driver library (libcuda.so.1)",
                    "set it to `compute,utility` (or remove it)",
                )
            )
    return findings


# --- image-digest ---------------------------------------------------------------------------------

DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def _image_digest(w: Workload, c: Container, config: Mapping[str, Any]) -> list[Finding]:
    where = w.describe(c)
    image = c.spec.get("image")
    if is_unknown(image):
        return [_pending(where, "the image (built by this update, its digest does not exist yet)")]
    if not isinstance(image, str) or not image:
        return [_fix(where, "no image", "set `image: <repository>@sha256:<digest>`")]
    if DIGEST.search(image):
        return []
    repository = image_repository(image)
    tag = image[len(repository) + 1 :] if len(image) > len(repository) else ""
    if not config["requireDigest"] and tag not in ("", "latest"):
        return []
    return [
        _fix(
            where,
            f"image {image!r} is not pinned by digest; a tag can move to another build (a CPU-only one) "
            "without any change in this stack",
            f"use `{repository}@sha256:<digest>` (pulumi-docker: Image.repo_digest)",
        )
    ]


# --- cuda-image -----------------------------------------------------------------------------------


def _version(value: str) -> tuple[int, int, int] | None:
    m = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?", value.strip())
    return (int(m[1]), int(m[2]), int(m[3])) if m else None


def _split(value: str) -> list[str]:
    return [part for part in re.split(r"[,;\s]+", value) if part]


def _cuda_image(
    resource_type: str, name: str, props: Mapping[str, Any], config: Mapping[str, Any]
) -> list[Finding]:
    if resource_type not in IMAGE_TYPES:
        return []
    names_path, args_path = IMAGE_TYPES[resource_type]
    names = get(props, *names_path)
    names = [
        n for n in (names if isinstance(names, list) else [names]) if isinstance(n, str) and not is_unknown(n)
    ]
    build_args = get(props, *args_path)
    pattern = Recognition.from_config(config).image_pattern
    shimmy_named = any(re.search(pattern, image_repository(n)) for n in names)
    if not shimmy_named and not (isinstance(build_args, Mapping) and ARG_VERSION in build_args):
        return []
    where = f"Image {name!r}" + (f" ({names[0]})" if names else "")
    if is_unknown(build_args) or any(is_unknown(v) for v in mapping(build_args).values()):
        return [_pending(where, "the build args")]
    build_args = mapping(build_args)
    findings = []
    accelerator = build_args.get(ARG_ACCELERATOR)
    cpu_profile = accelerator == "cpu" and config["allowCpu"]
    if accelerator not in (None, "cuda") and not cpu_profile:
        findings.append(
            _fix(
                where,
                f"{ARG_ACCELERATOR}={accelerator} builds llama.cpp without CUDA",
                "build with accelerator cuda, or set allowCpu in this stack's cuda-image policy config "
                "for a GPU-less cluster",
            )
        )
    if not cpu_profile:
        features = build_args.get(ARG_FEATURES)
        if not isinstance(features, str):
            findings.append(
                _fix(
                    where,
                    f"no {ARG_FEATURES} build arg, so nothing shows that llama-cuda is enabled",
                    f"pass `{ARG_FEATURES}=huggingface,llama-cuda` as a build arg and use it in the "
                    "Dockerfile",
                )
            )
        elif not CUDA_FEATURES & set(_split(features)):
            findings.append(
                _fix(
                    where,
                    f"{ARG_FEATURES}={features!r} lacks llama-cuda: llama.cpp is built for the CPU only",
                    f"add llama-cuda to {ARG_FEATURES}",
                )
            )
        archs = _split(str(build_args.get(ARG_CUDA_ARCHITECTURES) or ""))
        valid = re.compile(r"\d+[a-z]?(-real|-virtual)?|all|all-major")
        if not archs or "native" in archs:
            findings.append(
                _fix(
                    where,
                    f"{ARG_CUDA_ARCHITECTURES} is {'native' if archs else 'not set'}: llama.cpp then "
                    "targets the "
                    "builder's own GPU, which a GPU-less builder does not have",
                    f"set `{ARG_CUDA_ARCHITECTURES}=75` (T4; add 80/86/89/90 for other GPUs)",
                )
            )
        elif not all(valid.fullmatch(a) for a in archs):
            findings.append(
                _fix(
                    where,
                    f"{ARG_CUDA_ARCHITECTURES}={build_args[ARG_CUDA_ARCHITECTURES]!r} is not a list of CUDA "
                    "architectures",
                    f"set `{ARG_CUDA_ARCHITECTURES}=75` (numbers separated by ;)",
                )
            )
    version = build_args.get(ARG_VERSION)
    parsed = _version(version) if isinstance(version, str) else None
    low, high = CUDA_RELEASES
    if parsed is None:
        findings.append(
            _fix(
                where,
                f"{ARG_VERSION} is {version!r}, not a release number, so nothing shows a version with CUDA",
                f"pass `{ARG_VERSION}=1.9.0` as a build arg",
            )
        )
    elif not low <= parsed <= high:
        findings.append(
            _fix(
                where,
                f"shimmy {version} has no CUDA build (only 1.4.2 to 1.9.0 build llama.cpp with CUDA; "
                "2.x removed llama.cpp)",
                f"build `{ARG_VERSION}=1.9.0`",
            )
        )
    return findings


# --- advisory -------------------------------------------------------------------------------------


def _probes(w: Workload, c: Container, config: Mapping[str, Any]) -> list[Finding]:
    where = w.describe(c)
    findings = []
    missing = [p for p in ("readinessProbe", "livenessProbe") if not c.spec.get(p)]
    if missing:
        findings.append(
            _fix(
                where,
                f"no {' and no '.join(missing)}",
                "add httpGet probes on /health at the bound port (and a startupProbe covering model load)",
            )
        )
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        if get(c.spec, probe, "httpGet", "path") == "/metrics":
            findings.append(
                _fix(where, f"{probe} calls /metrics, which runs nvidia-smi on every call", "probe /health")
            )
    return findings


def _security_context(w: Workload, c: Container, config: Mapping[str, Any]) -> list[Finding]:
    sc, pod = mapping(c.spec.get("securityContext")), mapping(w.pod_spec.get("securityContext"))
    problems = []
    non_root = sc.get("runAsNonRoot", pod.get("runAsNonRoot"))
    if non_root is not True:
        problems.append("runAsNonRoot is not true")
    if sc.get("allowPrivilegeEscalation") is not False:
        problems.append("allowPrivilegeEscalation is not false")
    if sc.get("privileged") is True:
        problems.append("privileged is true")
    if "ALL" not in items(get(sc, "capabilities", "drop")):
        problems.append("capabilities.drop lacks ALL")
    if (get(sc, "seccompProfile", "type") or get(pod, "seccompProfile", "type")) not in (
        "RuntimeDefault",
        "Localhost",
    ):
        problems.append("no RuntimeDefault seccompProfile")
    if not problems:
        return []
    return [
        _fix(
            w.describe(c),
            "not the restricted profile: " + ", ".join(problems),
            "set runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities.drop: [ALL], "
            "seccompProfile.type: RuntimeDefault (GPU access needs none of what they forbid)",
        )
    ]


def _surges(value: Any) -> bool:
    return str(value).strip() not in ("0", "0%", "0.0")


def _rollout_strategy(w: Workload, config: Mapping[str, Any]) -> list[Finding]:
    where = f'{w.kind} "{w.name}"'
    if w.kind == "Deployment":
        strategy = mapping(w.spec.get("strategy"))
        if strategy.get("type", "RollingUpdate") == "RollingUpdate":
            surge = get(strategy, "rollingUpdate", "maxSurge")
            surge = "25%" if surge is None else surge
            if _surges(surge):
                return [
                    _fix(
                        where,
                        f"RollingUpdate with maxSurge {surge}: with one GPU per node the new pod waits for "
                        "the "
                        "GPU the old pod holds, and the rollout never ends",
                        "set `strategy: {type: Recreate}` (or rollingUpdate.maxSurge: 0)",
                    )
                ]
    if w.kind == "DaemonSet":
        surge = get(w.spec, "updateStrategy", "rollingUpdate", "maxSurge")
        if surge is not None and _surges(surge):
            return [
                _fix(
                    where,
                    f"updateStrategy maxSurge {surge}: the surge pod waits for the node's GPU forever",
                    "set updateStrategy.rollingUpdate.maxSurge: 0",
                )
            ]
    return []


def _gpu_node_keys(pod_spec: Mapping[str, Any], prefixes: Sequence[str]) -> list[str]:
    keys = list(mapping(pod_spec.get("nodeSelector")))
    terms = get(
        pod_spec,
        "affinity",
        "nodeAffinity",
        "requiredDuringSchedulingIgnoredDuringExecution",
        "nodeSelectorTerms",
    )
    for term in items(terms):
        keys += [
            get(e, "key")
            for e in items(get(term, "matchExpressions"))
            if get(e, "operator") != "DoesNotExist"
        ]
    return [k for k in keys if isinstance(k, str) and k.startswith(tuple(prefixes))]


def _gpu_toleration(w: Workload, config: Mapping[str, Any]) -> list[Finding]:
    keys = _gpu_node_keys(w.pod_spec, config["gpuNodeLabelPrefixes"])
    if not keys:
        return []
    taint = config["taintKey"]
    for t in items(w.pod_spec.get("tolerations")):
        t = mapping(t)
        if t.get("effect") not in (None, "", "NoSchedule"):
            continue
        if t.get("key") == taint or (not t.get("key") and t.get("operator") == "Exists"):
            return []
    return [
        _fix(
            f'{w.kind} "{w.name}"',
            f"the pod targets GPU nodes ({', '.join(dict.fromkeys(keys))}) but does not tolerate the "
            f"{taint}:NoSchedule taint they usually carry, so it stays Pending",
            f"add `tolerations: [{{key: {taint}, operator: Exists, effect: NoSchedule}}]`",
        )
    ]


# --- stack: shimmy-service ------------------------------------------------------------------------


def _same_namespace(a: Any, b: Any) -> bool:
    known = [n for n in (a, b) if isinstance(n, str) and not is_unknown(n)]
    return len(known) < 2 or known[0] == known[1]


def _shimmy_service(resources: Sequence[StackResource], config: Mapping[str, Any]) -> list[Finding]:
    recognition = Recognition.from_config(config)
    services = [r for r in resources if r.type.startswith("kubernetes:") and r.type.endswith(":Service")]
    findings = []
    for r in resources:
        w = workload(r.type, r.name, r.props, recognition)
        if w is None or not w.shimmy:
            continue
        where = f'{w.kind} "{w.name}"'
        for c in w.shimmy:
            port = bound_port(c.run)
            if port is None:
                continue  # bind-address reports it
            targets = {port, declared_ports(c.spec).get(port)} - {None}
            selecting, pending = [], False
            for s in services:
                selector = get(s.props, "spec", "selector")
                if not _same_namespace(get(s.props, "metadata", "namespace"), w.namespace):
                    continue
                if is_unknown(selector) or any(is_unknown(v) for v in mapping(selector).values()):
                    pending = True
                elif selector and all(w.pod_labels.get(k) == v for k, v in mapping(selector).items()):
                    selecting.append(s)
            if pending and not selecting:
                findings.append(replace(_pending(where, "a Service selector"), urn=r.urn))
                continue
            if not selecting:
                labels = dict(w.pod_labels) or "none"
                findings.append(
                    replace(
                        _fix(
                            where,
                            f"no Service selects its pods (pod labels: {labels}), so shimmy on port {port} "
                            "is "
                            "unreachable",
                            f"add a Service whose selector matches the pod labels, with targetPort {port}",
                        ),
                        urn=r.urn,
                    )
                )
                continue
            for s in selecting:
                ports = items(get(s.props, "spec", "ports"))
                wanted = [
                    get(p, "targetPort") if get(p, "targetPort") is not None else get(p, "port")
                    for p in ports
                ]
                if any(is_unknown(t) for t in wanted):
                    findings.append(replace(_pending(where, f'Service "{s.name}" targetPort'), urn=s.urn))
                elif not any(
                    (whole_count(t) if whole_count(t) is not None else t) in targets for t in wanted
                ):
                    findings.append(
                        replace(
                            _fix(
                                f'Service "{s.name}"',
                                f"selects {where} but no port targets {port}, the port shimmy binds "
                                f"(targetPorts: {', '.join(map(str, wanted)) or 'none'})",
                                f"set `targetPort: {port}`",
                            ),
                            urn=s.urn,
                        )
                    )
    return findings


# --- the pack -------------------------------------------------------------------------------------


def _flag(description: str, default: bool = False) -> dict[str, Any]:
    return {"type": "boolean", "default": default, "description": description}


ALLOW_CPU = _flag("Accept the cpu profile (GPU-less clusters). Set it only in such a stack's policy config.")

RULES: tuple[Rule, ...] = (
    Rule(
        name="gpu-resource",
        level=MANDATORY,
        description="A shimmy container requests a whole number (>= 1) of GPUs in limits; requests, if "
        "set, equal it.",
        catches="no GPU limit, a GPU only in requests, 0 or fractional GPUs, requests unequal to limits",
        check=_per_container(_gpu_resource),
        remediate=_remediate_containers(_gpu_resource, _fix_gpu_resource),
        schema={
            **RECOGNITION_SCHEMA,
            "resourceNames": {
                "type": "array",
                "items": {"type": "string"},
                "minItems": 1,
                "default": ["nvidia.com/gpu"],
                "description": "Accepted GPU resource names (e.g. nvidia.com/mig-1g.10gb); remediation "
                "adds the first.",
            },
        },
    ),
    Rule(
        name="gpu-backend-flag",
        level=MANDATORY,
        description="shimmy runs with exactly one `--gpu-backend cuda` (never auto, cpu or another backend).",
        catches="missing flag (auto), `auto`, `cpu`, `vulkan`/`opencl`, the flag twice, SHIMMY_GPU_BACKEND "
        "instead of the flag",
        check=_per_container(_gpu_backend),
        remediate=_remediate_containers(_gpu_backend, _fix_gpu_backend),
        schema={**RECOGNITION_SCHEMA, "allowCpu": ALLOW_CPU},
    ),
    Rule(
        name="bind-address",
        level=MANDATORY,
        description="shimmy binds `0.0.0.0:P` (or `[::]:P`) with `--bind`, P a declared containerPort.",
        catches="missing `--bind` (loopback), `127.0.0.1`/`auto`, a port not declared, "
        "SHIMMY_PORT/SHIMMY_HOST instead",
        check=_per_container(_bind_address),
        schema=dict(RECOGNITION_SCHEMA),
    ),
    Rule(
        name="model-flag",
        level=MANDATORY,
        description="`--model-path` names one .gguf file, never a folder; `--model-dirs` avoids folders "
        "shimmy skips.",
        catches="a folder as `--model-path`, the flag twice, `--model-dirs /opt` style folders discovery "
        "skips",
        check=_per_container(_model_flag),
        schema=dict(RECOGNITION_SCHEMA),
    ),
    Rule(
        name="cuda-image",
        level=MANDATORY,
        description="The image build of a shimmy image enables llama-cuda, sets CUDA architectures and "
        "builds 1.4.2 <= version < 2.0.",
        catches="missing llama-cuda, no or `native` CUDA architectures, shimmy 2.x or < 1.4.2, the cpu "
        "accelerator",
        check=_cuda_image,
        schema={"imagePattern": RECOGNITION_SCHEMA["imagePattern"], "allowCpu": ALLOW_CPU},
    ),
    Rule(
        name="image-digest",
        level=MANDATORY,
        description="A shimmy container's image is pinned by digest (`@sha256:`).",
        catches="an image by tag or without tag; unknown at preview (first build): reported, checked at "
        "update",
        check=_per_container(_image_digest),
        schema={
            **RECOGNITION_SCHEMA,
            "requireDigest": _flag("false: also accept an image by a tag other than latest.", True),
        },
    ),
    Rule(
        name="driver-capabilities",
        level=MANDATORY,
        description="NVIDIA_DRIVER_CAPABILITIES, if set on a shimmy container, includes compute.",
        catches="`utility` or `graphics` only, a valueFrom the policy cannot read",
        check=_per_container(_driver_capabilities),
        schema=dict(RECOGNITION_SCHEMA),
    ),
    Rule(
        name="probes",
        level=ADVISORY,
        description="A shimmy container has readiness and liveness probes, not on /metrics.",
        catches="no readiness/liveness probe, a probe on /metrics (runs nvidia-smi)",
        check=_per_container(_probes),
        schema=dict(RECOGNITION_SCHEMA),
    ),
    Rule(
        name="security-context",
        level=ADVISORY,
        description="A shimmy container runs with the restricted security context.",
        catches="root, privilege escalation, capabilities not dropped, no seccomp profile",
        check=_per_container(_security_context),
        schema=dict(RECOGNITION_SCHEMA),
    ),
    Rule(
        name="rollout-strategy",
        level=ADVISORY,
        description="A shimmy Deployment/DaemonSet rolls out without a surge pod that waits for a GPU "
        "forever.",
        catches="RollingUpdate with maxSurge > 0 (the default 25% included)",
        check=_per_workload(_rollout_strategy),
        schema=dict(RECOGNITION_SCHEMA),
    ),
    Rule(
        name="gpu-toleration",
        level=ADVISORY,
        description="A shimmy pod that selects GPU nodes tolerates their nvidia.com/gpu taint.",
        catches="nodeSelector/affinity on nvidia.com/ labels without a matching toleration",
        check=_per_workload(_gpu_toleration),
        schema={
            **RECOGNITION_SCHEMA,
            "taintKey": {
                "type": "string",
                "default": "nvidia.com/gpu",
                "description": "The GPU nodes' taint key.",
            },
            "gpuNodeLabelPrefixes": {
                "type": "array",
                "items": {"type": "string"},
                "default": ["nvidia.com/"],
                "description": "Node label prefixes that mean GPU nodes.",
            },
        },
    ),
    Rule(
        name="shimmy-service",
        level=MANDATORY,
        description="Every shimmy workload has a Service that selects its pods and targets the port shimmy "
        "binds.",
        catches="no Service, a selector that misses the pods, a targetPort other than the bound port",
        check_stack=_shimmy_service,
        schema=dict(RECOGNITION_SCHEMA),
    ),
)

BY_NAME = {rule.name: rule for rule in RULES}


def effective_level(rule: Rule, pack_config: Mapping[str, Any] | None) -> str:
    """The level a policy config file (`--policy-pack-config`) gives `rule`."""
    pack_config = pack_config or {}
    for key in (rule.name, "all"):
        value = pack_config.get(key)
        level = value if isinstance(value, str) else mapping(value).get("enforcementLevel")
        if level:
            return level
    return rule.level


def rule_config(rule: Rule, pack_config: Mapping[str, Any] | None) -> dict[str, Any]:
    value = (pack_config or {}).get(rule.name)
    return rule.settings(value if isinstance(value, Mapping) else None)


def evaluate(
    resource_type: str, name: str, props: Mapping[str, Any], pack_config: Mapping[str, Any] | None = None
) -> list[Finding]:
    """Every resource rule's findings for one resource, as the pack would report them."""
    findings = []
    for rule in RULES:
        if rule.check is None or effective_level(rule, pack_config) == "disabled":
            continue
        for f in rule.check(resource_type, name, props, rule_config(rule, pack_config)):
            findings.append(replace(f, rule=rule.name))
    return findings


def evaluate_stack(
    resources: Sequence[StackResource], pack_config: Mapping[str, Any] | None = None
) -> list[Finding]:
    findings = []
    for rule in RULES:
        if rule.check_stack is None or effective_level(rule, pack_config) == "disabled":
            continue
        for f in rule.check_stack(resources, rule_config(rule, pack_config)):
            findings.append(replace(f, rule=rule.name))
    return findings
