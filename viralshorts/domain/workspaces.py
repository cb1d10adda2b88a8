"""Workspaces and who may do what in them: the actor, the permission table, and membership.

A domain use case receives an ``Actor`` (the user, the workspace they act in, their role there)
and calls ``require(actor, Action.X)`` once; rows are then filtered by ``actor.workspace_id``.
The site-wide admin role (``models.Role``) is separate: it never grants anything here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session, select

from viralshorts.errors import NotFoundError, PermissionDeniedError
from viralshorts.models import Membership, User, Workspace, WorkspaceRole

WORKSPACE_NOT_FOUND = "Workspace not found."
NAME_MAX = 80


class Action(StrEnum):
    """Everything a member may be allowed to do in a workspace."""

    VIEW = "view"
    MANAGE_CAMPAIGNS = "manage_campaigns"
    MANAGE_VIDEOS = "manage_videos"
    MANAGE_MEDIA = "manage_media"
    MANAGE_POSTS = "manage_posts"
    APPROVE_POSTS = "approve_posts"
    MANAGE_ACCOUNTS = "manage_accounts"
    MANAGE_MEMBERS = "manage_members"
    MANAGE_SETTINGS = "manage_settings"
    MANAGE_BILLING = "manage_billing"
    DELETE_WORKSPACE = "delete_workspace"
    TRANSFER_OWNERSHIP = "transfer_ownership"


_OWNER, _ADMIN, _EDITOR, _VIEWER = (
    WorkspaceRole.OWNER,
    WorkspaceRole.ADMIN,
    WorkspaceRole.EDITOR,
    WorkspaceRole.VIEWER,
)

# The one place that decides who may do what. Read a row as "this action: these roles".
PERMISSIONS: dict[Action, frozenset[WorkspaceRole]] = {
    Action.VIEW: frozenset({_OWNER, _ADMIN, _EDITOR, _VIEWER}),
    Action.MANAGE_CAMPAIGNS: frozenset({_OWNER, _ADMIN, _EDITOR}),
    Action.MANAGE_VIDEOS: frozenset({_OWNER, _ADMIN, _EDITOR}),
    Action.MANAGE_MEDIA: frozenset({_OWNER, _ADMIN, _EDITOR}),
    Action.MANAGE_POSTS: frozenset({_OWNER, _ADMIN, _EDITOR}),
    Action.APPROVE_POSTS: frozenset({_OWNER, _ADMIN}),
    Action.MANAGE_ACCOUNTS: frozenset({_OWNER, _ADMIN}),
    Action.MANAGE_MEMBERS: frozenset({_OWNER, _ADMIN}),
    Action.MANAGE_SETTINGS: frozenset({_OWNER, _ADMIN}),
    Action.MANAGE_BILLING: frozenset({_OWNER}),
    Action.DELETE_WORKSPACE: frozenset({_OWNER}),
    Action.TRANSFER_OWNERSHIP: frozenset({_OWNER}),
}

# What a refused person reads: "Your role in this workspace does not allow <this>."
_ACTION_WORDS: dict[Action, str] = {
    Action.VIEW: "seeing this workspace",
    Action.MANAGE_CAMPAIGNS: "changing campaigns",
    Action.MANAGE_VIDEOS: "making or changing videos",
    Action.MANAGE_MEDIA: "changing the media library",
    Action.MANAGE_POSTS: "scheduling or changing posts",
    Action.APPROVE_POSTS: "approving or rejecting posts",
    Action.MANAGE_ACCOUNTS: "connecting or removing social accounts",
    Action.MANAGE_MEMBERS: "inviting or removing members",
    Action.MANAGE_SETTINGS: "changing the workspace's settings",
    Action.MANAGE_BILLING: "changing the plan or billing",
    Action.DELETE_WORKSPACE: "deleting the workspace",
    Action.TRANSFER_OWNERSHIP: "transferring ownership",
}


@dataclass(frozen=True)
class Actor:
    """Who is acting, in which workspace, with which role there."""

    user_id: int
    workspace_id: int
    role: WorkspaceRole


def can(actor: Actor, action: Action) -> bool:
    """Whether the actor's role allows ``action`` in their workspace."""
    return actor.role in PERMISSIONS[action]


def require(actor: Actor, action: Action) -> None:
    """Refuse unless the actor's role allows ``action``.

    Raises:
        PermissionDeniedError: code ``permission_denied``, params ``{"action", "role"}``.
    """
    if not can(actor, action):
        raise PermissionDeniedError(
            f"Your role in this workspace ({actor.role.value}) does not allow "
            f"{_ACTION_WORDS[action]}. Ask an owner or admin.",
            code="permission_denied",
            params={"action": action.value, "role": actor.role.value},
        )


def actor_for(session: Session, *, user_id: int, workspace_id: int) -> Actor:
    """The actor for this user in this workspace, with their current role.

    Raises:
        NotFoundError: the user is not a member (a non-member never learns the workspace exists).
    """
    role = session.exec(
        select(Membership.role).where(
            Membership.user_id == user_id, Membership.workspace_id == workspace_id
        )
    ).first()
    if role is None:
        raise NotFoundError(WORKSPACE_NOT_FOUND, code="workspace_not_found")
    return Actor(user_id=user_id, workspace_id=workspace_id, role=WorkspaceRole(role))


def personal_workspace_name(user: User) -> str:
    """ "Ada's workspace", from the display name or else the email's local part."""
    owner = user.display_name.strip() or user.email.split("@", 1)[0]
    suffix = "'s workspace"
    return owner[: NAME_MAX - len(suffix)] + suffix


def create_personal_workspace(session: Session, user: User) -> Workspace:
    """Make the user's personal workspace with them as its owner (the caller commits)."""
    session.flush()  # the user's id
    workspace = Workspace(
        name=personal_workspace_name(user), personal=True, created_by_user_id=user.id
    )
    session.add(workspace)
    session.flush()
    session.add(Membership(workspace_id=workspace.id, user_id=user.id, role=WorkspaceRole.OWNER))
    session.flush()
    return workspace


def personal_workspace_id(session: Session, user_id: int) -> int:
    """The id of the personal workspace the user owns.

    Raises:
        NotFoundError: the user has none (an account made outside ``domain.accounts``).
    """
    workspace_id = session.exec(
        select(Workspace.id)
        .join(Membership, Membership.workspace_id == Workspace.id)
        .where(
            Workspace.personal == True,  # noqa: E712 (SQL expression)
            Membership.user_id == user_id,
            Membership.role == WorkspaceRole.OWNER,
        )
        .order_by(Workspace.id)
    ).first()
    if workspace_id is None:
        raise NotFoundError(WORKSPACE_NOT_FOUND, code="workspace_not_found")
    return workspace_id


def personal_actor(session: Session, user_id: int) -> Actor:
    """The user acting as owner of their personal workspace (the default until switching exists)."""
    return Actor(
        user_id=user_id,
        workspace_id=personal_workspace_id(session, user_id),
        role=WorkspaceRole.OWNER,
    )


def current_workspace(
    session: Session, user_id: int, workspace_id: int | None = None
) -> tuple[int, str, str]:
    """The workspace a signed-in user acts in: ``(id, name, role)``.

    Args:
        session: The database session.
        user_id: The signed-in user.
        workspace_id: The workspace their browser session switched to (``LoginSession``);
            used while they are still a member, else their personal workspace is.

    Raises:
        NotFoundError: the user has no personal workspace.
    """
    actor = None
    if workspace_id is not None:
        try:
            actor = actor_for(session, user_id=user_id, workspace_id=workspace_id)
        except NotFoundError:
            actor = None  # removed (or left) since switching: back to the personal one
    if actor is None:
        personal = personal_workspace_id(session, user_id)
        actor = actor_for(session, user_id=user_id, workspace_id=personal)
    workspace = session.get(Workspace, actor.workspace_id)
    assert workspace is not None  # the membership's foreign key
    return actor.workspace_id, workspace.name, actor.role.value
