"""A site admin's limits for one workspace, in place of its plan's (``QuotaOverride`` rows).

``quotas.plan_for`` puts them into the plan it returns, so every check that reads a plan
limit (videos a period, video length, batch size, connected accounts, scheduled posts, team
seats, render priority) sees the override whatever plan the workspace is on. Setting or
clearing one needs a reason and leaves an audit row.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from viralshorts.domain import audit
from viralshorts.domain.video_requests import MAX_COUNT, MAX_SECONDS
from viralshorts.errors import NotFoundError, ValidationError
from viralshorts.models import QuotaOverride, Workspace, utcnow

MAX_REASON = 500


@dataclass(frozen=True)
class Limit:
    """A plan limit an admin may override, and the largest value that still means something."""

    name: str
    label: str
    largest: int


# The product never makes a video longer than MAX_SECONDS nor more than MAX_COUNT at once,
# so larger overrides of those two would promise what no request can use.
LIMITS: dict[str, Limit] = {
    limit.name: limit
    for limit in (
        Limit("videos_per_month", "Videos a period", 100_000),
        Limit("max_seconds", "Longest video (s)", MAX_SECONDS),
        Limit("batch_size", "Videos per request", MAX_COUNT),
        Limit("connected_accounts", "Connected accounts", 1_000),
        Limit("scheduled_posts", "Scheduled posts a period", 100_000),
        Limit("team_seats", "Team seats", 1_000),
        Limit("render_priority", "Render priority", 10),
    )
}


def overrides_of(session: Session, workspace_id: int) -> list[QuotaOverride]:
    """The workspace's overrides, in the order of ``LIMITS``."""
    rows = session.exec(
        select(QuotaOverride).where(QuotaOverride.workspace_id == workspace_id)
    ).all()
    order = list(LIMITS)
    known = [row for row in rows if row.limit_name in LIMITS]
    return sorted(known, key=lambda row: order.index(row.limit_name))


def _checked(limit_name: str, value: int | None, reason: str) -> tuple[Limit, str]:
    errors: dict[str, str] = {}
    limit = LIMITS.get(limit_name)
    if limit is None:
        errors["limit"] = f"Pick one of: {', '.join(LIMITS)}."
    elif value is not None and not 0 <= value <= limit.largest:
        errors["value"] = f"{limit.label}: a whole number from 0 to {limit.largest}."
    cleaned = reason.strip()
    if not cleaned or len(cleaned) > MAX_REASON:
        errors["reason"] = f"Say why, in at most {MAX_REASON} characters."
    if errors or limit is None:
        raise ValidationError(errors)
    return limit, cleaned


def _existing(session: Session, workspace_id: int, limit_name: str) -> QuotaOverride | None:
    return session.exec(
        select(QuotaOverride).where(
            QuotaOverride.workspace_id == workspace_id,
            col(QuotaOverride.limit_name) == limit_name,
        )
    ).first()


def set_override(
    session: Session,
    *,
    actor_user_id: int,
    workspace_id: int,
    limit_name: str,
    value: int,
    reason: str,
) -> QuotaOverride:
    """Give the workspace ``value`` for one limit in place of its plan's; caller commits.

    Raises:
        PermissionDeniedError: not a site admin. NotFoundError: no such workspace.
        ValidationError: fields ``limit`` (unknown), ``value`` (out of range), ``reason``.
    """
    audit.require_site_admin(session, actor_user_id)
    if session.get(Workspace, workspace_id) is None:
        raise NotFoundError("Workspace not found.")
    limit, cleaned = _checked(limit_name, value, reason)
    row = _existing(session, workspace_id, limit.name)
    before = None if row is None else row.value
    if row is None:
        row = QuotaOverride(workspace_id=workspace_id, limit_name=limit.name, value=value,
                            reason=cleaned)  # fmt: skip
    row.value, row.reason, row.set_by_user_id, row.updated_at = (
        value, cleaned, actor_user_id, utcnow()
    )  # fmt: skip
    session.add(row)
    audit.record(session, actor_user_id=actor_user_id, action="admin.quota_override_set",
                 target_type="workspace", target_id=workspace_id, workspace_id=workspace_id,
                 limit=limit.name, before=before, after=value, reason=cleaned)  # fmt: skip
    session.flush()
    return row


def clear_override(
    session: Session, *, actor_user_id: int, workspace_id: int, limit_name: str, reason: str
) -> bool:
    """Give the workspace its plan's value for one limit again; caller commits.

    Returns:
        Whether there was an override to clear.

    Raises:
        PermissionDeniedError: not a site admin. NotFoundError: no such workspace.
        ValidationError: fields ``limit`` (unknown) and ``reason``.
    """
    audit.require_site_admin(session, actor_user_id)
    if session.get(Workspace, workspace_id) is None:
        raise NotFoundError("Workspace not found.")
    limit, cleaned = _checked(limit_name, None, reason)
    row = _existing(session, workspace_id, limit.name)
    if row is None:
        return False
    audit.record(session, actor_user_id=actor_user_id, action="admin.quota_override_cleared",
                 target_type="workspace", target_id=workspace_id, workspace_id=workspace_id,
                 limit=limit.name, before=row.value, reason=cleaned)  # fmt: skip
    session.delete(row)
    session.flush()
    return True
