"""The worker side never imports Reflex or the UI; the domain imports no SDK."""

import subprocess
import sys

WORKER_SIDE = ["worker", "viralshorts.jobs.tasks", "viralshorts.domain", "viralshorts.integrations"]


def _modules_after_import(module: str) -> set[str]:
    code = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        "print('\\n'.join(sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_worker_side_does_not_import_reflex_or_ui() -> None:
    for module in WORKER_SIDE:
        loaded = _modules_after_import(module)
        assert "reflex" not in loaded, f"{module} imports reflex"
        assert not any(m.startswith("viralshorts.ui") for m in loaded), f"{module} imports the UI"


def test_domain_imports_no_sdk() -> None:
    forbidden = ("reflex", "rq", "redis", "stripe", "openai", "boto3", "authlib", "piper", "ffmpeg")
    code = (
        "import sys, pkgutil, importlib, viralshorts.domain as d\n"
        "for m in pkgutil.walk_packages(d.__path__, 'viralshorts.domain.'):\n"
        "    importlib.import_module(m.name)\n"
        "print('\\n'.join(sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(out.stdout.split())
    for name in forbidden:
        assert name not in loaded, f"the domain imports {name}"
