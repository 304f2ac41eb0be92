"""Proves that shimmy binaries linked against pruned static cuBLAS/cuBLASLt still offload and answer.

Each binary is started as the Deployment starts it (`serve --bind ... --gpu-backend cuda
--model-path FILE`, RUST_LOG=info) for each model, and asked once for a 30-token answer to a long
prompt (about 300 tokens: llama.cpp multiplies a prompt of an F16 model through cuBLAS, so a cuBLAS
without kernels for this GPU would fail there). Printed per run: the binary's size, the proof lines
(shimmy_gpu/pod/gpu_proof.py, as the verification Job reads them), the answer; at the end, whether
every binary gave the same answer for each model (greedy decoding in shimmy 1.9.0: the same
computation gives the same text).

  python3 benchmarks/gpu/prune_proof.py --binary shimmy --binary shimmy-pruned --model a.gguf ...
Exit status 1 when a proof check fails or the answers differ.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark import PROMPT, free_port, model_name, shimmy_command
from peers import Server, post

from shimmy_gpu.pod.gpu_proof import find_proof, proof_problems

LONG_PROMPT = " ".join([PROMPT] * 15)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", action="append", required=True)
    parser.add_argument("--model", action="append", required=True)
    parser.add_argument("--tokens", type=int, default=30)
    parser.add_argument("--log-dir", default="prune-proof-logs")
    parser.add_argument("--json")
    options = parser.parse_args(argv)
    log_dir = Path(options.log_dir)
    results, failed = [], False
    for model in options.model:
        name = model_name(model)
        for binary in options.binary:
            port = free_port()
            command = shimmy_command(binary, f"127.0.0.1:{port}", "cuda", model)
            log = log_dir / f"{name}-{Path(binary).name}.log"
            with Server(command, log, {"RUST_LOG": "info"}) as server:
                server.wait(port)
                start = time.monotonic()
                body = {"model": name, "prompt": LONG_PROMPT, "max_tokens": options.tokens, "stream": False}
                _, status, data, _ = post(port, "/api/generate", body, 300)
                answer = json.loads(data)["response"] if status == 200 else f"HTTP {status}"
                total = time.monotonic() - start
            text = log.read_text(errors="replace")
            proof = find_proof(text)
            problems = proof_problems(proof)
            lines = [
                x
                for x in text.splitlines()
                if "ggml_cuda_init" in x
                or "offloaded" in x
                or "CUDA0 model buffer" in x
                or "using device CUDA0" in x
            ][:4]
            failed |= bool(problems) or status != 200
            results.append(
                {
                    "model": name,
                    "binary": binary,
                    "size_bytes": os.path.getsize(binary),
                    "status": status,
                    "seconds": total,
                    "answer": answer,
                    "proof_problems": problems,
                    "proof_lines": lines,
                }
            )
            print(
                f"== {Path(binary).name} ({os.path.getsize(binary):,} bytes), {name}: "
                f"HTTP {status} in {total:.2f} s; "
                f"post-deploy check: {problems or 'pass'}"
            )
            for line in lines:
                print(f"   {line.strip()}")
            print(f"   answer: {answer[:160]!r}")
    for model in options.model:
        answers = {r["answer"] for r in results if r["model"] == model_name(model)}
        same = len(answers) == 1
        failed |= not same
        print(f"{model_name(model)}: {'the same answer from every binary' if same else 'ANSWERS DIFFER'}")
    if options.json:
        Path(options.json).write_text(json.dumps(results, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
