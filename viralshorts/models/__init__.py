"""Every table, imported here so ``SQLModel.metadata`` knows them all."""

from viralshorts.models.accounts import (
    AccountToken,
    AccountTokenPurpose,
    ApiKey,
    AuditLog,
    LoginSession,
    OAuthAccount,
    User,
)
from viralshorts.models.base import UTCDateTime, utcnow
from viralshorts.models.billing import Subscription, Usage, WebhookEvent
from viralshorts.models.campaigns import Campaign, Schedule
from viralshorts.models.enums import (
    AccountHealth,
    BackgroundSource,
    MediaKind,
    Platform,
    PostStatus,
    RenderStep,
    Role,
    SubscriptionStatus,
    VideoStatus,
    WorkspaceRole,
)
from viralshorts.models.notifications import Notification, NotificationPreference
from viralshorts.models.overrides import QuotaOverride
from viralshorts.models.social import Post, SocialAccount, VideoAnalytics
from viralshorts.models.videos import MediaAsset, Video
from viralshorts.models.workspaces import Invitation, Membership, Workspace

__all__ = [
    "AccountHealth",
    "AccountToken",
    "AccountTokenPurpose",
    "ApiKey",
    "AuditLog",
    "BackgroundSource",
    "Campaign",
    "Invitation",
    "LoginSession",
    "MediaAsset",
    "MediaKind",
    "Membership",
    "Notification",
    "NotificationPreference",
    "OAuthAccount",
    "Platform",
    "Post",
    "PostStatus",
    "QuotaOverride",
    "RenderStep",
    "Role",
    "Schedule",
    "SocialAccount",
    "Subscription",
    "SubscriptionStatus",
    "UTCDateTime",
    "Usage",
    "User",
    "Video",
    "VideoAnalytics",
    "VideoStatus",
    "WebhookEvent",
    "Workspace",
    "WorkspaceRole",
    "utcnow",
]
