"""Read-only numbers for the overview page and the admin users table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlmodel import Session, col, func, select

from viralshorts.domain.analytics_reports import Totals, workspace_totals
from viralshorts.domain.workspaces import Action, Actor, require
from viralshorts.errors import PermissionDeniedError
from viralshorts.models import Campaign, User, Video, VideoStatus


@dataclass(frozen=True)
class OverviewCounts:
    """What a workspace has: active/archived campaigns, videos per status, and the lifetime
    numbers of its published posts."""

    active_campaigns: int
    archived_campaigns: int
    videos_by_status: dict[str, int] = field(default_factory=dict)
    post_totals: Totals = field(default_factory=Totals)

    @property
    def total_videos(self) -> int:
        return sum(self.videos_by_status.values())


def overview_counts(session: Session, *, actor: Actor) -> OverviewCounts:
    """Count the workspace's campaigns and videos straight from the database."""
    require(actor, Action.VIEW)
    archived = col(Campaign.archived_at).is_not(None)
    in_workspace = Campaign.workspace_id == actor.workspace_id
    rows = session.exec(select(archived, func.count()).where(in_workspace).group_by(archived)).all()
    by_archived = {bool(is_archived): count for is_archived, count in rows}
    statuses = session.exec(
        select(Video.status, func.count())
        .where(Video.workspace_id == actor.workspace_id)
        .group_by(Video.status)
    ).all()
    videos = {str(status): 0 for status in VideoStatus}
    videos.update({str(status): count for status, count in statuses})
    return OverviewCounts(
        active_campaigns=by_archived.get(False, 0),
        archived_campaigns=by_archived.get(True, 0),
        videos_by_status=videos,
        post_totals=workspace_totals(session, actor=actor),
    )


def list_users(session: Session, *, acting_user_id: int) -> Sequence[User]:
    """Every user, newest first, for the admin page.

    Raises:
        PermissionDeniedError: ``acting_user_id`` is not an admin (or is disabled).
    """
    actor = session.get(User, acting_user_id)
    if actor is None or not actor.is_admin or actor.disabled:
        raise PermissionDeniedError("Only admins can see the users list.", code="admin_only")
    return session.exec(select(User).order_by(col(User.created_at).desc())).all()
