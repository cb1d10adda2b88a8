"""/app/videos: the creator's videos with live progress, filters, cancel and retry."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import reflex as rx

from viralshorts.db import session_scope
from viralshorts.domain import campaigns as campaign_domain
from viralshorts.domain import videos as video_domain
from viralshorts.errors import ViralShortsError
from viralshorts.integrations.services import get_services
from viralshorts.ui.layout import app_shell, error_callout
from viralshorts.ui.progress import (
    STATUS_LABELS,
    LiveProgress,
    VideoRow,
    apply_update,
    current_user_id,
    merge_rows,
    progress_bar,
    stepper,
    video_row,
)

ROUTE = "/app/videos"


def _int_or_none(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def load_list(
    user_id: int, campaign_filter: str, status_filter: str
) -> tuple[list[VideoRow], list[dict[str, str]]]:
    """The rows for the list and the campaign filter options (reads the database)."""
    with session_scope() as session:
        campaigns = campaign_domain.list_campaigns(session, user_id=user_id)
        names = {c.id: c.name for c in campaigns}
        videos = video_domain.list_videos(
            session,
            user_id=user_id,
            campaign_id=_int_or_none(campaign_filter),
            status=status_filter or None,
        )
        rows = [video_row(v, names.get(v.campaign_id, "")) for v in videos]
    options = [{"id": str(c.id), "name": c.name} for c in campaigns]
    return rows, options


class VideosState(LiveProgress, rx.State):
    """The list page: rows, filters and the live progress loop."""

    rows: list[VideoRow] = []
    campaigns: list[dict[str, str]] = []
    campaign_filter: str = ""
    status_filter: str = ""
    action_error: str = ""

    def _snapshot_loader(self, user_id: int) -> Callable[[], Any]:
        return functools.partial(load_list, user_id, self.campaign_filter, self.status_filter)

    def _apply_snapshot(self, snapshot: Any) -> None:
        rows, self.campaigns = snapshot
        self.rows = merge_rows(self.rows, rows)

    def _apply_progress(self, update: dict[str, Any]) -> bool:
        if all(row["id"] != update["video_id"] for row in self.rows):
            return True  # started elsewhere (another tab, a schedule): reload to show it
        self.rows = [
            apply_update(row, update) if row["id"] == update["video_id"] else row
            for row in self.rows
        ]
        return False

    def _has_active(self) -> bool:
        return any(row["active"] for row in self.rows)

    def _on_page(self, path: str) -> bool:
        return path.rstrip("/") == ROUTE

    async def _reload(self) -> None:
        user_id = await current_user_id(self)
        if user_id is not None:
            self._apply_snapshot(load_list(user_id, self.campaign_filter, self.status_filter))

    @rx.event
    async def load_page(self):
        """Read the filters from the URL, load the rows, start the live loop."""
        params = self.router.url.query_parameters
        self.campaign_filter = params.get("campaign", "")
        self.status_filter = params.get("status", "")
        self.action_error = ""
        await self._reload()
        return VideosState.watch_progress

    @rx.event
    async def set_campaign_filter(self, value: str):
        """Show only one campaign's videos ("" = all)."""
        self.campaign_filter = value
        await self._reload()

    @rx.event
    async def set_status_filter(self, value: str):
        """Show only videos with one status ("" = all)."""
        self.status_filter = value
        await self._reload()

    @rx.event
    async def cancel(self, video_id: int):
        """Cancel a queued or running video."""
        await self._act(video_domain.cancel_video, video_id)

    @rx.event
    async def retry(self, video_id: int):
        """Queue a failed or canceled video again and follow it live."""
        await self._act(video_domain.retry_video, video_id)
        return VideosState.watch_progress

    async def _act(self, action: Callable[..., Any], video_id: int) -> None:
        user_id = await current_user_id(self)
        if user_id is None:
            return
        self.action_error = ""
        try:
            with session_scope() as session:
                action(session, get_services(), user_id=user_id, video_id=video_id)
        except ViralShortsError as exc:
            self.action_error = str(exc)
        await self._reload()


def _filters() -> rx.Component:
    campaign_select = rx.el.select(
        rx.el.option("All campaigns", value=""),
        rx.foreach(VideosState.campaigns, lambda c: rx.el.option(c["name"], value=c["id"])),
        id="filter-campaign",
        value=VideosState.campaign_filter,
        on_change=VideosState.set_campaign_filter,
    )
    status_select = rx.el.select(
        rx.el.option("Any status", value=""),
        *[rx.el.option(label, value=str(value)) for value, label in STATUS_LABELS.items()],
        id="filter-status",
        value=VideosState.status_filter,
        on_change=VideosState.set_status_filter,
    )
    return rx.hstack(
        rx.el.label("Filter by campaign", html_for="filter-campaign"),
        campaign_select,
        rx.el.label("Filter by status", html_for="filter-status"),
        status_select,
        rx.spacer(),
        rx.link(rx.button("New video"), href=f"{ROUTE}/new"),
        align="center",
        spacing="3",
        wrap="wrap",
    )


def _row_actions(row: rx.Var[VideoRow]) -> rx.Component:
    return rx.hstack(
        rx.cond(
            row["can_cancel"],
            rx.button(
                "Cancel",
                variant="soft",
                color_scheme="orange",
                aria_label="Cancel " + row["title"].to(str),
                on_click=VideosState.cancel(row["id"]),
            ),
        ),
        rx.cond(
            row["can_retry"],
            rx.button(
                "Retry",
                variant="soft",
                aria_label="Retry " + row["title"].to(str),
                on_click=VideosState.retry(row["id"]),
            ),
        ),
        rx.link("Open", href=ROUTE + "/" + row["id"].to_string()),
        spacing="3",
        align="center",
    )


def video_card(row: rx.Var[VideoRow]) -> rx.Component:
    """One video: title, campaign, status, stepper, progress bar, message and actions."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.link(
                    rx.heading(row["title"], size="4"),
                    href=ROUTE + "/" + row["id"].to_string(),
                ),
                rx.badge(row["status_label"], color_scheme=row["status_color"].to(str)),
                rx.spacer(),
                rx.text(row["campaign"], color_scheme="gray", size="2"),
                width="100%",
                align="center",
            ),
            stepper(row),
            progress_bar(row["percent"].to(int), row["title"].to(str)),
            rx.text(row["message"], size="2"),
            rx.cond(
                row["error"] != "",
                rx.text("Why it failed: ", row["error"], color_scheme="red", size="2"),
            ),
            _row_actions(row),
            width="100%",
            spacing="2",
        ),
        width="100%",
        aria_label="Video " + row["title"].to(str),
    )


def videos_page() -> rx.Component:
    """The list of videos."""
    return app_shell(
        "Videos",
        _filters(),
        error_callout(VideosState.action_error),
        rx.cond(
            VideosState.rows.length() > 0,
            rx.vstack(rx.foreach(VideosState.rows, video_card), width="100%", spacing="3"),
            rx.text("No videos yet. Start with “New video”."),
        ),
    )
