"""``./dev run``'s supervisor (``scripts/supervise.py``) pointed at dummy commands.

The dummy worker is a shell that starts a ``sleep`` of its own (like the real worker's horse and
scheduler); the dummy web app is a ``sleep``. Nothing may be left running afterwards.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import psutil
import pytest

from tests.jobs.worker_support import gone, wait_for
from viralshorts.settings import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
import supervise

SLEEPER = f'{sys.executable} -c "import time; time.sleep(600)"'


class Supervised:
    """The supervisor running dummy commands; its log lines are collected as they come."""

    def __init__(self, tmp_path: Path, web: str = "") -> None:
        self.marker = str(tmp_path)
        worker = f"sh -c '{SLEEPER} {self.marker}/horse & wait' {self.marker}/worker"
        self.proc = subprocess.Popen(
            [sys.executable, str(PROJECT_ROOT / "scripts" / "supervise.py"),
             "--web", web or f"{SLEEPER} {self.marker}/web", "--worker", worker],
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)

    def worker_pids(self) -> list[int]:
        return [int(p) for p in re.findall(r"worker started \(pid (\d+)\)", "".join(self.lines))]

    def ours(self) -> list[psutil.Process]:
        """Every process whose command line names this test's folder."""
        found = []
        for process in psutil.process_iter():
            try:
                if any(self.marker in part for part in process.cmdline()) and not gone(process):
                    found.append(process)
            except psutil.Error:
                continue
        return found

    def cleanup(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        for process in self.ours():
            process.kill()
        self.proc.wait(timeout=10)


@pytest.fixture()
def supervised(tmp_path: Path):
    started: list[Supervised] = []

    def start(**kwargs: str) -> Supervised:
        started.append(Supervised(tmp_path, **kwargs))
        return started[-1]

    yield start
    for one in started:
        one.cleanup()


def _sleepers(s: Supervised) -> list[psutil.Process]:
    return [p for p in s.ours() if p.cmdline()[-1].endswith(("/web", "/horse"))]


def _children_running(s: Supervised) -> bool:
    return len(_sleepers(s)) == 2  # the web app and the worker's "horse"


def test_a_killed_worker_is_started_again_and_the_web_app_keeps_running(supervised) -> None:
    s = supervised()
    wait_for(lambda: _children_running(s), timeout=10, what="web app and worker")
    [first] = s.worker_pids()
    web = next(p for p in _sleepers(s) if p.cmdline()[-1].endswith("/web"))
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: len(s.worker_pids()) == 2, timeout=15, what="a second worker")
    assert any("the worker exited (code -9)" in line for line in s.lines), s.lines
    assert web.is_running() and s.proc.poll() is None
    wait_for(lambda: _children_running(s), timeout=10, what="the new worker's child")
    assert len(_sleepers(s)) == 2  # the first worker's own child went with it


def test_ctrl_c_stops_everything_and_leaves_no_process(supervised) -> None:
    s = supervised()
    wait_for(lambda: _children_running(s), timeout=10, what="web app and worker")
    s.proc.send_signal(signal.SIGINT)
    assert s.proc.wait(timeout=30) == 0
    assert s.ours() == []


def test_when_the_web_app_dies_everything_stops(supervised) -> None:
    s = supervised(web="sh -c 'sleep 0.5; exit 3'")
    assert s.proc.wait(timeout=30) == 3
    assert any("the web app exited (code 3)" in line for line in s.lines)
    assert s.ours() == []


def test_a_worker_that_keeps_dying_is_started_less_and_less_often() -> None:
    backoff = supervise.Backoff()
    assert [backoff.after_exit(0.5) for _ in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    assert backoff.after_exit(supervise.HEALTHY_AFTER) == 1
