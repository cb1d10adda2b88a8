"""Who may use the admin tools, and the audit rows that admin actions and refusals leave.

Every admin use case (users, workspaces, quotas, queues, webhooks) starts with
``require_site_admin``. The UI calls ``admit_site_admin`` first, so a refused attempt is written
down in its own transaction even though the action itself never happens.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, or_, select

from viralshorts.errors import PermissionDeniedError, ValidationError
from viralshorts.models import AuditLog, User, Workspace

ADMIN_DENIED = "admin.denied"
ADMINS_ONLY = "Only site admins can use the admin pages. This attempt was logged."
MAX_ATTEMPTED = 120  # how much of a route or handler name a denial row keeps


def record(
    session: Session,
    *,
    actor_user_id: int | None,
    action: str,
    target_type: str = "",
    target_id: int | str = "",
    workspace_id: int | None = None,
    **details: Any,
) -> AuditLog:
    """Add one audit row (the caller's transaction commits it)."""
    row = AuditLog(
        user_id=actor_user_id,
        workspace_id=workspace_id,
        action=action[:64],
        target_type=target_type[:32],
        target_id=str(target_id)[:64],
        details=details,
    )
    session.add(row)
    return row


def like_pattern(text: str) -> str:
    """``text`` as a case-insensitive substring pattern, its own ``%``/``_`` taken literally
    (use with ``escape="\\"``)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def is_site_admin(session: Session, user_id: int) -> bool:
    """Whether ``user_id`` is an enabled site admin right now (read from the database)."""
    user = session.get(User, user_id, populate_existing=True)
    return user is not None and not user.disabled and user.is_admin


def require_site_admin(session: Session, user_id: int) -> User:
    """The acting site admin, read afresh.

    Raises:
        PermissionDeniedError: the user is not an enabled site admin.
    """
    user = session.get(User, user_id, populate_existing=True)
    if user is None or user.disabled or not user.is_admin:
        raise PermissionDeniedError(ADMINS_ONLY, code="admin_only")
    return user


def admit_site_admin(session: Session, *, user_id: int, attempted: str) -> bool:
    """Whether ``user_id`` may use the admin tools; a refusal adds an ``admin.denied`` row.

    Args:
        session: The caller commits it, so the denial row stays even though nothing else ran.
        user_id: The signed-in user (the session was checked already).
        attempted: The route or event handler that was asked for, kept in the row.
    """
    if is_site_admin(session, user_id):
        return True
    record(
        session,
        actor_user_id=user_id,
        action=ADMIN_DENIED,
        target_type="admin",
        target_id=attempted[:64],
        attempted=attempted[:MAX_ATTEMPTED],
    )
    return False


# ---------------------------------------------------------------- the audit log page

AUDIT_PAGE_SIZE = 50
MAX_FILTER = 200
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


@dataclass(frozen=True)
class AuditFilter:
    """What the audit log is narrowed to; empty fields do not narrow it.

    ``email`` matches the acting user or the user acted on; ``workspace`` a workspace's name
    or its id; ``since``/``until`` are whole UTC days, both included.
    """

    action: str = ""
    email: str = ""
    workspace: str = ""
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class AuditEntry:
    """One audit row with the names an admin reads instead of ids."""

    row: AuditLog
    actor_email: str
    workspace_name: str


def parse_day(text: str, field: str) -> date | None:
    """A ``YYYY-MM-DD`` day typed in a filter; ``None`` when empty.

    Raises:
        ValidationError: ``field`` is not such a day.
    """
    cleaned = text.strip()
    if not cleaned:
        return None
    if _DAY.fullmatch(cleaned):  # fromisoformat alone also takes "20261202" and week dates
        with contextlib.suppress(ValueError):
            return date.fromisoformat(cleaned)
    raise ValidationError({field: "Give a day as YYYY-MM-DD."})


def check_filter(filters: AuditFilter) -> None:
    """Refuse filters no row could match sensibly.

    Raises:
        ValidationError: a field is too long, or ``until`` is before ``since``.
    """
    errors = {
        name: f"Use at most {MAX_FILTER} characters."
        for name in ("action", "email", "workspace")
        if len(getattr(filters, name)) > MAX_FILTER
    }
    if filters.since and filters.until and filters.until < filters.since:
        errors["until"] = "The last day comes on or after the first day."
    if errors:
        raise ValidationError(errors)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _narrowed(statement: Any, filters: AuditFilter) -> Any:
    if filters.action.strip():
        statement = statement.where(AuditLog.action == filters.action.strip())
    if filters.email.strip():
        pattern = like_pattern(filters.email.strip())
        users = select(User.id).where(col(User.email).ilike(pattern, escape="\\"))
        as_text = select(sa.cast(User.id, sa.String)).where(
            col(User.email).ilike(pattern, escape="\\")
        )
        statement = statement.where(
            or_(
                col(AuditLog.user_id).in_(users),
                sa.and_(AuditLog.target_type == "user", col(AuditLog.target_id).in_(as_text)),
            )
        )
    if filters.workspace.strip():
        statement = statement.where(col(AuditLog.workspace_id).in_(_workspaces(filters.workspace)))
    if filters.since:
        statement = statement.where(AuditLog.created_at >= _day_start(filters.since))
    if filters.until:
        statement = statement.where(
            AuditLog.created_at < _day_start(filters.until + timedelta(days=1))
        )
    return statement


def _workspaces(text: str) -> Any:
    cleaned = text.strip()
    named = col(Workspace.name).ilike(like_pattern(cleaned), escape="\\")
    if cleaned.isascii() and cleaned.isdigit() and len(cleaned) <= 9:
        named = or_(named, Workspace.id == int(cleaned))
    return select(Workspace.id).where(named)


def list_entries(
    session: Session, *, actor_user_id: int, filters: AuditFilter, page: int = 0
) -> tuple[list[AuditEntry], bool]:
    """One page of the audit log, newest first, narrowed by ``filters`` (site admins).

    Returns:
        The page's entries and whether there is a next page.

    Raises:
        PermissionDeniedError: not a site admin. ValidationError: see ``check_filter``.
    """
    require_site_admin(session, actor_user_id)
    check_filter(filters)
    statement = (
        _narrowed(select(AuditLog, User.email, Workspace.name), filters)
        .outerjoin(User, col(User.id) == AuditLog.user_id)
        .outerjoin(Workspace, col(Workspace.id) == AuditLog.workspace_id)
        .order_by(col(AuditLog.created_at).desc(), col(AuditLog.id).desc())
        .offset(max(page, 0) * AUDIT_PAGE_SIZE)
        .limit(AUDIT_PAGE_SIZE + 1)
    )
    rows = session.exec(statement).all()
    entries = [AuditEntry(row, email or "", name or "") for row, email, name in rows]
    return entries[:AUDIT_PAGE_SIZE], len(entries) > AUDIT_PAGE_SIZE


def known_actions(session: Session, *, actor_user_id: int) -> list[str]:
    """Every action the audit log holds, for the filter's choices (site admins)."""
    require_site_admin(session, actor_user_id)
    found = session.exec(select(AuditLog.action).distinct().order_by(col(AuditLog.action)))
    return list(found.all())
