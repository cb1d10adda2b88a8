"""Every status change of a video, in one place.

QUEUED waiting (``job_id == ""``) → QUEUED claimed (``job_id`` set, on the render queue) →
RUNNING → READY | FAILED | CANCELED; a finished video goes back to QUEUED waiting (retry,
re-render) with a new quota reservation. Every change is one conditional UPDATE guarded by the
status it starts from and, for a render's own writes, by the job id that owns the video, so two
actors (a worker, the dispatcher, the creator, crash recovery) never both make it. A final
state gives back (FAILED, CANCELED) or charges (READY) the quota reservation exactly once.
The caller owns the transaction: nothing here commits.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from viralshorts.domain import quotas
from viralshorts.domain.notifications import notify
from viralshorts.integrations.ports import Services, render_job_id
from viralshorts.models import RenderStep, Video, VideoStatus, utcnow

ACTIVE = (VideoStatus.QUEUED, VideoStatus.RUNNING)
FINISHED = (VideoStatus.READY, VideoStatus.FAILED, VideoStatus.CANCELED)
WAITING_MESSAGE = "Waiting for a free slot"
CLAIMED_MESSAGE = "Waiting for a worker"


def _update(session: Session, video_id: int, *where: Any, **values: Any) -> bool:
    query = sa.update(Video).where(col(Video.id) == video_id, *where)
    return session.exec(query.values(**values, updated_at=utcnow())).rowcount == 1


def _owned_by(job_id: str) -> list[Any]:
    return [Video.job_id == job_id, col(Video.status).in_(ACTIVE)]


# ---------------------------------------------------------------- the dispatcher's changes


def claim_for_queue(session: Session, *, video_id: int, attempt: int) -> bool:
    """Give a waiting video the job id of render attempt ``attempt`` (before it is enqueued)."""
    return _update(
        session, video_id, Video.job_id == "", Video.status == VideoStatus.QUEUED,
        job_id=render_job_id(video_id, attempt), attempts=attempt,
        status_message=CLAIMED_MESSAGE,
    )  # fmt: skip


def back_to_waiting(session: Session, *, video_id: int, job_id: str) -> bool:
    """Put an active video owned by ``job_id`` back in line as waiting (its job is gone or was
    never enqueued); keeps its reservation. True when this call made the change."""
    return _update(
        session, video_id, *_owned_by(job_id),
        status=VideoStatus.QUEUED, job_id="", step=RenderStep.QUEUED, progress=0,
        status_message=WAITING_MESSAGE,
    )  # fmt: skip


# ---------------------------------------------------------------- the creator's changes


def request_cancel(session: Session, *, video_id: int) -> bool:
    """Ask the worker rendering this video to stop (it ends it as CANCELED)."""
    return _update(session, video_id, Video.status == VideoStatus.RUNNING, cancel_requested=True)


def requeue(
    session: Session,
    *,
    video: Video,
    from_statuses: tuple[VideoStatus, ...],
    **values: Any,
) -> bool:
    """Reserve one video of quota and put a finished video back in line as waiting.

    Raises:
        QuotaExceededError: the plan has no video left this month.

    Returns:
        False when the video was no longer in ``from_statuses`` (roll back: the quota too).
    """
    period = quotas.reserve_videos(
        session, workspace_id=video.workspace_id, user_id=video.user_id, count=1
    )
    return _update(
        session, video.id or 0, col(Video.status).in_(from_statuses),
        status=VideoStatus.QUEUED, job_id="", error="", cancel_requested=False,
        step=RenderStep.QUEUED, progress=0, finished_at=None, status_message=WAITING_MESSAGE,
        quota_reserved=True, quota_period=period, **values,
    )  # fmt: skip


def delete_finished(session: Session, *, video_id: int) -> bool:
    """Delete the video's row unless it is queued or rendering; True when it was deleted."""
    result = session.exec(
        sa.delete(Video).where(col(Video.id) == video_id, col(Video.status).in_(FINISHED))
    )
    return result.rowcount == 1


# ---------------------------------------------------------------- a render attempt's changes


def start_attempt(session: Session, *, video: Video, job_id: str) -> bool:
    """Mark an active video RUNNING for the job that owns it (``job_id`` "" runs any owner)."""
    if video.status not in ACTIVE or (job_id and video.job_id != job_id):
        return False
    now = utcnow()
    return _update(
        session, video.id or 0, *_owned_by(video.job_id),
        status=VideoStatus.RUNNING, step=RenderStep.SCRIPT, progress=0, heartbeat_at=now,
        status_message="Starting", started_at=video.started_at or now,
    )  # fmt: skip


def record_progress(session: Session, *, video_id: int, job_id: str, **values: Any) -> bool:
    """Write progress columns (step, progress, message, heartbeat) while ``job_id`` owns it."""
    allowed = {"step", "progress", "status_message", "heartbeat_at"}
    if not set(values) <= allowed:
        raise ValueError(f"not progress columns: {sorted(set(values) - allowed)}")
    return _update(session, video_id, *_owned_by(job_id), **values)


def retry_later(session: Session, *, video_id: int, job_id: str, message: str) -> bool:
    """A failed attempt that the queue will run again: QUEUED, same job, saying why."""
    return _update(
        session, video_id, *_owned_by(job_id),
        status=VideoStatus.QUEUED, status_message=message[:300],
    )  # fmt: skip


def release_quota(session: Session, *, video_id: int) -> bool:
    """Give back the video's reserved quota exactly once."""
    video = session.get(Video, video_id)
    if video is None:
        return False
    released = _flip_reserved(session, video_id)
    if released:
        quotas.release_reservation(
            session, workspace_id=video.workspace_id, period=video.quota_period
        )
    return released


def _flip_reserved(session: Session, video_id: int) -> bool:
    result = session.exec(
        sa.update(Video)
        .where(col(Video.id) == video_id, col(Video.quota_reserved).is_(True))
        .values(quota_reserved=False)
    )
    return result.rowcount == 1


def end(
    session: Session,
    *,
    video_id: int,
    job_id: str | None,
    status: VideoStatus,
    message: str,
    from_statuses: tuple[VideoStatus, ...] = ACTIVE,
    services: Services | None = None,
) -> bool:
    """Move an active video to FAILED or CANCELED (only if ``job_id`` still owns it; None:
    whoever owns it) and give back its reservation. A failure is notified to the workspace
    (by email too when ``services`` has a sender).

    Returns:
        True when this call made the change (False: someone else already ended it).
    """
    conditions = [col(Video.status).in_(from_statuses)]
    if job_id is not None:
        conditions.append(Video.job_id == job_id)
    values: dict[str, Any] = {"status": status, "status_message": message[:300]}
    if status == VideoStatus.FAILED:
        values["error"] = message
    if not _update(session, video_id, *conditions, **values, finished_at=utcnow()):
        return False
    release_quota(session, video_id=video_id)
    if status == VideoStatus.FAILED:
        _notify_finished(session, services, video_id, "video_failed", message)
    return True


def complete(
    session: Session,
    *,
    video_id: int,
    job_id: str,
    values: dict[str, Any],
    services: Services | None = None,
) -> bool:
    """Mark the video READY with ``values`` if ``job_id`` still owns it; charge its quota;
    notify the workspace (by email too when ``services`` has a sender).

    Returns:
        True when this call made it READY (a second call, or a stale job, changes nothing).
    """
    ready = _update(
        session, video_id, *_owned_by(job_id),
        **values, status=VideoStatus.READY, finished_at=utcnow(),
    )  # fmt: skip
    if not ready:
        return False
    video = session.get(Video, video_id, populate_existing=True)
    if video is not None and _flip_reserved(session, video_id):
        seconds = float(video.duration_seconds or 0.0)
        quotas.commit_reservation(
            session,
            workspace_id=video.workspace_id,
            period=video.quota_period,
            render_seconds=seconds,
        )
    _notify_finished(session, services, video_id, "video_ready", "")
    return True


def _notify_finished(
    session: Session, services: Services | None, video_id: int, kind: str, reason: str
) -> None:
    video = session.get(Video, video_id)
    if video is None:
        return
    name = video.title or video.topic
    ready = kind == "video_ready"
    notify(
        session,
        services,
        workspace_id=video.workspace_id,
        kind=kind,
        title=f"“{name[:150]}” is ready" if ready else f"“{name[:150]}” failed",
        body="The video finished rendering." if ready else reason,
        link=f"/app/videos/{video_id}",
    )
