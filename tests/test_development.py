"""docs/DEVELOPMENT.md stays a true map: what it names exists, and every module is named."""

import re

from tests.program import ROOT

MAP = (ROOT / "docs" / "DEVELOPMENT.md").read_text()
NAMED = set(re.findall(r"`([\w./<>*-]+)`", MAP))


def test_every_path_it_names_exists():
    paths = [n for n in NAMED if "/" in n or n.endswith((".py", ".yaml", ".sh"))]
    concrete = [p for p in paths if "<" not in p and "*" not in p and not p.startswith("$")]
    assert concrete
    missing = sorted(p for p in concrete if not (ROOT / p).exists())
    assert missing == []


def test_every_module_is_on_the_map():
    modules = [
        *ROOT.glob("shimmy_gpu/**/*.py"),
        *ROOT.glob("components/*.py"),
        *ROOT.glob("policy/shimmy_policy/*.py"),
        *ROOT.glob("policy/shimmy_facts/*.py"),
    ]
    unnamed = sorted(
        str(m.relative_to(ROOT))
        for m in modules
        if m.name != "__init__.py" and str(m.relative_to(ROOT)) not in NAMED
    )
    assert unnamed == []
