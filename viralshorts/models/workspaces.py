"""Workspaces (teams), who belongs to them, and invitations to join."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from viralshorts.models.base import UTCDateTime, utcnow
from viralshorts.models.enums import WorkspaceRole


class Workspace(SQLModel, table=True):
    """What a team owns; every account has one ``personal`` workspace made at sign-up."""

    __tablename__ = "workspaces"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    personal: bool = Field(default=False)
    timezone: str = Field(default="UTC", max_length=64)
    # Posts by editors wait for an owner's or admin's approval before they are scheduled.
    require_approval: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    created_by_user_id: int | None = Field(
        default=None, foreign_key="users.id", ondelete="SET NULL", index=True
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Membership(SQLModel, table=True):
    """A user's role in a workspace; at most one per (workspace, user)."""

    __tablename__ = "memberships"
    __table_args__ = (
        sa.UniqueConstraint("workspace_id", "user_id", name="uq_memberships_workspace_id_user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE")
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    role: WorkspaceRole = Field(sa_type=sa.String(16))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Invitation(SQLModel, table=True):
    """A single-use link to join a workspace with a role; only the SHA-256 of its token is kept."""

    __tablename__ = "invitations"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE", index=True)
    email: str = Field(max_length=320)
    role: WorkspaceRole = Field(sa_type=sa.String(16))
    token_hash: str = Field(max_length=64, unique=True, index=True)
    invited_by_user_id: int | None = Field(
        default=None, foreign_key="users.id", ondelete="SET NULL", index=True
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
