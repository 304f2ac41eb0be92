"""The versions a requirements file pins (`name==version` lines): the one reader of those pins.

The Pulumi CLI is installed at the `pulumi` SDK's pin (the engine and the SDK move together):
scripts/common.sh's `pulumi_cli_version` and the workflows' CLI install run
`python3 scripts/pins.py pulumi`, and the tests that hold the toolchain to its pins import
`pinned`. Standard library only: it runs before the virtualenv exists.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REQUIREMENTS = Path(__file__).resolve().parent.parent / "requirements.txt"
_PIN = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


def pins(path: Path = REQUIREMENTS) -> dict[str, str]:
    """Package name (lower case) -> its pinned version; comments and other lines are left out."""
    found = {}
    for line in path.read_text().splitlines():
        match = _PIN.fullmatch(line.split("#", 1)[0].strip())
        if match:
            found[match[1].lower()] = match[2]
    return found


def pinned(package: str, path: Path = REQUIREMENTS) -> str:
    """The version `path` pins `package` at; LookupError when it pins none."""
    try:
        return pins(path)[package.lower()]
    except KeyError:
        raise LookupError(f"{path.name} pins no {package}==X.Y.Z") from None


def main(argv: list[str]) -> None:
    if len(argv) not in (1, 2):
        sys.exit("usage: scripts/pins.py PACKAGE [REQUIREMENTS_FILE]")
    try:
        print(pinned(argv[0], Path(argv[1]) if len(argv) == 2 else REQUIREMENTS))
    except LookupError as err:
        sys.exit(f"pins: {err}")


if __name__ == "__main__":
    main(sys.argv[1:])
