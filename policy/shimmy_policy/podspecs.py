"""The pod specs a Kubernetes object runs, whatever its kind; each container counted once.

Read in this order: the known locations of its kind and those the stack configures (locations.py),
then a bounded search of the object's properties for pod-spec-shaped objects: a mapping whose
`containers` is a list of container-shaped mappings (a `name` and an `image`, `command` or `args`).
The search finds Ray, Kubeflow, Volcano, JobSet and the many operators shaped the same way.

A known or configured location whose value is unknown during preview is reported as unreadable
(the rules then say it is checked at update); the search cannot tell a workload from any other
object, so it reports nothing it cannot read.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shimmy_policy.locations import WILDCARD, ApiKind, Path, PodLocation, known_locations
from shimmy_policy.props import is_unknown, mapping

# The search's bounds: nesting depth below the object, and mappings and lists visited.
MAX_DEPTH = 24
MAX_NODES = 20_000


@dataclass(frozen=True)
class Pod:
    path: Path  # where its pod spec lives in the object's properties
    spec: Mapping[str, Any]
    labels: Mapping[str, Any]
    # (path, container spec, name) of every container it runs (init containers are not among them)
    containers: tuple[tuple[Path, Mapping[str, Any], str], ...] = ()


@dataclass(frozen=True)
class PodSpecs:
    pods: tuple[Pod, ...] = ()
    unreadable: tuple[Path, ...] = ()  # known or configured locations unknown during preview
    located: bool = False  # the kind has known or configured locations (a workload even without pods)


def resolve(value: Any, path: Path, at: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every (path, value) that `path` reaches, `*` taking every key or index; an unknown value on the
    way is yielded where it stands (its path is shorter). An absent step yields nothing."""
    if is_unknown(value) or not path:
        yield at, value
        return
    step, rest = path[0], path[1:]
    if step == WILDCARD:
        entries = value.items() if isinstance(value, Mapping) else enumerate(value) if _is_list(value) else ()
        for key, item in entries:
            yield from resolve(item, rest, (*at, key))
    elif _has(value, step):
        yield from resolve(value[step], rest, (*at, step))


def _is_list(value: Any) -> bool:
    return isinstance(value, list | tuple)


def _has(value: Any, step: str | int) -> bool:
    if isinstance(step, int):
        return _is_list(value) and step < len(value)
    return isinstance(value, Mapping) and step in value


def _labels(props: Mapping[str, Any], paths: Sequence[Path], pod_path: Path) -> dict[str, Any]:
    """The label maps merged; a `*` in a label path takes the key or index the pod spec's path took."""
    merged: dict[str, Any] = {}
    for path in paths:
        concrete = tuple(
            pod_path[i] if s == WILDCARD and i < len(pod_path) else s for i, s in enumerate(path)
        )
        for _, labels in resolve(props, concrete):
            merged.update(mapping(labels))
    return merged


def _read(props: Mapping[str, Any], location: PodLocation, unreadable: list[Path]) -> list[Pod]:
    pods = []
    for pod_path, spec in resolve(props, location.spec):
        if is_unknown(spec):
            unreadable.append(pod_path)
            continue
        if not isinstance(spec, Mapping) and not (location.singles and _is_list(spec)):
            continue
        containers = []
        for key in location.lists:
            for list_path, value in resolve(spec, (key,), pod_path):
                if is_unknown(value):
                    unreadable.append(list_path)
                for index, item in enumerate(value if _is_list(value) else ()):
                    if is_unknown(item):
                        unreadable.append((*list_path, index))
                    elif isinstance(item, Mapping):
                        containers.append(((*list_path, index), item, str(item.get("name", f"#{index}"))))
        for key in location.singles:
            for path, item in resolve(spec, (key,), pod_path):
                if is_unknown(item):
                    unreadable.append(path)
                elif isinstance(item, Mapping):
                    default = location.single_name or str(path[-1])
                    containers.append((path, item, str(item.get("name", default))))
        labels = _labels(props, location.labels, pod_path)
        pods.append(Pod(pod_path, mapping(spec), labels, tuple(containers)))
    return pods


def container_shaped(value: Any) -> bool:
    return (
        isinstance(value, Mapping)
        and isinstance(value.get("name"), str)
        and any(key in value for key in ("image", "command", "args"))
    )


def pod_spec_shaped(value: Any) -> bool:
    containers = value.get("containers") if isinstance(value, Mapping) else None
    return _is_list(containers) and bool(containers) and all(container_shaped(c) for c in containers)


def search(props: Mapping[str, Any]) -> list[Path]:
    """Paths of the pod-spec-shaped objects in `props` (not below one found), within MAX_DEPTH and
    MAX_NODES; metadata and status are not searched."""
    found: list[Path] = []
    skipped = {("metadata",), ("status",)}
    budget = MAX_NODES

    def walk(value: Any, at: Path) -> None:
        nonlocal budget
        if budget <= 0 or len(at) > MAX_DEPTH or at in skipped:
            return
        budget -= 1
        if pod_spec_shaped(value):
            found.append(at)
        elif isinstance(value, Mapping):
            for key, item in value.items():
                if isinstance(item, Mapping) or _is_list(item):
                    walk(item, (*at, key))
        elif _is_list(value):
            for index, item in enumerate(value):
                if isinstance(item, Mapping) or _is_list(item):
                    walk(item, (*at, index))

    walk(props, ())
    return found


def _searched(path: Path) -> PodLocation:
    """The location of a pod spec the search found; a template's metadata (`...template.spec`) labels it."""
    labels = ((*path[:-1], "metadata", "labels"),) if path[-1:] == ("spec",) else ()
    return PodLocation(spec=path, labels=labels)


def pod_specs(
    kind: ApiKind,
    props: Mapping[str, Any],
    extra: Sequence[tuple[str, PodLocation]] = (),
) -> PodSpecs:
    """Every pod spec `props` carries, each container once."""
    locations = [*known_locations(kind), *(location for pattern, location in extra if kind.matches(pattern))]
    unreadable: list[Path] = []
    pods = [pod for location in locations for pod in _read(props, location, unreadable)]
    for path in search(props):  # what a location already read is dropped below
        pods += _read(props, _searched(path), unreadable)
    seen: set[Path] = set()
    unique = []
    for pod in pods:
        containers = tuple(c for c in pod.containers if c[0] not in seen)
        seen.update(c[0] for c in containers)
        if containers or not pod.containers:
            unique.append(Pod(pod.path, pod.spec, pod.labels, containers))
    return PodSpecs(tuple(unique), tuple(dict.fromkeys(unreadable)), located=bool(locations))
