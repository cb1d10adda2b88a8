"""Videos and the creator's media library."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from viralshorts.models.base import UTCDateTime, utcnow
from viralshorts.models.enums import BackgroundSource, MediaKind, RenderStep, VideoStatus


class Video(SQLModel, table=True):
    __tablename__ = "videos"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE", index=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)  # created by
    campaign_id: int = Field(foreign_key="campaigns.id", ondelete="CASCADE", index=True)
    batch_id: str = Field(default="", max_length=32, index=True)
    topic: str = Field(max_length=300)
    custom_script: str = Field(default="", sa_type=sa.Text)
    script: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    title: str = Field(default="", max_length=200)
    description: str = Field(default="", sa_type=sa.Text)
    hashtags: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    language: str = Field(default="en", max_length=8)
    voice: str = Field(default="piper:joe", max_length=64)
    voice_speed: float = Field(default=1.0)
    caption_style: str = Field(default="bold", max_length=32)
    background_source: BackgroundSource = Field(
        default=BackgroundSource.GENERATED, sa_type=sa.String(16)
    )
    music: str = Field(default="none", max_length=64)
    target_seconds: int = Field(default=30)
    seed: int = Field(default=0)
    facts: list[str] = Field(default_factory=list, sa_type=sa.JSON)  # issue 11 (C)
    palette: str = Field(default="auto", max_length=32)  # issue 11: rendering.looks.LOOKS

    status: VideoStatus = Field(default=VideoStatus.QUEUED, sa_type=sa.String(16), index=True)
    step: RenderStep = Field(default=RenderStep.QUEUED, sa_type=sa.String(16))
    progress: int = Field(default=0)
    status_message: str = Field(default="", max_length=300)
    error: str = Field(default="", sa_type=sa.Text)
    attempts: int = Field(default=0)
    cancel_requested: bool = Field(default=False)
    job_id: str = Field(default="", max_length=64)
    quota_reserved: bool = Field(default=False)
    quota_period: str = Field(default="", max_length=10)

    duration_seconds: float | None = Field(default=None)
    video_key: str = Field(default="", max_length=300)
    thumbnail_key: str = Field(default="", max_length=300)
    wide_thumbnail_key: str = Field(default="", max_length=300)  # 1280x720, for YouTube
    captions_key: str = Field(default="", max_length=300)
    render_hash: str = Field(default="", max_length=64)
    size_bytes: int | None = Field(default=None)

    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class MediaAsset(SQLModel, table=True):
    """A creator's own clip, image or music track, validated by probing it."""

    __tablename__ = "media_assets"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE", index=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)  # created by
    kind: MediaKind = Field(sa_type=sa.String(16))
    filename: str = Field(max_length=255)
    storage_key: str = Field(max_length=300)
    content_type: str = Field(max_length=100)
    size_bytes: int
    sha256: str = Field(max_length=64)
    duration_seconds: float | None = Field(default=None)
    width: int | None = Field(default=None)
    height: int | None = Field(default=None)
    preview_key: str = Field(default="", max_length=300)  # issue 11 (C): a clip's preview frame
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
