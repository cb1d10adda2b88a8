"""Plans and monthly usage: reserve, release and commit video quota atomically.

A reservation is held while a video waits or renders, so a workspace can never queue more videos
than its plan allows. Every change is one conditional UPDATE on the workspace's ``usage`` row,
which PostgreSQL and SQLite both serialise, so two concurrent requests never exceed the limit.
Usage and plan belong to a workspace: every member's videos count against the same quota.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from viralshorts.errors import QuotaExceededError
from viralshorts.models import Subscription, SubscriptionStatus, Usage, utcnow


@dataclass(frozen=True)
class Plan:
    """What a plan allows each month."""

    name: str
    label: str
    videos_per_month: int
    max_seconds: int
    connected_accounts: int
    scheduled_posts: int


PLANS: dict[str, Plan] = {
    "free": Plan("free", "Free", 10, 60, 1, 10),
    "creator": Plan("creator", "Creator", 60, 90, 3, 100),
    "pro": Plan("pro", "Pro", 300, 90, 10, 1000),
}
DEFAULT_PLAN = "free"
_PAYING_STATUSES = (
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.TRIALING,
    SubscriptionStatus.PAST_DUE,
)


@dataclass(frozen=True)
class UsageSummary:
    """A workspace's consumption in one period against the plan's limits."""

    plan: Plan
    period: str
    videos_used: int
    videos_reserved: int
    render_seconds: float
    posts: int

    @property
    def videos_remaining(self) -> int:
        return max(self.plan.videos_per_month - self.videos_used - self.videos_reserved, 0)


def current_period(now: datetime | None = None) -> str:
    """The usage period ("YYYY-MM", UTC) that ``now`` falls in."""
    return (now or utcnow()).strftime("%Y-%m")


def plan_for(session: Session, *, workspace_id: int) -> Plan:
    """The plan the workspace pays for; "free" without a subscription in good standing."""
    sub = session.exec(
        select(Subscription).where(Subscription.workspace_id == workspace_id)
    ).first()
    if sub is None or sub.status not in _PAYING_STATUSES:
        return PLANS[DEFAULT_PLAN]
    return PLANS.get(sub.plan, PLANS[DEFAULT_PLAN])


def _ensure_usage_row(session: Session, *, user_id: int, workspace_id: int, period: str) -> None:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert = dialect.insert(Usage).values(
        workspace_id=workspace_id,
        user_id=user_id,
        period=period,
        videos_reserved=0,
        videos_used=0,
        render_seconds=0.0,
        posts=0,
    )
    session.exec(insert.on_conflict_do_nothing(index_elements=["workspace_id", "period"]))


def _usage_row(workspace_id: int, period: str) -> sa.ColumnElement[bool]:
    return sa.and_(Usage.workspace_id == workspace_id, Usage.period == period)


def reserve_videos(
    session: Session, *, workspace_id: int, user_id: int, count: int, period: str | None = None
) -> str:
    """Hold ``count`` videos of the workspace's quota this month (``user_id`` asks); caller commits.

    Returns:
        The period the reservation was made in (store it to release or commit later).

    Raises:
        QuotaExceededError: the plan has fewer than ``count`` videos left this month.
    """
    period = period or current_period()
    plan = plan_for(session, workspace_id=workspace_id)
    _ensure_usage_row(session, user_id=user_id, workspace_id=workspace_id, period=period)
    taken = Usage.videos_reserved + Usage.videos_used
    result = session.exec(
        sa.update(Usage)
        .where(_usage_row(workspace_id, period), taken + count <= plan.videos_per_month)
        .values(videos_reserved=Usage.videos_reserved + count)
    )
    if result.rowcount != 1:
        left = usage_summary(session, workspace_id=workspace_id, period=period).videos_remaining
        raise QuotaExceededError(_quota_message(plan, left, count))
    return period


def _quota_message(plan: Plan, left: int, count: int) -> str:
    asked = "1 video" if count == 1 else f"{count} videos"
    return (
        f"Your {plan.label} plan allows {plan.videos_per_month} videos a month and you have "
        f"{left} left this month, so {asked} cannot be made. Upgrade your plan or ask for fewer."
    )


def _clamped_minus(column: sa.ColumnElement[int], count: int) -> sa.ColumnElement[int]:
    return sa.case((column >= count, column - count), else_=0)


def release_reservation(
    session: Session, *, workspace_id: int, period: str, count: int = 1
) -> None:
    """Give back ``count`` reserved videos (the work was cancelled or failed); caller commits."""
    session.exec(
        sa.update(Usage)
        .where(_usage_row(workspace_id, period))
        .values(videos_reserved=_clamped_minus(Usage.videos_reserved, count))
    )


def commit_reservation(
    session: Session, *, workspace_id: int, period: str, render_seconds: float, count: int = 1
) -> None:
    """Turn reserved videos into used ones and add the rendered seconds; caller commits."""
    session.exec(
        sa.update(Usage)
        .where(_usage_row(workspace_id, period))
        .values(
            videos_reserved=_clamped_minus(Usage.videos_reserved, count),
            videos_used=Usage.videos_used + count,
            render_seconds=Usage.render_seconds + render_seconds,
        )
    )


def usage_summary(
    session: Session, *, workspace_id: int, period: str | None = None
) -> UsageSummary:
    """The workspace's plan and consumption in ``period`` (default: this month)."""
    period = period or current_period()
    row = session.exec(select(Usage).where(_usage_row(workspace_id, period))).first()
    plan = plan_for(session, workspace_id=workspace_id)
    if row is None:
        return UsageSummary(plan, period, 0, 0, 0.0, 0)
    session.refresh(row)
    return UsageSummary(
        plan, period, row.videos_used, row.videos_reserved, row.render_seconds, row.posts
    )
