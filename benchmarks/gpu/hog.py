"""Holds GPU memory so that only a T4's worth stays free: a 16 GB T4 on a larger GPU, for memory only.

A benchmark GPU (H100, H200) has 80 to 141 GB; the Deployment's T4 has 15360 MiB (nvidia-smi's
total), of which about 14.5 GiB is free for a process. This allocates plain device memory (cudaMalloc through
PyTorch, no managed memory) until `--leave-mib` remain free, prints what it holds, and sleeps until
SIGTERM. Speed is the big GPU's; only the memory ceiling is the T4's.

Usage: python3 benchmarks/gpu/hog.py --leave-mib 14848 &   (needs torch with CUDA)
"""

from __future__ import annotations

import argparse
import signal
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--leave-mib", type=int, default=14848, help="free memory to leave (T4: about 14.5 GiB)"
    )
    options = parser.parse_args(argv)
    import torch

    held = []
    chunk = 1024 * 2**20
    while True:
        free, total = torch.cuda.mem_get_info()
        excess = free - options.leave_mib * 2**20
        if excess <= 16 * 2**20:
            break
        size = min(chunk, excess)
        held.append(torch.empty(size, dtype=torch.uint8, device="cuda"))
    free, total = torch.cuda.mem_get_info()
    print(
        f"hog: holding {sum(t.numel() for t in held) / 2**20:.0f} MiB; free {free / 2**20:.0f} of "
        f"{total / 2**20:.0f} MiB",
        flush=True,
    )
    stop = False

    def on_term(*_):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    while not stop:
        time.sleep(0.2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
