"""Workspaces as teams: creating and switching them, members and roles, invitations, audit.

Every function receives a sqlmodel ``Session`` first; the ones that change something commit
before they return, so a member whose access was taken away is dropped from the session cache
(``session_checks.sessions_ended``) only once the database already says so. An ``actor`` is
re-read from the database on every call: a member removed a moment ago gets NotFoundError,
and a role changed a moment ago is the one checked. Invitations are single-use links whose
token is only stored as its SHA-256. Every change writes an ``AuditLog`` row.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlmodel import Session, col, func, select, update

from viralshorts.domain import account_emails, quotas
from viralshorts.domain.accounts import _sha256, normalise_email
from viralshorts.domain.session_checks import sessions_ended
from viralshorts.domain.workspaces import NAME_MAX, Action, Actor, actor_for, require
from viralshorts.errors import (
    IntegrationError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    ValidationError,
)
from viralshorts.integrations.ports import Services, SessionCache
from viralshorts.models import (
    AuditLog,
    Invitation,
    LoginSession,
    Membership,
    User,
    Workspace,
    WorkspaceRole,
    utcnow,
)

log = logging.getLogger(__name__)

INVITATION_LIFETIME = timedelta(days=7)
MAX_TOKEN_LENGTH = 200  # ours are 43 characters
MEMBER_NOT_FOUND = "That person is not a member of this workspace."
INVITATION_NOT_FOUND = "Invitation not found."
_ROLE_ORDER = {
    WorkspaceRole.OWNER: 0,
    WorkspaceRole.ADMIN: 1,
    WorkspaceRole.EDITOR: 2,
    WorkspaceRole.VIEWER: 3,
}

InvitationStatus = Literal["pending", "expired", "used", "revoked", "unknown"]


# ---------------------------------------------------------------- what the UI receives


@dataclass(frozen=True)
class WorkspaceSummary:
    """A workspace as one of its members sees it in the switcher."""

    id: int
    name: str
    role: str
    personal: bool
    member_count: int


@dataclass(frozen=True)
class MemberSummary:
    """One member of a workspace."""

    user_id: int
    email: str
    name: str
    role: str
    joined_at: datetime


@dataclass(frozen=True)
class InvitationLink:
    """A new invitation: its id and the link to copy (``emailed``: sent to the invitee)."""

    invitation_id: int
    url: str
    emailed: bool = False


@dataclass(frozen=True)
class InvitationSummary:
    """A pending invitation, as the members page lists it."""

    id: int
    email: str
    role: str
    created_at: datetime
    expires_at: datetime
    invited_by_email: str


@dataclass(frozen=True)
class InvitationPreview:
    """What the accept page shows before sign-in; empty fields when ``status`` is unknown."""

    workspace_name: str
    role: str
    email: str
    status: InvitationStatus


# ---------------------------------------------------------------- shared helpers


def session_token_hash(raw_token: str) -> str:
    """The stored form (SHA-256) of a session cookie token, as ``switch_workspace`` takes it."""
    return _sha256(raw_token)


def stored_workspace_id(session: Session, raw_token: str) -> int | None:
    """The workspace the session with this cookie token last switched to, or None."""
    if not raw_token:
        return None
    return session.exec(
        select(LoginSession.workspace_id).where(LoginSession.token_hash == _sha256(raw_token))
    ).first()


def _fresh(session: Session, actor: Actor, action: Action) -> Actor:
    """The actor with their role as it is now, refused unless it allows ``action``."""
    current = actor_for(session, user_id=actor.user_id, workspace_id=actor.workspace_id)
    require(current, action)
    return current


def _lock_workspace(session: Session, workspace_id: int) -> None:
    """Serialise membership changes of one workspace until commit (PostgreSQL row lock).

    Without it two owners demoting each other at the same moment would both see two owners
    and leave none; the second now waits, then reads the first one's result.
    """
    session.exec(select(Workspace.id).where(Workspace.id == workspace_id).with_for_update())


def _changing(session: Session, actor: Actor, action: Action) -> Actor:
    """``_fresh`` for a change: the workspace is locked first, so the role read is current."""
    _lock_workspace(session, actor.workspace_id)
    return _fresh(session, actor, action)


def _commit_change(
    session: Session,
    actor_user_id: int,
    workspace_id: int,
    action: str,
    *,
    target_type: str,
    target_id: int | str,
    sessions: SessionCache | None = None,
    ended_for: tuple[int, ...] = (),
    **details: Any,
) -> None:
    """Record the change in the audit log, commit it, then drop the cached session checks of
    ``ended_for`` (members whose access it changed) so their open tabs re-check at once."""
    session.add(
        AuditLog(
            user_id=actor_user_id,
            workspace_id=workspace_id,
            action=action,
            target_type=target_type,
            target_id=str(target_id),
            details=details,
        )
    )
    session.commit()
    for user_id in ended_for:
        sessions_ended(sessions, user_id)


def _parse_role(role: str) -> WorkspaceRole:
    try:
        return WorkspaceRole(role)
    except ValueError:
        raise ValidationError(
            {"role": "Choose owner, admin, editor or viewer."},
            field_codes={"role": "role_unknown"},
        ) from None


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ValidationError(
            {"name": "Give the workspace a name."}, field_codes={"name": "required"}
        )
    if len(cleaned) > NAME_MAX:
        raise ValidationError(
            {"name": f"Keep the name to {NAME_MAX} characters or fewer."},
            field_codes={"name": "too_long"},
            params={"max": NAME_MAX},
        )
    return cleaned


def _workspace(session: Session, workspace_id: int) -> Workspace:
    workspace = session.get(Workspace, workspace_id)
    assert workspace is not None  # a membership's foreign key points at it
    return workspace


def _member_count(session: Session, workspace_id: int) -> int:
    return session.exec(
        select(func.count()).select_from(Membership).where(Membership.workspace_id == workspace_id)
    ).one()


def _summary(session: Session, workspace: Workspace, role: WorkspaceRole) -> WorkspaceSummary:
    assert workspace.id is not None
    return WorkspaceSummary(
        id=workspace.id,
        name=workspace.name,
        role=WorkspaceRole(role).value,
        personal=workspace.personal,
        member_count=_member_count(session, workspace.id),
    )


def _membership(session: Session, workspace_id: int, user_id: int) -> Membership:
    row = session.exec(
        select(Membership).where(
            Membership.workspace_id == workspace_id, Membership.user_id == user_id
        )
    ).first()
    if row is None:
        raise NotFoundError(MEMBER_NOT_FOUND, code="member_not_found")
    return row


def _owner_count(session: Session, workspace_id: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(Membership)
        .where(Membership.workspace_id == workspace_id, Membership.role == WorkspaceRole.OWNER)
    ).one()


def _owner_only(what: str) -> PermissionDeniedError:
    return PermissionDeniedError(
        f"Only an owner can {what}.", code="owner_only", params={"action": what}
    )


def _refuse_last_owner(session: Session, member: Membership, what: str) -> None:
    if member.role == WorkspaceRole.OWNER and _owner_count(session, member.workspace_id) <= 1:
        raise PermissionDeniedError(
            f"The last owner cannot {what}. Make another member an owner first "
            "(transfer ownership).",
            code="last_owner",
        )


def _refuse_personal_owner(session: Session, member: Membership, what: str) -> None:
    """A personal workspace always keeps its creator as an owner (sign-in falls back to it)."""
    workspace = _workspace(session, member.workspace_id)
    if workspace.personal and workspace.created_by_user_id == member.user_id:
        raise PermissionDeniedError(
            f"A personal workspace's own owner cannot {what}.",
            code="personal_workspace_owner",
        )


def _forget_choice(session: Session, workspace_id: int, user_id: int) -> None:
    """Sessions that had switched to a workspace the user left fall back to the personal one."""
    session.exec(
        update(LoginSession)
        .where(col(LoginSession.user_id) == user_id, col(LoginSession.workspace_id) == workspace_id)
        .values(workspace_id=None)
    )


def _sessions(services: Services | None) -> SessionCache | None:
    return None if services is None else services.sessions


# ---------------------------------------------------------------- workspaces


def create_workspace(session: Session, *, user_id: int, name: str) -> WorkspaceSummary:
    """Make a (non-personal) workspace with ``user_id`` as its owner.

    Raises:
        ValidationError: field ``name`` (empty, or longer than 80 characters).
    """
    cleaned = _clean_name(name)
    workspace = Workspace(name=cleaned, personal=False, created_by_user_id=user_id)
    session.add(workspace)
    session.flush()
    assert workspace.id is not None
    session.add(Membership(workspace_id=workspace.id, user_id=user_id, role=WorkspaceRole.OWNER))
    _commit_change(
        session,
        user_id,
        workspace.id,
        "workspace.created",
        target_type="workspace",
        target_id=workspace.id,
        name=cleaned,
    )
    return _summary(session, workspace, WorkspaceRole.OWNER)


def rename_workspace(session: Session, *, actor: Actor, name: str) -> WorkspaceSummary:
    """Rename the actor's workspace (owners and admins).

    Raises:
        NotFoundError: the actor is not a member. PermissionDeniedError: their role.
        ValidationError: field ``name``.
    """
    current = _changing(session, actor, Action.MANAGE_SETTINGS)
    cleaned = _clean_name(name)
    workspace = _workspace(session, current.workspace_id)
    old = workspace.name
    workspace.name = cleaned
    session.add(workspace)
    _commit_change(
        session,
        current.user_id,
        current.workspace_id,
        "workspace.renamed",
        target_type="workspace",
        target_id=current.workspace_id,
        old_name=old,
        name=cleaned,
    )
    return _summary(session, workspace, current.role)


def list_workspaces(session: Session, *, user_id: int) -> list[WorkspaceSummary]:
    """Every workspace the user belongs to: the personal one first, then by name."""
    rows = session.exec(
        select(Workspace, Membership.role)
        .join(Membership, Membership.workspace_id == Workspace.id)
        .where(Membership.user_id == user_id)
        .order_by(col(Workspace.personal).desc(), func.lower(Workspace.name), Workspace.id)
    ).all()
    return [_summary(session, workspace, WorkspaceRole(role)) for workspace, role in rows]


def switch_workspace(
    session: Session,
    *,
    user_id: int,
    session_token_hash: str,
    workspace_id: int,
    sessions: SessionCache | None = None,
) -> WorkspaceSummary:
    """Make this browser session act in ``workspace_id`` from its next event on.

    Args:
        session: The database session.
        user_id: The signed-in user.
        session_token_hash: ``session_token_hash(cookie token)`` of this browser's session.
        workspace_id: Where to act; the user must be a member.
        sessions: The session cache; given, the cached lookup is dropped so the switch shows
            at once rather than within a second.

    Raises:
        NotFoundError: not a member (or the session has ended).
    """
    current = actor_for(session, user_id=user_id, workspace_id=workspace_id)
    row = session.exec(
        select(LoginSession).where(
            LoginSession.token_hash == session_token_hash, LoginSession.user_id == user_id
        )
    ).first()
    if row is None:
        raise NotFoundError("This session has ended. Sign in again.", code="session_not_found")
    row.workspace_id = workspace_id
    session.add(row)
    session.commit()
    sessions_ended(sessions, user_id)
    return _summary(session, _workspace(session, workspace_id), current.role)


# ---------------------------------------------------------------- members


def list_members(session: Session, *, actor: Actor) -> list[MemberSummary]:
    """The workspace's members, owners first (every member may see them)."""
    current = _fresh(session, actor, Action.VIEW)
    rows = session.exec(
        select(Membership, User)
        .join(User, col(User.id) == Membership.user_id)
        .where(Membership.workspace_id == current.workspace_id)
    ).all()
    members = [
        MemberSummary(
            user_id=membership.user_id,
            email=user.email,
            name=user.display_name,
            role=WorkspaceRole(membership.role).value,
            joined_at=membership.created_at,
        )
        for membership, user in rows
    ]
    return sorted(members, key=lambda m: (_ROLE_ORDER[WorkspaceRole(m.role)], m.email))


def change_role(
    session: Session, services: Services | None, *, actor: Actor, user_id: int, role: str
) -> None:
    """Give a member another role; only an owner grants or takes away ``owner``.

    Raises:
        NotFoundError: the actor or the target is not a member.
        PermissionDeniedError: codes ``permission_denied``, ``owner_only``, ``last_owner``,
            ``personal_workspace_owner``.
        ValidationError: field ``role``.
    """
    current = _changing(session, actor, Action.MANAGE_MEMBERS)
    new_role = _parse_role(role)
    member = _membership(session, current.workspace_id, user_id)
    old_role = WorkspaceRole(member.role)
    if WorkspaceRole.OWNER in (old_role, new_role) and current.role != WorkspaceRole.OWNER:
        raise _owner_only("make someone an owner or change an owner's role")
    if old_role == new_role:
        return
    if old_role == WorkspaceRole.OWNER:
        _refuse_last_owner(session, member, "step down")
        _refuse_personal_owner(session, member, "stop being its owner")
    member.role = new_role
    session.add(member)
    _commit_change(
        session,
        current.user_id,
        current.workspace_id,
        "member.role_changed",
        target_type="user",
        target_id=user_id,
        old_role=old_role.value,
        role=new_role.value,
        sessions=_sessions(services),
        ended_for=(user_id,),
    )


def _remove(session: Session, member: Membership) -> None:
    _forget_choice(session, member.workspace_id, member.user_id)
    session.delete(member)


def remove_member(
    session: Session, services: Services | None, *, actor: Actor, user_id: int
) -> None:
    """Take a member out of the workspace; their open tabs lose access at their next event.

    Raises:
        NotFoundError: the actor or the target is not a member.
        PermissionDeniedError: codes ``permission_denied``, ``owner_only``, ``last_owner``,
            ``personal_workspace_owner``.
    """
    current = _changing(session, actor, Action.MANAGE_MEMBERS)
    member = _membership(session, current.workspace_id, user_id)
    role = WorkspaceRole(member.role)
    if role == WorkspaceRole.OWNER and current.role != WorkspaceRole.OWNER:
        raise _owner_only("remove an owner")
    _refuse_last_owner(session, member, "be removed")
    _refuse_personal_owner(session, member, "be removed from it")
    _remove(session, member)
    _commit_change(
        session,
        current.user_id,
        current.workspace_id,
        "member.removed",
        target_type="user",
        target_id=user_id,
        role=role.value,
        sessions=_sessions(services),
        ended_for=(user_id,),
    )


def leave_workspace(session: Session, services: Services | None, *, actor: Actor) -> None:
    """The actor leaves their workspace (the session then falls back to their personal one).

    Raises:
        NotFoundError: not a member.
        PermissionDeniedError: codes ``last_owner``, ``personal_workspace_owner``.
    """
    _lock_workspace(session, actor.workspace_id)
    current = actor_for(session, user_id=actor.user_id, workspace_id=actor.workspace_id)
    member = _membership(session, current.workspace_id, current.user_id)
    _refuse_personal_owner(session, member, "leave it")
    _refuse_last_owner(session, member, "leave")
    _remove(session, member)
    _commit_change(
        session,
        current.user_id,
        current.workspace_id,
        "member.left",
        target_type="user",
        target_id=current.user_id,
        role=current.role.value,
        sessions=_sessions(services),
        ended_for=(current.user_id,),
    )


def transfer_ownership(
    session: Session, services: Services | None, *, actor: Actor, user_id: int
) -> None:
    """Make another member the owner; the acting owner becomes an admin.

    Raises:
        NotFoundError: the actor or the target is not a member.
        PermissionDeniedError: codes ``permission_denied`` (not an owner),
            ``personal_workspace_owner`` (a personal workspace stays its creator's).
        ValidationError: field ``user_id`` (transferring to oneself).
    """
    current = _changing(session, actor, Action.TRANSFER_OWNERSHIP)
    if user_id == current.user_id:
        raise ValidationError(
            {"user_id": "Choose another member to become the owner."},
            field_codes={"user_id": "transfer_to_self"},
        )
    target = _membership(session, current.workspace_id, user_id)
    mine = _membership(session, current.workspace_id, current.user_id)
    _refuse_personal_owner(session, mine, "hand it over")
    old_role = WorkspaceRole(target.role)
    target.role = WorkspaceRole.OWNER
    mine.role = WorkspaceRole.ADMIN
    session.add(target)
    session.add(mine)
    _commit_change(
        session,
        current.user_id,
        current.workspace_id,
        "ownership.transferred",
        target_type="user",
        target_id=user_id,
        old_role=old_role.value,
        sessions=_sessions(services),
        ended_for=(
            current.user_id,
            user_id,
        ),
    )


# ---------------------------------------------------------------- invitations


def _pending(now: datetime) -> Any:
    return (
        col(Invitation.accepted_at).is_(None),
        col(Invitation.revoked_at).is_(None),
        col(Invitation.expires_at) > now,
    )


def invite(
    session: Session,
    services: Services | None,
    *,
    actor: Actor,
    email: str,
    role: str,
    now: datetime | None = None,
) -> InvitationLink:
    """Invite someone by email with a role: a single-use link valid for 7 days.

    A pending invitation to the same address is revoked and replaced. The link is sent
    through ``services.email`` when there is one; a failed send is logged, not raised (the
    link is shown to copy either way; ``emailed`` says whether it went out).

    Raises:
        NotFoundError: the actor is not a member.
        PermissionDeniedError: codes ``permission_denied``, ``owner_only`` (an admin inviting
            an owner).
        ValidationError: fields ``email`` (malformed, ``already_member``) and ``role``.
    """
    current = _changing(session, actor, Action.MANAGE_MEMBERS)
    now = now or utcnow()
    new_role = _parse_role(role)
    if new_role == WorkspaceRole.OWNER and current.role != WorkspaceRole.OWNER:
        raise _owner_only("invite an owner")
    address = normalise_email(email)
    if not account_emails.looks_like_email(address):
        raise ValidationError(
            {"email": "Enter a valid email address."}, field_codes={"email": "email_invalid"}
        )
    already = session.exec(
        select(Membership.id)
        .join(User, col(User.id) == Membership.user_id)
        .where(Membership.workspace_id == current.workspace_id, User.email == address)
    ).first()
    if already is not None:
        raise ValidationError(
            {"email": "This person is already a member of the workspace."},
            field_codes={"email": "already_member"},
        )
    _require_seat(session, current.workspace_id, except_email=address)
    session.exec(
        update(Invitation)
        .where(
            col(Invitation.workspace_id) == current.workspace_id,
            col(Invitation.email) == address,
            col(Invitation.accepted_at).is_(None),
            col(Invitation.revoked_at).is_(None),
        )
        .values(revoked_at=now)
    )
    raw = secrets.token_urlsafe(32)
    invitation = Invitation(
        workspace_id=current.workspace_id,
        email=address,
        role=new_role,
        token_hash=_sha256(raw),
        invited_by_user_id=current.user_id,
        created_at=now,
        expires_at=now + INVITATION_LIFETIME,
    )
    session.add(invitation)
    session.flush()
    assert invitation.id is not None
    _commit_change(
        session,
        current.user_id,
        current.workspace_id,
        "member.invited",
        target_type="invitation",
        target_id=invitation.id,
        email=address,
        role=new_role.value,
    )
    url = account_emails.link(account_emails.INVITE_PATH, raw)
    emailed = _send_invitation(session, services, current, address=address, role=new_role, raw=raw)
    return InvitationLink(invitation_id=invitation.id, url=url, emailed=emailed)


def _send_invitation(
    session: Session,
    services: Services | None,
    actor: Actor,
    *,
    address: str,
    role: WorkspaceRole,
    raw: str,
) -> bool:
    sender = None if services is None else services.email
    if sender is None:
        return False
    inviter = session.get(User, actor.user_id)
    message = account_emails.workspace_invitation(
        address,
        raw,
        INVITATION_LIFETIME,
        workspace_name=_workspace(session, actor.workspace_id).name,
        inviter=(inviter.display_name or inviter.email) if inviter is not None else "",
        role=role.value,
    )
    try:
        sender.send(message)
    except IntegrationError:
        log.warning("invitation email to a member of workspace %s not sent", actor.workspace_id)
        return False
    return True


def list_invitations(session: Session, *, actor: Actor) -> list[InvitationSummary]:
    """The workspace's invitations still waiting to be accepted, newest first."""
    current = _fresh(session, actor, Action.MANAGE_MEMBERS)
    rows = session.exec(
        select(Invitation, User.email)
        .join(User, col(User.id) == Invitation.invited_by_user_id, isouter=True)
        .where(Invitation.workspace_id == current.workspace_id, *_pending(utcnow()))
        .order_by(col(Invitation.created_at).desc(), col(Invitation.id).desc())
    ).all()
    return [
        InvitationSummary(
            id=invitation.id or 0,
            email=invitation.email,
            role=WorkspaceRole(invitation.role).value,
            created_at=invitation.created_at,
            expires_at=invitation.expires_at,
            invited_by_email=inviter_email or "",
        )
        for invitation, inviter_email in rows
    ]


def revoke_invitation(session: Session, *, actor: Actor, invitation_id: int) -> None:
    """Make a pending invitation's link stop working.

    Raises:
        NotFoundError: not a member, or no pending invitation with this id in the workspace.
        PermissionDeniedError: the actor's role.
    """
    current = _changing(session, actor, Action.MANAGE_MEMBERS)
    now = utcnow()
    invitation = session.get(Invitation, invitation_id)
    if (
        invitation is None
        or invitation.workspace_id != current.workspace_id
        or invitation.accepted_at is not None
        or invitation.revoked_at is not None
    ):
        raise NotFoundError(INVITATION_NOT_FOUND, code="invitation_not_found")
    invitation.revoked_at = now
    session.add(invitation)
    _commit_change(
        session,
        current.user_id,
        current.workspace_id,
        "invitation.revoked",
        target_type="invitation",
        target_id=invitation_id,
        email=invitation.email,
        role=WorkspaceRole(invitation.role).value,
    )


def _find_invitation(session: Session, token: str) -> Invitation | None:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return session.exec(select(Invitation).where(Invitation.token_hash == _sha256(token))).first()


def _status(invitation: Invitation, now: datetime) -> InvitationStatus:
    if invitation.accepted_at is not None:
        return "used"
    if invitation.revoked_at is not None:
        return "revoked"
    if now >= invitation.expires_at:
        return "expired"
    return "pending"


def invitation_preview(
    session: Session, *, token: str, now: datetime | None = None
) -> InvitationPreview:
    """What an invitation link offers, for the accept page (before anyone signs in)."""
    invitation = _find_invitation(session, token)
    if invitation is None:
        return InvitationPreview(workspace_name="", role="", email="", status="unknown")
    return InvitationPreview(
        workspace_name=_workspace(session, invitation.workspace_id).name,
        role=WorkspaceRole(invitation.role).value,
        email=invitation.email,
        status=_status(invitation, now or utcnow()),
    )


_REFUSALS: dict[str, tuple[str, str]] = {
    "unknown": ("This invitation link is not valid. Ask for a new one.", "invitation_unknown"),
    "used": ("This invitation was already used. Ask for a new one.", "invitation_used"),
    "revoked": ("This invitation was withdrawn. Ask for a new one.", "invitation_revoked"),
    "expired": ("This invitation has expired. Ask for a new one.", "invitation_expired"),
}


def _refused(status: str) -> ValidationError:
    message, code = _REFUSALS[status]
    return ValidationError({"token": message}, field_codes={"token": code})


def accept_invitation(
    session: Session, *, user_id: int, token: str, now: datetime | None = None
) -> WorkspaceSummary:
    """Join the invitation's workspace with its role; the link then stops working.

    Raises:
        ValidationError: field ``token``: unknown, used, revoked or expired link, or signed
            in with another address than the invited one (code ``wrong_account``).
    """
    now = now or utcnow()
    invitation = _find_invitation(session, token)
    status = "unknown" if invitation is None else _status(invitation, now)
    if invitation is None or status != "pending":
        raise _refused(status)
    _lock_workspace(session, invitation.workspace_id)
    user = session.get(User, user_id)
    if user is None or normalise_email(user.email) != invitation.email:
        raise ValidationError(
            {
                "token": f"This invitation was sent to {invitation.email}. Sign in with that "
                "address to accept it."
            },
            field_codes={"token": "wrong_account"},
            params={"email": invitation.email},
        )
    _require_seat_to_join(session, invitation.workspace_id, user_id)
    claimed = session.exec(
        update(Invitation)
        .where(
            col(Invitation.id) == invitation.id,
            col(Invitation.accepted_at).is_(None),
            col(Invitation.revoked_at).is_(None),
        )
        .values(accepted_at=now)
    )
    if claimed.rowcount != 1:  # a concurrent accept or revoke came first
        session.rollback()
        raise _refused("used")
    role = WorkspaceRole(invitation.role)
    existing = session.exec(
        select(Membership).where(
            Membership.workspace_id == invitation.workspace_id, Membership.user_id == user_id
        )
    ).first()
    if existing is None:
        session.add(Membership(workspace_id=invitation.workspace_id, user_id=user_id, role=role))
    else:
        role = WorkspaceRole(existing.role)  # joined meanwhile: keep the role they have
    _commit_change(
        session,
        user_id,
        invitation.workspace_id,
        "invitation.accepted",
        target_type="invitation",
        target_id=invitation.id or 0,
        email=invitation.email,
        role=role.value,
    )
    return _summary(session, _workspace(session, invitation.workspace_id), role)


# ---------------------------------------------------------------- team seats (the plan's limit)


def _require_seat(session: Session, workspace_id: int, *, except_email: str) -> None:
    """Refuse an invitation beyond the plan's seats (a replaced invitation keeps its seat)."""
    try:
        quotas.require_seat(session, workspace_id, except_email=except_email)
    except QuotaExceededError:
        session.rollback()
        raise


def _require_seat_to_join(session: Session, workspace_id: int, user_id: int) -> None:
    """Refuse a new member beyond the plan's seats (someone already a member just stays)."""
    already = session.exec(
        select(Membership.id).where(
            Membership.workspace_id == workspace_id, Membership.user_id == user_id
        )
    ).first()
    if already is not None:
        return
    try:
        quotas.require_seat(session, workspace_id, joining=True)
    except QuotaExceededError:
        session.rollback()
        raise
