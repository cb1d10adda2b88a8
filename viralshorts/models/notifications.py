"""In-app notifications (the bell) and each person's email choices for them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from viralshorts.models.base import UTCDateTime, utcnow


class Notification(SQLModel, table=True):
    """One message for one member of a workspace; ``read_at`` is set once they have seen it."""

    __tablename__ = "notifications"
    __table_args__ = (sa.Index("ix_notifications_user_id_read_at", "user_id", "read_at"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE", index=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    kind: str = Field(max_length=32)
    title: str = Field(max_length=200)
    body: str = Field(default="", sa_type=sa.Text)
    link: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class NotificationPreference(SQLModel, table=True):
    """The kinds a person does not want by email (the bell always shows them)."""

    __tablename__ = "notification_preferences"

    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", primary_key=True)
    email_muted_kinds: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
