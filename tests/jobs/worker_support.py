"""Run real worker processes (``python worker.py render``) against the test database and Redis."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
from sqlmodel import Session

from viralshorts import db as db_module
from viralshorts.models import Video
from viralshorts.settings import PROJECT_ROOT, Settings, get_settings

FAST_SETTINGS = {
    "RENDER_HEARTBEAT_SECONDS": "0.5",
    "RENDER_STALE_SECONDS": "3",
    "RENDER_TICK_SECONDS": "1",
    "RENDER_MAX_RETRIES": "2",
    "RENDER_RETRY_INTERVALS": "1",
    "LOG_LEVEL": "INFO",
}


def fast_settings(media_root: Path) -> Settings:
    """The test process's settings with FAST_SETTINGS and ``media_root`` applied (jobs carry
    the retry policy of whoever enqueues them, so the test process must agree with workers)."""
    env = {k.lower(): v for k, v in FAST_SETTINGS.items()}
    current = get_settings().model_dump(include=set(Settings.model_fields))
    return Settings(**{**current, **env, "media_root": media_root})


class WorkerProcess:
    """A ``worker.py`` process in its own session (process group), logging to a file."""

    def __init__(self, log_path: Path, media_root: Path, **env: str) -> None:
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "worker.py", "render"],
            cwd=PROJECT_ROOT,
            env={**os.environ, **FAST_SETTINGS, "MEDIA_ROOT": str(media_root), **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def tree(self) -> list[psutil.Process]:
        """The worker and every process under it (RQ puts each work horse in its own process
        group, so a group signal alone would miss the horse and its ffmpeg)."""
        try:
            parent = psutil.Process(self.proc.pid)
            return [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def kill_tree(self) -> list[str]:
        """SIGKILL the worker's process group and every descendant; returns their names."""
        victims = self.tree()
        names = []
        for process in victims:
            with contextlib.suppress(psutil.NoSuchProcess):
                names.append(process.name())
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        for process in victims:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        _, alive = psutil.wait_procs(victims, timeout=10)
        assert not alive, f"still running after SIGKILL: {alive}"
        return names

    def terminate(self) -> int:
        """SIGTERM the worker's group (a warm shutdown) and return its exit code."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        return self.proc.wait(timeout=30)

    def stop(self) -> None:
        """Warm shutdown (SIGTERM), then SIGKILL for whatever is left of the tree."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=15)
        self.kill_tree()
        self.proc.wait(timeout=15)
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def horse(self) -> psutil.Process | None:
        """The work horse: the worker's forked child that RQ put in a process group of its own
        (the scheduler, also forked, stays in the worker's group)."""
        for child in self.tree()[1:]:
            with contextlib.suppress(psutil.NoSuchProcess):
                if child.ppid() == self.proc.pid and os.getpgid(child.pid) == child.pid:
                    return child
        return None

    def horse_child(self, marker: str) -> tuple[psutil.Process, psutil.Process] | None:
        """The horse and its child whose command line contains ``marker``, if both run."""
        horse = self.horse()
        if horse is None:
            return None
        with contextlib.suppress(psutil.NoSuchProcess):
            for child in horse.children(recursive=True):
                if any(marker in part for part in child.cmdline()):
                    return horse, child
        return None


ENCODER = "-progress"  # in the command line of the render's ffmpeg, not of its audio decoders
PIPER = "viralshorts.integrations.piper_tts"


def _mentions(process: psutil.Process, media_root: str) -> bool:
    with contextlib.suppress(psutil.Error):
        if any(media_root in part for part in process.cmdline()):
            return True
        return process.environ().get("MEDIA_ROOT") == media_root
    return False


def processes_using(media_root: Path, *, besides: list[WorkerProcess] = ()) -> list[str]:
    """Processes whose command line or MEDIA_ROOT points at ``media_root`` and that are not
    part of the running ``besides`` workers: orphans left by a killed worker."""
    known = {p.pid for worker in besides for p in worker.tree()}
    found = []
    for process in psutil.process_iter():
        if process.pid in known or process.pid == os.getpid() or gone(process):
            continue
        if _mentions(process, str(media_root)):
            with contextlib.suppress(psutil.Error):
                found.append(f"{process.pid} {' '.join(process.cmdline())[:200]}")
    return found


def partial_files(media_root: Path) -> list[str]:
    """Temporary render files left anywhere under ``media_root``."""
    return sorted(str(p.relative_to(media_root)) for p in media_root.rglob("*.partial.*"))


def gone(process: psutil.Process) -> bool:
    """True when ``process`` no longer runs (a zombie counts as gone)."""
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_for(
    predicate: Callable[[], Any], *, timeout: float, what: str, worker: WorkerProcess | None = None
) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail with the worker log if not."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    log = worker.log()[-4000:] if worker else ""
    raise AssertionError(f"timed out waiting for {what}\n--- worker log ---\n{log}")


def read_video(video_id: int) -> Video:
    """The video as it is in the database now (a fresh session each time)."""
    with Session(db_module.get_engine()) as session:
        video = session.get(Video, video_id)
        assert video is not None
        return video
