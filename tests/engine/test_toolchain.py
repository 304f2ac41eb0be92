"""The toolchain `make setup` installs is exactly what requirements.txt pins, and nothing of ours."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from scripts.pins import pinned
from tests.engine.cli import ROOT, installed_plugins, required_plugins, script_env


def test_cli_is_the_version_of_the_pulumi_sdk_pin():
    out = subprocess.run(["pulumi", "version"], env=script_env(), capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"v{pinned('pulumi')}"


def test_the_python_language_host_is_the_one_shipped_with_that_cli():
    env = script_env()
    cli = Path(shutil.which("pulumi", path=env["PATH"]))
    host = Path(shutil.which("pulumi-language-python", path=env["PATH"]))
    assert host.parent == cli.parent
    out = subprocess.run([str(host), "-version"], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"v{pinned('pulumi')}"


def test_plugins_are_exactly_the_versions_the_sdk_pins_declare():
    assert required_plugins() == {
        ("docker", pinned("pulumi-docker")),
        ("kubernetes", pinned("pulumi-kubernetes")),
    }
    assert installed_plugins(script_env()) == required_plugins()


def isolated_setup(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    """scripts/setup.sh with an empty cache folder, no pulumi on PATH, no bundle but what `env`
    names, the project's virtualenv."""
    tree = tmp_path / "checkout" / "tree"
    shutil.copytree(ROOT / "scripts", tree / "scripts")
    for name in ("requirements.txt", "requirements-dev.txt"):
        shutil.copy2(ROOT / name, tree / name)
    shutil.copytree(ROOT / "policy", tree / "policy", ignore=shutil.ignore_patterns("*.egg-info"))
    (tree / ".venv").symlink_to(ROOT / ".venv")
    path = ":".join(p for p in os.environ["PATH"].split(":") if not (Path(p) / "pulumi").exists())
    inherited = {k: v for k, v in os.environ.items() if k != "SHIMMY_GPU_PULUMI_BUNDLE"}
    return subprocess.run(
        ["bash", "scripts/setup.sh"],
        cwd=tree,
        env={**inherited, "PATH": path, "SHIMMY_GPU_CACHE": str(tmp_path / "cache"), **env},
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_a_bundle_whose_archive_does_not_match_its_manifest_is_refused(tmp_path):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    archive = f"pulumi-v{pinned('pulumi')}-linux-x64.tar.gz"
    (bundle / archive).write_bytes(b"not the archive the manifest names")
    header = "file\tcontents\tversion\tupstream\ttag\tcommit\tsha256"
    row = f"{archive}\tpulumi\t{pinned('pulumi')}\tgithub.com/pulumi/pulumi\tv\t0\t{'0' * 64}"
    (bundle / "MANIFEST.tsv").write_text(f"{header}\n{row}\n")
    result = isolated_setup(tmp_path, SHIMMY_GPU_PULUMI_BUNDLE=str(bundle))
    assert result.returncode == 1
    assert "does not match its sha256 in MANIFEST.tsv; refusing the bundle" in result.stderr
    assert not (tmp_path / "cache" / "pulumi" / "cli").exists()


def test_without_cli_bundle_or_network_it_names_what_is_missing_and_both_ways(tmp_path):
    # No ../shared/pulumi-bundle beside the copied checkout; get.pulumi.com only through a closed port.
    closed = "http://127.0.0.1:9"
    result = isolated_setup(tmp_path, https_proxy=closed, HTTPS_PROXY=closed)
    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    assert f"no Pulumi CLI v{pinned('pulumi')}" in message
    assert f"sh -s -- --version {pinned('pulumi')}" in message
    assert "SHIMMY_GPU_PULUMI_BUNDLE" in message
    assert f"pulumi-resource-docker-v{pinned('pulumi-docker')}-linux-amd64.tar.gz" in message
