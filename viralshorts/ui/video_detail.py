"""/app/videos/[video_id]: preview, details, downloads, script edit and re-render, live status,
retry and delete."""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Callable
from typing import Any, TypedDict

import reflex as rx

from viralshorts.db import session_scope
from viralshorts.domain import campaigns as campaign_domain
from viralshorts.domain import video_requests
from viralshorts.domain import videos as video_domain
from viralshorts.domain.workspaces import Actor
from viralshorts.errors import (
    NotFoundError,
    ServiceUnavailableError,
    ValidationError,
    ViralShortsError,
)
from viralshorts.integrations.services import get_services
from viralshorts.models import Video
from viralshorts.ui.guards import BAD_REQUEST, record_id, session_actor, text
from viralshorts.ui.layout import app_shell, card, error_callout
from viralshorts.ui.progress import (
    LiveProgress,
    VideoRow,
    apply_update,
    merge_rows,
    progress_bar,
    stepper,
    video_row,
)
from viralshorts.ui.publish_panel import publish_panel

ROUTE = "/app/videos/[video_id]"
LIST_ROUTE = "/app/videos"


class Links(TypedDict):
    """Signed URLs of a finished video's files (empty strings until it is ready)."""

    mp4: str
    download: str
    thumbnail: str
    wide_thumbnail: str
    srt: str


NO_LINKS = Links(mp4="", download="", thumbnail="", wide_thumbnail="", srt="")


EDIT_FIELDS = ("title", "description", "hashtags", "hook", "lines")
MAX_FIELD_LENGTH = 10_000
RERENDER_NOTICE = "Rendering again with your script."


def video_id_from_path(path: str) -> int | None:
    """The id in ``/app/videos/<id>`` (None when the last part is not a database id)."""
    return record_id(path.rstrip("/").rsplit("/", 1)[-1])


def split_hashtags(text: str) -> list[str]:
    """``"#owls, facts #nature"`` → ``["#owls", "#facts", "#nature"]``."""
    words = [w.strip().lstrip("#") for w in re.split(r"[\s,]+", text)]
    return [f"#{w}" for w in words if w]


def script_from_text(hook: str, lines_text: str, **meta: Any) -> dict[str, Any]:
    """The script dict (hook + one line per non-empty row, plus ``meta``) to render again."""
    lines = [line.strip() for line in lines_text.splitlines() if line.strip()]
    return {
        "hook": hook.strip(),
        "lines": [{"text": line, "keywords": []} for line in lines],
        **meta,
    }


def _links(video: Video) -> Links:
    if not video.video_key:
        return NO_LINKS
    found = video_domain.media_links(get_services(), video)
    return Links(**{key: str(found.get(key, "")) for key in NO_LINKS})


def _campaign_name(session: Any, actor: Actor, campaign_id: int) -> str:
    try:
        return campaign_domain.get_campaign(session, actor=actor, campaign_id=campaign_id).name
    except NotFoundError:
        return ""


def load_detail(actor: Actor, video_id: int) -> dict[str, Any] | None:
    """Everything the page shows about one video, or None when it is not the user's."""
    with session_scope() as session:
        try:
            video = video_domain.get_video(session, actor=actor, video_id=video_id)
        except NotFoundError:
            return None
        script = video.script or {}
        return {
            "row": video_row(video, _campaign_name(session, actor, video.campaign_id)),
            "links": _links(video),
            # The stored MP4's key names its render: a new key means new links for the player.
            "video_key": video.video_key,
            "target_seconds": video.target_seconds,
            "voice_speed": video.voice_speed,
            "cost_note": video_domain.rerender_cost_note(session, actor=actor),
            "title": video.title,
            "description": video.description,
            "hashtags": " ".join(video.hashtags),
            "hook": str(script.get("hook", "")),
            "lines": "\n".join(str(ln.get("text", "")) for ln in script.get("lines", [])),
        }


class VideoDetailState(LiveProgress, rx.State):
    """One video; the edit fields are loaded once and left alone by the live updates."""

    found: bool = True
    row: VideoRow | None = None
    links: Links = NO_LINKS
    title: str = ""
    description: str = ""
    hashtags: str = ""
    hook: str = ""
    lines: str = ""
    details_errors: dict[str, str] = {}
    details_notice: str = ""
    script_error: str = ""
    script_notice: str = ""
    cost_note: str = ""
    length_note: str = ""
    action_error: str = ""
    confirm_delete: bool = False
    _video_id: int = 0
    _video_key: str = ""
    _target_seconds: int = 0
    _voice_speed: float = 1.0

    def _snapshot_loader(self, actor: Actor) -> Callable[[], Any]:
        return functools.partial(load_detail, actor, self._video_id)

    def _apply_snapshot(self, snapshot: Any) -> None:
        self.found = snapshot is not None
        if snapshot is None:
            return
        loaded: VideoRow = snapshot["row"]
        current = [self.row] if self.row is not None and self.row["id"] == loaded["id"] else []
        # Signed URLs change on every read, and a new src restarts the player: keep the ones
        # shown while the same render is stored; a re-render stores a new key (and deletes
        # the old files), so its links replace them.
        same_render = bool(current) and snapshot["video_key"] == self._video_key
        if not (same_render and self.links["mp4"]):
            self.links = snapshot["links"]
        self._video_key = snapshot["video_key"]
        self.cost_note = snapshot["cost_note"]
        self.row = merge_rows(current, [loaded])[0]
        self._clear_finished_notice()

    def _apply_progress(self, update: dict[str, Any]) -> bool:
        if self.row is not None and update["video_id"] == self.row["id"]:
            self.row = apply_update(self.row, update)
            self._clear_finished_notice()
        return False

    def _clear_finished_notice(self) -> None:
        if self.row is not None and not self.row["active"]:
            self.script_notice = ""

    def _update_length_note(self) -> None:
        narration = " ".join([self.hook, self.lines])
        self.length_note = video_requests.script_length_note(
            narration, target_seconds=self._target_seconds, voice_speed=self._voice_speed
        )

    def _has_active(self) -> bool:
        return self.row is not None and self.row["active"]

    def _on_page(self, path: str) -> bool:
        return video_id_from_path(path) == self._video_id

    @rx.event
    async def load_page(self):
        """Load the video named in the URL and start following its progress."""
        actor, leave = await session_actor(self)
        if actor is None:
            return leave
        self._video_id = video_id_from_path(self.router.url.path) or 0
        self.row, self.links, self._video_key = None, NO_LINKS, ""
        self.details_errors, self.details_notice, self.action_error = {}, "", ""
        self.script_error, self.script_notice, self.confirm_delete = "", "", False
        snapshot = None
        if self._video_id:
            snapshot = await asyncio.to_thread(load_detail, actor, self._video_id)
        self._apply_snapshot(snapshot)
        if snapshot is None:
            return None
        for name in EDIT_FIELDS:
            setattr(self, name, snapshot[name])
        self._target_seconds = snapshot["target_seconds"]
        self._voice_speed = snapshot["voice_speed"]
        self._update_length_note()
        return VideoDetailState.watch_progress

    @rx.event
    def set_text(self, name: str, value: str):
        """Remember what was typed in one of the edit fields."""
        typed = text(value, max_length=MAX_FIELD_LENGTH)
        if name not in EDIT_FIELDS or typed is None:
            return
        setattr(self, name, typed)
        if name in ("hook", "lines"):
            self._update_length_note()

    async def _user_for_action(self) -> tuple[Actor | None, Any]:
        """The signed-in owner of a video this page shows, or why not (a redirect or a message)."""
        actor, leave = await session_actor(self)
        if actor is None:
            return None, leave
        if not self._video_id or not self.found:
            self.action_error = "This video does not exist, or it is not yours."
            return None, None
        return actor, None

    async def _reload(self, actor: Actor) -> None:
        self._apply_snapshot(await asyncio.to_thread(load_detail, actor, self._video_id))
        self._snapshot_gen += 1

    @rx.event
    async def save_details(self):
        """Save title, description and hashtags."""
        self.details_errors, self.details_notice, self.action_error = {}, "", ""
        actor, leave = await self._user_for_action()
        if actor is None:
            return leave
        update = functools.partial(
            _save_details, actor, self._video_id, self.title, self.description, self.hashtags
        )
        try:
            await asyncio.to_thread(update)
        except ValidationError as exc:
            self.details_errors = exc.field_errors
            return None
        except ViralShortsError as exc:
            self.action_error = str(exc)
            return None
        self.details_notice = "Details saved."
        await self._reload(actor)
        return None

    @rx.event
    async def rerender(self):
        """Render the video again from the edited script."""
        self.script_error, self.script_notice, self.action_error = "", "", ""
        actor, leave = await self._user_for_action()
        if actor is None:
            return leave
        script = script_from_text(
            self.hook,
            self.lines,
            title=self.title,
            description=self.description,
            hashtags=split_hashtags(self.hashtags),
        )
        try:
            await asyncio.to_thread(_rerender, actor, self._video_id, script)
        except ValidationError as exc:
            self.script_error = " ".join(exc.field_errors.values())
            return None
        except ServiceUnavailableError as exc:
            self.script_notice = str(exc)  # saved and queued; it starts when the queue answers
        except ViralShortsError as exc:
            self.script_error = str(exc)
            return None
        else:
            self.script_notice = RERENDER_NOTICE
        await self._reload(actor)
        return VideoDetailState.watch_progress

    @rx.event
    async def retry(self):
        """Queue a failed or canceled video again and follow it live."""
        self.action_error = ""
        actor, leave = await self._user_for_action()
        if actor is None:
            return leave
        try:
            await asyncio.to_thread(_act, video_domain.retry_video, actor, self._video_id)
        except ServiceUnavailableError as exc:
            self.action_error = str(exc)
        except ViralShortsError as exc:
            self.action_error = _message(exc)
            return None
        await self._reload(actor)
        return VideoDetailState.watch_progress

    @rx.event
    def ask_delete(self):
        """Show the "delete for good?" step."""
        self.confirm_delete, self.action_error = True, ""

    @rx.event
    def keep_video(self):
        """Hide the confirm step again."""
        self.confirm_delete = False

    @rx.event
    async def delete(self):
        """Delete this video and its files, then go back to the list."""
        self.action_error = ""
        actor, leave = await self._user_for_action()
        if actor is None:
            return leave
        if not self.confirm_delete:
            self.action_error = BAD_REQUEST
            return None
        self.confirm_delete = False
        try:
            await asyncio.to_thread(_act, video_domain.delete_video, actor, self._video_id)
        except ViralShortsError as exc:
            self.action_error = _message(exc)
            return None
        return rx.redirect(LIST_ROUTE)


def _message(exc: ViralShortsError) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.field_errors.values())
    return str(exc)


def _save_details(actor: Actor, video_id: int, title: str, description: str, hashtags: str) -> None:
    with session_scope() as session:
        video_domain.update_metadata(
            session,
            actor=actor,
            video_id=video_id,
            title=title.strip(),
            description=description.strip(),
            hashtags=split_hashtags(hashtags),
        )


def _rerender(actor: Actor, video_id: int, script: dict[str, Any]) -> None:
    with session_scope() as session:
        video_domain.rerender_with_script(
            session, get_services(), actor=actor, video_id=video_id, script=script
        )


def _act(action: Callable[..., Any], actor: Actor, video_id: int) -> None:
    with session_scope() as session:
        action(session, get_services(), actor=actor, video_id=video_id)


# ----------------------------------------------------------------------------- components

INPUT_STYLE = {
    "width": "100%",
    "padding": "0.5rem",
    "border": "1px solid var(--gray-7)",
    "border_radius": "var(--radius-2)",
}


def _text_field(label: str, name: str, multiline: bool = False) -> rx.Component:
    value = getattr(VideoDetailState, name)
    element = rx.el.textarea if multiline else rx.el.input
    control = element(
        id=f"video-{name}",
        value=value,
        on_change=lambda v: VideoDetailState.set_text(name, v),
        rows=6 if multiline else None,
        style=INPUT_STYLE,
    )
    return rx.vstack(
        rx.el.label(label, html_for=f"video-{name}", style={"font_weight": "500"}),
        control,
        rx.cond(
            VideoDetailState.details_errors.contains(name),
            rx.text(VideoDetailState.details_errors[name], color_scheme="red", size="2"),
        ),
        spacing="1",
        width="100%",
    )


def _actions(row: rx.Var[VideoRow]) -> rx.Component:
    confirm = rx.hstack(
        rx.text("Delete this video and its files for good?", size="2", weight="medium"),
        rx.button("Yes, delete", color_scheme="red", on_click=VideoDetailState.delete),
        rx.button("Keep it", variant="soft", on_click=VideoDetailState.keep_video),
        align="center",
        wrap="wrap",
        role="group",
        aria_label="Confirm delete",
    )
    buttons = rx.hstack(
        rx.cond(row["can_retry"], rx.button("Retry", on_click=VideoDetailState.retry)),
        rx.cond(
            row["can_delete"],
            rx.button(
                "Delete", variant="soft", color_scheme="red", on_click=VideoDetailState.ask_delete
            ),
        ),
        spacing="3",
    )
    return rx.cond(VideoDetailState.confirm_delete, confirm, buttons)


def _status(row: rx.Var[VideoRow]) -> rx.Component:
    return card(
        rx.hstack(
            rx.badge(row["status_label"], color_scheme=row["status_color"].to(str), size="2"),
            rx.text(row["campaign"], color_scheme="gray", size="2"),
            align="center",
        ),
        stepper(row),
        progress_bar(row["percent"].to(int), row["title"].to(str)),
        rx.text(row["message"], size="2"),
        rx.cond(
            row["error"] != "",
            rx.text("Why it failed: ", row["error"], color_scheme="red", size="2"),
        ),
        error_callout(VideoDetailState.action_error),
        _actions(row),
    )


def _download(label: str, href: rx.Var[str]) -> rx.Component:
    # A plain <a>: rx.el.a is React Router's Link, which routes /api/... inside the app (404).
    # A file the video does not have (no key, so no signed URL) gets no link at all.
    return rx.cond(href, rx.el.elements.a(label, href=href, download=True))


def _preview() -> rx.Component:
    links = VideoDetailState.links
    return card(
        rx.el.video(
            src=links["mp4"],
            poster=links["thumbnail"],
            controls=True,
            preload="metadata",
            plays_inline=True,
            aria_label="Video preview",
            style={"width": "100%", "max_width": "360px", "aspect_ratio": "9 / 16"},
        ),
        rx.hstack(
            _download("Download MP4", links["download"]),
            _download("Download thumbnail", links["thumbnail"]),
            _download("Download YouTube thumbnail (1280x720)", links["wide_thumbnail"]),
            _download("Download captions (.srt)", links["srt"]),
            spacing="4",
            wrap="wrap",
        ),
    )


def _details_form() -> rx.Component:
    return card(
        rx.heading("Details", size="4", as_="h3"),
        _text_field("Title", "title"),
        _text_field("Description", "description", multiline=True),
        _text_field("Hashtags", "hashtags"),
        rx.hstack(
            rx.button("Save details", on_click=VideoDetailState.save_details),
            rx.text(VideoDetailState.details_notice, role="status", color_scheme="green"),
            align="center",
        ),
    )


def _note(message: rx.Var[str], note_id: str) -> rx.Component:
    return rx.cond(
        message != "", rx.text(message, id=note_id, size="2", color_scheme="amber", role="note")
    )


def _script_form() -> rx.Component:
    return card(
        rx.heading("Script", size="4", as_="h3"),
        _text_field("Hook", "hook"),
        _text_field("Script lines (one per line)", "lines", multiline=True),
        _note(VideoDetailState.length_note, "script-length"),
        error_callout(VideoDetailState.script_error),
        rx.text(VideoDetailState.cost_note, id="rerender-cost", size="2", color_scheme="gray"),
        rx.hstack(
            rx.button(
                "Re-render with this script",
                on_click=VideoDetailState.rerender,
                disabled=VideoDetailState.row["active"].to(bool),
            ),
            rx.text(VideoDetailState.script_notice, role="status"),
            align="center",
        ),
    )


def _found() -> rx.Component:
    row = VideoDetailState.row.to(VideoRow)
    return rx.vstack(
        rx.heading(row["title"], size="5", as_="h2"),
        _status(row),
        rx.cond(row["ready"], _preview()),
        rx.cond(row["ready"], publish_panel()),
        rx.grid(_details_form(), _script_form(), columns={"initial": "1", "md": "2"}, spacing="4"),
        rx.link("← All videos", href=LIST_ROUTE),
        spacing="4",
        width="100%",
    )


def _not_found() -> rx.Component:
    return card(
        rx.heading("Video not found", size="5", as_="h2"),
        rx.text("It does not exist, or it is not yours."),
        rx.link("← All videos", href=LIST_ROUTE),
    )


def video_detail_page() -> rx.Component:
    """One video."""
    return app_shell(
        "Video",
        rx.cond(
            VideoDetailState.found,
            rx.cond(VideoDetailState.row, _found(), rx.spinner(aria_label="Loading")),
            _not_found(),
        ),
    )
