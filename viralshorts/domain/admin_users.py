"""Site admins' tools for people: find users, see one, disable or enable them, change site roles.

Every function re-reads the acting admin (``audit.require_site_admin``). The changes commit
before they return and only then drop the user's cached sessions, so the very next event of
any open tab of theirs sees the database's answer (signed out, or no longer an admin). An admin
never disables or demotes themself, and the site never loses its last enabled admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from sqlmodel import Session, col, delete, func, or_, select
from sqlmodel.sql.expression import SelectOfScalar

from viralshorts.domain import audit
from viralshorts.domain.session_checks import sessions_ended
from viralshorts.errors import NotFoundError, PermissionDeniedError, ValidationError
from viralshorts.integrations.ports import SessionCache
from viralshorts.models import LoginSession, Membership, Role, User, Workspace, WorkspaceRole

MAX_QUERY = 200
MAX_REASON = 500
PAGE_SIZE = 25
USER_NOT_FOUND = "User not found."
NOT_YOURSELF = "You cannot disable or demote yourself; ask another site admin."
LAST_ADMIN = "This is the last enabled site admin; make someone else an admin first."

RowT = TypeVar("RowT", User, Workspace)


@dataclass(frozen=True)
class UserMembership:
    """One workspace a user belongs to, with their role there."""

    workspace_id: int
    workspace_name: str
    personal: bool
    role: WorkspaceRole


@dataclass(frozen=True)
class UserDetail:
    """What the admin page shows about one user."""

    user: User
    memberships: list[UserMembership]
    open_sessions: int


def clean_query(query: str) -> str:
    """The search text trimmed.

    Raises:
        ValidationError: field ``query`` when it is longer than any email or name.
    """
    cleaned = query.strip()
    if len(cleaned) > MAX_QUERY:
        raise ValidationError({"query": f"Search for at most {MAX_QUERY} characters."})
    return cleaned


def clean_reason(reason: str) -> str:
    """The reason trimmed.

    Raises:
        ValidationError: field ``reason`` when it is empty or too long.
    """
    cleaned = reason.strip()
    if not cleaned or len(cleaned) > MAX_REASON:
        raise ValidationError({"reason": f"Say why, in at most {MAX_REASON} characters."})
    return cleaned


def newest_first_page(
    session: Session, statement: SelectOfScalar[RowT], table: type[RowT], page: int
) -> tuple[list[RowT], bool]:
    """One page of ``statement``'s rows, newest first, and whether there is a next page."""
    ordered = statement.order_by(col(table.created_at).desc(), col(table.id).desc())
    rows = list(session.exec(ordered.offset(max(page, 0) * PAGE_SIZE).limit(PAGE_SIZE + 1)))
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def search_users(
    session: Session, *, actor_user_id: int, query: str = "", page: int = 0
) -> tuple[list[User], bool]:
    """Users whose email, or a workspace they belong to, contains ``query``; newest first.

    Returns:
        One page of users and whether there is a next page.
    """
    audit.require_site_admin(session, actor_user_id)
    cleaned = clean_query(query)
    statement = select(User)
    if cleaned:
        pattern = audit.like_pattern(cleaned)
        in_workspace = (
            select(Membership.user_id)
            .join(Workspace, col(Workspace.id) == Membership.workspace_id)
            .where(col(Workspace.name).ilike(pattern, escape="\\"))
        )
        statement = statement.where(
            or_(col(User.email).ilike(pattern, escape="\\"), col(User.id).in_(in_workspace))
        )
    return newest_first_page(session, statement, User, page)


def user_detail(session: Session, *, actor_user_id: int, user_id: int) -> UserDetail:
    """One user, their workspaces with roles, and how many sessions they have open.

    Raises:
        PermissionDeniedError: not a site admin. NotFoundError: no such user.
    """
    audit.require_site_admin(session, actor_user_id)
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError(USER_NOT_FOUND)
    rows = session.exec(
        select(Workspace, Membership.role)
        .join(Membership, col(Membership.workspace_id) == Workspace.id)
        .where(Membership.user_id == user_id)
        .order_by(col(Workspace.personal).desc(), col(Workspace.name))
    ).all()
    memberships = [
        UserMembership(ws.id or 0, ws.name, ws.personal, WorkspaceRole(role)) for ws, role in rows
    ]
    return UserDetail(user, memberships, _open_sessions(session, user_id))


def _open_sessions(session: Session, user_id: int) -> int:
    return session.exec(select(func.count()).where(LoginSession.user_id == user_id)).one()


def _lock_admins(session: Session) -> None:
    # Every change of a user takes the enabled admins' row locks first, in id order: two
    # admins demoting or disabling each other at once run one after the other, and the second
    # then finds it is no longer an admin (so the site keeps one), without a deadlock.
    session.exec(
        select(User.id)
        .where(User.role == Role.ADMIN, col(User.disabled).is_(False))
        .order_by(col(User.id))
        .with_for_update()
    ).all()


def _changeable(session: Session, actor_user_id: int, user_id: int) -> User:
    _lock_admins(session)
    audit.require_site_admin(session, actor_user_id)
    if user_id == actor_user_id:
        raise PermissionDeniedError(NOT_YOURSELF, code="admin_self")
    user = session.get(User, user_id, with_for_update=True, populate_existing=True)
    if user is None:
        raise NotFoundError(USER_NOT_FOUND)
    return user


def _keep_an_admin(session: Session, user: User) -> None:
    if not user.is_admin or user.disabled:
        return
    others = session.exec(
        select(func.count()).where(
            User.role == Role.ADMIN, col(User.disabled).is_(False), User.id != user.id
        )
    ).one()
    if others == 0:
        raise PermissionDeniedError(LAST_ADMIN, code="last_admin")


def set_disabled(
    session: Session,
    *,
    actor_user_id: int,
    user_id: int,
    disabled: bool,
    reason: str,
    sessions: SessionCache | None = None,
) -> User:
    """Disable a user (every session of theirs ends at once) or enable them again; commits.

    Raises:
        PermissionDeniedError: not a site admin, the admin themself, or the last admin.
        NotFoundError: no such user. ValidationError: field ``reason``.
    """
    user = _changeable(session, actor_user_id, user_id)
    cleaned = clean_reason(reason)
    if disabled:
        _keep_an_admin(session, user)
    ended = 0
    if disabled:
        result = session.exec(delete(LoginSession).where(col(LoginSession.user_id) == user_id))
        ended = result.rowcount
    before, user.disabled = user.disabled, disabled
    session.add(user)
    audit.record(session, actor_user_id=actor_user_id,
                 action="admin.user_disabled" if disabled else "admin.user_enabled",
                 target_type="user", target_id=user_id, before=before, after=disabled,
                 sessions_ended=ended, reason=cleaned)  # fmt: skip
    session.commit()
    sessions_ended(sessions, user_id)
    return user


def set_site_role(
    session: Session,
    *,
    actor_user_id: int,
    user_id: int,
    role: str,
    reason: str,
    sessions: SessionCache | None = None,
) -> User:
    """Make a user a site admin or a creator; commits.

    Raises:
        PermissionDeniedError: not a site admin, the admin themself, or the last admin.
        NotFoundError: no such user. ValidationError: fields ``role`` and ``reason``.
    """
    user = _changeable(session, actor_user_id, user_id)
    if role not in {r.value for r in Role}:
        raise ValidationError({"role": f"Pick one of: {', '.join(r.value for r in Role)}."})
    cleaned = clean_reason(reason)
    wanted = Role(role)
    if wanted != Role.ADMIN:
        _keep_an_admin(session, user)
    before, user.role = user.role, wanted
    session.add(user)
    audit.record(session, actor_user_id=actor_user_id, action="admin.site_role_changed",
                 target_type="user", target_id=user_id, before=str(before), after=str(wanted),
                 reason=cleaned)  # fmt: skip
    session.commit()
    sessions_ended(sessions, user_id)  # their cached "is admin" answer is stale now
    return user
