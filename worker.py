"""Start an RQ worker: ``python worker.py [queues...]`` (default: publish render default).

Heavy modules (the render pipeline) are imported before the worker forks its work
horses, so each job starts warm. The worker runs the RQ scheduler (retries with back-off need
it) and a small companion process that promotes waiting videos and recovers renders whose
worker died. Never imports Reflex or the UI.

Nothing outlives the worker: the work horse, the scheduler and the companion process each ask
the kernel for SIGKILL when the worker dies (even by SIGKILL), and the horse's ffmpeg and Piper
children do the same with the horse. A scheduler lock left by a dead scheduler on this machine
is released at start, so a restarted worker schedules retries at once.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import socket
import sys
import time
from multiprocessing.process import BaseProcess
from typing import Any

from viralshorts.integrations.processes import die_with_parent, is_running

# RQ takes the first non-empty queue: a due post goes out before renders that wait.
DEFAULT_QUEUES = ["publish", "render", "default"]
PRELOAD = (
    "viralshorts.jobs.tasks",
    "viralshorts.domain.rendering.pipeline",
    "viralshorts.jobs.publishing",  # issue 9: queue publish
)


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


def _scheduler_class() -> type:
    from rq.scheduler import RQScheduler

    class MortalScheduler(RQScheduler):
        """The RQ scheduler, whose forked process dies with the worker that started it."""

        def start(self) -> BaseProcess:
            self._parent_pid = os.getpid()
            return super().start()

        def work(self) -> None:
            die_with_parent(self._parent_pid)
            super().work()

    return MortalScheduler


def _stale_owner(connection: Any, owner: str) -> bool:
    """True when scheduler ``owner`` ran on this machine and its process is gone."""
    from rq.exceptions import SchedulerNotFound
    from rq.scheduler import RQScheduler

    try:
        scheduler = RQScheduler.fetch(owner, connection)
    except SchedulerNotFound:  # not registered yet (it registers just after taking the lock)
        return False
    same_machine = scheduler.hostname == socket.gethostname()
    return same_machine and scheduler.pid > 0 and not is_running(scheduler.pid)


def release_stale_scheduler_locks(connection: Any, queue_names: list[str]) -> list[str]:
    """Release the scheduler lock of each queue whose owner died on this machine.

    RQ's lock lives 61 s after its owner's last refresh, and a worker that found it taken
    only tries again at its next maintenance round (10 minutes): without this a worker
    restarted after a crash would not promote retries for that long.

    Returns:
        The queues whose lock was released.
    """
    from rq.scheduler import RQScheduler
    from rq.scripts import release_lock

    released = []
    for name in queue_names:
        key = RQScheduler.get_locking_key(name)
        owner = connection.get(key)
        if owner is None:
            continue
        owner = owner.decode() if isinstance(owner, bytes) else str(owner)
        if _stale_owner(connection, owner) and release_lock(connection, key, owner):
            released.append(name)
    return released


def _worker_class() -> type:
    from rq import Worker

    from viralshorts.logs import log_event

    scheduler_class = _scheduler_class()

    class LoggingWorker(Worker):
        """An RQ worker that writes one structured line per job it performs, and whose work
        horse and scheduler die with it."""

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

        def main_work_horse(self, job: Any, queue: Any) -> None:
            die_with_parent(self.pid or 0)  # forked by the main thread, which lives as long
            super().main_work_horse(job, queue)

        def _start_scheduler(self, burst: bool = False, *args: Any, **kwargs: Any) -> None:
            # RQ's own method with two changes: stale locks go first, and the scheduler class.
            released = release_stale_scheduler_locks(self.connection, self.queue_names())
            if released:
                log_event("worker.scheduler_lock_released", queues=",".join(released))
            self.scheduler = scheduler_class(
                self.queues, connection=self.connection, serializer=self.serializer,
                logging_level=self.log.level,
            )  # fmt: skip
            self.scheduler.acquire_locks()
            if not self.scheduler.acquired_locks:
                return
            if not burst:
                self.scheduler.start()
                return
            try:
                self.scheduler.register_birth()
                self.scheduler.enqueue_scheduled_jobs()
            finally:
                self.scheduler.release_locks()
                self.scheduler.register_death()

    return LoggingWorker


def start_ticker(interval: float) -> BaseProcess:
    """Run the promotion/recovery tick in a spawned process (no threads in the forking parent)."""
    from viralshorts.jobs.maintenance import run_ticker

    context = multiprocessing.get_context("spawn")
    process = context.Process(
        target=run_ticker, args=(interval, os.getpid()), name="render-tick", daemon=True
    )
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
