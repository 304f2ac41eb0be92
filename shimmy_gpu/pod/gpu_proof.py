"""The GPU proof the verification Job runs: shimmy must prove CUDA in its own log and reach a
decode speed.

Standard library only: the Job runs `main()` in the plain `pythonImage`. Its service account may
only read this namespace's pods and their logs. The parsing functions are pure, so the tests and the
GPU benchmarks judge a log exactly as the Job does.

Proof is llama.cpp's log at model load, not shimmy's banner (which shows what was compiled in):
`offloaded N/N layers to GPU` with N > 0. `ggml_cuda_init: found N CUDA devices` is required too,
but a CUDA build logs it even when started with `--gpu-backend cpu` (seen on an H100).
"""

from __future__ import annotations

import json
import os
import re
import ssl
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

CUDA_INIT = re.compile(r"ggml_cuda_init: found (\d+) CUDA devices?")
OFFLOADED = re.compile(r"offloaded (\d+)/(\d+) layers to GPU")
CPU_FALLBACK = re.compile(r"CPU_REPACK|dev = CPU")
SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"


@dataclass(frozen=True)
class Proof:
    cuda_devices: int
    offloaded: tuple[int, int] | None  # (layers on GPU, layers in model), last load seen
    cpu_fallback: bool


def find_proof(log: str) -> Proof:
    devices = [int(m.group(1)) for m in CUDA_INIT.finditer(log)]
    loads = [(int(m.group(1)), int(m.group(2))) for m in OFFLOADED.finditer(log)]
    return Proof(
        cuda_devices=max(devices, default=0),
        offloaded=loads[-1] if loads else None,
        cpu_fallback=bool(CPU_FALLBACK.search(log)),
    )


def proof_problems(proof: Proof) -> list[str]:
    problems = []
    if proof.cuda_devices < 1:
        problems.append("no `ggml_cuda_init: found N CUDA devices` line: llama.cpp saw no GPU")
    if proof.offloaded is None:
        problems.append("no `offloaded N/N layers to GPU` line: the model was not loaded on a GPU")
    elif proof.offloaded[0] == 0 or proof.offloaded[0] < proof.offloaded[1]:
        on_gpu, total = proof.offloaded
        problems.append(f"only {on_gpu}/{total} layers offloaded to the GPU")
    if proof.cpu_fallback:
        problems.append("CPU fallback lines (CPU_REPACK / dev = CPU) in the log")
    return problems


def sse_tokens(lines: list[str]) -> list[str]:
    """Token chunks of shimmy's server-sent events, up to `[DONE]`."""
    tokens = []
    for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[len("data:") :].strip()
        if data == "[DONE]":
            break
        tokens.append(data)
    return tokens


@dataclass(frozen=True)
class Answer:
    seconds: float  # request sent until `[DONE]`
    tokens: int  # streamed token events


def decode_rate(short: Answer, long: Answer) -> float:
    """Tokens per second from a long and a 1-token answer: model load and prompt cancel out.

    shimmy 1.9.0 does not stream while it decodes (all events leave together at the end, measured
    on an H100), so token arrival times say nothing about decode speed.
    """
    tokens, seconds = long.tokens - short.tokens, long.seconds - short.seconds
    return tokens / seconds if tokens > 0 and seconds > 0 else 0.0


@dataclass(frozen=True)
class Measurement:
    time_to_first_token: float  # a whole 1-token answer: shimmy v1 loads the model per request
    decode_tokens_per_second: float
    tokens: int


def streamed_answer(url: str, model: str, max_tokens: int, timeout: float) -> Answer:
    body = {"model": model, "prompt": "Write a short story about a lighthouse.", "max_tokens": max_tokens}
    request = urllib.request.Request(
        f"{url}/api/generate",
        data=json.dumps({**body, "stream": True}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    start = time.monotonic()
    with urllib.request.urlopen(request, timeout=timeout) as response:
        lines = [raw.decode("utf-8", "replace").rstrip("\r\n") for raw in response]
    return Answer(time.monotonic() - start, len(sse_tokens(lines)))


def measure(url: str, model: str, max_tokens: int, timeout: float) -> Measurement:
    streamed_answer(url, model, 1, timeout)  # the first request also initialises CUDA
    short = streamed_answer(url, model, 1, timeout)
    long = streamed_answer(url, model, max_tokens, timeout)
    return Measurement(short.seconds, decode_rate(short, long), long.tokens)


def pod_logs(namespace: str, selector: str, container: str) -> str:
    """The current logs of every pod matching `selector`, through the in-cluster API."""
    token = Path(SERVICE_ACCOUNT, "token").read_text()
    context = ssl.create_default_context(cafile=f"{SERVICE_ACCOUNT}/ca.crt")
    api = "https://kubernetes.default.svc"

    def get(path: str) -> bytes:
        request = urllib.request.Request(api + path, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, context=context, timeout=30) as response:
            return response.read()

    query = urllib.parse.urlencode({"labelSelector": selector})
    pods = json.loads(get(f"/api/v1/namespaces/{namespace}/pods?{query}"))["items"]
    return "\n".join(
        get(f"/api/v1/namespaces/{namespace}/pods/{p['metadata']['name']}/log?container={container}").decode()
        for p in pods
    )


def verdict(proof: Proof, measurement: Measurement, min_decode: float) -> list[str]:
    problems = proof_problems(proof)
    if measurement.tokens == 0:
        problems.append("the generate request streamed no tokens")
    elif measurement.decode_tokens_per_second < min_decode:
        problems.append(
            f"decode {measurement.decode_tokens_per_second:.1f} tokens/s is below the required {min_decode:g}"
        )
    return problems


def main() -> int:
    env = os.environ
    # v1.x loads the model on every request, so the request comes first and its load logs after it.
    measurement = measure(env["SHIMMY_URL"], env["MODEL"], int(env["MAX_TOKENS"]), float(env["TIMEOUT"]))
    proof = find_proof(pod_logs(env["NAMESPACE"], env["POD_SELECTOR"], env["CONTAINER"]))
    print(f"proof: {proof}")
    print(
        f"time to first token {measurement.time_to_first_token:.2f}s, "
        f"decode {measurement.decode_tokens_per_second:.1f} tokens/s over {measurement.tokens} tokens"
    )
    problems = verdict(proof, measurement, float(env["MIN_DECODE_TOKENS_PER_SECOND"]))
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    if not problems:
        print("PASS: shimmy runs on the GPU")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
