"""The admin page's queues and dead-letter queue: depths, workers, failed jobs, retry, delete.

Site admins only (``audit.require_site_admin``, read afresh in every call). A retry never runs
the failed job again: a render goes back through ``video_lifecycle.requeue`` (a new quota
reservation, the next attempt number, fair dispatch) and a publish through the dispatcher's own
recovery, each guarded by the job id that failed, so a video or post that moved on since (retried
by its creator, READY, deleted) is left alone and the admin is told why. Every retry and delete
writes an audit row.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass

from sqlmodel import Session, col, select

from viralshorts.domain import audit, dispatcher, render_queue, video_lifecycle
from viralshorts.domain.dispatcher import IN_FLIGHT
from viralshorts.errors import NotFoundError, ServiceUnavailableError, ValidationError
from viralshorts.integrations.ports import (
    FailedJob,
    QueueAdmin,
    QueueCounts,
    Services,
    WorkerSummary,
    render_job_id,
)
from viralshorts.models import Post, SocialAccount, Video, VideoStatus, Workspace, utcnow

MAX_FAILED_SHOWN = 100
JOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
NOT_A_JOB_ID = "That is not a job id."
NOT_FAILED = "That job is not in the failed jobs (it was retried, deleted or has expired)."
NOT_CONFIGURED = "The job queue is not available in this process."
STATUS_WORDS = {
    VideoStatus.QUEUED: "queued",
    VideoStatus.RUNNING: "rendering",
    VideoStatus.READY: "ready",
    VideoStatus.CANCELED: "canceled",
}


@dataclass(frozen=True)
class QueuesOverview:
    queues: list[QueueCounts]
    workers: list[WorkerSummary]


@dataclass(frozen=True)
class FailedJobView:
    """A failed job with what it concerns: the video or post, its workspace, and whether a
    retry from here would do anything (``retry_note`` says why not)."""

    job: FailedJob
    subject: str
    subject_status: str
    workspace_id: int | None
    workspace_name: str
    retry_note: str

    @property
    def error_line(self) -> str:
        """The exception's last line (``ValueError: ...``), the part a person reads first."""
        lines = [line.strip() for line in self.job.exc_string.splitlines() if line.strip()]
        return lines[-1][:300] if lines else ""

    @property
    def can_retry(self) -> bool:
        return not self.retry_note


def _queue_admin(services: Services) -> QueueAdmin:
    if services.queue_admin is None:
        raise ServiceUnavailableError(NOT_CONFIGURED, code="job_queue_unavailable")
    return services.queue_admin


def queues_overview(session: Session, services: Services, *, actor_user_id: int) -> QueuesOverview:
    """Every queue's counts and the live workers with their current job.

    Raises:
        PermissionDeniedError: not a site admin. ServiceUnavailableError: Redis does not answer.
    """
    audit.require_site_admin(session, actor_user_id)
    admin = _queue_admin(services)
    return QueuesOverview(queues=admin.queue_counts(), workers=admin.workers())


def _workspace_name(session: Session, workspace_id: int) -> str:
    workspace = session.get(Workspace, workspace_id)
    return workspace.name if workspace else ""


def _video_view(session: Session, job: FailedJob) -> FailedJobView:
    video = session.get(Video, job.subject_id, populate_existing=True)
    if video is None:
        return _gone(job, f"video {job.subject_id}")
    note = _render_retry_note(video, job.job_id)
    name = video.title or video.topic
    subject = f"video {video.id} “{name[:80]}”"
    workspace = _workspace_name(session, video.workspace_id)
    return FailedJobView(job, subject, str(video.status), video.workspace_id, workspace, note)


def _render_retry_note(video: Video, job_id: str) -> str:
    """Why retrying this job would do nothing ("" when it would render the video again)."""
    if video.status == VideoStatus.FAILED and video.job_id == job_id:
        return ""
    if video.job_id != job_id and video.status != VideoStatus.READY:
        current = video.job_id or "a new attempt"
        return f"The video was already retried ({current}); it is {_status_word(video)}."
    return f"The video is {_status_word(video)}; there is nothing to retry."


def _status_word(video: Video) -> str:
    return STATUS_WORDS.get(video.status, str(video.status))


def _post_view(session: Session, job: FailedJob) -> FailedJobView:
    row = session.exec(
        select(Post, Video, SocialAccount)
        .join(Video, col(Video.id) == Post.video_id)
        .join(SocialAccount, col(SocialAccount.id) == Post.social_account_id)
        .where(col(Post.id) == job.subject_id)
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        return _gone(job, f"post {job.subject_id}")
    post, video, account = row
    subject = f"post {post.id} to {account.platform} of video {video.id}"
    note = _publish_retry_note(post, job.job_id)
    workspace = _workspace_name(session, video.workspace_id)
    return FailedJobView(job, subject, str(post.status), video.workspace_id, workspace, note)


def _publish_retry_note(post: Post, job_id: str) -> str:
    if post.job_id == job_id and post.status in IN_FLIGHT:
        return ""
    if post.job_id != job_id:
        return f"The post was already dispatched again ({post.job_id}); it is {post.status}."
    return f"The post is {post.status}; there is nothing to retry."


def _gone(job: FailedJob, subject: str) -> FailedJobView:
    note = f"The {subject} was deleted; there is nothing to retry."
    return FailedJobView(job, subject, "deleted", None, "", note)


def _view(session: Session, job: FailedJob) -> FailedJobView:
    if job.kind == "render" and job.subject_id:
        return _video_view(session, job)
    if job.kind == "publish" and job.subject_id:
        return _post_view(session, job)
    note = "Only render and publish jobs can be retried from here."
    return FailedJobView(job, "", "", None, "", note)


def list_failed_jobs(
    session: Session, services: Services, *, actor_user_id: int, limit: int = MAX_FAILED_SHOWN
) -> list[FailedJobView]:
    """The newest failed jobs of every queue with the video or post each concerns.

    Raises:
        PermissionDeniedError: not a site admin. ServiceUnavailableError: Redis does not answer.
    """
    audit.require_site_admin(session, actor_user_id)
    jobs = _queue_admin(services).failed_jobs(limit=max(1, min(limit, MAX_FAILED_SHOWN)))
    return [_view(session, job) for job in jobs]


def _checked_id(job_id: str) -> str:
    if not isinstance(job_id, str) or not JOB_ID.fullmatch(job_id):
        raise ValidationError({"job_id": NOT_A_JOB_ID}, field_codes={"job_id": "bad_job_id"})
    return job_id


def failed_job(
    session: Session, services: Services, *, actor_user_id: int, job_id: str
) -> FailedJobView:
    """One failed job, whole (traceback, arguments, meta).

    Raises:
        PermissionDeniedError: not a site admin. ValidationError: not a job id.
        NotFoundError: the job is not in any dead-letter registry.
    """
    audit.require_site_admin(session, actor_user_id)
    job = _queue_admin(services).failed_job(_checked_id(job_id))
    if job is None:
        raise NotFoundError(NOT_FAILED, code="failed_job_not_found")
    return _view(session, job)


def delete_failed_job(
    session: Session, services: Services, *, actor_user_id: int, job_id: str
) -> str:
    """Remove a job from the dead-letter queue (its video or post is not changed); audited.

    Returns:
        What happened, for the admin.
    """
    view = failed_job(session, services, actor_user_id=actor_user_id, job_id=job_id)
    if not _queue_admin(services).delete_failed(view.job.job_id):
        raise NotFoundError(NOT_FAILED, code="failed_job_not_found")
    _record(session, actor_user_id, "admin.failed_job_deleted", view)
    session.commit()
    unchanged = f" The {view.subject} was not changed." if view.subject else ""
    return f"Deleted the failed job {view.job.job_id}.{unchanged}"


def _record(session: Session, actor_user_id: int, action: str, view: FailedJobView) -> None:
    audit.record(
        session,
        actor_user_id=actor_user_id,
        action=action,
        target_type="job",
        target_id=view.job.job_id,
        workspace_id=view.workspace_id,
        queue=view.job.queue,
        subject=view.subject,
        error=view.error_line,
    )


def retry_failed_job(
    session: Session, services: Services, *, actor_user_id: int, job_id: str
) -> str:
    """Run a failed render or publish again through its domain; the old job leaves the
    dead-letter queue. Audited.

    Raises:
        PermissionDeniedError: not a site admin. ValidationError: not a job id, or nothing to
        retry (``field_errors["job_id"]`` says why). NotFoundError: not a failed job.
        QuotaExceededError: the workspace has no video left this period.

    Returns:
        What happened, for the admin.
    """
    view = failed_job(session, services, actor_user_id=actor_user_id, job_id=job_id)
    if not view.can_retry:
        raise _refused(view.retry_note)
    if view.job.kind == "render":
        message = _retry_render(session, services, view)
    else:
        message = _retry_publish(session, services, view)
    # Already retried either way: a job left in the registry by a queue outage is refused
    # next time (its video or post has moved on), never run twice.
    with contextlib.suppress(ServiceUnavailableError):
        _queue_admin(services).delete_failed(view.job.job_id)
    _record(session, actor_user_id, "admin.failed_job_retried", view)
    session.commit()
    return message


def _refused(reason: str) -> ValidationError:
    return ValidationError({"job_id": reason}, field_codes={"job_id": "nothing_to_retry"})


def _retry_render(session: Session, services: Services, view: FailedJobView) -> str:
    video_id = view.job.subject_id
    video = session.get(Video, video_id, populate_existing=True)
    if video is None or video.job_id != view.job.job_id:
        raise _refused("The video changed in the meantime (retried or deleted); reload.")
    attempt = video.attempts
    # The requeue moves only a FAILED video; reading ``attempts`` after it, inside the same
    # transaction, proves the row it moved was the attempt that failed here (not a later one).
    requeued = video_lifecycle.requeue(session, video=video, from_statuses=(VideoStatus.FAILED,))
    if not requeued or _attempts(session, video_id) != attempt:
        session.rollback()
        raise _refused("The video changed in the meantime (retried or deleted); reload.")
    session.commit()
    next_job = render_job_id(video_id, attempt + 1)
    try:
        promoted = render_queue.promote_waiting(session, services, workspace_id=video.workspace_id)
    except ServiceUnavailableError:
        return f"The video is back in line; the queue does not answer, so {next_job} starts later."
    if video_id not in promoted:
        return f"The video is back in line; {next_job} starts when its workspace has a free slot."
    return f"The video is back in line as {next_job} (a new quota reservation)."


def _attempts(session: Session, video_id: int) -> int:
    return session.exec(select(Video.attempts).where(col(Video.id) == video_id)).one()


def _retry_publish(session: Session, services: Services, view: FailedJobView) -> str:
    post = session.get(Post, view.job.subject_id, populate_existing=True)
    if post is None or post.job_id != view.job.job_id or post.status not in IN_FLIGHT:
        raise _refused("The post changed in the meantime; reload.")
    dispatcher.release_dead_job(session, services, post, now=utcnow())
    session.commit()
    post_id = post.id or 0
    sent = dispatcher.dispatch_due(session, services, post_ids=[post_id])
    session.expire_all()
    now = session.get(Post, post_id)
    status = now.status if now else "gone"
    if sent:
        return f"The post is on the publish queue again ({now.job_id if now else ''})."
    return f"The post is {status}; the dispatcher sends it when it is due and its account is OK."
