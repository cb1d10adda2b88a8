"""Every outside package the product (or a test or benchmark) imports is pinned."""

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Our own top-level modules: the package, worker.py, the tests, and the scripts/ helpers.
OURS = {"viralshorts", "worker", "tests", "__future__"} | {
    path.stem for path in (ROOT / "scripts").glob("*.py")
}


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pinned(*files: str) -> set[str]:
    names = set()
    lines = [line for f in files for line in (ROOT / f).read_text().splitlines()]
    for line in lines:
        requirement = line.split("#")[0].strip()
        if requirement and not requirement.startswith("-"):
            names.add(_normalised(re.split(r"[\[=<>~!; ]", requirement)[0]))
    return names


def _imported_top_levels(sources: list[Path]) -> dict[str, str]:
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


def _unpinned(sources: list[Path], pinned: set[str]) -> list[str]:
    distributions = packages_distributions()
    return sorted(
        f"{module} ({where})"
        for module, where in _imported_top_levels(sources).items()
        if not {_normalised(d) for d in distributions.get(module, [module])} & pinned
    )


def test_every_package_the_product_imports_is_in_requirements() -> None:
    sources = [*(ROOT / "viralshorts").rglob("*.py"), ROOT / "worker.py", ROOT / "rxconfig.py"]
    sources += [*(ROOT / "alembic").rglob("*.py")]
    assert _unpinned(sources, _pinned("requirements.txt")) == []


def test_every_package_the_tests_and_benchmark_import_is_in_dev_requirements() -> None:
    sources = [
        *(ROOT / "tests").rglob("*.py"),
        *(ROOT / "bench").rglob("*.py"),
        ROOT / "bench/render",
    ]
    pinned = _pinned("requirements.txt", "requirements-dev.txt")
    assert _unpinned(sources, pinned) == []
