"""The real Pulumi CLI of `make setup`, driven in throw-away workspaces.

Each workspace is a copy of a program with its own file backend and passphrase, so the project's
stacks, state and Pulumi.<stack>.yaml files stay untouched; the environment is
scripts/pulumi-env.sh's (the pinned CLI, its plugins, no automatic plugin download).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "engine-tests"


def script_env(state: Path | None = None) -> dict[str, str]:
    """The environment scripts/pulumi-env.sh makes, with a backend in `state` when given."""
    overrides = {"PULUMI_CONFIG_PASSPHRASE": PASSPHRASE}
    if state:
        overrides["PULUMI_BACKEND_URL"] = f"file://{state}"
    env = {k: v for k, v in os.environ.items() if k not in ("PULUMI_CONFIG_PASSPHRASE_FILE", "KUBECONFIG")}
    out = subprocess.run(
        ["bash", "-c", "source scripts/pulumi-env.sh && env -0"],
        cwd=ROOT,
        env={**env, **overrides},
        capture_output=True,
        check=True,
    ).stdout.decode()
    return dict(entry.split("=", 1) for entry in out.split("\0") if entry)


def shell_lines(function: str) -> list[str]:
    """The output lines of a function of scripts/common.sh (the scripts' one home for lookups)."""
    out = subprocess.run(
        ["bash", "-c", f"source scripts/common.sh && {function}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.splitlines()


def required_plugins() -> set[tuple[str, str]]:
    """(name, version) of each resource plugin the virtualenv's Pulumi SDKs declare."""
    return {tuple(line.split()) for line in shell_lines("required_plugins")}  # type: ignore[misc]


def installed_plugins(env: dict[str, str]) -> set[tuple[str, str]]:
    """(name, version) of each resource plugin in PULUMI_HOME."""
    out = subprocess.run(["pulumi", "plugin", "ls", "--json"], env=env, capture_output=True, check=True)
    plugins = json.loads(out.stdout) or []
    return {(p["name"], p["version"].removeprefix("v")) for p in plugins if p["kind"] == "resource"}


@dataclass
class Workspace:
    """A program folder with its own backend; `pulumi` runs there with the set-up's toolchain."""

    dir: Path
    env: dict[str, str]

    def pulumi(self, *args: str, check: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess:
        result = subprocess.run(
            ["pulumi", *args, "--non-interactive", "--color", "never"],
            cwd=self.dir,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        if check and result.returncode != 0:
            command = " ".join(args)
            output = f"{result.stdout}\n{result.stderr}"
            raise AssertionError(f"pulumi {command}: exit {result.returncode}\n{output}")
        return result


def workspace(base: Path, program: Path, stacks: tuple[str, ...] = ("test",)) -> Workspace:
    """`program`'s files copied to `base`/program (with a link to the project's virtualenv), its
    `stacks` created with passphrase secrets on a backend in `base`/state."""
    state = base / "state"
    state.mkdir()
    ws = Workspace(base / "program", script_env(state))
    if program == ROOT:
        _copy_work_tree(ws.dir)
    else:
        shutil.copytree(program, ws.dir, symlinks=True)
    (ws.dir / ".venv").symlink_to(ROOT / ".venv")
    for stack in stacks:
        ws.pulumi("stack", "init", stack, "--secrets-provider", "passphrase")
    return ws


def _copy_work_tree(dest: Path) -> None:
    """The work tree's tracked and untracked, not ignored, files."""
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    for name in filter(None, files.split("\0")):
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)


def policy_args(stack: str) -> list[str]:
    """`--policy-pack` arguments as the scripts pass them (scripts/common.sh)."""
    return shell_lines(f"policy_args {stack}")


def changed_lines(output: str) -> list[str]:
    """The lines of `pulumi preview --diff` that mark a change, spaces collapsed."""
    lines = [" ".join(line.split()) for line in output.splitlines()]
    return [line for line in lines if re.match(r"^(\+-|[~+-]) \S", line)]
