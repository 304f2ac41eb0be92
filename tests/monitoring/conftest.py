"""The monitoring tier: Debian's Prometheus and promtool (scripts/prometheus.sh fetches them once)."""

import subprocess
from pathlib import Path

import pytest

from tests.program import ROOT


@pytest.fixture(scope="session")
def prometheus_bin() -> Path:
    out = subprocess.run(
        ["bash", str(ROOT / "scripts" / "prometheus.sh")], check=True, capture_output=True, text=True
    ).stdout
    return Path(out.strip().splitlines()[-1])


def promtool(prometheus_bin: Path, *args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(prometheus_bin / "promtool"), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )
