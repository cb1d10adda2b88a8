"""Limits a site admin set for one workspace, in place of its plan's."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from viralshorts.models.base import UTCDateTime, utcnow


class QuotaOverride(SQLModel, table=True):
    """One limit (``videos_per_month``, ``team_seats``...) that replaces the plan's value for
    this workspace whatever plan it is on, until an admin clears it."""

    __tablename__ = "quota_overrides"
    __table_args__ = (
        sa.UniqueConstraint(
            "workspace_id", "limit_name", name="uq_quota_overrides_workspace_id_limit_name"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE")
    limit_name: str = Field(max_length=32)
    value: int
    reason: str = Field(max_length=500)
    set_by_user_id: int | None = Field(
        default=None, foreign_key="users.id", ondelete="SET NULL", index=True
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
