"""The gate's limit when the stack leaves it at 0: the generations the device's memory holds."""

import pytest

from tests.shimmy_gpu.test_pod_spec import settings_for


@pytest.mark.parametrize(
    ("overrides", "limit"),
    [
        ({}, 7),  # T4, phi-3-mini resident: (15360 - 512 - 2300) // 1650
        ({"modelMemoryMiB": 250, "contextMemoryMiB": 600}, 24),  # Gemma 3 270M
        ({"gpuMemoryMiB": 81920}, 47),
        ({"contextMemoryMiB": 12000}, 1),  # one fits (none fitting is refused: test_refusals.py)
        ({"maxConcurrentRequests": 7}, 7),
        # As published: a copy of the weights per request, and a tokio worker left for /health.
        ({"shimmyPatches": []}, 3),
        ({"shimmyPatches": [], "modelMemoryMiB": 250, "contextMemoryMiB": 600, "cpuLimit": "32"}, 17),
        ({"shimmyPatches": [], "modelMemoryMiB": 250, "contextMemoryMiB": 600}, 3),
    ],
)
def test_the_derived_limit_is_what_the_device_holds(overrides, limit):
    assert settings_for(**overrides).gate.limit == limit
