"""Print the Dockerfile the program builds for a stack (default: Pulumi.yaml's defaults alone).

    .venv/bin/python scripts/dockerfile.py > docker/Dockerfile        # the committed default
    .venv/bin/python scripts/dockerfile.py --stack local               # what `make up` builds
    .venv/bin/python scripts/dockerfile.py --stack prod cudaArchitectures='["75","86"]'

Overrides are KEY=VALUE with a YAML value; the same validation as the program's applies.
"""

import argparse
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shimmy_gpu.config import parse_settings
from shimmy_gpu.config_reader import ConfigError
from shimmy_gpu.dockerfile import render_dockerfile
from shimmy_gpu.stack_config import raw_config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", help="overlay Pulumi.<stack>.yaml on the Pulumi.yaml defaults")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="config key, YAML value")
    options = parser.parse_args(argv)
    overrides = {}
    for item in options.overrides:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"expected KEY=VALUE, got {item!r}")
        overrides[key] = yaml.safe_load(value)
    if options.stack is None:
        overrides.setdefault("pushImage", False)  # the defaults leave the registry to each stack
    try:
        settings = parse_settings(options.stack or "default", raw_config(options.stack, overrides))
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 1
    sys.stdout.write(render_dockerfile(settings.build))
    return 0


if __name__ == "__main__":
    sys.exit(main())
