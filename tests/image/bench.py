"""Image benchmark (run through benchmarks/image.sh): build times, sizes, CPU decode speed.

  --cold    also time a cold build: prunes the engine's whole build cache first (layers and the
            cargo/target cache mounts), which the build then refills. Takes ~30 min on 2 cores.

Printed, one `name: value` a line:
  cold build        full build from an empty build cache (only with --cold)
  warm rebuild      same Dockerfile, after a change in docker/ that the context ignores: all cached
  late-layer        a change at the top of the runtime stage: its layers rebuild, the builder is cached
  sizes             runtime image vs the builder stage
  ttft / decode     POST /api/generate on the cpu image, median of N runs. shimmy 1.x loads the
                    model on every request, so time to first token includes the load.
"""

from __future__ import annotations

import argparse
import statistics
import time

from tests.image import harness

PROMPT = "Once upon a time, in a small village by the sea, there lived"


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
    # Its own tag: the smoke test (maybe running beside it) re-pulls the stack's tag.
    image = settings.image.name + "-bench"

    if options.cold:
        harness.docker("builder", "prune", "--all", "--force")
        print(f"cold build: {timed(lambda: harness.build(settings, dockerfile, image)):.1f} s", flush=True)
    else:
        harness.build(settings, dockerfile, image)
    image_id = harness.docker("image", "inspect", "--format", "{{.Id}}", image)

    # A change next to the Dockerfile that .dockerignore keeps out of the context.
    (dockerfile.parent / "bench-nonce").write_text(str(time.time_ns()))
    warm = timed(lambda: harness.build(settings, dockerfile, image))
    same = harness.docker("image", "inspect", "--format", "{{.Id}}", image) == image_id
    print(f"warm rebuild (no Dockerfile/context change): {warm:.1f} s, same image id: {same}")

    # A new layer at the top of the runtime stage: it and the COPY of the binary after it
    # rebuild, the builder stage stays cached. (A LABEL would not do: it is no layer.)
    late = dockerfile.with_name("image-bench-late.Dockerfile")
    runtime_from = f"FROM {settings.build.runtime_image} AS runtime\n"
    nonce = f"RUN echo {time.time_ns()} > /etc/bench-nonce\n"
    late.write_text(dockerfile.read_text().replace(runtime_from, runtime_from + nonce))
    late_tag = image + "-late"
    seconds = timed(lambda: harness.build(settings, late, late_tag))
    print(f"late-layer rebuild (runtime stage changed above its COPY): {seconds:.1f} s")
    harness.docker("image", "rm", late_tag)

    builder_tag = image + "-builder"
    harness.build(settings, dockerfile, builder_tag, "--target", "builder")
    print(f"runtime image: {size_mb(image):.0f} MB, builder stage: {size_mb(builder_tag):.0f} MB")
    harness.docker("image", "rm", builder_tag)

    server = harness.run(settings, image, model)
    try:
        harness.wait_healthy(server)
        # shimmy 1.x loads the model for every request and streams in one burst at the end, so:
        # time to first token = a 1-token request (load + prompt + first token), and decode rate
        # = extra tokens of a long request over its extra time.
        first = [harness.timed_generate(server, PROMPT, 1) for _ in range(options.runs)]
        long = [harness.timed_generate(server, PROMPT, options.max_tokens) for _ in range(options.runs)]
    finally:
        harness.stop(server)
    ttft = statistics.median(seconds for seconds, _ in first)
    seconds = statistics.median(seconds for seconds, _ in long)
    tokens = statistics.median(count for _, count in long)
    print(f"model: {settings.model.file_name} (cpu profile, --gpu-backend cpu, median of {options.runs})")
    print(f"time to first token: {ttft:.2f} s (1-token request: model load + prompt + 1 token)")
    print(f"decode: {(tokens - 1) / (seconds - ttft):.1f} tokens/s ({tokens:.0f} tokens in {seconds:.2f} s)")


if __name__ == "__main__":
    main()
