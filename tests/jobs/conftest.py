"""Fixtures of the worker tests: the test process's services and real worker processes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.jobs.worker_support import WorkerProcess, fast_settings
from viralshorts.integrations.ports import Services
from viralshorts.integrations.services import build_services


@pytest.fixture()
def services(use_database: str, use_redis: object, tmp_path: Path) -> Services:
    """Services of the test process; each test has its own media folder (ids restart at 1)."""
    return build_services(fast_settings(tmp_path / "media"))


@pytest.fixture()
def workers(tmp_path: Path, services: Services) -> Iterator[Callable[..., WorkerProcess]]:
    """Start ``python worker.py render`` processes; all are stopped at the end."""
    started: list[WorkerProcess] = []

    def start(**env: str) -> WorkerProcess:
        log = tmp_path / f"worker-{len(started)}.log"
        worker = WorkerProcess(log, services.settings.media_root, **env)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
