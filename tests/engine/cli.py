"""The real Pulumi CLI of `make setup`, driven in throw-away workspaces.

Each workspace has its own file backend and passphrase, so the project's stacks, state and
Pulumi.<stack>.yaml files stay untouched; the environment is scripts/pulumi-env.sh's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "engine-tests"


def pulumi_env(state: Path | None = None) -> dict[str, str]:
    """The environment scripts/pulumi-env.sh makes, with a backend in `state` when given."""
    overrides = {"PULUMI_CONFIG_PASSPHRASE": PASSPHRASE}
    if state:
        overrides["PULUMI_BACKEND_URL"] = f"file://{state}"
    out = subprocess.run(
        ["bash", "-c", "source scripts/pulumi-env.sh && env -0"],
        cwd=ROOT,
        env={**os.environ, **overrides},
        capture_output=True,
        check=True,
    ).stdout.decode()
    return dict(entry.split("=", 1) for entry in out.split("\0") if entry)


def required_plugins() -> set[tuple[str, str]]:
    """(name, version) of each resource plugin the venv's Pulumi SDKs ask for."""
    site = next((ROOT / ".venv" / "lib").glob("python*/site-packages"))
    wanted = set()
    for path in site.glob("*/pulumi-plugin.json"):
        info = json.loads(path.read_text())
        if info.get("resource"):
            wanted.add((info["name"], info["version"].removeprefix("v")))
    return wanted


@dataclass
class Workspace:
    """A program folder with a stack `test` on its own backend."""

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
            timeout=600,
        )
        if check and result.returncode != 0:
            command = " ".join(args)
            output = f"{result.stdout}\n{result.stderr}"
            raise AssertionError(f"pulumi {command}: exit {result.returncode}\n{output}")
        return result


def new_workspace(base: Path, program: Path, stack: str = "test") -> Workspace:
    """`program`'s files copied to `base`/program, its stack created with passphrase secrets."""
    state = base / "state"
    state.mkdir()
    ws = Workspace(base / "program", pulumi_env(state))
    shutil.copytree(program, ws.dir, symlinks=True)
    (ws.dir / ".venv").symlink_to(ROOT / ".venv")
    ws.pulumi("stack", "init", stack, "--secrets-provider", "passphrase")
    return ws


def installed_plugins(env: dict[str, str]) -> set[tuple[str, str]]:
    """(name, version) of each resource plugin in PULUMI_HOME."""
    out = subprocess.run(["pulumi", "plugin", "ls", "--json"], env=env, capture_output=True, check=True)
    plugins = json.loads(out.stdout) or []
    return {(p["name"], p["version"].removeprefix("v")) for p in plugins if p["kind"] == "resource"}


def copy_work_tree(dest: Path) -> Path:
    """The work tree's tracked and untracked, not ignored, files, with a link to its virtualenv."""
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    for name in filter(None, files.split("\0")):
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    (dest / ".venv").symlink_to(ROOT / ".venv")
    return dest
