"""QueueAdmin on RQ: queue depths, live workers, and each queue's FailedJobRegistry.

Only reads and removes: a retry is the domain's (it enqueues a new attempt under a new job id
through ``JobQueue``), so the old job is never run again with an id that no longer owns its
video or post.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import redis
from rq import Queue, Worker
from rq.exceptions import DeserializationError, NoSuchJobError
from rq.job import Job
from rq.registry import (
    DeferredJobRegistry,
    FailedJobRegistry,
    ScheduledJobRegistry,
    StartedJobRegistry,
)

from viralshorts.errors import ServiceUnavailableError
from viralshorts.integrations.ports import FailedJob, QueueCounts, WorkerSummary
from viralshorts.integrations.rq_queue import (
    PUBLISH_QUEUE,
    PUBLISH_TASK,
    RENDER_QUEUE,
    RENDER_TASK,
    RedisOnFirstUse,
)

# The queues the worker listens on by default (worker.py), shown even while empty.
KNOWN_QUEUES = (RENDER_QUEUE, PUBLISH_QUEUE, "default")
KINDS = {RENDER_TASK: ("render", "video_id"), PUBLISH_TASK: ("publish", "post_id")}
UNAVAILABLE_MESSAGE = "The job queue does not answer right now."


@contextlib.contextmanager
def _answering() -> Iterator[None]:
    try:
        yield
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
        raise ServiceUnavailableError(UNAVAILABLE_MESSAGE, code="job_queue_unavailable") from exc


def _subject_id(job: Job, key: str) -> int:
    value = job.meta.get(key)
    if value is None and job.args:
        value = job.args[0]
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _exc_string(job: Job) -> str:
    result = job.latest_result()
    return (result.exc_string or "") if result is not None else ""


def _failed_job(job: Job, queue: str) -> FailedJob:
    try:
        return _readable_failed_job(job, queue)
    except DeserializationError:  # pickled by code this process cannot load: show what is left
        return FailedJob(
            job_id=job.id, queue=queue, kind="other", subject_id=0,
            description=job.description or "", failed_at=job.ended_at,
            exc_string=_exc_string(job) or "(this process cannot read the job's arguments)",
        )  # fmt: skip


def _readable_failed_job(job: Job, queue: str) -> FailedJob:
    kind, key = KINDS.get(job.func_name or "", ("other", ""))
    return FailedJob(
        job_id=job.id,
        queue=queue,
        kind=kind,
        subject_id=_subject_id(job, key) if key else 0,
        description=job.description or "",
        failed_at=job.ended_at,
        exc_string=_exc_string(job),
        args=tuple(job.args),
        kwargs=dict(job.kwargs),
        meta=dict(job.meta),
    )


def _worker_summary(worker: Any) -> WorkerSummary:
    job = worker.get_current_job()
    state = worker.get_state()  # a WorkerStatus, or the plain string read back from Redis
    return WorkerSummary(
        name=worker.name,
        hostname=worker.hostname or "",
        pid=int(worker.pid or 0),
        state=str(getattr(state, "value", state)),
        queues=tuple(worker.queue_names()),
        current_job_id=job.id if job else "",
        current_job_description=(job.description or "") if job else "",
        last_heartbeat=worker.last_heartbeat,
    )


class RQQueueAdmin(RedisOnFirstUse):
    """Reads the queues, workers and failed jobs on the app's Redis."""

    def _queue_names(self) -> list[str]:
        names = set(KNOWN_QUEUES)
        names |= {q.name for q in Queue.all(connection=self.connection)}
        for worker in Worker.all(connection=self.connection):
            names |= set(worker.queue_names())
        return sorted(names)

    def _counts(self, name: str) -> QueueCounts:
        queue = Queue(name, connection=self.connection)
        return QueueCounts(
            name=name,
            queued=queue.count,
            started=StartedJobRegistry(queue=queue).count,
            scheduled=ScheduledJobRegistry(queue=queue).count,
            deferred=DeferredJobRegistry(queue=queue).count,
            failed=FailedJobRegistry(queue=queue).count,
        )

    def queue_counts(self) -> list[QueueCounts]:
        with _answering():
            return [self._counts(name) for name in self._queue_names()]

    def workers(self) -> list[WorkerSummary]:
        with _answering():
            found = Worker.all(connection=self.connection)
            return sorted((_worker_summary(w) for w in found), key=lambda w: w.name)

    def _registry(self, name: str) -> FailedJobRegistry:
        return FailedJobRegistry(name, connection=self.connection)

    def _newest_failed(self, name: str, limit: int) -> list[FailedJob]:
        ids = self._registry(name).get_job_ids(0, limit - 1, desc=True)
        jobs = Job.fetch_many(ids, connection=self.connection)
        return [_failed_job(job, name) for job in jobs if job is not None]

    def failed_jobs(self, *, limit: int) -> list[FailedJob]:
        with _answering():
            names = self._queue_names()
            found = [job for name in names for job in self._newest_failed(name, limit)]
        found.sort(key=lambda job: (job.failed_at is not None, job.failed_at), reverse=True)
        return found[:limit]

    def _holding_queue(self, job_id: str) -> str | None:
        """The queue whose dead-letter registry holds ``job_id`` now."""
        return next((n for n in self._queue_names() if job_id in self._registry(n)), None)

    def failed_job(self, job_id: str) -> FailedJob | None:
        with _answering():
            name = self._holding_queue(job_id)
            if name is None:
                return None
            try:
                return _failed_job(Job.fetch(job_id, connection=self.connection), name)
            except NoSuchJobError:  # the job's data expired before its registry entry
                return None

    def delete_failed(self, job_id: str) -> bool:
        with _answering():
            name = self._holding_queue(job_id)
            if name is None:
                return False
            registry = self._registry(name)
            try:
                registry.remove(job_id, delete_job=True)
            except NoSuchJobError:
                registry.remove(job_id)
            return True
