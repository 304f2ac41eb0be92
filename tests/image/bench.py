"""Image benchmark (run through benchmarks/image.sh): build times, sizes, CPU decode speed.

  --cold    also time a cold build: prunes the engine's whole build cache first (layers and the
            cargo/target cache mounts), which the build then refills. Takes ~30 min on 2 cores.

Printed, one `name: value` a line:
  cold build        full build from an empty build cache (only with --cold)
  warm rebuild      same Dockerfile, after a change in docker/ that the context ignores: all cached
  late-layer        a change to the runtime stage's last layer (a LABEL): only that layer rebuilds
  sizes             runtime image vs the builder stage
  ttft / decode     streamed POST /api/generate on the cpu image, median of N runs. shimmy 1.x
                    loads the model on every request, so time to first token includes the load.
"""

from __future__ import annotations

import argparse
import statistics
import time

from tests.image import harness

PROMPT = "Write a short story about a lighthouse keeper who finds a message in a bottle."


def timed(step) -> float:
    start = time.monotonic()
    step()
    return time.monotonic() - start


def size_mb(ref: str) -> float:
    return int(harness.docker("image", "inspect", "--format", "{{.Size}}", ref)) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cold", action="store_true", help="prune the build cache and time a cold build")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=128)
    options = parser.parse_args()

    base_images = harness.start_engine()
    model = harness.model_file()
    settings = harness.local_settings(base_images, model)
    dockerfile = harness.write_dockerfile(settings)
    image = settings.image.name

    if options.cold:
        harness.docker("builder", "prune", "--all", "--force")
        print(f"cold build: {timed(lambda: harness.build(settings, dockerfile)):.1f} s", flush=True)
    else:
        harness.build(settings, dockerfile)
    image_id = harness.docker("image", "inspect", "--format", "{{.Id}}", image)

    # A change next to the Dockerfile that .dockerignore keeps out of the context.
    (dockerfile.parent / "bench-nonce").write_text(str(time.time_ns()))
    warm = timed(lambda: harness.build(settings, dockerfile))
    same = harness.docker("image", "inspect", "--format", "{{.Id}}", image) == image_id
    print(f"warm rebuild (no Dockerfile/context change): {warm:.1f} s, same image id: {same}")

    late = dockerfile.with_name("image-bench-late.Dockerfile")
    late.write_text(dockerfile.read_text() + f'LABEL io.shimmy-gpu.bench-nonce="{time.time_ns()}"\n')
    bench_tag = image + "-bench"
    seconds = timed(
        lambda: harness.docker("build", "-q", "-f", str(late), "-t", bench_tag, str(harness.ROOT / "docker"))
    )
    print(f"late-layer rebuild (runtime LABEL changed): {seconds:.1f} s")
    harness.docker("image", "rm", bench_tag)

    builder_tag = image + "-builder"
    harness.docker(
        "build",
        "-q",
        "--target",
        "builder",
        "-f",
        str(dockerfile),
        "-t",
        builder_tag,
        str(harness.ROOT / "docker"),
    )
    print(f"runtime image: {size_mb(image):.0f} MB, builder stage: {size_mb(builder_tag):.0f} MB")
    harness.docker("image", "rm", builder_tag)

    server = harness.run(settings, image, model)
    try:
        harness.wait_healthy(server)
        results = [harness.stream_generate(server, PROMPT, options.max_tokens) for _ in range(options.runs)]
    finally:
        harness.stop(server)
    ttft = statistics.median(r["ttft_s"] for r in results)
    decode = statistics.median(r["decode_tokens_per_s"] for r in results)
    tokens = statistics.median(r["tokens"] for r in results)
    print(f"model: {settings.model.file_name} (cpu profile, --gpu-backend cpu, {options.runs} runs, median)")
    print(f"time to first token: {ttft:.2f} s (includes the per-request model load of shimmy 1.x)")
    print(f"decode: {decode:.1f} tokens/s over {tokens:.0f} streamed tokens")


if __name__ == "__main__":
    main()
