"""Times of the kwok stack on the local control plane: `pulumi up` until the Deployment is Available
(the provider's await logic, the policy pack on), a no-op `up`, `pulumi refresh`, `pulumi destroy`
(the namespace deleted). Same workspace and stand-in cuda compiler as tests/e2e; the cluster is
started if it is down and left as found.

    .venv/bin/python benchmarks/kwok_up.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.cluster import cluster_env, destroy, kwok_stack, up
from tests.engine.cli import ROOT

NAMESPACE = "shimmy-kwok-bench"


def seconds(step, *args) -> float:
    start = time.monotonic()
    step(*args)
    return time.monotonic() - start


def cluster(command: str, check: bool = False) -> int:
    result = subprocess.run(["bash", "scripts/cluster.sh", command], cwd=ROOT, capture_output=True, text=True)
    if check and result.returncode:
        raise SystemExit(f"scripts/cluster.sh {command} failed:\n{result.stderr}")
    return result.returncode


def refresh(ws) -> None:
    ws.pulumi("refresh", "--yes", "--stack", "kwok")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args(argv)
    was_running = cluster("status") == 0
    started = seconds(cluster, "up", True)
    print(f"cluster up: {started:.1f} s ({'running already' if was_running else 'from down'})")
    env = cluster_env()
    times: dict[str, list[float]] = {"up to Available": [], "no-op up": [], "refresh": [], "destroy": []}
    try:
        for run in range(options.runs):
            with tempfile.TemporaryDirectory() as base:
                ws = kwok_stack(Path(base), env, NAMESPACE)
                times["up to Available"].append(seconds(up, ws))
                times["no-op up"].append(seconds(up, ws))
                times["refresh"].append(seconds(refresh, ws))
                times["destroy"].append(seconds(destroy, ws, env, NAMESPACE))
            print(f"run {run + 1}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in times.items()), flush=True)
    finally:
        if not was_running:
            cluster("down")
    for step, values in times.items():
        low, high = min(values), max(values)
        print(f"{step}: median {statistics.median(values):.1f} s (min {low:.1f}, max {high:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
