"""Reading a container spec as more than one rule needs it: env names and values, ports, the bound address."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

import shimmy_facts as facts

from shimmy_policy.cmdline import Invocation
from shimmy_policy.props import get, is_unknown, items, whole_count

WILDCARD_HOSTS = frozenset({"0.0.0.0", "[::]"})
LOOPBACK_HOSTS = frozenset(facts.LOOPBACK_HOSTS)


def env_names(container: Mapping[str, Any]) -> set[str]:
    return {get(var, "name") for var in items(container.get("env")) if isinstance(get(var, "name"), str)}


def literal_env(container: Mapping[str, Any]) -> dict[str, str]:
    """Env vars with a literal value (what `$(VAR)` expands to); valueFrom ones are left out."""
    env: dict[str, str] = {}
    for var in items(container.get("env")):
        value = get(var, "value")
        if isinstance(get(var, "name"), str) and isinstance(value, str) and not is_unknown(value):
            env[var["name"]] = value
    return env


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


def front_ports(
    pod_containers: Iterable[tuple[Any, Mapping[str, Any], str]], names: Collection[str]
) -> dict[int, str | None]:
    """The TCP ports the pod's front containers (`names`) declare -> their names."""
    ports: dict[int, str | None] = {}
    for _path, spec, name in pod_containers:
        if name in names:
            ports.update(declared_ports(spec))
    return ports
