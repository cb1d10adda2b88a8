"""Bringing the numbers back: each published post's statistics, one row per post per day.

Platforms report lifetime numbers, so a day's row holds what the platform said that day and a
second run the same day overwrites it (an upsert on ``(post_id, date)``, never a second row).
Each run asks every configured platform about at most ``ANALYTICS_MAX_POSTS_PER_RUN`` posts, in
calls of ``ANALYTICS_BATCH_SIZE``, the posts not yet read today first; a rate limit stops that
platform until the next run and leaves the others going. An account whose token is refused is
refreshed once (``connected_accounts``); one that needs reconnecting is skipped.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from viralshorts.domain.connected_accounts import refreshed_tokens, tokens_for
from viralshorts.errors import (
    PlatformAuthError,
    PlatformError,
    PlatformRateLimitedError,
    ServiceUnavailableError,
)
from viralshorts.integrations.ports import PlatformTokens, PostStats, PublishingPlatform, Services
from viralshorts.models import (
    AccountHealth,
    Post,
    PostStatus,
    SocialAccount,
    VideoAnalytics,
    utcnow,
)

log = logging.getLogger(__name__)
RUN_GATE_KEY = "analytics:collect"


@dataclass
class CollectionReport:
    """What one run did: rows written per platform, platforms stopped by a rate limit, and
    accounts skipped (needs reconnect, or the platform failed for them)."""

    rows: dict[str, int] = field(default_factory=dict)
    rate_limited: dict[str, float] = field(default_factory=dict)  # platform -> seconds to wait
    skipped_accounts: list[int] = field(default_factory=list)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


class _PlatformStoppedError(Exception):
    """The platform said "slow down": nothing more is asked of it in this run."""

    def __init__(self, wait: float) -> None:
        self.wait = wait


def collect_analytics(
    session: Session, services: Services, *, today: date | None = None
) -> CollectionReport:
    """Pull today's statistics of every published post from each configured platform.

    Args:
        session: The database session (committed after each batch).
        services: Ports; ``services.platforms`` are the configured platforms.
        today: The day the rows are for (default: today in UTC).
    """
    day = today or utcnow().date()
    report = CollectionReport()
    for name, platform in services.platforms.items():
        report.rows[name] = 0
        try:
            _collect_platform(session, services, platform, day, report)
        except _PlatformStoppedError as stopped:
            report.rate_limited[name] = stopped.wait
    return report


def collect_if_due(session: Session, services: Services) -> CollectionReport | None:
    """Run ``collect_analytics`` unless another process ran it within the interval.

    The gate is the shared rate limiter (one run per ``ANALYTICS_INTERVAL_SECONDS`` across all
    worker machines); an interval of 0 turns collection off. Returns None when not run.
    """
    interval = int(services.settings.analytics_interval_seconds)
    if interval <= 0:
        return None
    try:
        ticket = services.rate_limiter.take([(RUN_GATE_KEY, 1)], window_seconds=interval)
    except ServiceUnavailableError:
        return None
    if isinstance(ticket, int):
        return None
    return collect_analytics(session, services)


def _posts_to_read(
    session: Session, platform: str, day: date, limit: int
) -> list[tuple[Post, SocialAccount]]:
    """Published posts on ``platform``'s healthy accounts, those without a row for ``day``
    first (so a run that stops early is continued by the next), oldest first."""
    read_today = sa.exists().where(
        col(VideoAnalytics.post_id) == col(Post.id), col(VideoAnalytics.date) == day
    )
    query = (
        select(Post, SocialAccount)
        .join(SocialAccount, col(SocialAccount.id) == col(Post.social_account_id))
        .where(
            col(SocialAccount.platform) == platform,
            col(SocialAccount.health) == AccountHealth.OK,
            col(Post.status) == PostStatus.PUBLISHED,
            col(Post.external_id) != "",
        )
        .order_by(read_today, col(Post.id))
        .limit(limit)
    )
    return [(post, account) for post, account in session.exec(query).all()]


def _collect_platform(
    session: Session,
    services: Services,
    platform: PublishingPlatform,
    day: date,
    report: CollectionReport,
) -> None:
    settings = services.settings
    found = _posts_to_read(session, platform.name, day, settings.analytics_max_posts_per_run)
    by_account: dict[int, list[Post]] = defaultdict(list)
    accounts: dict[int, SocialAccount] = {}
    for post, account in found:
        by_account[account.id or 0].append(post)
        accounts[account.id or 0] = account
    for account_id, posts in by_account.items():
        try:
            written = _collect_account(
                session, services, platform, account=accounts[account_id], posts=posts, day=day
            )
        except PlatformRateLimitedError as exc:
            session.rollback()
            raise _PlatformStoppedError(exc.retry_after_seconds) from exc
        except PlatformError as exc:  # needs reconnect, or the platform failed for it
            session.rollback()
            log.info("analytics: account %s skipped: %s", account_id, exc.message)
            report.skipped_accounts.append(account_id)
            continue
        report.rows[platform.name] += written


def _collect_account(
    session: Session,
    services: Services,
    platform: PublishingPlatform,
    *,
    account: SocialAccount,
    posts: Sequence[Post],
    day: date,
) -> int:
    size = max(1, services.settings.analytics_batch_size)
    tokens = tokens_for(session, services, account)
    written = 0
    for start in range(0, len(posts), size):
        batch = list(posts[start : start + size])
        stats, tokens = _stats_with_refresh(
            session, services, platform, account=account, tokens=tokens, batch=batch
        )
        written += upsert_day(session, batch, stats, day)
        session.commit()
    return written


def _stats_with_refresh(
    session: Session,
    services: Services,
    platform: PublishingPlatform,
    *,
    account: SocialAccount,
    tokens: PlatformTokens,
    batch: Sequence[Post],
) -> tuple[dict[str, PostStats], PlatformTokens]:
    ids = [post.external_id for post in batch]
    try:
        return platform.stats(tokens, dict(account.profile_extra or {}), ids), tokens
    except PlatformAuthError:
        tokens = refreshed_tokens(session, services, account)  # once; its errors skip the account
    return platform.stats(tokens, dict(account.profile_extra or {}), ids), tokens


def upsert_day(
    session: Session, posts: Sequence[Post], stats: dict[str, PostStats], day: date
) -> int:
    """Write ``day``'s row of each post the platform gave numbers for (insert or overwrite).

    Returns:
        How many rows were written.
    """
    rows = [
        {
            "video_id": post.video_id,
            "post_id": post.id,
            "date": day,
            "views": numbers.views,
            "likes": numbers.likes,
            "comments": numbers.comments,
            "shares": numbers.shares,
            "saves": numbers.saves,
            "watch_time_seconds": 0.0,
            "fetched_at": utcnow(),
        }
        for post in posts
        if (numbers := stats.get(post.external_id)) is not None
    ]
    if not rows:
        return 0
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert = dialect.insert(VideoAnalytics).values(rows)
    changed = ("views", "likes", "comments", "shares", "saves", "fetched_at")
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["post_id", "date"],
            set_={name: insert.excluded[name] for name in changed},
        )
    )
    return len(rows)
