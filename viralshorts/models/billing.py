"""Plans, usage against quotas, and the webhook log."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from viralshorts.models.base import UTCDateTime, utcnow
from viralshorts.models.enums import SubscriptionStatus


class Subscription(SQLModel, table=True):
    __tablename__ = "subscriptions"
    __table_args__ = (sa.UniqueConstraint("workspace_id", name="uq_subscriptions_workspace_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE")
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    plan: str = Field(default="free", max_length=32)
    status: SubscriptionStatus = Field(default=SubscriptionStatus.ACTIVE, sa_type=sa.String(16))
    stripe_customer_id: str = Field(default="", max_length=64, index=True)
    stripe_subscription_id: str = Field(default="", max_length=64, index=True)
    stripe_price_id: str = Field(default="", max_length=64)
    current_period_start: datetime | None = Field(default=None, sa_type=UTCDateTime)
    current_period_end: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancel_at_period_end: bool = Field(default=False)
    # When the renewal first failed: the paid plan holds for BILLING_GRACE_DAYS after it.
    past_due_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    stripe_event_created: int = Field(default=0)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Usage(SQLModel, table=True):
    """A workspace's use in one period ("YYYY-MM" for a calendar month, "YYYY-MM-DD" for the
    Stripe period starting that day); ``videos_reserved`` is held by queued work."""

    __tablename__ = "usage"
    __table_args__ = (
        sa.UniqueConstraint("workspace_id", "period", name="uq_usage_workspace_id_period"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE", index=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    period: str = Field(max_length=10)
    videos_reserved: int = Field(default=0)
    videos_used: int = Field(default=0)
    render_seconds: float = Field(default=0.0)
    posts: int = Field(default=0)
    # The billing period the row counts (a Stripe period, or the calendar month on Free).
    period_start: datetime | None = Field(default=None, sa_type=UTCDateTime)
    period_end: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebhookOutcome(StrEnum):
    """Where one received webhook event stands; ``FAILED`` ones are processed again."""

    PROCESSING = "processing"
    PROCESSED = "processed"
    IGNORED = "ignored"  # a type we record but do not act on
    FAILED = "failed"


class WebhookEvent(SQLModel, table=True):
    """One provider event, stored once: the insert of its id is the claim to process it."""

    __tablename__ = "webhook_events"
    __table_args__ = (sa.UniqueConstraint("provider", "event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=32)
    event_id: str = Field(max_length=255)
    type: str = Field(max_length=100)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    processed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    error: str = Field(default="", sa_type=sa.Text)
    outcome: WebhookOutcome = Field(default=WebhookOutcome.PROCESSING, sa_type=sa.String(16))
    attempts: int = Field(default=1)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
