"""Run the web app and the worker for ``./dev run``; restart the worker when it dies.

    python scripts/supervise.py --web "reflex run ..." --worker "python worker.py" [--ready-url URL]

- The worker is restarted when it exits, with a log line; when it keeps dying soon after its
  start, the wait before the next start doubles (up to ``MAX_BACKOFF``).
- When the web app exits, or on SIGINT/SIGTERM (Ctrl-C), everything is stopped: SIGTERM to
  each child's process group, SIGKILL for whatever still runs after ``STOP_SECONDS``, and
  nothing started here is left behind.
Each child runs in a session of its own, so a terminal's Ctrl-C reaches only this process, which
stops the children in order. Only the standard library is used.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from types import FrameType

POLL_SECONDS = 0.2
STOP_SECONDS = 10.0
MIN_BACKOFF, MAX_BACKOFF = 1.0, 30.0
HEALTHY_AFTER = 30.0  # a worker that ran this long was not "dying at start"


def log(message: str) -> None:
    """One ``[dev]`` line on stderr, like the rest of ``./dev``."""
    print(f"\033[1;35m[dev]\033[0m {message}", file=sys.stderr, flush=True)


def start(command: list[str]) -> subprocess.Popen[bytes]:
    """Start ``command`` in a session (and process group) of its own."""
    return subprocess.Popen(command, start_new_session=True)


def _signal_group(proc: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signum)


def stop(proc: subprocess.Popen[bytes] | None, name: str, timeout: float = STOP_SECONDS) -> None:
    """SIGTERM ``proc``'s process group, wait, then SIGKILL the group; reap ``proc``."""
    if proc is None:
        return
    if proc.poll() is None:
        log(f"stopping the {name} (pid {proc.pid})")
        _signal_group(proc, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log(f"the {name} did not stop within {timeout:.0f} s; killing it")
    _signal_group(proc, signal.SIGKILL)  # what is left of its group (it may have exited first)
    proc.wait()


class Backoff:
    """How long to wait before starting the worker again."""

    def __init__(self) -> None:
        self.delay = 0.0

    def after_exit(self, ran_for: float) -> float:
        """The wait before the next start of a worker that ran ``ran_for`` seconds."""
        if ran_for >= HEALTHY_AFTER:
            self.delay = MIN_BACKOFF
        else:
            self.delay = min(MAX_BACKOFF, max(MIN_BACKOFF, self.delay * 2))
        return self.delay


def announce_when_ready(url: str, stop_event: threading.Event) -> None:
    """Log once ``url`` answers (the first build of the web app takes a minute or two)."""
    while not stop_event.wait(1.0):
        with contextlib.suppress(OSError, ValueError):
            urllib.request.urlopen(url, timeout=1).close()  # noqa: S310 (our own URL)
            log(f"ready: open {url.rsplit('/api/', 1)[0]}")
            return


class Supervisor:
    """The web app and a worker that is kept running."""

    def __init__(self, web: list[str], worker: list[str]) -> None:
        self._web_command, self._worker_command = web, worker
        self._stopping = threading.Event()
        self.web: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self._worker_started = 0.0
        self._restart_at: float | None = None
        self._backoff = Backoff()

    def request_stop(self, signum: int, _frame: FrameType | None) -> None:
        """Signal handler: stop at the next poll."""
        log(f"{signal.Signals(signum).name} received")
        self._stopping.set()

    def run(self) -> int:
        """Start both, watch them until the web app ends or a stop is asked; stop both."""
        try:
            self._start_worker()
            self.web = start(self._web_command)
            while not self._stopping.wait(POLL_SECONDS):
                if self.web.poll() is not None:
                    log(f"the web app exited (code {self.web.returncode}); stopping the rest")
                    return self.web.returncode or 1
                self._watch_worker()
            return 0
        finally:
            stop(self.worker, "worker")
            stop(self.web, "web app")

    def _start_worker(self) -> None:
        self.worker = start(self._worker_command)
        self._worker_started = time.monotonic()
        self._restart_at = None
        log(f"worker started (pid {self.worker.pid})")

    def _watch_worker(self) -> None:
        if self._restart_at is not None:
            if time.monotonic() >= self._restart_at:
                self._start_worker()
            return
        if self.worker is None or self.worker.poll() is None:
            return
        code = self.worker.returncode
        stop(self.worker, "worker", timeout=0)  # reap it; its own children die with it
        delay = self._backoff.after_exit(time.monotonic() - self._worker_started)
        log(f"the worker exited (code {code}); starting it again in {delay:.0f} s")
        self._restart_at = time.monotonic() + delay


def main(argv: list[str] | None = None) -> int:
    """Parse the commands, install the signal handlers and supervise."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--web", required=True, help="the web app's command line")
    parser.add_argument("--worker", required=True, help="the worker's command line")
    parser.add_argument("--ready-url", default="", help="log 'ready' once this URL answers")
    args = parser.parse_args(argv)
    supervisor = Supervisor(shlex.split(args.web), shlex.split(args.worker))
    signal.signal(signal.SIGINT, supervisor.request_stop)
    signal.signal(signal.SIGTERM, supervisor.request_stop)
    ready = threading.Event()
    if args.ready_url:
        threading.Thread(
            target=announce_when_ready, args=(args.ready_url, ready), daemon=True
        ).start()
    try:
        return supervisor.run()
    finally:
        ready.set()


if __name__ == "__main__":
    sys.exit(main())
