"""bind-address: shimmy listens on every interface, on a port the container declares; or, behind a
front container of its pod (frontContainers: a request gate, a proxy), on loopback only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shimmy_facts import DEFAULT_BIND, UNREAD_ENV

from shimmy_policy.container_fields import (
    LOOPBACK_HOSTS,
    WILDCARD_HOSTS,
    declared_ports,
    env_names,
    front_ports,
    split_bind,
)
from shimmy_policy.recognition import Recognition
from shimmy_policy.rule_types import MANDATORY, Finding, Subject
from shimmy_policy.workloads import Container, Workload, container_rule

NAME = "bind-address"
FLAG = "--bind"
UNREAD = {env for env, flag in UNREAD_ENV.items() if flag == FLAG}  # SHIMMY_HOST, SHIMMY_PORT


def check(at: Subject, w: Workload, c: Container, config: Mapping[str, Any]) -> list[Finding]:
    ports = declared_ports(c.spec)
    suggestion = next(iter(ports), 8080)
    values = c.run.values(FLAG)
    if c.run.unknown and not values:
        return [at.pending("the command line")]
    if not values:
        ignored = sorted(UNREAD & env_names(c.spec))
        note = f" ({' and '.join(ignored)} are not read by shimmy)" if ignored else ""
        return [
            at.violation(
                f"no --bind flag: shimmy listens on {DEFAULT_BIND} (loopback only), unreachable from the "
                f"Service and the kubelet{note}",
                f"add `--bind 0.0.0.0:{suggestion}` to the container args",
            )
        ]
    findings = []
    if len(values) > 1:
        findings.append(
            at.violation(
                f"--bind is given {len(values)} times ({', '.join(values)})",
                f"keep exactly one `--bind 0.0.0.0:{suggestion}`",
            )
        )
    fronted = bool(front_ports(c.pod.containers, Recognition.from_config(config).front_containers))
    for value in dict.fromkeys(values):
        host, port = split_bind(value)
        if fronted and host in LOOPBACK_HOSTS and port is not None:
            continue  # the front container takes the traffic; nothing can go around it
        if value == "auto" or host not in WILDCARD_HOSTS:
            listens = split_bind(DEFAULT_BIND)[0] if value == "auto" else host or value
            findings.append(
                at.violation(
                    f"--bind {value} listens on {listens} only, unreachable from the Service",
                    f"use `--bind 0.0.0.0:{port or suggestion}`",
                )
            )
        elif port is None:
            findings.append(
                at.violation(f"--bind {value} has no valid port", f"use `--bind 0.0.0.0:{suggestion}`")
            )
        elif port not in ports:
            declared = ", ".join(map(str, ports)) or "none"
            findings.append(
                at.violation(
                    f"--bind {value} binds port {port}, which is not a declared containerPort (declared: "
                    f"{declared})",
                    f"declare `ports: [{{containerPort: {port}}}]` or bind a declared port",
                )
            )
    return findings


RULE = container_rule(
    name=NAME,
    level=MANDATORY,
    description="shimmy binds `0.0.0.0:P` (or `[::]:P`) with `--bind`, P a declared containerPort; behind a "
    "front container of its pod it may bind loopback.",
    catches="missing `--bind` (loopback), `127.0.0.1`/`auto`, a port not declared, SHIMMY_PORT/SHIMMY_HOST "
    "instead",
    check=check,
)
