"""Every outside package the product imports is pinned in requirements.txt."""

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OURS = {"viralshorts", "worker", "__future__"}


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pinned() -> set[str]:
    names = set()
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        requirement = line.split("#")[0].strip()
        if requirement and not requirement.startswith("-"):
            names.add(_normalised(re.split(r"[\[=<>~!; ]", requirement)[0]))
    return names


def _imported_top_levels() -> dict[str, str]:
    sources = [*(ROOT / "viralshorts").rglob("*.py"), ROOT / "worker.py", ROOT / "rxconfig.py"]
    found: dict[str, str] = {}
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return {k: v for k, v in found.items() if k not in sys.stdlib_module_names | OURS}


def test_every_imported_package_is_pinned() -> None:
    distributions = packages_distributions()
    pinned = _pinned()
    missing = {
        f"{module} ({where})"
        for module, where in _imported_top_levels().items()
        if not {_normalised(d) for d in distributions.get(module, [module])} & pinned
    }
    assert not missing, f"imported but not in requirements.txt: {sorted(missing)}"
