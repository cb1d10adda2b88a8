"""Start an RQ worker: ``python worker.py [queues...]`` (default: render publish default).

Heavy modules (the render pipeline) are imported before the worker forks its work
horses, so each job starts warm. The worker runs the RQ scheduler (retries with back-off need
it) and a small companion process that promotes waiting videos and recovers renders whose
worker died. Never imports Reflex or the UI.
"""

from __future__ import annotations

import importlib
import multiprocessing
import sys
import time
from multiprocessing.process import BaseProcess
from typing import Any

DEFAULT_QUEUES = ["render", "publish", "default"]
PRELOAD = ("viralshorts.jobs.tasks", "viralshorts.domain.rendering.pipeline")


def preload() -> None:
    """Import what every job needs once, in the parent, before any fork."""
    for module in PRELOAD:
        importlib.import_module(module)
    from viralshorts.integrations.services import get_services

    get_services()


def _failure_outcome(job: Any) -> str:
    from rq.job import JobStatus

    retrying = (JobStatus.SCHEDULED, JobStatus.QUEUED)
    return "retrying" if job.get_status(refresh=False) in retrying else "failed"


def _worker_class() -> type:
    from rq import Worker

    from viralshorts.logs import log_event

    class LoggingWorker(Worker):
        """An RQ worker that writes one structured line per job it performs."""

        def perform_job(self, job: Any, queue: Any, execution: Any) -> bool:
            started = time.monotonic()
            ok = super().perform_job(job, queue, execution)
            outcome = job.meta.get("outcome") or ("ok" if ok else _failure_outcome(job))
            log_event(
                "job.done",
                job_id=job.id,
                queue=queue.name,
                video_id=job.meta.get("video_id", ""),
                user_id=job.meta.get("user_id", ""),
                outcome=str(outcome),
                seconds=round(time.monotonic() - started, 2),
            )
            return ok

    return LoggingWorker


def start_ticker(interval: float) -> BaseProcess:
    """Run the promotion/recovery tick in a spawned process (no threads in the forking parent)."""
    from viralshorts.jobs.maintenance import run_ticker

    context = multiprocessing.get_context("spawn")
    process = context.Process(target=run_ticker, args=(interval,), name="render-tick", daemon=True)
    process.start()
    return process


def run_worker(queues: list[str]) -> int:
    """Work on ``queues`` until SIGINT/SIGTERM (a warm shutdown: the current job finishes)."""
    from redis import Redis
    from rq import Queue

    from viralshorts.logs import configure_logging, log_event
    from viralshorts.settings import get_settings

    configure_logging()
    settings = get_settings()
    preload()
    names = queues or DEFAULT_QUEUES
    connection = Redis.from_url(settings.redis_url)
    worker = _worker_class()(
        [Queue(n, connection=connection) for n in names], connection=connection
    )
    ticker = start_ticker(settings.render_tick_seconds)
    log_event("worker.started", name=worker.name, queues=",".join(names), pid=worker.pid)
    try:
        worker.work(with_scheduler=True)
    finally:
        ticker.terminate()
        ticker.join(timeout=5)
        log_event("worker.stopped", name=worker.name)
    return 0


if __name__ == "__main__":
    sys.exit(run_worker(sys.argv[1:]))
