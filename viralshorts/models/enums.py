"""Enumerations stored as short strings (never database enum types, so migrations stay simple)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CREATOR = "creator"
    ADMIN = "admin"


class Platform(StrEnum):
    YOUTUBE = "youtube"
    TIKTOK = "tiktok"
    INSTAGRAM = "instagram"


class VideoStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def is_active(self) -> bool:
        return self in (VideoStatus.QUEUED, VideoStatus.RUNNING)


class RenderStep(StrEnum):
    """The pipeline's steps in order; the UI shows them as a stepper."""

    QUEUED = "queued"
    SCRIPT = "script"
    VOICE = "voice"
    CAPTIONS = "captions"
    BACKGROUNDS = "backgrounds"
    RENDER = "render"
    UPLOAD = "upload"
    DONE = "done"


class BackgroundSource(StrEnum):
    UPLOADS = "uploads"
    STOCK = "stock"
    GENERATED = "generated"


class MediaKind(StrEnum):
    CLIP = "clip"
    IMAGE = "image"
    MUSIC = "music"


class PostStatus(StrEnum):
    PENDING_APPROVAL = "pending_approval"  # an editor's post in a workspace requiring approval
    REJECTED = "rejected"
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    UPLOADING = "uploading"
    PROCESSING = "processing"
    PUBLISHED = "published"
    FAILED = "failed"
    CANCELED = "canceled"


class AccountHealth(StrEnum):
    """Only OK accounts publish; the posts of any other are paused until it is OK again."""

    OK = "ok"
    UNHEALTHY = "unhealthy"
    NEEDS_RECONNECT = "needs_reconnect"  # the platform refused a refresh: connect it again
    DISCONNECTED = "disconnected"  # a person disconnected it; its tokens are gone


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    TRIALING = "trialing"
    PAST_DUE = "past_due"
    CANCELED = "canceled"
    INCOMPLETE = "incomplete"
    UNPAID = "unpaid"


class WorkspaceRole(StrEnum):
    """A member's role in one workspace (separate from the site-wide ``Role``)."""

    OWNER = "owner"
    ADMIN = "admin"
    EDITOR = "editor"
    VIEWER = "viewer"
