"""Runs the Pulumi program under mocks for one stack and hands back what it declared.

Config is what the engine would give the program: Pulumi.yaml defaults overlaid with the stack
file (secure values replaced by a stand-in, since mocks cannot decrypt). Inputs are recorded as the
engine receives them (camelCase), which is also what the policy pack sees.
"""

from __future__ import annotations

import hashlib
import json
import runpy
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pulumi

from shimmy_gpu.stack_config import raw_config

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "shimmy-gpu"
STACKS = tuple(sorted(path.name.split(".")[1] for path in ROOT.glob("Pulumi.*.yaml")))  # committed stacks
MOCK_SECRET = "mock-secret-value"


@dataclass(frozen=True)
class Declared:
    type: str
    name: str
    props: dict[str, Any]


@dataclass(frozen=True)
class Program:
    stack: str
    resources: tuple[Declared, ...]
    exports: dict[str, Any]

    def of_type(self, type_: str) -> list[Declared]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str) -> Declared:
        (found,) = self.of_type(type_)
        return found


def stack_config(stack: str) -> dict[str, Any]:
    """Config keys (without namespace) as the engine hands them to the program of `stack`; values
    stored encrypted become MOCK_SECRET, since mocks cannot decrypt."""
    return raw_config(stack, secret=MOCK_SECRET)


class _Recorder(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.declared: list[Declared] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        self.declared.append(Declared(args.typ, args.name, args.inputs))
        state = dict(args.inputs)
        if args.typ == "docker:index/image:Image":
            repository = args.inputs["imageName"].rsplit(":", 1)[0]
            digest = hashlib.sha256(json.dumps(args.inputs, sort_keys=True).encode()).hexdigest()
            state["repoDigest"] = f"{repository}@sha256:{digest}"
        if args.typ.startswith("kubernetes:") and "metadata" in state:
            metadata = dict(state["metadata"])
            metadata.setdefault("name", f"{args.name}-mock")  # what auto-naming would add
            state["metadata"] = metadata
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}


def _as_config_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def run_program(
    stack: str,
    overrides: Mapping[str, Any] | None = None,
    secret_keys: tuple[str, ...] = ("registryPassword",),
) -> Program:
    """Run __main__.py for `stack` with optional config overrides; raise what the program raises.

    `secret_keys` are the keys the engine would report as set with --secret.
    """
    config = {**stack_config(stack), **(overrides or {})}
    pulumi.runtime.set_all_config(
        {f"{PROJECT}:{key}": _as_config_value(value) for key, value in config.items() if value is not None},
        [f"{PROJECT}:{key}" for key in secret_keys],
    )
    recorder = _Recorder()
    pulumi.runtime.set_mocks(recorder, project=PROJECT, stack=stack, preview=False)
    exports: dict[str, Any] = {}

    def record_export(name: str, value: Any) -> None:
        exports[name] = value

    original_export = pulumi.export
    pulumi.export = record_export
    try:

        @pulumi.runtime.test
        def run():
            runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")
            return pulumi.Output.all(**exports).apply(exports.update)

        run()
    finally:
        pulumi.export = original_export
    return Program(stack, tuple(recorder.declared), exports)


@cache
def declared_program(stack: str) -> Program:
    """The shipped program of `stack`, run once per test session."""
    return run_program(stack)


def declared_resources(stack: str) -> list[Declared]:
    return list(declared_program(stack).resources)


def as_sent(value: Any) -> Any:
    """JSON as the provider sends it: whole numbers are integers (the mocks hand floats back)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: as_sent(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_sent(v) for v in value]
    return value


def manifests(program: Program) -> list[dict[str, Any]]:
    """The Kubernetes objects the program declares, as the provider would render them."""
    objects = []
    for declared in program.resources:
        if not declared.type.startswith("kubernetes:") or declared.type.startswith("pulumi:providers"):
            continue
        _, group_version, kind = declared.type.split(":")
        if kind.endswith("Patch"):  # fields of an object declared beside it, not an object
            continue
        group, version = group_version.split("/")
        api_version = version if group == "core" else group_version
        objects.append({"apiVersion": api_version, "kind": kind, **as_sent(declared.props)})
    return objects
