"""The periodic promotion/recovery tick, run by ``worker.py`` in a small process of its own.

It lives in its own process because the RQ worker forks a work horse per job, and forking a
process that has other threads running (this loop) can leave locks held in the child.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

from viralshorts.db import reset_engines, session_scope
from viralshorts.domain import render_queue
from viralshorts.integrations.services import get_services
from viralshorts.logs import log_event


def run_tick() -> dict[str, list[int]]:
    """One round of crash recovery and fair promotion."""
    with session_scope() as session:
        return render_queue.tick(session, get_services())


def _stop_on_signals(stop: threading.Event) -> None:
    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def run_ticker(interval: float) -> None:
    """Tick every ``interval`` seconds until SIGTERM/SIGINT (the process's main function)."""
    reset_engines()
    stop = threading.Event()
    _stop_on_signals(stop)
    while not stop.is_set():
        try:
            result = run_tick()
        except Exception as exc:  # a database or Redis hiccup must not end the loop
            log_event("render.tick_failed", error=repr(exc)[:300])
        else:
            if result["recovered"] or result["promoted"]:
                log_event("render.tick", **{k: ",".join(map(str, v)) for k, v in result.items()})
        stop.wait(interval)
