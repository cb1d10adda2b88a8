"""Plans and usage per billing period: reserve, release and commit quota atomically.

A reservation is held while a video waits or renders, so a workspace can never queue more videos
than its plan allows. Every change is one conditional UPDATE on the workspace's ``usage`` row,
which PostgreSQL and SQLite both serialise, so concurrent requests never exceed the limit.
Usage and plan belong to a workspace: every member's videos count against the same quota.

The billing period is the subscription's current Stripe period, or the calendar month (UTC) on
the free plan. A period's usage row is keyed by the month its period starts in ("YYYY-MM"): a
paid period that starts in the month the workspace was on Free continues that month's row.
Limits that are not per period (connected accounts, team seats) are counted under a lock on the
workspace row, taken first in the transaction that adds the account or member.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, func, select

from viralshorts.domain.plans import LIMIT_NAMES, Plan, catalogue
from viralshorts.errors import QuotaExceededError
from viralshorts.models import (
    AccountHealth,
    Invitation,
    Membership,
    QuotaOverride,
    SocialAccount,
    Subscription,
    SubscriptionStatus,
    Usage,
    Workspace,
    WorkspaceRole,
    utcnow,
)
from viralshorts.settings import get_settings

__all__ = [
    "BillingPeriod",
    "Plan",
    "UsageSummary",
    "billing_period",
    "commit_reservation",
    "connected_account_count",
    "current_period",
    "payer_user_id",
    "plan_for",
    "release_post",
    "release_reservation",
    "require_account_slot",
    "require_seat",
    "reserve_post",
    "reserve_videos",
    "usage_summary",
]

_PAYING_STATUSES = (
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.TRIALING,
    SubscriptionStatus.PAST_DUE,
)
UPGRADE_HINT = "The workspace owner can upgrade on the Billing page (/app/billing)."


@dataclass(frozen=True)
class BillingPeriod:
    """One billing period: its usage key and its dates. A calendar month's key is "YYYY-MM";
    a Stripe period's is the day it starts, "YYYY-MM-DD" (two can start in one month: a
    trial ending mid-month, a plan change that resets the billing anchor)."""

    key: str
    start: datetime
    end: datetime


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
    """The calendar month ("YYYY-MM", UTC) that ``now`` falls in (the free plan's period)."""
    return (now or utcnow()).strftime("%Y-%m")


def _calendar_month(now: datetime) -> BillingPeriod:
    start = datetime(now.year, now.month, 1, tzinfo=UTC)
    end = datetime(now.year + now.month // 12, now.month % 12 + 1, 1, tzinfo=UTC)
    return BillingPeriod(start.strftime("%Y-%m"), start, end)


def _subscription(session: Session, workspace_id: int) -> Subscription | None:
    query = select(Subscription).where(Subscription.workspace_id == workspace_id)
    return session.exec(query.execution_options(populate_existing=True)).first()


def _in_good_standing(sub: Subscription, now: datetime) -> bool:
    """Paying now: active or trialing, past due within the grace period, not past its end
    when it cancels at period end (the ``deleted`` event may come late)."""
    if sub.status not in _PAYING_STATUSES:
        return False
    if sub.cancel_at_period_end and sub.current_period_end and now >= sub.current_period_end:
        return False
    if sub.status == SubscriptionStatus.PAST_DUE:
        since = sub.past_due_since or sub.updated_at
        return now < since + timedelta(days=get_settings().billing_grace_days)
    return True


def plan_for(session: Session, *, workspace_id: int, now: datetime | None = None) -> Plan:
    """The plan the workspace pays for (the free plan without a subscription in good
    standing), with any limit a site admin overrode for this workspace put in."""
    plans = catalogue()
    sub = _subscription(session, workspace_id)
    if sub is None or not _in_good_standing(sub, now or utcnow()):
        return _with_overrides(session, workspace_id, plans.free)
    return _with_overrides(session, workspace_id, plans.get(sub.plan))


def _with_overrides(session: Session, workspace_id: int, plan: Plan) -> Plan:
    rows = session.exec(
        select(QuotaOverride.limit_name, QuotaOverride.value).where(
            QuotaOverride.workspace_id == workspace_id
        )
    ).all()
    limits = {name: value for name, value in rows if name in LIMIT_NAMES}
    return replace(plan, **limits) if limits else plan


def billing_period(
    session: Session, *, workspace_id: int, now: datetime | None = None
) -> BillingPeriod:
    """The period usage counts in now: the Stripe period of a paying workspace, else the month."""
    now = now or utcnow()
    sub = _subscription(session, workspace_id)
    if sub is not None and _in_good_standing(sub, now) and catalogue().get(sub.plan).paid:
        start, end = sub.current_period_start, sub.current_period_end
        if start is not None and end is not None and start <= now < end:
            return BillingPeriod(start.strftime("%Y-%m-%d"), start, end)
    return _calendar_month(now)


def _ensure_usage_row(
    session: Session, *, user_id: int, workspace_id: int, period: BillingPeriod | str
) -> str:
    if isinstance(period, str):
        key, start, end = period, None, None
    else:
        key, start, end = period.key, period.start, period.end
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert = dialect.insert(Usage).values(
        workspace_id=workspace_id,
        user_id=user_id,
        period=key,
        videos_reserved=0,
        videos_used=0,
        render_seconds=0.0,
        posts=0,
        period_start=start,
        period_end=end,
    )
    session.exec(insert.on_conflict_do_nothing(index_elements=["workspace_id", "period"]))
    return key


def _usage_row(workspace_id: int, period: str) -> sa.ColumnElement[bool]:
    return sa.and_(Usage.workspace_id == workspace_id, Usage.period == period)


def _exceeded(plan: Plan, limit: str, allowed: int, text: str) -> QuotaExceededError:
    return QuotaExceededError(
        f"{text} {UPGRADE_HINT}",
        params={"plan": plan.name, "limit": limit, "allowed": allowed},
    )


def reserve_videos(
    session: Session, *, workspace_id: int, user_id: int, count: int, period: str | None = None
) -> str:
    """Hold ``count`` videos of the workspace's quota this period (``user_id`` asks); caller
    commits.

    Returns:
        The period key the reservation was made in (store it to release or commit later).

    Raises:
        QuotaExceededError: the plan has fewer than ``count`` videos left this period.
    """
    plan = plan_for(session, workspace_id=workspace_id)
    target = period or billing_period(session, workspace_id=workspace_id)
    key = _ensure_usage_row(session, user_id=user_id, workspace_id=workspace_id, period=target)
    taken = Usage.videos_reserved + Usage.videos_used
    result = session.exec(
        sa.update(Usage)
        .where(_usage_row(workspace_id, key), taken + count <= plan.videos_per_month)
        .values(videos_reserved=Usage.videos_reserved + count)
    )
    if result.rowcount != 1:
        left = usage_summary(session, workspace_id=workspace_id, period=key).videos_remaining
        raise _exceeded(
            plan, "videos_per_month", plan.videos_per_month, _videos_text(plan, left, count)
        )
    return key


def _videos_text(plan: Plan, left: int, count: int) -> str:
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


def payer_user_id(session: Session, workspace_id: int) -> int:
    """Who a usage row is recorded for when no member asks (a scheduled post)."""
    owner = session.exec(
        select(Membership.user_id)
        .where(Membership.workspace_id == workspace_id, Membership.role == WorkspaceRole.OWNER)
        .order_by(col(Membership.id))
    ).first()
    return owner or 0


def reserve_post(session: Session, workspace_id: int) -> str:
    """Count one scheduled post against this period's limit, atomically; caller commits.

    Returns:
        The period key (pass it to ``release_post`` when the post is cancelled).

    Raises:
        QuotaExceededError: every scheduled post of the plan is used this period.
    """
    plan = plan_for(session, workspace_id=workspace_id)
    target = billing_period(session, workspace_id=workspace_id)
    user_id = payer_user_id(session, workspace_id)
    key = _ensure_usage_row(session, user_id=user_id, workspace_id=workspace_id, period=target)
    result = session.exec(
        sa.update(Usage)
        .where(_usage_row(workspace_id, key), Usage.posts + 1 <= plan.scheduled_posts)
        .values(posts=Usage.posts + 1)
    )
    if result.rowcount != 1:
        text = (
            f"Your {plan.label} plan allows {plan.scheduled_posts} scheduled posts a billing "
            f"period and all of them are used (the period renews on {target.end:%b %-d})."
        )
        raise _exceeded(plan, "scheduled_posts", plan.scheduled_posts, text)
    return key


def release_post(session: Session, workspace_id: int, period: str | None = None) -> None:
    """Give back one scheduled post (cancelled before it went out); caller commits."""
    key = period or billing_period(session, workspace_id=workspace_id).key
    session.exec(
        sa.update(Usage)
        .where(_usage_row(workspace_id, key))
        .values(posts=_clamped_minus(Usage.posts, 1))
    )


def lock_workspace(session: Session, workspace_id: int) -> None:
    """Hold the workspace row until commit: a row lock on PostgreSQL, the write lock on SQLite
    (a no-op UPDATE, which SQLite's single writer serialises)."""
    session.exec(
        sa.update(Workspace).where(col(Workspace.id) == workspace_id).values(id=Workspace.id)
    )


def connected_account_count(session: Session, workspace_id: int) -> int:
    """Accounts holding one of the plan's slots: all but those a person disconnected (their
    rows stay for the posts' history and take a slot again only when connected again)."""
    return session.exec(
        select(func.count()).where(
            SocialAccount.workspace_id == workspace_id,
            SocialAccount.health != AccountHealth.DISCONNECTED,
        )
    ).one()


def require_account_slot(session: Session, workspace_id: int, *, lock: bool = True) -> None:
    """Refuse one more connected account beyond the plan's limit.

    Call it before adding a new account, in the transaction that adds it (it locks the
    workspace until that commits, so concurrent connects cannot both take the last slot);
    ``lock=False`` only looks (a check ahead of the one that counts).

    Raises:
        QuotaExceededError: the plan's connected accounts are all in use.
    """
    if lock:
        lock_workspace(session, workspace_id)
    plan = plan_for(session, workspace_id=workspace_id)
    if connected_account_count(session, workspace_id) >= plan.connected_accounts:
        text = (
            f"Your {plan.label} plan connects {plan.connected_accounts} social account"
            f"{'' if plan.connected_accounts == 1 else 's'} and all are connected. Disconnect "
            "one first, or upgrade."
        )
        raise _exceeded(plan, "connected_accounts", plan.connected_accounts, text)


def seats_taken(session: Session, workspace_id: int, *, except_email: str = "") -> int:
    """Members plus pending invitations (an invitation holds its seat until it is answered)."""
    members = session.exec(
        select(func.count()).where(Membership.workspace_id == workspace_id)
    ).one()
    pending = session.exec(
        select(func.count()).where(
            Invitation.workspace_id == workspace_id,
            col(Invitation.accepted_at).is_(None),
            col(Invitation.revoked_at).is_(None),
            col(Invitation.expires_at) > utcnow(),
            Invitation.email != except_email,
        )
    ).one()
    return members + pending


def require_seat(
    session: Session, workspace_id: int, *, joining: bool = False, except_email: str = ""
) -> None:
    """Refuse a new invitation (or, with ``joining``, a new member) beyond the plan's seats.

    Call it with the workspace locked. An invitation counts as a seat while pending; joining
    counts members only (the joiner's own invitation held the seat until now).

    Raises:
        QuotaExceededError: every team seat of the plan is taken.
    """
    plan = plan_for(session, workspace_id=workspace_id)
    if joining:
        taken = session.exec(
            select(func.count()).where(Membership.workspace_id == workspace_id)
        ).one()
    else:
        taken = seats_taken(session, workspace_id, except_email=except_email)
    if taken >= plan.team_seats:
        text = (
            f"Your {plan.label} plan has {plan.team_seats} team seats (pending invitations "
            "included) and all are taken. Remove a member or revoke an invitation, or upgrade."
        )
        raise _exceeded(plan, "team_seats", plan.team_seats, text)


def usage_summary(
    session: Session, *, workspace_id: int, period: str | None = None
) -> UsageSummary:
    """The workspace's plan and consumption in ``period`` (default: the current period)."""
    period = period or billing_period(session, workspace_id=workspace_id).key
    row = session.exec(select(Usage).where(_usage_row(workspace_id, period))).first()
    plan = plan_for(session, workspace_id=workspace_id)
    if row is None:
        return UsageSummary(plan, period, 0, 0, 0.0, 0)
    session.refresh(row)
    return UsageSummary(
        plan, period, row.videos_used, row.videos_reserved, row.render_seconds, row.posts
    )
