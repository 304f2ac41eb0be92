"""model-flag: `--model-path` names one .gguf file; `--model-dirs` avoids folders discovery skips."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from shimmy_facts import discovery_skips

from shimmy_policy.rule_types import MANDATORY, Finding, Subject
from shimmy_policy.workloads import Container, Workload, container_rule

NAME = "model-flag"


def check(at: Subject, w: Workload, c: Container, config: Mapping[str, Any]) -> list[Finding]:
    paths = c.run.values("--model-path")
    findings = []
    if len(paths) > 1:
        findings.append(
            at.violation(
                f"--model-path is given {len(paths)} times", "keep exactly one `--model-path <file>.gguf`"
            )
        )
    for path in dict.fromkeys(paths):
        if not path.lower().endswith(".gguf"):
            folder = path.rstrip("/") or "/models"
            findings.append(
                at.violation(
                    f"--model-path {path!r} does not name a .gguf file: given a folder shimmy starts, "
                    "registers a model named after it and fails at the first request",
                    f"pass the file (`--model-path {folder}/<model>.gguf`), or `--model-dirs {folder}` for "
                    "a folder",
                )
            )
    for entry in (e for value in c.run.values("--model-dirs") for e in value.split(";") if e):
        name = PurePosixPath(entry).name
        if discovery_skips(name, root=True):
            findings.append(
                at.violation(
                    f"--model-dirs entry {entry!r} is a folder named {name!r}, "
                    "which shimmy's discovery skips",
                    "mount the models in a folder with another name, e.g. /models",
                )
            )
    return findings


RULE = container_rule(
    name=NAME,
    level=MANDATORY,
    description="`--model-path` names one .gguf file, never a folder; `--model-dirs` avoids folders shimmy "
    "skips.",
    catches="a folder as `--model-path`, the flag twice, `--model-dirs /opt` style folders discovery skips",
    check=check,
)
