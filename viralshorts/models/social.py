"""Connected platform accounts, posts and the numbers they bring back."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from viralshorts.models.base import UTCDateTime, utcnow
from viralshorts.models.enums import AccountHealth, Platform, PostStatus


class SocialAccount(SQLModel, table=True):
    """A YouTube channel, TikTok or Instagram account; tokens are encrypted at rest."""

    __tablename__ = "social_accounts"
    __table_args__ = (
        sa.UniqueConstraint(
            "workspace_id", "platform", "external_id", name="uq_social_accounts_workspace_account"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE", index=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)  # connected by
    platform: Platform = Field(sa_type=sa.String(16))
    external_id: str = Field(max_length=128)
    display_name: str = Field(default="", max_length=200)
    access_token_enc: str = Field(default="", sa_type=sa.Text)
    refresh_token_enc: str = Field(default="", sa_type=sa.Text)
    token_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    scopes: str = Field(default="", max_length=1000)
    health: AccountHealth = Field(default=AccountHealth.OK, sa_type=sa.String(16))
    health_message: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Issue 9 (migration 0006): the profile shown, what the platform needs beside the tokens
    # (e.g. the Facebook page id), which encryption key sealed the tokens, sandbox accounts.
    avatar_url: str = Field(default="", max_length=1000)
    profile_extra: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    token_key_id: str = Field(default="", max_length=16)
    refresh_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_refreshed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sandbox: bool = Field(default=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Post(SQLModel, table=True):
    """One video published to one account; the idempotency key prevents a double post."""

    __tablename__ = "posts"

    id: int | None = Field(default=None, primary_key=True)
    video_id: int = Field(foreign_key="videos.id", ondelete="CASCADE", index=True)
    social_account_id: int = Field(foreign_key="social_accounts.id", ondelete="CASCADE", index=True)
    scheduled_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    status: PostStatus = Field(default=PostStatus.SCHEDULED, sa_type=sa.String(16), index=True)
    caption: str = Field(default="", sa_type=sa.Text)
    external_id: str = Field(default="", max_length=128)
    external_url: str = Field(default="", max_length=500)
    upload_session_url: str = Field(default="", max_length=1000)
    attempts: int = Field(default=0)
    last_error: str = Field(default="", sa_type=sa.Text)
    idempotency_key: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Issue 9 (migration 0007): the post's fields, the platform's resume point, approval,
    # and when the dispatcher may take it next (a retry, a rate-limit wait, a status poll).
    options: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    checkpoint: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    requested_by_user_id: int | None = Field(
        default=None, foreign_key="users.id", ondelete="SET NULL", index=True
    )
    decided_by_user_id: int | None = Field(
        default=None, foreign_key="users.id", ondelete="SET NULL"
    )
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_note: str = Field(default="", max_length=500)
    paused_reason: str = Field(default="", max_length=300)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    job_id: str = Field(default="", max_length=100)
    claims: int = Field(default=0)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class VideoAnalytics(SQLModel, table=True):
    __tablename__ = "video_analytics"
    __table_args__ = (
        sa.UniqueConstraint("post_id", "date"),
        sa.Index("ix_video_analytics_video_id_date", "video_id", "date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    video_id: int = Field(foreign_key="videos.id", ondelete="CASCADE")
    post_id: int = Field(foreign_key="posts.id", ondelete="CASCADE")
    date: date
    views: int = Field(default=0)
    likes: int = Field(default=0)
    comments: int = Field(default=0)
    shares: int = Field(default=0)
    saves: int = Field(default=0)  # Instagram "saved"; 0 where a platform does not count them
    watch_time_seconds: float = Field(default=0.0)
    fetched_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
