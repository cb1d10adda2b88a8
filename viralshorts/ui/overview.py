"""The overview page: real counts of the creator's campaigns and videos.

Statuses are named with the video list's own words (``progress.STATUS_LABELS``), so a video
that is "Working" in the list is "Working" here too.
"""

from __future__ import annotations

import asyncio

import reflex as rx

from viralshorts.db import session_scope
from viralshorts.domain.dashboard import OverviewCounts, overview_counts
from viralshorts.domain.workspaces import Actor
from viralshorts.ui import guards
from viralshorts.ui.layout import app_shell, card, empty_state
from viralshorts.ui.progress import STATUS_LABELS


def _counts(actor: Actor) -> OverviewCounts:
    with session_scope() as s:
        return overview_counts(s, actor=actor)


class OverviewState(rx.State):
    """Numbers for the overview page."""

    loaded: bool = False
    active_campaigns: int = 0
    archived_campaigns: int = 0
    total_videos: int = 0
    videos_by_status: list[tuple[str, int]] = []
    # Lifetime numbers of the workspace's published posts (issue 9 analytics)
    post_numbers: list[tuple[str, int]] = []

    @rx.event
    async def load(self):
        """Read the counts for the signed-in user."""
        actor, leave = await guards.session_actor(self)
        if actor is None:
            return leave
        counts = await asyncio.to_thread(_counts, actor)
        self.active_campaigns = counts.active_campaigns
        self.archived_campaigns = counts.archived_campaigns
        self.total_videos = counts.total_videos
        self.videos_by_status = [
            (label, counts.videos_by_status.get(str(status), 0))
            for status, label in STATUS_LABELS.items()
        ]
        totals = counts.post_totals
        self.post_numbers = [
            ("Views", totals.views),
            ("Likes", totals.likes),
            ("Comments", totals.comments),
            ("Shares", totals.shares),
            ("Saves", totals.saves),
        ]
        self.loaded = True
        return None


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


def _post_number(item: rx.Var[tuple[str, int]]) -> rx.Component:
    return rx.vstack(
        rx.text(item[0], size="2", color_scheme="gray"),
        rx.heading(item[1].to(str), size="6", as_="p", aria_label=item[0]),
        spacing="1",
    )


def _post_numbers() -> rx.Component:
    return card(
        rx.hstack(
            rx.heading("Published posts, all time", size="4", as_="h2"),
            rx.spacer(),
            rx.link("Open analytics", href="/app/analytics", size="2"),
            width="100%",
            align="center",
        ),
        rx.grid(
            rx.foreach(OverviewState.post_numbers, _post_number),
            columns={"initial": "2", "sm": "5"},
            spacing="3",
            width="100%",
        ),
        aria_label="Published posts, all time",
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
        _post_numbers(),
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
