"""Fair dispatch onto the render queue and crash recovery (the status changes themselves are
``video_lifecycle``'s).

Fairness: at most ``render_per_user_concurrency`` of a user's videos are on the queue or running
at once; the rest wait in the database as QUEUED with ``job_id == ""``. A waiting video is
claimed with a conditional UPDATE (``WHERE job_id = ''``) before it is enqueued, so two
dispatchers can never enqueue it twice. When the queue does not answer, the claim is undone and
the video waits for the periodic tick.

Priority: a plan's ``render_priority`` adds that many slots to the workspace's share, so a
paying workspace's later videos go on the queue while a free one's wait for its share, and the
tick promotes higher priorities first. Every workspace keeps its own slots, so no one starves.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from viralshorts.domain import quotas, video_lifecycle
from viralshorts.domain.video_lifecycle import ACTIVE
from viralshorts.integrations.ports import Services, render_job_id
from viralshorts.models import Video, VideoStatus, Workspace, utcnow


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _in_flight(session: Session, workspace_id: int) -> int:
    query = select(func.count()).where(
        Video.workspace_id == workspace_id, col(Video.status).in_(ACTIVE), Video.job_id != ""
    )
    return session.exec(query).one()


def _waiting(session: Session, workspace_id: int, limit: int) -> list[tuple[int, int, int]]:
    """``(video id, attempts so far, its creator)`` of the workspace's oldest waiting videos."""
    query = (
        select(Video.id, Video.attempts, Video.user_id)
        .where(
            Video.workspace_id == workspace_id,
            Video.status == VideoStatus.QUEUED,
            Video.job_id == "",
        )
        .order_by(col(Video.created_at), col(Video.id))
        .limit(limit)
    )
    if _is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    return [(vid, tries, user) for vid, tries, user in session.exec(query).all() if vid is not None]


def _lock_workspace(session: Session, workspace_id: int) -> None:
    """Serialise dispatchers per workspace so the in-flight count they read stays true."""
    if _is_postgres(session):
        lock = select(Workspace.id).where(Workspace.id == workspace_id)
        session.exec(lock.with_for_update(key_share=True)).first()


def render_slots(session: Session, services: Services, workspace_id: int) -> int:
    """How many of the workspace's videos may be on the queue or running at once."""
    plan = quotas.plan_for(session, workspace_id=workspace_id)
    return services.settings.render_per_user_concurrency + plan.render_priority


def promote_waiting(session: Session, services: Services, *, workspace_id: int) -> list[int]:
    """Enqueue the workspace's oldest waiting videos while it has free slots.

    Fair dispatch is per workspace (the unit that pays and holds the quota):
    ``RENDER_PER_USER_CONCURRENCY`` videos of one workspace are on the queue at most, however
    many members it has.

    Commits the session (the claim must be durable before the job exists).

    Returns:
        The ids of the videos that were enqueued.
    """
    _lock_workspace(session, workspace_id)
    free = render_slots(session, services, workspace_id) - _in_flight(session, workspace_id)
    waiting = _waiting(session, workspace_id, free) if free > 0 else []
    claimed = [
        (vid, tries + 1, user_id)
        for vid, tries, user_id in waiting
        if video_lifecycle.claim_for_queue(session, video_id=vid, attempt=tries + 1)
    ]
    session.commit()
    _enqueue_claimed(session, services, claimed)
    return [video_id for video_id, _, _ in claimed]


def _enqueue_claimed(
    session: Session, services: Services, claimed: list[tuple[int, int, int]]
) -> None:
    """Enqueue each claimed attempt; when the queue fails, every claim not yet enqueued goes
    back to waiting (committed) before the error goes on, so the tick enqueues it later."""
    for index, (video_id, attempt, user_id) in enumerate(claimed):
        try:
            services.queue.enqueue_render(video_id, user_id, attempt=attempt)
        except Exception:
            for left_id, left_attempt, _ in claimed[index:]:
                job_id = render_job_id(left_id, left_attempt)
                video_lifecycle.back_to_waiting(session, video_id=left_id, job_id=job_id)
            session.commit()
            raise


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
        if video_lifecycle.back_to_waiting(session, video_id=video.id or 0, job_id=video.job_id):
            recovered.append(video.id or 0)
    session.commit()
    return recovered


def promote_all(session: Session, services: Services) -> list[int]:
    """Promote waiting videos of every workspace that has some, higher plan priority first
    (the periodic tick)."""
    workspaces = session.exec(
        select(Video.workspace_id)
        .where(Video.status == VideoStatus.QUEUED, Video.job_id == "")
        .distinct()
    ).all()
    by_priority = sorted(
        workspaces, key=lambda wid: -quotas.plan_for(session, workspace_id=wid).render_priority
    )
    session.commit()
    promoted: list[int] = []
    for workspace_id in by_priority:
        promoted += promote_waiting(session, services, workspace_id=workspace_id)
    return promoted


def tick(session: Session, services: Services) -> dict[str, list[int]]:
    """One round of recovery and promotion; safe to run from many workers at once."""
    recovered = recover_stale(session, services)
    return {"recovered": recovered, "promoted": promote_all(session, services)}
