"""benchmarks/gpu/load.py's host-memory sampling, against a real process here (the GPU parts were
measured on a GPU: docs/gpu-results.md)."""

import importlib.util
import subprocess
import sys
import time

from tests.program import ROOT

spec = importlib.util.spec_from_file_location("gpu_load", ROOT / "benchmarks" / "gpu" / "load.py")
load = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = load  # dataclasses look their module up
spec.loader.exec_module(load)

# Allocates and touches 96 MiB of anonymous memory, says so, then waits to be killed.
HOLDER = "import time; b = b'x' * (96 << 20); print(1, flush=True); time.sleep(60)"


def test_host_memory_peak_counts_what_the_process_allocated_after_sampling_began():
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with load.HostMemoryPeak(process.pid) as idle:
            time.sleep(0.3)
    finally:
        process.kill()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER], stdout=subprocess.PIPE, text=True)
    try:
        with load.HostMemoryPeak(holder.pid) as busy:
            holder.stdout.readline()
            time.sleep(0.3)
    finally:
        holder.kill()
        holder.wait()
    assert idle.anon_mib < 64
    assert busy.rss_mib >= busy.anon_mib >= 96


def test_host_memory_peak_of_a_process_that_is_gone_stays_at_what_it_saw():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    with load.HostMemoryPeak(process.pid) as gone:
        time.sleep(0.2)
    assert (gone.rss_mib, gone.anon_mib) == (0, 0)
