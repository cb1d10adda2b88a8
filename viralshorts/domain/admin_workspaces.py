"""Site admins' view of workspaces: find them, and see one's plan, usage, members and overrides.

Changing a workspace's plan is ``billing.assign_plan``; its limits, ``quota_overrides``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, or_, select

from viralshorts.domain import audit, billing, quotas
from viralshorts.domain import quota_overrides as qo
from viralshorts.domain.admin_users import clean_query, newest_first_page
from viralshorts.domain.plans import Plan, catalogue
from viralshorts.errors import NotFoundError
from viralshorts.models import Membership, Subscription, User, Workspace, WorkspaceRole

WORKSPACE_NOT_FOUND = "Workspace not found."


@dataclass(frozen=True)
class WorkspaceMember:
    """One member of a workspace, as the admin page lists them."""

    user_id: int
    email: str
    role: WorkspaceRole
    disabled: bool


@dataclass(frozen=True)
class OverrideRow:
    """One overridden limit: its value, the plan's own, and why."""

    limit: str
    label: str
    value: int
    plan_value: int
    reason: str
    set_by: str
    updated_at: datetime


@dataclass(frozen=True)
class WorkspaceDetail:
    """What the admin page shows about one workspace."""

    workspace: Workspace
    plan: Plan  # with the overrides put in
    subscription_status: str
    cancel_at_period_end: bool
    period: quotas.BillingPeriod
    meters: list[billing.Meter]
    render_minutes: float
    members: list[WorkspaceMember]
    overrides: list[OverrideRow]


def search_workspaces(
    session: Session, *, actor_user_id: int, query: str = "", page: int = 0
) -> tuple[list[Workspace], bool]:
    """Workspaces whose name, or a member's email, contains ``query``; newest first.

    Returns:
        One page of workspaces and whether there is a next page.
    """
    audit.require_site_admin(session, actor_user_id)
    cleaned = clean_query(query)
    statement = select(Workspace)
    if cleaned:
        pattern = audit.like_pattern(cleaned)
        with_member = (
            select(Membership.workspace_id)
            .join(User, col(User.id) == Membership.user_id)
            .where(col(User.email).ilike(pattern, escape="\\"))
        )
        statement = statement.where(
            or_(col(Workspace.name).ilike(pattern, escape="\\"), col(Workspace.id).in_(with_member))
        )
    return newest_first_page(session, statement, Workspace, page)


def _members(session: Session, workspace_id: int) -> list[WorkspaceMember]:
    rows = session.exec(
        select(User, Membership.role)
        .join(Membership, col(Membership.user_id) == User.id)
        .where(Membership.workspace_id == workspace_id)
        .order_by(col(Membership.id))
    ).all()
    return [WorkspaceMember(u.id or 0, u.email, WorkspaceRole(r), u.disabled) for u, r in rows]


def _override_rows(session: Session, workspace_id: int, base: Plan) -> list[OverrideRow]:
    rows = []
    for row in qo.overrides_of(session, workspace_id):
        setter = session.get(User, row.set_by_user_id) if row.set_by_user_id else None
        rows.append(
            OverrideRow(
                limit=row.limit_name,
                label=qo.LIMITS[row.limit_name].label,
                value=row.value,
                plan_value=getattr(base, row.limit_name),
                reason=row.reason,
                set_by=setter.email if setter else "",
                updated_at=row.updated_at,
            )
        )
    return rows


def workspace_detail(session: Session, *, actor_user_id: int, workspace_id: int) -> WorkspaceDetail:
    """One workspace's plan, subscription, meters this period, members and overrides.

    Raises:
        PermissionDeniedError: not a site admin. NotFoundError: no such workspace.
    """
    audit.require_site_admin(session, actor_user_id)
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise NotFoundError(WORKSPACE_NOT_FOUND)
    plan = quotas.plan_for(session, workspace_id=workspace_id)
    sub = session.exec(
        select(Subscription).where(Subscription.workspace_id == workspace_id)
    ).first()
    usage = quotas.usage_summary(session, workspace_id=workspace_id)
    return WorkspaceDetail(
        workspace=workspace,
        plan=plan,
        subscription_status=str(sub.status) if sub else "none",
        cancel_at_period_end=bool(sub and sub.cancel_at_period_end),
        period=quotas.billing_period(session, workspace_id=workspace_id),
        meters=billing.meters(session, workspace_id=workspace_id),
        render_minutes=round(usage.render_seconds / 60, 1),
        members=_members(session, workspace_id),
        overrides=_override_rows(session, workspace_id, catalogue().get(plan.name)),
    )
