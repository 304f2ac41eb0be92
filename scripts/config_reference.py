"""The configuration reference in docs/configuration.md, generated from Pulumi.yaml, the one place
keys are declared.

After changing Pulumi.yaml: `python scripts/config_reference.py --write` (tests/test_docs.py fails
while the table differs).
"""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shimmy_gpu.stack_config import declared  # noqa: E402

DOC = ROOT / "docs" / "configuration.md"
START, END = "<!-- config-reference:start -->\n", "<!-- config-reference:end -->"


def config_reference() -> str:
    rows = ["| key | default | what it does |", "| --- | --- | --- |"]
    for key, spec in declared().items():
        default = spec.get("default")
        shown = f"`{default}`" if isinstance(default, str) and default else f"`{json.dumps(default)}`"
        rows.append(f"| `{key}` | {shown} | {spec['description'].replace('|', '/')} |")
    return "\n".join(rows) + "\n"


def _table_span(text: str) -> tuple[int, int]:
    return text.index(START) + len(START), text.index(END)


def doc_table(text: str) -> str:
    start, end = _table_span(text)
    return text[start:end]


def with_table(text: str) -> str:
    start, end = _table_span(text)
    return text[:start] + config_reference() + text[end:]


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        DOC.write_text(with_table(DOC.read_text()))
    else:
        print(config_reference(), end="")
