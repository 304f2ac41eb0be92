"""The GitHub workflows: pinned actions, least privilege, the project's own scripts, and a path to
the pinned Pulumi CLI and plugins in every job that previews or updates; docs/ci-and-previews.md
describes them."""

import re
import subprocess
from pathlib import Path

import yaml

from scripts.pins import pinned

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
CI_DOC = (ROOT / "docs" / "ci-and-previews.md").read_text()
USES = re.compile(r"uses:\s*([\w.-]+/[\w.-]+)@(\S+)(?:\s*#\s*(\S+))?")


def test_every_action_is_pinned_to_a_commit_and_docs_name_its_version():
    pins = [m.groups() for path in WORKFLOWS for m in USES.finditer(path.read_text())]
    assert pins
    for action, ref, version in pins:
        assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{action}@{ref} is not pinned to a commit"
        assert version, f"{action}@{ref} has no version comment"
        assert f"`{action}` {version}" in " ".join(CI_DOC.split()), (
            f"docs/ci-and-previews.md misses {action} {version}"
        )


def test_docs_name_every_secret_and_variable_the_workflows_read():
    read = {name for path in WORKFLOWS for name in re.findall(r"(?:secrets|vars)\.(\w+)", path.read_text())}
    assert {"PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "REGISTRY_PASSWORD"} <= read
    assert sorted(name for name in read if f"`{name}`" not in CI_DOC) == []


def test_workflows_grant_nothing_by_default_and_only_the_preview_comments():
    for path in WORKFLOWS:
        workflow = yaml.safe_load(path.read_text())
        assert workflow["permissions"] == {}, path.name
        for name, job in workflow["jobs"].items():
            writes = {scope for scope, level in job.get("permissions", {}).items() if level == "write"}
            assert writes == ({"pull-requests"} if (path.name, name) == ("preview.yml", "preview") else set())


def _run_blocks() -> list[str]:
    paths = [*WORKFLOWS, ROOT / ".github" / "actions" / "stack-credentials" / "action.yml"]
    blocks = []
    for path in paths:
        document = yaml.safe_load(path.read_text())
        jobs = document.get("jobs", {}).values() if "jobs" in document else [document["runs"]]
        blocks += [step["run"] for job in jobs for step in job.get("steps", []) if "run" in step]
    return blocks


def test_workflows_preview_and_deploy_through_the_project_scripts_only():
    runs = "\n".join(_run_blocks())
    assert 'bash scripts/preview.sh "$STACK"' in runs
    assert 'bash scripts/up.sh "$STACK"' in runs
    assert "make setup" in runs
    assert not re.search(r"pulumi (preview|up|destroy)\b", runs)


def _jobs() -> list[tuple[str, list[dict]]]:
    jobs = []
    for path in WORKFLOWS:
        for name, job in yaml.safe_load(path.read_text())["jobs"].items():
            jobs.append((f"{path.name}:{name}", job.get("steps", [])))
    return jobs


def _runs_pulumi(step: dict) -> bool:
    run = step.get("run", "")
    action = step.get("uses", "").startswith("pulumi/actions@") and "command" in step.get("with", {})
    return action or "scripts/preview.sh" in run or "scripts/up.sh" in run


PINNED = pinned("pulumi")


def test_every_job_that_previews_or_updates_installs_the_pinned_cli_then_its_plugins():
    checked = []
    for job, steps in _jobs():
        first = next((i for i, step in enumerate(steps) if _runs_pulumi(step)), None)
        if first is None:
            continue
        checked.append(job)
        version = next(i for i, s in enumerate(steps) if s.get("id") == "pulumi")
        output = subprocess.run(
            ["bash", "-c", steps[version]["run"]],
            cwd=ROOT, env={"GITHUB_OUTPUT": "/dev/stdout", "PATH": "/usr/bin:/bin"},
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        assert output == f"version={PINNED}\n", job
        install = next(
            i
            for i, s in enumerate(steps)
            if s.get("uses", "").startswith("pulumi/actions@") and "command" not in s.get("with", {})
        )
        assert steps[install]["with"]["pulumi-version"] == "${{ steps.pulumi.outputs.version }}", job
        setup = next(i for i, s in enumerate(steps) if s.get("run") == "make setup")
        assert version < install < setup < first, job
        for step in steps[first:]:
            if step.get("uses", "").startswith("pulumi/actions@"):
                assert step["with"]["pulumi-version"] == "${{ steps.pulumi.outputs.version }}", job
    assert sorted(checked) == ["preview.yml:preview", "pulumi-up.yml:up"]


def test_the_pr_comment_previews_with_the_policy_pack():
    preview = yaml.safe_load((ROOT / ".github" / "workflows" / "preview.yml").read_text())
    (comment,) = [s for s in preview["jobs"]["preview"]["steps"] if "command" in s.get("with", {})]
    assert comment["with"]["policyPacks"] == "policy"
    assert comment["with"]["command"] == "preview"
