#!/usr/bin/env bash
# Image benchmark: cold (--cold) / warm / late-layer build times, runtime vs builder size, CPU
# decode tokens/s and time to first token of the cpu image. See tests/image/bench.py.
#   benchmarks/image.sh [--cold] [--runs N] [--max-tokens N]
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m tests.image.bench "$@"
