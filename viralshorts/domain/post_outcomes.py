"""What a publish attempt does to its post: each change is one conditional UPDATE guarded by
the job id, committed at once, so a job that lost its post (recovered after its worker died,
cancelled) changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from viralshorts.db import session_scope
from viralshorts.domain import notifications, quotas
from viralshorts.integrations.ports import PublishOutcome, Services
from viralshorts.models import Post, PostStatus, Video, utcnow

RUNNING = (PostStatus.QUEUED, PostStatus.UPLOADING)


def _update(
    post_id: int, job_id: str, from_statuses: tuple[PostStatus, ...], values: dict[str, Any]
) -> bool:
    with session_scope() as session:
        result = session.exec(
            sa.update(Post)
            .where(
                col(Post.id) == post_id, Post.job_id == job_id, col(Post.status).in_(from_statuses)
            )
            .values(**values, updated_at=utcnow())
        )
        return result.rowcount == 1


def start(post_id: int, job_id: str) -> bool:
    """QUEUED → UPLOADING if ``job_id`` still holds the post."""
    return _update(post_id, job_id, (PostStatus.QUEUED,), {"status": PostStatus.UPLOADING})


def save_checkpoint(post_id: int, job_id: str, checkpoint: dict[str, Any]) -> bool:
    """Keep what the platform remembers about this upload, before any byte is sent."""
    return _update(post_id, job_id, (PostStatus.UPLOADING,), {"checkpoint": dict(checkpoint)})


def _notify(services: Services, post_id: int, kind: str, title: str, body: str) -> None:
    with session_scope() as session:
        post = session.get(Post, post_id)
        video = session.get(Video, post.video_id) if post else None
        if video is None:
            return
        name = video.title or video.topic
        notifications.notify(
            session,
            services,
            workspace_id=video.workspace_id,
            kind=kind,
            title=title.format(name=name),
            body=body,
            link="/app/calendar",
        )


def published(services: Services, *, post_id: int, job_id: str, outcome: PublishOutcome) -> str:
    """Record the platform's id and link; ``done`` False: ask the platform again soon."""
    now = utcnow()
    if not outcome.done:
        values = {
            "status": PostStatus.PROCESSING,
            "external_id": outcome.external_id,
            "next_attempt_at": now + timedelta(seconds=services.settings.publish_poll_seconds),
        }
        return "processing" if _update(post_id, job_id, (PostStatus.UPLOADING,), values) else "lost"
    values = {
        "status": PostStatus.PUBLISHED,
        "external_id": outcome.external_id,
        "external_url": outcome.url[:500],
        "published_at": now,
        "last_error": "",
        "next_attempt_at": None,
    }
    if not _update(post_id, job_id, (PostStatus.UPLOADING,), values):
        return "lost"
    _notify(services, post_id, "post_published", "“{name}” is live", outcome.url)
    return "published"


def wait(post_id: int, job_id: str, *, seconds: float, message: str) -> str:
    """The platform asked us to slow down: due again after ``seconds``, no attempt burned."""
    values = {
        "status": PostStatus.SCHEDULED,
        "last_error": message[:2000],
        "next_attempt_at": utcnow() + timedelta(seconds=max(seconds, 1.0)),
    }
    return "rate_limited" if _update(post_id, job_id, RUNNING, values) else "lost"


def pause(post_id: int, job_id: str, *, message: str) -> str:
    """The account needs reconnecting: the post waits (the dispatcher skips unhealthy accounts)
    and goes out once the account is reconnected."""
    values = {
        "status": PostStatus.SCHEDULED,
        "paused_reason": message[:300],
        "next_attempt_at": None,
    }
    return "paused" if _update(post_id, job_id, RUNNING, values) else "lost"


def _attempts_after(post_id: int) -> tuple[int, int]:
    """The post's attempt count including this one, and its workspace."""
    with session_scope() as session:
        row = session.exec(
            select(Post.attempts, Video.workspace_id)
            .join(Video, col(Video.id) == Post.video_id)
            .where(col(Post.id) == post_id)
        ).first()
    return (row[0] + 1, row[1]) if row else (1, 0)


def attempt_failed(
    services: Services,
    *,
    post_id: int,
    job_id: str,
    message: str,
    retryable: bool,
    now: datetime | None = None,
    delay_seconds: float | None = None,
) -> str:
    """One attempt failed: back off and try again, or FAILED (with the platform's message)
    after ``PUBLISH_MAX_ATTEMPTS`` or at once when trying again cannot help.

    ``delay_seconds`` overrides the back-off (a killed worker's post resumes at once).
    """
    settings = services.settings
    attempts, workspace_id = _attempts_after(post_id)
    delays = settings.publish_retry_delays or [60]
    if retryable and attempts < settings.publish_max_attempts:
        delay = (
            delays[min(attempts - 1, len(delays) - 1)] if delay_seconds is None else delay_seconds
        )
        values = {
            "status": PostStatus.SCHEDULED,
            "attempts": attempts,
            "last_error": message[:2000],
            "next_attempt_at": (now or utcnow()) + timedelta(seconds=delay),
        }
        return "retrying" if _update(post_id, job_id, RUNNING, values) else "lost"
    values = {
        "status": PostStatus.FAILED,
        "attempts": attempts,
        "last_error": message[:2000],
        "next_attempt_at": None,
    }
    if not _update(post_id, job_id, RUNNING, values):
        return "lost"
    with session_scope() as session:
        quotas.release_post(session, workspace_id)
    _notify(services, post_id, "post_failed", "“{name}” could not be published", message)
    return "failed"
