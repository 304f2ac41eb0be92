import subprocess

import pytest

from tests.e2e.cluster import cluster_env
from tests.engine.cli import ROOT


@pytest.fixture(scope="session")
def cluster() -> dict[str, str]:
    subprocess.run(["bash", "scripts/cluster.sh", "up"], cwd=ROOT, check=True, capture_output=True)
    return cluster_env()
