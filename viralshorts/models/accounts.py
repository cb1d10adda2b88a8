"""People, how they sign in, and what they did."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from viralshorts.models.base import UTCDateTime, utcnow
from viralshorts.models.enums import Role


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True, index=True)
    display_name: str = Field(default="", max_length=120)
    password_hash: str | None = Field(default=None, max_length=255)
    role: Role = Field(default=Role.CREATOR, sa_type=sa.String(16))
    disabled: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


class OAuthAccount(SQLModel, table=True):
    """A social login (Google, GitHub) linked to a user."""

    __tablename__ = "oauth_accounts"
    __table_args__ = (sa.UniqueConstraint("provider", "provider_account_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    provider: str = Field(max_length=32)
    provider_account_id: str = Field(max_length=255)
    email: str = Field(default="", max_length=320)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LoginSession(SQLModel, table=True):
    """A server-side session; only the SHA-256 of the cookie token is stored."""

    __tablename__ = "login_sessions"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    absolute_expires_at: datetime = Field(sa_type=UTCDateTime)
    user_agent: str = Field(default="", max_length=512)
    ip: str = Field(default="", max_length=64)
    # The workspace this browser switched to; None (or one the user left): the personal one.
    workspace_id: int | None = Field(
        default=None, foreign_key="workspaces.id", ondelete="SET NULL", index=True
    )


class ApiKey(SQLModel, table=True):
    """A workspace's API key (``user_id`` made it); ``prefix`` is shown, only its hash is kept."""

    __tablename__ = "api_keys"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE", index=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)  # created by
    name: str = Field(max_length=120)
    prefix: str = Field(max_length=16)
    key_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_logs"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(
        default=None, foreign_key="users.id", ondelete="SET NULL", index=True
    )
    workspace_id: int | None = Field(
        default=None, foreign_key="workspaces.id", ondelete="SET NULL", index=True
    )
    action: str = Field(max_length=64, index=True)
    target_type: str = Field(default="", max_length=32)
    target_id: str = Field(default="", max_length=64)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    ip: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class AccountTokenPurpose(StrEnum):
    PASSWORD_RESET = "password_reset"
    EMAIL_CHANGE = "email_change"


class AccountToken(SQLModel, table=True):
    """A single-use emailed link (password reset, email change); only its SHA-256 is stored.

    ``new_email`` is the address an email change confirms (empty for a password reset).
    """

    __tablename__ = "account_tokens"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    purpose: AccountTokenPurpose = Field(sa_type=sa.String(16))
    token_hash: str = Field(max_length=64, unique=True, index=True)
    new_email: str = Field(default="", max_length=320)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
