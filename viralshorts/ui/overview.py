"""The overview page: real counts of the creator's campaigns and videos."""

from __future__ import annotations

import reflex as rx

from viralshorts.db import session_scope
from viralshorts.domain.dashboard import overview_counts
from viralshorts.models import VideoStatus
from viralshorts.ui.layout import app_shell, card, empty_state
from viralshorts.ui.state import AuthState

STATUS_LABELS: dict[str, str] = {
    VideoStatus.QUEUED: "Queued",
    VideoStatus.RUNNING: "Rendering",
    VideoStatus.READY: "Ready",
    VideoStatus.FAILED: "Failed",
    VideoStatus.CANCELED: "Canceled",
}


class OverviewState(rx.State):
    """Numbers for the overview page."""

    loaded: bool = False
    active_campaigns: int = 0
    archived_campaigns: int = 0
    total_videos: int = 0
    videos_by_status: list[tuple[str, int]] = []

    @rx.event
    async def load(self):
        """Read the counts for the signed-in user."""
        auth = await self.get_state(AuthState)
        if auth._user_id is None:
            return
        with session_scope() as s:
            counts = overview_counts(s, user_id=auth._user_id)
        self.active_campaigns = counts.active_campaigns
        self.archived_campaigns = counts.archived_campaigns
        self.total_videos = counts.total_videos
        self.videos_by_status = [
            (label, counts.videos_by_status.get(str(status), 0))
            for status, label in STATUS_LABELS.items()
        ]
        self.loaded = True


def _stat(label: str, value: rx.Var[int], href: str, link_text: str) -> rx.Component:
    return card(
        rx.text(label, size="2", color_scheme="gray"),
        rx.heading(value, size="8", as_="p", aria_label=label),
        rx.link(link_text, href=href, size="2"),
    )


def _status_row(item: rx.Var[tuple[str, int]]) -> rx.Component:
    return rx.hstack(
        rx.text(item[0], size="2"),
        rx.spacer(),
        rx.badge(item[1].to(str), variant="soft", size="2"),
        width="100%",
    )


def _numbers() -> rx.Component:
    return rx.vstack(
        rx.grid(
            _stat("Active campaigns", OverviewState.active_campaigns, "/app/campaigns", "Open"),
            _stat("Videos", OverviewState.total_videos, "/app/videos", "Open videos"),
            _stat(
                "Archived campaigns",
                OverviewState.archived_campaigns,
                "/app/campaigns?archived=1",
                "Show",
            ),
            columns={"initial": "1", "sm": "3"},
            spacing="4",
            width="100%",
        ),
        card(
            rx.heading("Videos by status", size="4", as_="h2"),
            rx.foreach(OverviewState.videos_by_status, _status_row),
        ),
        spacing="4",
        width="100%",
    )


def _first_steps() -> rx.Component:
    return empty_state(
        "megaphone",
        "Create your first campaign",
        "A campaign is one channel idea: its niche, tone, voice, caption style and when to post. "
        "Videos are made inside a campaign.",
        rx.link(rx.button("New campaign", tab_index=-1), href="/app/campaigns/new"),
    )


def overview_page() -> rx.Component:
    return app_shell(
        "Overview",
        rx.cond(
            OverviewState.loaded,
            rx.cond(
                (OverviewState.active_campaigns + OverviewState.archived_campaigns) == 0,
                _first_steps(),
                _numbers(),
            ),
            rx.spinner(),
        ),
    )
