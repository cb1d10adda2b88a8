"""The layers of docs/architecture.md hold.

The import contracts in pyproject.toml (run by ``lint-imports``) check every static import of the
package. The tests below add what static contracts cannot see: the top-level ``worker.py`` (not a
package, so outside the contracts' graph), modules imported by name at run time, and what
third-party packages pull in when the worker side is loaded.
"""

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORKER_SIDE = ("jobs", "domain", "integrations", "models", "db", "logs", "settings", "errors")
NEVER_ON_THE_WORKER = ("reflex", "reflex_base", "starlette", "viralshorts.ui", "viralshorts.web")
NOT_ADAPTERS = {"__init__", "ports", "services"}


def _contracts() -> dict[str, dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return {c["name"]: c for c in config["tool"]["importlinter"]["contracts"]}


def _is_under(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _loaded_modules(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nprint('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    return set(out.stdout.split())


def test_the_import_contracts_hold() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    out = subprocess.run(
        [str(lint_imports), "--no-cache", "--no-logo"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_contracts_name_every_adapter() -> None:
    adapters = {
        f"viralshorts.integrations.{p.stem}"
        for p in (ROOT / "viralshorts" / "integrations").glob("*.py")
        if p.stem not in NOT_ADAPTERS
    }
    for contract in _contracts().values():
        forbidden = set(contract.get("forbidden_modules", ()))
        if forbidden & adapters:
            missing = adapters - forbidden
            assert not missing, f"{contract['name']!r} does not forbid {sorted(missing)}"


def _off_the_worker_side(source: str) -> list[str]:
    nodes = list(ast.walk(ast.parse(source)))
    imported = {a.name for n in nodes if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in nodes if isinstance(n, ast.ImportFrom) and n.module}
    allowed = tuple(f"viralshorts.{p}" for p in WORKER_SIDE)
    return sorted(
        m
        for m in imported
        if _is_under(m, NEVER_ON_THE_WORKER)
        or (_is_under(m, ("viralshorts",)) and not _is_under(m, allowed))
    )


def test_worker_py_imports_only_the_worker_side() -> None:
    wrong = _off_the_worker_side((ROOT / "worker.py").read_text())
    assert not wrong, f"worker.py imports {wrong}"


def test_a_worker_process_never_loads_reflex_or_the_ui() -> None:
    loaded = _loaded_modules("import sys, worker\nworker.preload()")
    assert "viralshorts.jobs.tasks" in loaded  # the preload really ran
    wrong = [m for m in NEVER_ON_THE_WORKER if m in loaded]
    assert not wrong, f"the worker loads {wrong}"


def test_loading_the_whole_domain_loads_no_sdk() -> None:
    forbidden = ("reflex", "rq", "redis", "stripe", "openai", "boto3", "authlib", "piper", "ffmpeg")
    loaded = _loaded_modules(
        "import sys, pkgutil, importlib, viralshorts.domain as d\n"
        "for m in pkgutil.walk_packages(d.__path__, 'viralshorts.domain.'):\n"
        "    importlib.import_module(m.name)"
    )
    wrong = [m for m in forbidden if m in loaded]
    assert not wrong, f"the domain loads {wrong}"
