"""The due-post dispatcher: claims each due post exactly once and puts it on queue ``publish``.

A post is due when its time (``next_attempt_at`` for a retry, a rate-limit wait or a status
poll, else ``scheduled_at``) has come and its account is healthy: an account that needs
reconnecting pauses only its own posts, which go out once it is reconnected. The claim is a
row lock that other dispatchers skip (``FOR UPDATE SKIP LOCKED``) on PostgreSQL and a
conditional UPDATE on SQLite; either way the UPDATE only moves a post still due with the
same claim count, so two dispatchers racing never both enqueue it. The queue's job id comes
from the post's idempotency key and its claim count, so one claim is one job.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from viralshorts.domain import post_outcomes
from viralshorts.errors import ServiceUnavailableError
from viralshorts.integrations.ports import Services
from viralshorts.models import AccountHealth, Post, PostStatus, SocialAccount, utcnow

DUE = (PostStatus.SCHEDULED, PostStatus.PROCESSING)
IN_FLIGHT = (PostStatus.QUEUED, PostStatus.UPLOADING)


def publish_job_id(idempotency_key: str, claim: int) -> str:
    """The queue job id of a post's ``claim``-th dispatch."""
    return f"publish-{idempotency_key}-{claim}"


def _due_query(now: datetime, limit: int, post_ids: list[int] | None) -> sa.Select:
    due_at = func.coalesce(Post.next_attempt_at, Post.scheduled_at)
    query = (
        select(Post.id, Post.idempotency_key, Post.claims)
        .join(SocialAccount, col(SocialAccount.id) == Post.social_account_id)
        .where(col(Post.status).in_(DUE), due_at <= now, SocialAccount.health == AccountHealth.OK)
        .order_by(due_at, col(Post.id))
        .limit(limit)
    )
    return query.where(col(Post.id).in_(post_ids)) if post_ids is not None else query


def _claim_one(session: Session, post_id: int, claims: int, job_id: str) -> bool:
    result = session.exec(
        sa.update(Post)
        .where(col(Post.id) == post_id, Post.claims == claims, col(Post.status).in_(DUE))
        .values(
            status=PostStatus.QUEUED,
            claims=claims + 1,
            job_id=job_id,
            paused_reason="",
            updated_at=utcnow(),
        )
    )
    return result.rowcount == 1


def claim_due(
    session: Session, *, now: datetime, limit: int, post_ids: list[int] | None = None
) -> list[tuple[int, str]]:
    """Claim up to ``limit`` due posts (QUEUED, with their job id); commits.

    Returns:
        ``(post_id, job_id)`` of each post this call claimed.
    """
    query = _due_query(now, limit, post_ids)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Post)  # type: ignore[arg-type]
    claimed = []
    for post_id, key, claims in session.exec(query).all():
        job_id = publish_job_id(key, claims + 1)
        if _claim_one(session, post_id, claims, job_id):
            claimed.append((post_id, job_id))
    session.commit()
    return claimed


def _unclaim(session: Session, post_id: int, job_id: str) -> None:
    session.exec(
        sa.update(Post)
        .where(col(Post.id) == post_id, Post.job_id == job_id, Post.status == PostStatus.QUEUED)
        .values(status=PostStatus.SCHEDULED, updated_at=utcnow())
    )
    session.commit()


def _enqueue(session: Session, services: Services, claimed: list[tuple[int, str]]) -> list[int]:
    enqueued = []
    for index, (post_id, job_id) in enumerate(claimed):
        try:
            services.queue.enqueue_publish(post_id, job_id)
        except ServiceUnavailableError:
            for left_id, left_job in claimed[index:]:  # due again at the next tick
                _unclaim(session, left_id, left_job)
            break
        enqueued.append(post_id)
    return enqueued


def _abandoned(session: Session, stale_before: datetime) -> list[Post]:
    query = select(Post).where(
        col(Post.status).in_(IN_FLIGHT), Post.job_id != "", Post.updated_at < stale_before
    )
    return list(session.exec(query.execution_options(populate_existing=True)).all())


def recover_abandoned(session: Session, services: Services, *, now: datetime) -> list[int]:
    """Make due again the posts whose publish job died (a killed worker); an interrupted
    upload counts as an attempt and resumes from its checkpoint."""
    stale_before = now - timedelta(seconds=services.settings.publish_stale_seconds)
    recovered = []
    for post in _abandoned(session, stale_before):
        if services.queue.is_alive(post.job_id):
            continue
        release_dead_job(session, services, post, now=now)
        recovered.append(post.id or 0)
    session.expire_all()
    return recovered


def release_dead_job(session: Session, services: Services, post: Post, *, now: datetime) -> None:
    """Make an in-flight post whose job is dead due again (also the admin's retry of a failed
    publish job); an interrupted upload counts one attempt and resumes from its checkpoint."""
    if post.status == PostStatus.UPLOADING:
        message = "The worker publishing this post stopped before it finished."
        post_outcomes.attempt_failed(
            services,
            post_id=post.id or 0,
            job_id=post.job_id,
            message=message,
            retryable=True,
            now=now,
            delay_seconds=0,
        )
    else:
        _unclaim(session, post.id or 0, post.job_id)


def dispatch_due(
    session: Session,
    services: Services,
    *,
    now: datetime | None = None,
    post_ids: list[int] | None = None,
) -> list[int]:
    """One tick: recover posts whose job died, then claim due posts and enqueue each once.

    Args:
        post_ids: only these posts (a "publish now" dispatches its own posts at once).

    Returns:
        The ids of the posts enqueued by this call.
    """
    now = now or utcnow()
    if post_ids is None:
        recover_abandoned(session, services, now=now)
    claimed = claim_due(
        session, now=now, limit=services.settings.publish_dispatch_batch, post_ids=post_ids
    )
    return _enqueue(session, services, claimed)
