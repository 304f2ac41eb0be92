"""The programs that run inside the stack's pods, kept as the files they ship as.

A ConfigMap's data is the bytes of the program's files, read here as package data; the pod mounts
them as one folder and runs the first. So the ConfigMap, and with it the pod, changes only when one
of those files does, never for an edit to the program that declares them. Each file is standard
library only and imports nothing but its siblings of the same program, by plain name.

The Pulumi program imports one of them, gate_series.py: its alerts, dashboard and PodMonitor must
name exactly the series the gate writes.
"""

from __future__ import annotations

from importlib import resources

# The request gate beside shimmy: gate.py, and the modules it imports from its folder.
GATE = ("gate.py", "gate_http.py", "gate_metrics.py", "gate_series.py")
# The verification Job's proof that shimmy decodes on the GPU.
GPU_PROOF = ("gpu_proof.py",)


def files(names: tuple[str, ...]) -> dict[str, str]:
    """File name -> its text, byte for byte: the data of the ConfigMap that ships `names`."""
    folder = resources.files(__name__)
    return {name: folder.joinpath(name).read_bytes().decode("utf-8") for name in names}
