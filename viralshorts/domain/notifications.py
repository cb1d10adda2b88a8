"""Notifications: the bell's messages for the members of a workspace, and email for them.

``notify`` writes one row per recipient (the caller commits) and emails each recipient who has
not muted that kind (``EmailSender`` port: SMTP when configured, the local outbox otherwise).
Everything else here is what the bell and the profile page read and change, always for the
signed-in user in their current workspace.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from viralshorts.errors import IntegrationError, ValidationError
from viralshorts.integrations.ports import OutgoingEmail, Services
from viralshorts.models import (
    Membership,
    Notification,
    NotificationPreference,
    User,
    WorkspaceRole,
    utcnow,
)

log = logging.getLogger(__name__)

# Each kind, what the profile page calls it, and who gets it when no user_ids are given.
_EVERY_MEMBER = frozenset(WorkspaceRole)
_DECIDERS = frozenset({WorkspaceRole.OWNER, WorkspaceRole.ADMIN})
KINDS: dict[str, tuple[str, frozenset[WorkspaceRole]]] = {
    "video_ready": ("A video is ready", _EVERY_MEMBER),
    "video_failed": ("A video failed", _EVERY_MEMBER),
    "post_published": ("A post was published", _EVERY_MEMBER),
    "post_failed": ("A post failed", _EVERY_MEMBER),
    "account_needs_reconnect": ("An account needs reconnecting", _EVERY_MEMBER),
    "approval_requested": ("A post waits for approval", _DECIDERS),
}
LIST_LIMIT = 20


@dataclass(frozen=True)
class NotificationItem:
    """One message as the bell shows it."""

    id: int
    kind: str
    title: str
    body: str
    link: str
    created_at: datetime
    read: bool


def notify(
    session: Session,
    services: Services | None,
    *,
    workspace_id: int,
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    user_ids: list[int] | None = None,
) -> None:
    """Tell members of the workspace about something (the caller commits).

    Args:
        session: The database session (rows are added and flushed, not committed).
        services: For email (``services.email``); None writes the bell's rows only.
        workspace_id: The workspace the message is about.
        kind: One of ``KINDS``.
        title: One line for the bell and the email subject.
        body: More words, optional.
        link: A path in the app (``/app/videos/7``) the message leads to.
        user_ids: The recipients (members only); None: every member whose role sees the kind.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    recipients = _recipients(session, workspace_id, kind, user_ids)
    for user_id in recipients:
        session.add(
            Notification(
                workspace_id=workspace_id,
                user_id=user_id,
                kind=kind,
                title=title[:200],
                body=body,
                link=link[:500],
            )
        )
    session.flush()
    if services is not None and services.email is not None:
        _email(session, services, recipients, kind=kind, title=title, body=body, link=link)


def _recipients(
    session: Session, workspace_id: int, kind: str, user_ids: list[int] | None
) -> list[int]:
    query = select(Membership.user_id, Membership.role).where(
        Membership.workspace_id == workspace_id
    )
    members = {user_id: WorkspaceRole(role) for user_id, role in session.exec(query).all()}
    if user_ids is not None:
        return [user_id for user_id in dict.fromkeys(user_ids) if user_id in members]
    audience = KINDS[kind][1]
    return sorted(user_id for user_id, role in members.items() if role in audience)


def _email(
    session: Session,
    services: Services,
    recipients: list[int],
    *,
    kind: str,
    title: str,
    body: str,
    link: str,
) -> None:
    assert services.email is not None
    if not recipients:
        return
    users = session.exec(select(User).where(col(User.id).in_(recipients))).all()
    text = _email_body(services, body, link)
    for user in users:
        if user.disabled or kind in email_muted_kinds(session, user.id or 0):
            continue
        try:
            services.email.send(OutgoingEmail(to=user.email, subject=title, body=text))
        except IntegrationError as exc:  # the bell has it; a mail problem changes nothing
            log.warning("notification email to user %s failed: %s", user.id, exc)


def _email_body(services: Services, body: str, link: str) -> str:
    base = services.settings.public_base_url.rstrip("/")
    lines = [body] if body else []
    if link:
        lines.append(f"Open it: {base}{link}")
    lines.append(f"Choose which emails you get: {base}/app/profile")
    return "\n\n".join(lines) + "\n"


# ---------------------------------------------------------------- the bell


def unread_count(session: Session, *, user_id: int, workspace_id: int) -> int:
    """How many of the user's messages in this workspace are unread."""
    query = select(func.count()).where(
        Notification.user_id == user_id,
        Notification.workspace_id == workspace_id,
        col(Notification.read_at).is_(None),
    )
    return int(session.exec(query).one())


def recent(
    session: Session, *, user_id: int, workspace_id: int, limit: int = LIST_LIMIT
) -> list[NotificationItem]:
    """The user's newest messages in this workspace, newest first."""
    rows = session.exec(
        select(Notification)
        .where(Notification.user_id == user_id, Notification.workspace_id == workspace_id)
        .order_by(col(Notification.created_at).desc(), col(Notification.id).desc())
        .limit(limit)
    ).all()
    return [
        NotificationItem(
            id=row.id or 0,
            kind=row.kind,
            title=row.title,
            body=row.body,
            link=row.link,
            created_at=row.created_at,
            read=row.read_at is not None,
        )
        for row in rows
    ]


def mark_read(
    session: Session, *, user_id: int, workspace_id: int, notification_id: int | None = None
) -> int:
    """Mark one message (or, with None, all of them) read; only the user's own. Commits.

    Returns:
        How many messages changed.
    """
    query = sa.update(Notification).where(
        col(Notification.user_id) == user_id,
        col(Notification.workspace_id) == workspace_id,
        col(Notification.read_at).is_(None),
    )
    if notification_id is not None:
        query = query.where(col(Notification.id) == notification_id)
    changed = session.exec(query.values(read_at=utcnow())).rowcount  # type: ignore[call-overload]
    session.commit()
    return int(changed)


# ---------------------------------------------------------------- email choices


def email_muted_kinds(session: Session, user_id: int) -> set[str]:
    """The kinds the user does not want by email."""
    preference = session.get(NotificationPreference, user_id)
    return set(preference.email_muted_kinds) if preference else set()


def set_email_wanted(session: Session, *, user_id: int, kind: str, wanted: bool) -> set[str]:
    """Turn email for one kind on or off for the user (commits); returns the muted kinds.

    Raises:
        ValidationError: an unknown kind (field ``kind``).
    """
    if kind not in KINDS:
        raise ValidationError({"kind": "Unknown kind of notification."})
    preference = session.get(NotificationPreference, user_id) or NotificationPreference(
        user_id=user_id
    )
    muted = set(preference.email_muted_kinds)
    muted = muted - {kind} if wanted else muted | {kind}
    preference.email_muted_kinds = sorted(muted)
    preference.updated_at = utcnow()
    session.add(preference)
    session.commit()
    return muted
