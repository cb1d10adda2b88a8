"""/app/videos/[video_id]: preview, details, downloads, script edit and re-render, live status."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any, TypedDict

import reflex as rx

from viralshorts.db import session_scope
from viralshorts.domain import campaigns as campaign_domain
from viralshorts.domain import videos as video_domain
from viralshorts.errors import NotFoundError, ValidationError, ViralShortsError
from viralshorts.integrations.services import get_services
from viralshorts.models import Video
from viralshorts.ui.layout import app_shell, card, error_callout
from viralshorts.ui.progress import (
    LiveProgress,
    VideoRow,
    apply_update,
    current_user_id,
    merge_rows,
    progress_bar,
    stepper,
    video_row,
)

ROUTE = "/app/videos/[video_id]"
LIST_ROUTE = "/app/videos"


class Links(TypedDict):
    """Signed URLs of a finished video's files (empty strings until it is ready)."""

    mp4: str
    download: str
    thumbnail: str
    srt: str


NO_LINKS = Links(mp4="", download="", thumbnail="", srt="")


def video_id_from_path(path: str) -> int | None:
    """The id in ``/app/videos/<id>`` (None when the last part is not a number)."""
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return int(last) if last.isdigit() else None


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


def _campaign_name(session: Any, user_id: int, campaign_id: int) -> str:
    try:
        return campaign_domain.get_campaign(session, user_id=user_id, campaign_id=campaign_id).name
    except NotFoundError:
        return ""


def load_detail(user_id: int, video_id: int) -> dict[str, Any] | None:
    """Everything the page shows about one video, or None when it is not the user's."""
    with session_scope() as session:
        try:
            video = video_domain.get_video(session, user_id=user_id, video_id=video_id)
        except NotFoundError:
            return None
        script = video.script or {}
        return {
            "row": video_row(video, _campaign_name(session, user_id, video.campaign_id)),
            "links": _links(video),
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
    _video_id: int = 0

    def _snapshot_loader(self, user_id: int) -> Callable[[], Any]:
        return functools.partial(load_detail, user_id, self._video_id)

    def _apply_snapshot(self, snapshot: Any) -> None:
        self.found = snapshot is not None
        if snapshot is None:
            return
        loaded: VideoRow = snapshot["row"]
        current = [self.row] if self.row is not None and self.row["id"] == loaded["id"] else []
        # Signed URLs change on every read, and a new src restarts the player: keep the ones
        # shown while the video's status stays the same.
        unchanged = bool(current) and current[0]["status"] == loaded["status"]
        if not (unchanged and self.links["mp4"]):
            self.links = snapshot["links"]
        self.row = merge_rows(current, [loaded])[0]

    def _apply_progress(self, update: dict[str, Any]) -> bool:
        if self.row is not None and update["video_id"] == self.row["id"]:
            self.row = apply_update(self.row, update)
        return False

    def _has_active(self) -> bool:
        return self.row is not None and self.row["active"]

    def _on_page(self, path: str) -> bool:
        return video_id_from_path(path) == self._video_id

    @rx.event
    async def load_page(self):
        """Load the video named in the URL and start following its progress."""
        user_id = await current_user_id(self)
        if user_id is None:
            return None
        self._video_id = video_id_from_path(self.router.url.path) or 0
        self.row, self.links = None, NO_LINKS
        snapshot = load_detail(user_id, self._video_id)
        self._apply_snapshot(snapshot)
        self.details_errors, self.details_notice = {}, ""
        self.script_error, self.script_notice = "", ""
        if snapshot is None:
            return None
        for name in ("title", "description", "hashtags", "hook", "lines"):
            setattr(self, name, snapshot[name])
        return VideoDetailState.watch_progress

    @rx.event
    def set_text(self, name: str, value: str):
        """Remember what was typed in one of the edit fields."""
        if name in ("title", "description", "hashtags", "hook", "lines"):
            setattr(self, name, value)

    @rx.event
    async def save_details(self):
        """Save title, description and hashtags."""
        user_id = await current_user_id(self)
        if user_id is None:
            return
        self.details_errors, self.details_notice = {}, ""
        try:
            with session_scope() as session:
                video_domain.update_metadata(
                    session,
                    user_id=user_id,
                    video_id=self._video_id,
                    title=self.title.strip(),
                    description=self.description.strip(),
                    hashtags=split_hashtags(self.hashtags),
                )
        except ValidationError as exc:
            self.details_errors = exc.field_errors
            return
        self.details_notice = "Details saved."
        self._apply_snapshot(load_detail(user_id, self._video_id))

    @rx.event
    async def rerender(self):
        """Render the video again from the edited script."""
        user_id = await current_user_id(self)
        if user_id is None:
            return None
        self.script_error, self.script_notice = "", ""
        try:
            with session_scope() as session:
                video_domain.rerender_with_script(
                    session,
                    get_services(),
                    user_id=user_id,
                    video_id=self._video_id,
                    script=script_from_text(
                        self.hook,
                        self.lines,
                        title=self.title,
                        description=self.description,
                        hashtags=split_hashtags(self.hashtags),
                    ),
                )
        except ValidationError as exc:
            self.script_error = " ".join(exc.field_errors.values())
            return None
        except ViralShortsError as exc:
            self.script_error = str(exc)
            return None
        self.script_notice = "Rendering again with your script."
        self._apply_snapshot(load_detail(user_id, self._video_id))
        return VideoDetailState.watch_progress


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
    )


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
            rx.el.a("Download MP4", href=links["download"], download=True),
            rx.el.a("Download thumbnail", href=links["thumbnail"], download=True),
            rx.el.a("Download captions (.srt)", href=links["srt"], download=True),
            spacing="4",
            wrap="wrap",
        ),
    )


def _details_form() -> rx.Component:
    return card(
        rx.heading("Details", size="4", as_="h2"),
        _text_field("Title", "title"),
        _text_field("Description", "description", multiline=True),
        _text_field("Hashtags", "hashtags"),
        rx.hstack(
            rx.button("Save details", on_click=VideoDetailState.save_details),
            rx.text(VideoDetailState.details_notice, role="status", color_scheme="green"),
            align="center",
        ),
    )


def _script_form() -> rx.Component:
    return card(
        rx.heading("Script", size="4", as_="h2"),
        _text_field("Hook", "hook"),
        _text_field("Script lines (one per line)", "lines", multiline=True),
        error_callout(VideoDetailState.script_error),
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
