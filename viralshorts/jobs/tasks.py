"""RQ entry points: the queue's glue around ``domain.rendering.attempt``.

``render_video`` runs one attempt. Errors that cannot get better by trying again (every
``ViralShortsError`` except ``IntegrationError(retryable=True)``) set ``job.retries_left = 0``
before re-raising, so RQ does not burn retries on them and ``on_render_failure`` treats the
failure as final. ``on_render_failure`` turns RQ's exception types into a reason a creator can
read and hands it to the domain.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from rq import get_current_job
from rq.exceptions import AbandonedJobError
from rq.job import Job
from rq.timeouts import JobTimeoutException

from viralshorts.domain.rendering import attempt
from viralshorts.errors import IntegrationError, ViralShortsError
from viralshorts.integrations.services import get_services

__all__ = ["on_render_failure", "render_video"]


def _is_final_error(exc: BaseException) -> bool:
    if isinstance(exc, IntegrationError):
        return not exc.retryable
    return isinstance(exc, ViralShortsError)  # RenderError, a missing upload, bad settings ...


def render_video(video_id: int) -> str:
    """Render one video (an RQ job on the ``render`` queue).

    Returns:
        The outcome: ``ready``, ``canceled``, ``skipped`` (not this job's to run) or ``missing``.
    """
    job = get_current_job()
    try:
        outcome = attempt.run(get_services(), video_id=video_id, job_id=job.id if job else "")
    except Exception as exc:
        if job is not None and _is_final_error(exc):
            job.retries_left = 0
        raise
    if job is not None:
        job.meta["outcome"] = outcome  # read by the worker's per-job log line; not saved
    return outcome


def failure_reason(exc_type: type[BaseException] | None, exc: BaseException | None) -> str:
    """A sentence a creator can read for why the render failed."""
    if isinstance(exc, ViralShortsError) and str(exc):
        return str(exc)
    if exc_type is not None and issubclass(exc_type, JobTimeoutException):
        minutes = get_services().settings.render_job_timeout_seconds // 60
        return f"The render took longer than {minutes} minutes and was stopped."
    if exc_type is not None and issubclass(exc_type, AbandonedJobError):
        return "The worker rendering this video stopped unexpectedly."
    name = exc_type.__name__ if exc_type else "unknown error"
    return f"The render failed unexpectedly ({name}). Try again; if it keeps failing, tell us."


def on_render_failure(
    job: Job,
    connection: Any,
    exc_type: type[BaseException] | None,
    exc_value: BaseException | None,
    traceback: TracebackType | None,
) -> None:
    """RQ ``on_failure`` callback: runs after every failed attempt, acts on the final one."""
    attempt.attempt_failed(
        get_services(),
        video_id=int(job.meta.get("video_id") or job.args[0]),
        user_id=int(job.meta.get("user_id") or 0),
        job_id=job.id,
        reason=failure_reason(exc_type, exc_value),
        final=not job.retries_left,
    )
