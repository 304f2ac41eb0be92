"""The policy pack's folder goes on sys.path, as `pulumi` does when it runs the pack from there.

Shared test objects (manifests, builders) live in tests/policy/corpus; shared pytest fixtures here.
"""

import sys
from pathlib import Path

import pytest

POLICY_DIR = Path(__file__).resolve().parents[2] / "policy"
if str(POLICY_DIR) not in sys.path:
    sys.path.insert(0, str(POLICY_DIR))


@pytest.fixture(scope="session")
def policy_dir() -> Path:
    return POLICY_DIR
