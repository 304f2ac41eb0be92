"""The programs that run inside the stack's pods, kept as the files they ship as.

What a pod runs is the bytes of these files, read here as package data: a ConfigMap's data (the
gate, the GPU proof), mounted as one folder whose first file runs, or an init container's `sh -c`
program (the model's download and check). So the pod changes only when one of these files does,
never for an edit to the Pulumi program that declares it. The Python files are standard library
only and import nothing but their siblings of the same program, by plain name; the shell files are
POSIX sh with the fetcher image's curl and sha256sum.

The Pulumi program imports one of them, gate_series.py: its alerts, dashboard and PodMonitor must
name exactly the series the gate writes.
"""

from __future__ import annotations

from importlib import resources

# The request gate beside shimmy: gate.py, and the modules it imports from its folder.
GATE = ("gate.py", "gate_http.py", "gate_metrics.py", "gate_series.py")
# The verification Job's proof that shimmy decodes on the GPU.
GPU_PROOF = ("gpu_proof.py",)
# The model's init container: download a missing or changed model and check its sha256, or (a claim
# that already holds the model) only check it; both on every start.
FETCH_MODEL = "fetch_model.sh"
VERIFY_MODEL = "verify_model.sh"


def text(name: str) -> str:
    """One file's text, byte for byte."""
    return resources.files(__name__).joinpath(name).read_bytes().decode("utf-8")


def files(names: tuple[str, ...]) -> dict[str, str]:
    """File name -> its text: the data of the ConfigMap that ships `names`."""
    return {name: text(name) for name in names}
