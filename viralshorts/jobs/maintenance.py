"""The periodic promotion/recovery tick and the hourly cache pruning, run by ``worker.py`` in a
small process of its own (one per worker machine: each prunes its own local render cache).

It lives in its own process because the RQ worker forks a work horse per job, and forking a
process that has other threads running (this loop) can leave locks held in the child.
"""

from __future__ import annotations

import signal
import threading
import time
from types import FrameType

from viralshorts.db import reset_engines, session_scope
from viralshorts.domain import render_queue
from viralshorts.domain.rendering.step_cache import PruneResult, StepCache
from viralshorts.integrations.processes import die_with_parent
from viralshorts.integrations.services import get_services
from viralshorts.logs import log_event
from viralshorts.settings import Settings, get_settings

PRUNE_EVERY_SECONDS = 3600.0


def run_tick() -> dict[str, list[int]]:
    """One round of crash recovery and fair promotion."""
    with session_scope() as session:
        return render_queue.tick(session, get_services())


def run_dispatch() -> list[int]:
    """One due-post dispatcher round (issue 9): claim due posts and enqueue them on ``publish``."""
    from viralshorts.domain.dispatcher import dispatch_due

    with session_scope() as session:
        return dispatch_due(session, get_services())


def _dispatch_logged() -> None:
    try:
        enqueued = run_dispatch()
    except Exception as exc:  # a database or Redis hiccup must not end the loop
        log_event("publish.dispatch_failed", error=repr(exc)[:300])
        return
    if enqueued:
        log_event("publish.dispatched", posts=",".join(map(str, enqueued)))


def run_analytics() -> int | None:
    """Pull post statistics when ``ANALYTICS_INTERVAL_SECONDS`` has passed since any worker
    last did (issue 9); the rows written, or None when it was not this process's turn."""
    from viralshorts.domain.analytics import collect_if_due

    with session_scope() as session:
        report = collect_if_due(session, get_services())
    if report is None:
        return None
    log_event(
        "analytics.collected",
        rows=report.total_rows,
        rate_limited=",".join(report.rate_limited),
        skipped_accounts=",".join(map(str, report.skipped_accounts)),
    )
    return report.total_rows


def _analytics_logged() -> None:
    try:
        run_analytics()
    except Exception as exc:  # a database or platform hiccup must not end the loop
        log_event("analytics.collect_failed", error=repr(exc)[:300])


def run_token_refresh() -> list[int]:
    """Refresh the platform tokens that expire within ``TOKEN_REFRESH_MARGIN_SECONDS``."""
    from viralshorts.domain.connected_accounts import refresh_expiring

    with session_scope() as session:
        return refresh_expiring(session, get_services())


_token_refresh_due = [0.0]  # monotonic time of the next token refresh round in this process


def _token_refresh_logged() -> None:
    if time.monotonic() < _token_refresh_due[0]:
        return
    _token_refresh_due[0] = time.monotonic() + get_settings().token_refresh_every_seconds
    try:
        refreshed = run_token_refresh()
    except Exception as exc:  # a database or platform hiccup must not end the loop
        log_event("accounts.refresh_failed", error=repr(exc)[:300])
        return
    if refreshed:
        log_event("accounts.refreshed", accounts=",".join(map(str, refreshed)))


def prune_cache(settings: Settings) -> PruneResult | None:
    """Delete cached render steps unused for ``RENDER_CACHE_DAYS`` (None when disabled)."""
    if settings.render_cache_days <= 0:
        return None
    return StepCache(settings.media_root / "cache").prune(settings.render_cache_days * 86400)


def _prune_logged() -> None:
    try:
        pruned = prune_cache(get_settings())
    except OSError as exc:
        log_event("render.cache_prune_failed", error=repr(exc)[:300])
        return
    if pruned and pruned.files:
        log_event("render.cache_pruned", files=pruned.files, bytes=pruned.bytes)


def _stop_on_signals(stop: threading.Event) -> None:
    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def run_ticker(interval: float, parent_pid: int | None = None) -> None:
    """Tick every ``interval`` seconds until SIGTERM/SIGINT (the process's main function).

    With ``parent_pid`` (the worker) the process is killed by the kernel when that worker dies.
    """
    if parent_pid is not None:
        die_with_parent(parent_pid)
    reset_engines()
    stop = threading.Event()
    _stop_on_signals(stop)
    last_prune = -PRUNE_EVERY_SECONDS
    while not stop.is_set():
        if time.monotonic() - last_prune >= PRUNE_EVERY_SECONDS:
            _prune_logged()
            last_prune = time.monotonic()
        try:
            result = run_tick()
        except Exception as exc:  # a database or Redis hiccup must not end the loop
            log_event("render.tick_failed", error=repr(exc)[:300])
        else:
            if result["recovered"] or result["promoted"]:
                log_event("render.tick", **{k: ",".join(map(str, v)) for k, v in result.items()})
        _dispatch_logged()
        _analytics_logged()
        _token_refresh_logged()
        stop.wait(interval)
