"""Live render progress shared by the video list and the video detail page.

The worker publishes ``{video_id, status, step, percent, message}`` on the user's Redis channel
and writes the same to the Video row. A page state mixes in ``LiveProgress``; its background task
subscribes to the channel, applies each message inside a short ``async with self`` block, and
reloads the rows from the database on start and every ``REFRESH_SECONDS`` (the truth after a
reconnect or a missed message).

Reflex 0.10 does not cancel background tasks when a tab goes away, so the loop ends by itself:
when the tab's socket has been gone for two checks in a row, when the tab left the page, or when
a newer loop for the same tab took over. It does not end when nothing is active: a video
started from another tab or by a schedule announces itself on the channel, and a message about
a video the page does not show yet makes the page reload (the database reads slow down to
``IDLE_REFRESH_SECONDS`` meanwhile).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, TypedDict

import reflex as rx
from reflex_base.registry import RegistrationContext

from viralshorts.domain.workspaces import Actor
from viralshorts.errors import ServiceUnavailableError
from viralshorts.integrations.ports import ProgressFeed, ProgressSubscription
from viralshorts.integrations.services import get_services
from viralshorts.models import Video, WorkspaceRole
from viralshorts.models.enums import RenderStep, VideoStatus
from viralshorts.ui.notifications import NotificationState, bell_snapshot
from viralshorts.ui.state import AuthState

logger = logging.getLogger(__name__)

REFRESH_SECONDS = 10.0
IDLE_REFRESH_SECONDS = 60.0
NEW_VIDEO_REFRESH_SECONDS = 2.0  # at most one reload this often for videos not shown yet
CONNECTION_CHECK_SECONDS = 5.0
STALE_BEAT_SECONDS = 30.0
POLL_TIMEOUT_SECONDS = 1.0
# A final status brings new facts (links, title, error text): reload the rows right away.
FINAL_STATUSES = (VideoStatus.READY, VideoStatus.FAILED, VideoStatus.CANCELED)

STEPS: tuple[tuple[str, str], ...] = (
    (RenderStep.SCRIPT, "Writing script"),
    (RenderStep.VOICE, "Voicing"),
    (RenderStep.CAPTIONS, "Timing captions"),
    (RenderStep.BACKGROUNDS, "Fetching backgrounds"),
    (RenderStep.RENDER, "Rendering"),
    (RenderStep.UPLOAD, "Uploading"),
)
STATUS_LABELS: dict[str, str] = {
    VideoStatus.QUEUED: "Queued",
    VideoStatus.RUNNING: "Working",
    VideoStatus.READY: "Ready",
    VideoStatus.FAILED: "Failed",
    VideoStatus.CANCELED: "Canceled",
}
STATUS_COLORS: dict[str, str] = {
    VideoStatus.QUEUED: "gray",
    VideoStatus.RUNNING: "blue",
    VideoStatus.READY: "green",
    VideoStatus.FAILED: "red",
    VideoStatus.CANCELED: "orange",
}


class VideoRow(TypedDict):
    """One video as the pages show it (plain values only)."""

    id: int
    title: str
    campaign: str
    status: str
    status_label: str
    status_color: str
    step: str
    step_index: int
    percent: int
    message: str
    error: str
    active: bool
    can_cancel: bool
    can_retry: bool
    can_delete: bool
    ready: bool
    created: str


def step_index(step: str, status: str) -> int:
    """How many stepper steps are done (0-6) for a video at ``step`` with ``status``."""
    if status == VideoStatus.READY or step == RenderStep.DONE:
        return len(STEPS)
    order = [name for name, _ in STEPS]
    return order.index(step) if step in order else 0


def _derive(row: VideoRow) -> VideoRow:
    status = row["status"]
    active = status in (VideoStatus.QUEUED, VideoStatus.RUNNING)
    row["status_label"] = STATUS_LABELS.get(status, status.title())
    row["status_color"] = STATUS_COLORS.get(status, "gray")
    row["step_index"] = step_index(row["step"], status)
    row["active"] = active
    row["can_cancel"] = active
    row["can_retry"] = status in (VideoStatus.FAILED, VideoStatus.CANCELED)
    row["can_delete"] = status in FINAL_STATUSES
    row["ready"] = status == VideoStatus.READY
    if row["ready"]:
        row["percent"] = 100
    return row


def video_row(video: Video, campaign_name: str) -> VideoRow:
    """Build the row for ``video`` (which belongs to the campaign called ``campaign_name``)."""
    row = VideoRow(
        id=video.id or 0,
        title=video.title or video.topic,
        campaign=campaign_name,
        status=str(video.status),
        status_label="",
        status_color="",
        step=str(video.step),
        step_index=0,
        percent=max(0, min(100, video.progress)),
        message=video.status_message,
        error=video.error,
        active=False,
        can_cancel=False,
        can_retry=False,
        can_delete=False,
        ready=False,
        created=video.created_at.strftime("%Y-%m-%d %H:%M UTC"),
    )
    return _derive(row)


def apply_update(row: VideoRow, update: dict[str, Any]) -> VideoRow:
    """A copy of ``row`` with a progress message from the worker applied.

    A finished row ignores messages: a retry or re-render makes it QUEUED in the database first
    (the page reloads then), so a message for a finished row is late or not about this video.
    """
    if not row["active"]:
        return row
    new = VideoRow(**row)
    new["status"] = str(update.get("status") or row["status"])
    new["step"] = str(update.get("step") or row["step"])
    new["percent"] = max(0, min(100, int(update.get("percent", row["percent"]))))
    new["message"] = str(update.get("message", row["message"]))
    if "error" in update:
        new["error"] = str(update["error"])
    return _derive(new)


def merge_rows(current: list[VideoRow], loaded: list[VideoRow]) -> list[VideoRow]:
    """Rows read from the database, keeping live progress the throttled row write has not caught.

    The worker publishes every report but writes the row at most twice a second, so a reload
    may be slightly behind what the page already shows for the same status and step.
    """
    live = {row["id"]: row for row in current}
    merged = []
    for row in loaded:
        seen = live.get(row["id"])
        same_phase = seen is not None and (seen["status"], seen["step"]) == (
            row["status"],
            row["step"],
        )
        ahead = same_phase and row["active"] and seen["percent"] > row["percent"]
        merged.append(VideoRow(**{**row, "percent": seen["percent"]}) if ahead else row)
    return merged


@dataclass
class _Watch:
    """Bookkeeping of one running loop (lives in the task, never in the state)."""

    watch_id: str
    actor: Actor
    token: str
    last_refresh: float = 0.0
    last_check: float = 0.0
    idle: bool = False
    unseen: set[int] = field(default_factory=set)  # messages about videos not shown yet
    ignored: set[int] = field(default_factory=set)  # still not shown after a reload (filters)
    missed_checks: int = 0
    feed: ProgressSubscription | None = None


async def _subscribe(workspace_id: int) -> ProgressSubscription | None:
    """The workspace's progress (every member's renders); None without a feed (DB refresh)."""
    feed: ProgressFeed | None = (await asyncio.to_thread(get_services)).progress_feed
    if feed is None:
        return None
    try:
        return await feed.subscribe(workspace_id)
    except ServiceUnavailableError:
        logger.warning(
            "progress: cannot subscribe for workspace %s; reloading from the database",
            workspace_id,
        )
        return None


async def _next_update(watch: _Watch) -> dict[str, Any] | None:
    """Wait up to a second for a message; a broken subscription is dropped, not fatal."""
    if watch.feed is None:
        await asyncio.sleep(POLL_TIMEOUT_SECONDS)
        return None
    try:
        return await watch.feed.next_update(timeout=POLL_TIMEOUT_SECONDS)
    except ServiceUnavailableError:
        logger.warning("progress: subscription lost; reloading from the database", exc_info=True)
        await watch.feed.close()
        watch.feed = None
        return None


async def current_actor(state: rx.State) -> Actor | None:
    """The signed-in user in their current workspace, read from the shared AuthState."""
    auth = await state.get_state(AuthState)
    if auth._user_id is None or auth._workspace_id is None:
        return None
    role = WorkspaceRole(auth._workspace_role)
    return Actor(user_id=auth._user_id, workspace_id=auth._workspace_id, role=role)


async def _client_connected(token: str) -> bool:
    """Whether the tab ``token`` still has a socket (on any instance, through Redis)."""
    try:
        namespace = RegistrationContext.get().app.event_namespace
    except (LookupError, AttributeError):
        return True
    if namespace is None:
        return True
    return await namespace._token_manager.is_token_connected(token)


# What a page state using ``LiveProgress`` supplies:
#   _snapshot_loader(actor) -> a thread-safe callable that reads the page's rows from the DB
#   _apply_snapshot(snapshot), _has_active() -> bool,
#   _apply_progress(update: dict) -> bool (True: the update is about a video this page should
#       show but does not have yet, so the page reloads),
#   _on_page(path) -> bool (is the tab still on this page)
PAGE_HOOKS = ("_snapshot_loader", "_apply_snapshot", "_apply_progress", "_has_active", "_on_page")


class LiveProgress(rx.State, mixin=True):
    """Mixin for a page state that shows live render progress.

    The page state supplies the hooks named in ``PAGE_HOOKS``; a unit test checks that every
    page using the mixin does.
    """

    _watch_id: str = ""
    _watch_beat: float = 0.0
    # Bumped by every applied snapshot; a page's own reload after an action bumps it too, so
    # the loop never lays a snapshot read before that action over the newer one.
    _snapshot_gen: int = 0

    @rx.event(background=True)
    async def watch_progress(self):
        """Follow the user's progress channel until the tab leaves the page or closes."""
        watch = await self._claim_watch()
        if watch is None:
            return
        try:
            watch.feed = await _subscribe(watch.actor.workspace_id)
            await self._refresh(watch)
            await self._follow(watch)
        finally:
            if watch.feed is not None:
                await watch.feed.close()
            await self._release_watch(watch)

    async def _claim_watch(self) -> _Watch | None:
        async with self:
            actor = await current_actor(self)
            # Wall-clock time: with Redis state, the loop may run in another web process.
            fresh = time.time() - self._watch_beat < STALE_BEAT_SECONDS
            if actor is None or (self._watch_id and fresh):
                return None
            self._watch_id = uuid.uuid4().hex
            self._watch_beat = time.time()
            token = self.router.session.client_token
            return _Watch(watch_id=self._watch_id, actor=actor, token=token)

    async def _release_watch(self, watch: _Watch) -> None:
        async with self:
            if self._watch_id == watch.watch_id:
                self._watch_id = ""

    async def _refresh(self, watch: _Watch) -> None:
        async with self:
            loader = self._snapshot_loader(watch.actor)
            generation = self._snapshot_gen
        snapshot = await asyncio.to_thread(loader)
        unread = await asyncio.to_thread(bell_snapshot, watch.actor)  # the bell, same beat
        async with self:
            if self._snapshot_gen == generation:
                self._apply_snapshot(snapshot)
                self._snapshot_gen += 1
            (await self.get_state(NotificationState)).apply(unread)
        watch.last_refresh = time.monotonic()

    async def _follow(self, watch: _Watch) -> None:
        while True:
            update = await _next_update(watch)
            if not await self._tick(watch, update):
                return
            if _refresh_due(watch, update, time.monotonic() - watch.last_refresh):
                watch.ignored |= watch.unseen
                watch.unseen.clear()
                await self._refresh(watch)

    async def _tick(self, watch: _Watch, update: dict[str, Any] | None) -> bool:
        """Apply one update; False when the loop should end.

        The decision to stop and the release of the claim happen under the same lock as
        ``_claim_watch``, so a reloaded tab either sees this loop still running or starts anew.
        """
        now = time.monotonic()
        async with self:
            if self._watch_id != watch.watch_id:
                return False
            if update is not None and self._apply_progress(update):
                watch.unseen |= {update["video_id"]} - watch.ignored
            watch.idle = not self._has_active()
            keep = self._on_page(self.router.url.path) and await self._still_connected(watch, now)
            self._watch_id = self._watch_id if keep else ""
            self._watch_beat = time.time()
            return keep

    async def _still_connected(self, watch: _Watch, now: float) -> bool:
        if now - watch.last_check < CONNECTION_CHECK_SECONDS:
            return True
        watch.last_check = now
        connected = await _client_connected(watch.token)
        watch.missed_checks = 0 if connected else watch.missed_checks + 1
        return watch.missed_checks < 2


def _refresh_due(watch: _Watch, update: dict[str, Any] | None, since_refresh: float) -> bool:
    """Whether to reload the page's rows from the database now."""
    if update is not None and update.get("status") in FINAL_STATUSES:
        return True
    if watch.unseen and since_refresh >= NEW_VIDEO_REFRESH_SECONDS:
        return True
    return since_refresh >= (IDLE_REFRESH_SECONDS if watch.idle else REFRESH_SECONDS)


def progress_bar(percent: rx.Var[int], title: rx.Var[str]) -> rx.Component:
    """An accessible progress bar ("Progress of <title>") filled to ``percent``."""
    return rx.el.div(
        rx.el.div(
            style={
                "width": percent.to_string() + "%",
                "height": "100%",
                "background": "var(--accent-9)",
                "transition": "width 0.4s ease",
            }
        ),
        role="progressbar",
        aria_label="Progress of " + title,
        custom_attrs={"aria-valuenow": percent, "aria-valuemin": 0, "aria-valuemax": 100},
        style={
            "width": "100%",
            "height": "10px",
            "background": "var(--gray-4)",
            "border_radius": "999px",
            "overflow": "hidden",
        },
    )


def _step_state(row: rx.Var[VideoRow], index: int) -> rx.Var[str]:
    done = row["step_index"].to(int) > index
    current = (row["step_index"].to(int) == index) & row["active"].to(bool)
    return rx.cond(done, "done", rx.cond(current, "current", "todo"))


def stepper(row: rx.Var[VideoRow]) -> rx.Component:
    """The pipeline steps, each marked done, current or still to do."""
    items = []
    for index, (_, label) in enumerate(STEPS):
        state = _step_state(row, index)
        items.append(
            rx.el.li(
                rx.badge(
                    label,
                    variant=rx.match(state, ("done", "solid"), ("current", "outline"), "soft"),
                    color_scheme=rx.match(state, ("done", "green"), ("current", "blue"), "gray"),
                ),
                custom_attrs={
                    "data-state": state,
                    "aria-current": rx.cond(state == "current", "step", "false"),
                },
            )
        )
    return rx.el.ol(
        *items,
        aria_label="Steps",
        style={
            "display": "flex",
            "flex_wrap": "wrap",
            "gap": "6px",
            "list_style": "none",
            "padding": 0,
            "margin": 0,
        },
    )
