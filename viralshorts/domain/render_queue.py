"""The life of a render outside the pipeline: fair dispatch, final states, crash recovery.

Fairness: at most ``render_per_user_concurrency`` of a user's videos are on the queue or running
at once; the rest wait in the database as QUEUED with ``job_id == ""``. A waiting video is
claimed with a conditional UPDATE (``WHERE job_id = ''``) before it is enqueued, so two
dispatchers can never enqueue it twice. Every final state releases the quota reservation once
(``quota_reserved`` is flipped by a conditional UPDATE) and promotes the user's next video.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from viralshorts.domain import quotas
from viralshorts.integrations.ports import Services, render_job_id
from viralshorts.models import RenderStep, User, Video, VideoStatus, utcnow

ACTIVE = (VideoStatus.QUEUED, VideoStatus.RUNNING)
WAITING_MESSAGE = "Waiting for a free slot"


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _in_flight(session: Session, user_id: int) -> int:
    query = select(func.count()).where(
        Video.user_id == user_id, col(Video.status).in_(ACTIVE), Video.job_id != ""
    )
    return session.exec(query).one()


def _waiting_ids(session: Session, user_id: int, limit: int) -> list[tuple[int, int]]:
    query = (
        select(Video.id, Video.attempts)
        .where(Video.user_id == user_id, Video.status == VideoStatus.QUEUED, Video.job_id == "")
        .order_by(col(Video.created_at), col(Video.id))
        .limit(limit)
    )
    if _is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    return [(vid, attempts) for vid, attempts in session.exec(query).all() if vid is not None]


def _claim(session: Session, video_id: int, attempt: int) -> bool:
    result = session.exec(
        sa.update(Video)
        .where(col(Video.id) == video_id, Video.job_id == "", Video.status == VideoStatus.QUEUED)
        .values(
            job_id=render_job_id(video_id, attempt),
            attempts=attempt,
            status_message="Waiting for a worker",
            updated_at=utcnow(),
        )
    )
    return result.rowcount == 1


def _lock_user(session: Session, user_id: int) -> None:
    """Serialise dispatchers per user so the in-flight count they read stays true."""
    if _is_postgres(session):
        lock = select(User.id).where(User.id == user_id).with_for_update(key_share=True)
        session.exec(lock).first()


def promote_waiting(session: Session, services: Services, *, user_id: int) -> list[int]:
    """Enqueue the user's oldest waiting videos while the user has free slots.

    Commits the session (the claim must be durable before the job exists).

    Returns:
        The ids of the videos that were enqueued.
    """
    _lock_user(session, user_id)
    free = services.settings.render_per_user_concurrency - _in_flight(session, user_id)
    waiting = _waiting_ids(session, user_id, free) if free > 0 else []
    claimed = [
        (vid, attempts + 1) for vid, attempts in waiting if _claim(session, vid, attempts + 1)
    ]
    session.commit()
    for video_id, attempt in claimed:
        _enqueue_or_unclaim(session, services, video_id, user_id, attempt)
    return [video_id for video_id, _ in claimed]


def _enqueue_or_unclaim(
    session: Session, services: Services, video_id: int, user_id: int, attempt: int
) -> None:
    try:
        services.queue.enqueue_render(video_id, user_id, attempt=attempt)
    except Exception:
        _unclaim(session, video_id, render_job_id(video_id, attempt))
        session.commit()
        raise


def _unclaim(session: Session, video_id: int, job_id: str) -> bool:
    result = session.exec(
        sa.update(Video)
        .where(col(Video.id) == video_id, Video.job_id == job_id, col(Video.status).in_(ACTIVE))
        .values(
            status=VideoStatus.QUEUED,
            job_id="",
            step=RenderStep.QUEUED,
            progress=0,
            status_message=WAITING_MESSAGE,
            updated_at=utcnow(),
        )
    )
    return result.rowcount == 1


def release_video_quota(session: Session, *, video_id: int) -> bool:
    """Give back the video's reserved quota exactly once; the caller commits."""
    video = session.get(Video, video_id)
    if video is None:
        return False
    result = session.exec(
        sa.update(Video)
        .where(col(Video.id) == video_id, col(Video.quota_reserved).is_(True))
        .values(quota_reserved=False)
    )
    if result.rowcount != 1:
        return False
    quotas.release_reservation(session, user_id=video.user_id, period=video.quota_period)
    return True


def end_video(
    session: Session,
    *,
    video_id: int,
    job_id: str | None,
    status: VideoStatus,
    message: str,
    from_statuses: tuple[VideoStatus, ...] = ACTIVE,
) -> bool:
    """Move an active video to FAILED or CANCELED (only if ``job_id`` still owns it).

    Releases the reservation in the same transaction; the caller commits and then promotes.

    Returns:
        True when this call made the change (False: someone else already ended it).
    """
    conditions = [col(Video.id) == video_id, col(Video.status).in_(from_statuses)]
    if job_id is not None:
        conditions.append(Video.job_id == job_id)
    values = {"status": status, "status_message": message[:300], "finished_at": utcnow()}
    if status == VideoStatus.FAILED:
        values["error"] = message
    result = session.exec(sa.update(Video).where(*conditions).values(**values, updated_at=utcnow()))
    if result.rowcount != 1:
        return False
    release_video_quota(session, video_id=video_id)
    return True


def complete_video(
    session: Session, *, video_id: int, job_id: str, values: dict[str, object]
) -> bool:
    """Mark the video READY with ``values`` if ``job_id`` still owns it; commit its quota.

    Returns:
        True when this call made it READY (a second call, or a stale job, changes nothing).
    """
    result = session.exec(
        sa.update(Video)
        .where(col(Video.id) == video_id, Video.job_id == job_id, col(Video.status).in_(ACTIVE))
        .values(**values, status=VideoStatus.READY, finished_at=utcnow(), updated_at=utcnow())
    )
    if result.rowcount != 1:
        return False
    video = session.get(Video, video_id, populate_existing=True)
    charged = session.exec(
        sa.update(Video)
        .where(col(Video.id) == video_id, col(Video.quota_reserved).is_(True))
        .values(quota_reserved=False)
    )
    if video is not None and charged.rowcount == 1:
        seconds = float(video.duration_seconds or 0.0)
        quotas.commit_reservation(
            session, user_id=video.user_id, period=video.quota_period, render_seconds=seconds
        )
    return True


def _stale_running(session: Session, stale_before: object) -> list[Video]:
    heartbeat = sa.func.coalesce(
        col(Video.heartbeat_at), col(Video.started_at), col(Video.updated_at)
    )
    query = select(Video).where(
        col(Video.status).in_(ACTIVE), Video.job_id != "", heartbeat < stale_before
    )
    return list(session.exec(query).all())


def recover_stale(session: Session, services: Services) -> list[int]:
    """Put back in line every in-flight video whose job died with its worker.

    A video counts as abandoned when it has been silent for ``render_stale_seconds`` (a running
    render touches ``heartbeat_at`` every few seconds) and the queue says its job is neither
    waiting nor running on a live worker. Its job id is cleared, so promotion enqueues a new
    attempt; the task refuses to run a job id that no longer owns its video.
    """
    stale_before = utcnow() - timedelta(seconds=services.settings.render_stale_seconds)
    recovered = []
    for video in _stale_running(session, stale_before):
        if services.queue.is_alive(video.job_id):
            continue
        if _unclaim(session, video.id or 0, video.job_id):
            recovered.append(video.id or 0)
    session.commit()
    return recovered


def promote_all(session: Session, services: Services) -> list[int]:
    """Promote waiting videos of every user who has some (the periodic tick)."""
    users = session.exec(
        select(Video.user_id)
        .where(Video.status == VideoStatus.QUEUED, Video.job_id == "")
        .distinct()
    ).all()
    session.commit()
    promoted: list[int] = []
    for user_id in users:
        promoted += promote_waiting(session, services, user_id=user_id)
    return promoted


def tick(session: Session, services: Services) -> dict[str, list[int]]:
    """One round of recovery and promotion; safe to run from many workers at once."""
    recovered = recover_stale(session, services)
    return {"recovered": recovered, "promoted": promote_all(session, services)}
