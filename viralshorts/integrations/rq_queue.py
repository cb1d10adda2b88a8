"""JobQueue on RQ: the ``render`` queue, retries with back-off, and a liveness check.

Task and callback are referenced by dotted name, so the web process never imports the render
pipeline just to enqueue a job.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import redis
from rq import Callback, Queue, Retry, Worker
from rq.exceptions import DuplicateJobError, InvalidJobOperation, NoSuchJobError
from rq.job import Job, JobStatus

from viralshorts.errors import ServiceUnavailableError
from viralshorts.integrations.ports import render_job_id
from viralshorts.settings import Settings

RENDER_QUEUE = "render"
RENDER_TASK = "viralshorts.jobs.tasks.render_video"
RENDER_FAILURE_CALLBACK = "viralshorts.jobs.tasks.on_render_failure"
PUBLISH_QUEUE = "publish"
PUBLISH_TASK = "viralshorts.jobs.publishing.publish_post"
FAILURE_TTL_SECONDS = 7 * 24 * 3600
RESULT_TTL_SECONDS = 24 * 3600
_WAITING = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED, JobStatus.READY_TO_ENQUEUE}
# A forking worker refreshes its heartbeat at least every job-monitoring interval (30 s) + 60 s.
_REMOTE_WORKER_SILENCE = timedelta(seconds=90)
CONNECT_TIMEOUT_SECONDS = 5.0
UNAVAILABLE_MESSAGE = "The render queue does not answer right now."


@contextlib.contextmanager
def _answering() -> Iterator[None]:
    """Turn "Redis does not answer" into ServiceUnavailableError (nothing was enqueued)."""
    try:
        yield
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
        raise ServiceUnavailableError(UNAVAILABLE_MESSAGE, code="render_queue_unavailable") from exc


def _pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RedisOnFirstUse:
    """The app's Redis for an RQ adapter, opened on first use (the web app may never need it)."""

    def __init__(self, settings: Settings, connection: redis.Redis | None = None) -> None:
        self._settings = settings
        self._connection = connection

    @property
    def connection(self) -> redis.Redis:
        if self._connection is None:
            self._connection = redis.Redis.from_url(
                self._settings.redis_url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS
            )
        return self._connection


class RQJobQueue(RedisOnFirstUse):
    """Enqueues render and publish jobs."""

    def queue(self, name: str = RENDER_QUEUE) -> Queue:
        """The RQ queue called ``name`` on our connection."""
        return Queue(name, connection=self.connection)

    def _retry(self) -> Retry | None:
        retries = self._settings.render_max_retries
        return Retry(max=retries, interval=self._settings.retry_intervals or 0) if retries else None

    def enqueue_render(self, video_id: int, user_id: int, *, attempt: int = 1) -> str:
        """Enqueue render attempt ``attempt`` of a video once; returns its job id.

        Raises:
            ServiceUnavailableError: Redis does not answer.
        """
        job_id = render_job_id(video_id, attempt)
        # Idempotent by job id: a second call for the same attempt finds the job already there.
        with _answering(), contextlib.suppress(DuplicateJobError):
            self.queue().enqueue(
                RENDER_TASK,
                video_id,
                job_id=job_id,
                unique=True,
                job_timeout=self._settings.render_job_timeout_seconds,
                retry=self._retry(),
                failure_ttl=FAILURE_TTL_SECONDS,
                result_ttl=RESULT_TTL_SECONDS,
                on_failure=Callback(RENDER_FAILURE_CALLBACK),
                meta={"video_id": video_id, "user_id": user_id},
                description=f"render video {video_id} (attempt {attempt})",
            )
        return job_id

    def enqueue_publish(self, post_id: int, job_id: str) -> str:
        """Enqueue one publish of a post on queue ``publish`` once per ``job_id``.

        No RQ retries: the domain decides (back-off, rate-limit waits) and the dispatcher
        enqueues the next try under a new id.

        Raises:
            ServiceUnavailableError: Redis does not answer.
        """
        with _answering(), contextlib.suppress(DuplicateJobError):
            self.queue(PUBLISH_QUEUE).enqueue(
                PUBLISH_TASK,
                post_id,
                job_id=job_id,
                unique=True,
                job_timeout=self._settings.publish_job_timeout_seconds,
                failure_ttl=FAILURE_TTL_SECONDS,
                result_ttl=RESULT_TTL_SECONDS,
                meta={"post_id": post_id},
                description=f"publish post {post_id}",
            )
        return job_id

    def _fetch(self, job_id: str) -> Job | None:
        try:
            return Job.fetch(job_id, connection=self.connection)
        except NoSuchJobError:
            return None

    def cancel(self, job_id: str) -> None:
        """Take a waiting job off the queue; a running one stops through ``cancel_requested``.

        Raises:
            ServiceUnavailableError: Redis does not answer.
        """
        with _answering():
            job = self._fetch(job_id)
            if job is None or job.get_status() not in _WAITING:
                return
            with contextlib.suppress(InvalidJobOperation):  # cancelled or started in between
                job.cancel()

    def is_alive(self, job_id: str) -> bool:
        """True while the job waits, is scheduled for a retry, or runs on a live worker.

        Raises:
            ServiceUnavailableError: Redis does not answer.
        """
        with _answering():
            return self._is_alive(job_id)

    def _is_alive(self, job_id: str) -> bool:
        job = self._fetch(job_id) if job_id else None
        if job is None:
            return False
        status = job.get_status()
        if status in _WAITING:
            return True
        return status == JobStatus.STARTED and self._worker_alive(job.worker_name or "")

    def _worker_alive(self, worker_name: str) -> bool:
        if not worker_name:
            return False
        key = Worker.redis_worker_namespace_prefix + worker_name
        worker = Worker.find_by_key(key, connection=self.connection)
        if worker is None:
            return False
        if worker.hostname == socket.gethostname() and worker.pid:
            return _pid_running(worker.pid)
        beat = worker.last_heartbeat
        return beat is not None and datetime.now(UTC) - beat < _REMOTE_WORKER_SILENCE
