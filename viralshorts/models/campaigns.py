"""Campaigns (a channel idea) and their posting cadence."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from viralshorts.models.base import UTCDateTime, utcnow


class Campaign(SQLModel, table=True):
    __tablename__ = "campaigns"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE", index=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)  # created by
    name: str = Field(max_length=120)
    niche: str = Field(max_length=200)
    tone: str = Field(default="energetic", max_length=40)
    language: str = Field(default="en", max_length=8)
    voice: str = Field(default="piper:joe", max_length=64)
    voice_speed: float = Field(default=1.0)
    caption_style: str = Field(default="bold", max_length=32)
    look: str = Field(default="generated", max_length=32)
    palette: str = Field(default="auto", max_length=32)  # issue 11: rendering.looks.LOOKS
    default_platforms: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    description: str = Field(default="", max_length=2000)
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Schedule(SQLModel, table=True):
    """When a campaign posts: weekdays (0 = Monday), local times "HH:MM", a timezone, platforms."""

    __tablename__ = "schedules"

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaigns.id", ondelete="CASCADE", index=True)
    days: list[int] = Field(default_factory=list, sa_type=sa.JSON)
    times: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    timezone: str = Field(default="UTC", max_length=64)
    platforms: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
