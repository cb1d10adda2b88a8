"""Who may use the admin tools, and the audit rows that admin actions and refusals leave.

Every admin use case (users, workspaces, quotas, queues, webhooks) starts with
``require_site_admin``. The UI calls ``admit_site_admin`` first, so a refused attempt is written
down in its own transaction even though the action itself never happens.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from viralshorts.errors import PermissionDeniedError
from viralshorts.models import AuditLog, User

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


def is_site_admin(session: Session, user_id: int) -> bool:
    """Whether ``user_id`` is an enabled site admin right now (read from the database)."""
    user = session.get(User, user_id)
    return user is not None and not user.disabled and user.is_admin


def require_site_admin(session: Session, user_id: int) -> User:
    """The acting site admin, read afresh.

    Raises:
        PermissionDeniedError: the user is not an enabled site admin.
    """
    user = session.get(User, user_id)
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
