"""/app/videos: the creator's videos as a thumbnail grid, with live progress, filters, cancel,
retry and delete.

A finished video shows its thumbnail through a signed media URL; one still rendering (or
failed) shows a status tile with its progress instead. Thumbnails are signed when the rows load,
and a video that finishes makes the live loop reload them.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any

import reflex as rx

from viralshorts.db import session_scope
from viralshorts.domain import campaigns as campaign_domain
from viralshorts.domain import videos as video_domain
from viralshorts.domain.workspaces import Actor
from viralshorts.errors import ValidationError, ViralShortsError
from viralshorts.integrations.ports import Services
from viralshorts.integrations.services import get_services
from viralshorts.models import Video
from viralshorts.ui.guards import BAD_REQUEST, record_id, session_actor, text
from viralshorts.ui.layout import app_shell, error_callout
from viralshorts.ui.progress import (
    STATUS_LABELS,
    LiveProgress,
    VideoRow,
    apply_update,
    merge_rows,
    progress_bar,
    stepper,
    video_row,
)
from viralshorts.ui.state import AuthState

ROUTE = "/app/videos"


def campaign_filter_value(value: object) -> str:
    """The campaign filter as sent (an id, or "" for all); anything else means all."""
    typed = text(value, max_length=12)
    return typed if typed is not None and record_id(typed) is not None else ""


def status_filter_value(value: object) -> str:
    """The status filter as sent (a status, or "" for any); anything else means any."""
    return value if isinstance(value, str) and value in STATUS_LABELS else ""


def thumbnail_urls(services: Services, videos: list[Video]) -> dict[str, str]:
    """Signed URLs of the finished videos' thumbnails, by video id (as text)."""
    ttl = services.settings.signed_url_ttl_seconds
    return {
        str(v.id): services.storage.signed_url(v.thumbnail_key, expires_in=ttl)
        for v in videos
        if v.thumbnail_key and v.id is not None
    }


def load_list(
    actor: Actor, campaign_filter: str, status_filter: str
) -> tuple[list[VideoRow], list[dict[str, str]], dict[str, str]]:
    """The rows, the campaign filter options and the thumbnails (reads the database)."""
    with session_scope() as session:
        campaigns = campaign_domain.list_campaigns(session, actor=actor)
        names = {c.id: c.name for c in campaigns}
        videos = video_domain.list_videos(
            session,
            actor=actor,
            campaign_id=record_id(campaign_filter),
            status=status_filter_value(status_filter) or None,
        )
        rows = [video_row(v, names.get(v.campaign_id, "")) for v in videos]
        thumbnails = thumbnail_urls(get_services(), videos)
    options = [{"id": str(c.id), "name": c.name} for c in campaigns]
    return rows, options, thumbnails


class VideosState(LiveProgress, rx.State):
    """The list page: rows, filters and the live progress loop."""

    rows: list[VideoRow] = []
    campaigns: list[dict[str, str]] = []
    thumbnails: dict[str, str] = {}
    campaign_filter: str = ""
    status_filter: str = ""
    action_error: str = ""
    confirm_delete_id: int = 0

    def _snapshot_loader(self, actor: Actor) -> Callable[[], Any]:
        return functools.partial(load_list, actor, self.campaign_filter, self.status_filter)

    def _apply_snapshot(self, snapshot: Any) -> None:
        rows, self.campaigns, self.thumbnails = snapshot
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

    async def _reload(self, actor: Actor) -> None:
        loaded = await asyncio.to_thread(load_list, actor, self.campaign_filter, self.status_filter)
        self._apply_snapshot(loaded)
        self._snapshot_gen += 1

    @rx.event
    async def load_page(self):
        """Read the filters from the URL, load the rows, start the live loop."""
        actor, leave = await session_actor(self)
        if actor is None:
            return leave
        params = self.router.url.query_parameters
        self.campaign_filter = campaign_filter_value(params.get("campaign", ""))
        self.status_filter = status_filter_value(params.get("status", ""))
        self.action_error, self.confirm_delete_id = "", 0
        await self._reload(actor)
        return VideosState.watch_progress

    @rx.event
    async def set_campaign_filter(self, value: str):
        """Show only one campaign's videos ("" = all)."""
        actor, leave = await session_actor(self)
        if actor is None:
            return leave
        self.campaign_filter = campaign_filter_value(value)
        await self._reload(actor)
        return None

    @rx.event
    async def set_status_filter(self, value: str):
        """Show only videos with one status ("" = any)."""
        actor, leave = await session_actor(self)
        if actor is None:
            return leave
        self.status_filter = status_filter_value(value)
        await self._reload(actor)
        return None

    @rx.event
    async def cancel(self, video_id: int):
        """Cancel a queued or running video."""
        return await self._act(video_domain.cancel_video, video_id)

    @rx.event
    async def retry(self, video_id: int):
        """Queue a failed or canceled video again and follow it live."""
        leave = await self._act(video_domain.retry_video, video_id)
        return leave or VideosState.watch_progress

    @rx.event
    def ask_delete(self, video_id: int):
        """Show the "delete for good?" step on one card."""
        self.action_error = ""
        self.confirm_delete_id = record_id(video_id) or 0

    @rx.event
    def keep_video(self):
        """Hide the confirm step again."""
        self.confirm_delete_id = 0

    @rx.event
    async def delete(self, video_id: int):
        """Delete a finished video (after its confirm step) and its files."""
        if record_id(video_id) is None or record_id(video_id) != self.confirm_delete_id:
            self.action_error = BAD_REQUEST
            return None
        self.confirm_delete_id = 0
        return await self._act(video_domain.delete_video, video_id)

    async def _act(self, action: Callable[..., Any], video_id: object) -> Any:
        """Run ``action`` on one of the user's videos; a bad id or refusal becomes a message."""
        actor, leave = await session_actor(self)
        if actor is None:
            return leave
        self.action_error = ""
        target = record_id(video_id)
        if target is None:
            self.action_error = BAD_REQUEST
            return None
        try:
            await asyncio.to_thread(_run_action, action, actor, target)
        except ValidationError as exc:
            self.action_error = " ".join(exc.field_errors.values())
        except ViralShortsError as exc:
            self.action_error = str(exc)
        await self._reload(actor)
        return None


def _run_action(action: Callable[..., Any], actor: Actor, video_id: int) -> None:
    with session_scope() as session:
        action(session, get_services(), actor=actor, video_id=video_id)


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
        rx.cond(AuthState.can_edit, rx.link(rx.button("New video"), href=f"{ROUTE}/new")),
        align="center",
        spacing="3",
        wrap="wrap",
    )


def _confirm_delete(row: rx.Var[VideoRow]) -> rx.Component:
    return rx.hstack(
        rx.text("Delete for good?", size="2", weight="medium"),
        rx.button(
            "Yes, delete",
            color_scheme="red",
            aria_label="Yes, delete " + row["title"].to(str),
            on_click=VideosState.delete(row["id"]),
        ),
        rx.button("Keep it", variant="soft", on_click=VideosState.keep_video),
        spacing="3",
        align="center",
        role="group",
        aria_label="Confirm delete",
    )


def _row_actions(row: rx.Var[VideoRow]) -> rx.Component:
    buttons = rx.hstack(
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
        rx.cond(
            row["can_delete"],
            rx.button(
                "Delete",
                variant="soft",
                color_scheme="red",
                aria_label="Delete " + row["title"].to(str),
                on_click=VideosState.ask_delete(row["id"]),
            ),
        ),
        rx.link("Open", href=ROUTE + "/" + row["id"].to_string()),
        spacing="3",
        align="center",
    )
    return rx.cond(VideosState.confirm_delete_id == row["id"], _confirm_delete(row), buttons)


TILE_STYLE = {
    "width": "100%",
    "aspect_ratio": "9 / 16",
    "border_radius": "var(--radius-3)",
    "overflow": "hidden",
    "display": "block",
}


def _status_tile(row: rx.Var[VideoRow]) -> rx.Component:
    """Where the thumbnail will be: the status, step and percent while the video renders."""
    return rx.flex(
        rx.badge(row["status_label"], color_scheme=row["status_color"].to(str), size="2"),
        rx.cond(
            row["active"],
            rx.text(row["percent"].to_string() + "%", size="7", weight="bold"),
        ),
        rx.text(row["message"], size="1", align="center"),
        direction="column",
        align="center",
        justify="center",
        gap="2",
        padding="3",
        role="img",
        aria_label="Status of " + row["title"].to(str) + ": " + row["status_label"].to(str),
        style={
            **TILE_STYLE,
            "background": "linear-gradient(160deg, var(--accent-4), var(--gray-3))",
        },
    )


def _tile(row: rx.Var[VideoRow]) -> rx.Component:
    """The thumbnail (a link to the video) once there is one, else the status tile."""
    key = row["id"].to_string()
    return rx.link(
        rx.cond(
            VideosState.thumbnails.contains(key),
            rx.image(
                src=VideosState.thumbnails[key],
                alt="Thumbnail of " + row["title"].to(str),
                loading="lazy",
                style={**TILE_STYLE, "object_fit": "cover"},
            ),
            _status_tile(row),
        ),
        href=ROUTE + "/" + key,
        style={"display": "block", "width": "100%"},
    )


def video_card(row: rx.Var[VideoRow]) -> rx.Component:
    """One video in the grid: thumbnail or status tile, title, status, progress and actions."""
    return rx.card(
        rx.vstack(
            _tile(row),
            rx.link(
                rx.heading(row["title"], size="3", as_="h2"),
                href=ROUTE + "/" + row["id"].to_string(),
            ),
            rx.hstack(
                rx.badge(row["status_label"], color_scheme=row["status_color"].to(str)),
                rx.text(row["campaign"], color_scheme="gray", size="1"),
                align="center",
                wrap="wrap",
            ),
            rx.cond(row["active"], stepper(row)),
            progress_bar(row["percent"].to(int), row["title"].to(str)),
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
            rx.grid(
                rx.foreach(VideosState.rows, video_card),
                columns={"initial": "1", "xs": "2", "md": "3", "lg": "4"},
                spacing="4",
                width="100%",
                aria_label="Videos",
            ),
            rx.text("No videos yet. Start with “New video”."),
        ),
    )
