"""/app/media: the creator's clips, images and music, with uploads and delete.

Each card shows a preview: an image itself, a clip its preview frame (taken at upload), through
signed media URLs; music (or a clip stored before previews existed) shows its kind.

Uploads stream (``rx.upload_files_chunk``): the handler writes chunks to a temporary file and
stops reading as soon as a file passes the size limit. Reflex itself has no limit, and the
buffered variant would have spooled the whole body before the handler could say no.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, TypedDict

import reflex as rx

from viralshorts.db import session_scope
from viralshorts.domain import media_library
from viralshorts.domain.workspaces import Actor
from viralshorts.errors import ValidationError, ViralShortsError
from viralshorts.integrations.ports import Services
from viralshorts.integrations.services import get_services
from viralshorts.models import MediaAsset, MediaKind
from viralshorts.ui import guards
from viralshorts.ui.layout import app_shell, card, empty_state, error_callout
from viralshorts.ui.state import AuthState

ROUTE = "/app/media"
UPLOAD_ID = "media_upload"
ACCEPT = {"video/*": [], "image/*": [], "audio/*": []}
KIND_LABELS = {"clip": "Video clip", "image": "Image", "music": "Music"}


class AssetRow(TypedDict):
    """One library item as the page shows it."""

    id: int
    kind: str
    name: str
    duration: str
    size: str
    preview: str  # a signed URL of the picture to show, "" for none


def format_size(size_bytes: int) -> str:
    """``1536`` → ``"1.5 KB"``; ``5_000_000`` → ``"4.8 MB"``."""
    size = float(size_bytes)
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def format_duration(seconds: float | None) -> str:
    """``75.4`` → ``"1:15"``; no duration (images) → ``"—"``."""
    if seconds is None:
        return "—"
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def preview_url(services: Services, asset: MediaAsset) -> str:
    """A signed URL of what the card shows: the image itself, a clip's frame, else ""."""
    key = asset.storage_key if asset.kind == MediaKind.IMAGE else asset.preview_key
    if not key:
        return ""
    return services.storage.signed_url(key, expires_in=services.settings.signed_url_ttl_seconds)


def asset_row(asset: MediaAsset, preview: str = "") -> AssetRow:
    """The row for one library item (``preview``: the signed URL of its picture)."""
    return AssetRow(
        id=asset.id or 0,
        kind=KIND_LABELS.get(str(asset.kind), str(asset.kind)),
        name=asset.filename,
        duration=format_duration(asset.duration_seconds),
        size=format_size(asset.size_bytes),
        preview=preview,
    )


def too_big_message(filename: str) -> str:
    """What a person reads when ``filename`` is over the limit."""
    return f"“{filename}” is larger than the {media_library.MAX_UPLOAD_MB} MB limit."


async def receive_upload(
    chunks: AsyncIterator[Any], folder: Path, limit_bytes: int
) -> list[tuple[str, Path]]:
    """Write streamed upload chunks to files in ``folder``; stop past ``limit_bytes`` a file.

    Returns:
        ``(original filename, path on disk)`` for each file, in arrival order.

    Raises:
        ValidationError: a file is larger than ``limit_bytes`` (reading stops there).
    """
    files: dict[str, Path] = {}
    sizes: dict[str, int] = {}
    async for chunk in chunks:
        name = Path(chunk.filename).name or "upload"
        sizes[name] = sizes.get(name, 0) + len(chunk.data)
        if sizes[name] > limit_bytes:
            raise ValidationError({"file": too_big_message(name)})
        path = files.setdefault(name, folder / f"{len(files)}{Path(name).suffix}")
        with path.open("ab") as out:
            out.write(chunk.data)
    return list(files.items())


def _store_one(actor: Actor, name: str, path: Path) -> str:
    try:
        with session_scope() as session:
            asset = media_library.add_media(
                session, get_services(), actor=actor, filename=name, path=path
            )
    except ValidationError as exc:
        # The domain speaks of "this file"; say which one.
        reason = " ".join(exc.field_errors.values())
        raise ValidationError(
            {"file": f"“{name}”: {reason}"}, field_codes=exc.field_codes, params=exc.params
        ) from exc
    return asset.filename


def _store(actor: Actor, files: list[tuple[str, Path]]) -> list[str]:
    return [_store_one(actor, name, path) for name, path in files]


def _load_assets(actor: Actor) -> list[AssetRow]:
    services = get_services()
    with session_scope() as session:
        assets = media_library.list_media(session, actor=actor)
        return [asset_row(a, preview_url(services, a)) for a in assets]


def _delete(actor: Actor, asset_id: int) -> None:
    with session_scope() as session:
        media_library.delete_media(session, get_services(), actor=actor, asset_id=asset_id)


def _rejected_name_and_codes(item: object) -> tuple[str, set[str]]:
    """The file name and error codes of one refused file, from whatever the browser sent."""
    data: dict[str, Any] = item if isinstance(item, dict) else {}
    file = data.get("file") if isinstance(data.get("file"), dict) else {}
    errors = data.get("errors") if isinstance(data.get("errors"), list) else []
    name = str(file.get("path", "file"))[:255].lstrip("./") or "file"
    return name, {str(e.get("code", "")) for e in errors if isinstance(e, dict)}


def rejected_message(rejected: list[dict[str, Any]]) -> str:
    """Explain files the browser refused before sending them (type or size)."""
    parts = []
    for item in rejected[:20] if isinstance(rejected, list) else []:
        name, codes = _rejected_name_and_codes(item)
        if "file-too-large" in codes:
            parts.append(too_big_message(name))
        else:
            parts.append(f"“{name}” is not a video, image or audio file.")
    return " ".join(parts)


class MediaState(rx.State):
    """The library page."""

    assets: list[AssetRow] = []
    uploading: bool = False
    upload_error: str = ""
    upload_notice: str = ""
    action_error: str = ""

    @rx.event
    async def load_page(self):
        """Load the user's library."""
        self.upload_error = self.upload_notice = self.action_error = ""
        actor, leave = await guards.session_actor(self)
        if actor is None:
            return leave
        self.assets = await asyncio.to_thread(_load_assets, actor)
        return None

    @rx.event(background=True)
    async def upload(self, chunks: rx.UploadChunkIterator):
        """Receive one upload, check it, and add it to the library."""
        async with self:
            actor, leave = await guards.upload_session_actor(self)
            if actor is None or self.uploading:
                return leave
            self.uploading, self.upload_error, self.upload_notice = True, "", ""
        error, notice = await self._receive_and_store(actor, chunks)
        assets = await asyncio.to_thread(_load_assets, actor)
        async with self:
            self.uploading, self.upload_error, self.upload_notice = False, error, notice
            self.assets = assets
        return None

    async def _receive_and_store(
        self, actor: Actor, chunks: rx.UploadChunkIterator
    ) -> tuple[str, str]:
        """Returns ``(error, notice)``: exactly one of them is non-empty."""
        folder = Path(tempfile.mkdtemp(prefix="vs-upload-"))
        limit = media_library.MAX_UPLOAD_MB * 1024 * 1024
        try:
            files = await receive_upload(chunks, folder, limit)
            names = await asyncio.to_thread(_store, actor, files)
        except ValidationError as exc:
            return " ".join(exc.field_errors.values()), ""
        except ViralShortsError as exc:
            return str(exc), ""
        finally:
            await asyncio.to_thread(shutil.rmtree, folder, True)
        if not names:
            return "Choose a file to upload.", ""
        return "", f"Added {', '.join(names)}."

    @rx.event
    def rejected(self, files: list[dict[str, Any]]):
        """The browser refused a file before uploading it."""
        self.upload_notice = ""
        self.upload_error = rejected_message(files) or guards.BAD_REQUEST

    @rx.event
    async def delete(self, asset_id: int):
        """Delete one library item (after the person confirmed)."""
        self.action_error = ""
        wanted = guards.record_id(asset_id)
        if wanted is None:
            self.action_error = guards.BAD_REQUEST
            return None
        actor, leave = await guards.session_actor(self)
        if actor is None:
            return leave
        try:
            await asyncio.to_thread(_delete, actor, wanted)
        except ViralShortsError as exc:
            self.action_error = str(exc)
        self.assets = await asyncio.to_thread(_load_assets, actor)
        return None


# ----------------------------------------------------------------------------- components


def _drop_zone() -> rx.Component:
    return rx.upload(
        rx.vstack(
            rx.icon("upload", size=24),
            rx.text("Drop a file here, or click to choose one."),
            rx.text(
                f"Video, image or audio; up to {media_library.MAX_UPLOAD_MB} MB.",
                size="1",
                color_scheme="gray",
            ),
            align="center",
            spacing="1",
        ),
        id=UPLOAD_ID,
        accept=ACCEPT,
        multiple=False,
        max_files=1,
        max_size=media_library.MAX_UPLOAD_MB * 1024 * 1024,
        no_click=True,
        on_drop=MediaState.upload(rx.upload_files_chunk(upload_id=UPLOAD_ID)),
        on_drop_rejected=MediaState.rejected,
        border="2px dashed var(--gray-7)",
        border_radius="var(--radius-3)",
        padding="1.5rem",
        width="100%",
        cursor="pointer",
    )


def _upload_card() -> rx.Component:
    # The <label> wraps the drop zone so its hidden file input is named "Upload media" and a
    # click anywhere in it opens the file chooser (no_click stops the zone opening it twice).
    return card(
        rx.el.label(
            rx.text("Upload media", weight="bold"),
            _drop_zone(),
            style={"display": "block", "width": "100%"},
        ),
        rx.cond(MediaState.uploading, rx.hstack(rx.spinner(), rx.text("Uploading and checking…"))),
        error_callout(MediaState.upload_error, width="100%"),
        rx.cond(
            MediaState.upload_notice != "",
            rx.text(MediaState.upload_notice, role="status", color_scheme="green"),
        ),
    )


def _delete_button(asset: rx.Var[AssetRow]) -> rx.Component:
    name = asset["name"].to(str)
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button("Delete", variant="soft", color_scheme="red", aria_label="Delete " + name),
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete " + name + "?"),
            rx.alert_dialog.description("Videos already rendered keep working."),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep it", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button(
                        "Yes, delete",
                        color_scheme="red",
                        on_click=MediaState.delete(asset["id"]),
                    )
                ),
                justify="end",
                spacing="3",
            ),
        ),
    )


PREVIEW_STYLE = {
    "width": "100%",
    "aspect_ratio": "16 / 9",
    "object_fit": "cover",
    "border_radius": "var(--radius-2)",
    "background": "var(--gray-3)",
}
KIND_ICONS = {"Video clip": "film", "Image": "image", "Music": "music"}


def _preview(asset: rx.Var[AssetRow]) -> rx.Component:
    """The card's picture: the preview when there is one, else the kind's icon."""
    return rx.cond(
        asset["preview"] != "",
        rx.image(
            src=asset["preview"],
            alt="Preview of " + asset["name"].to(str),
            loading="lazy",
            style=PREVIEW_STYLE,
        ),
        rx.center(
            rx.match(
                asset["kind"],
                *[(label, rx.icon(icon, size=32)) for label, icon in KIND_ICONS.items()],
                rx.icon("file", size=32),
            ),
            aria_hidden="true",
            style={**PREVIEW_STYLE, "color": "var(--gray-9)"},
        ),
    )


def _asset_card(asset: rx.Var[AssetRow]) -> rx.Component:
    return card(
        _preview(asset),
        rx.badge(asset["kind"]),
        rx.text(asset["name"], weight="medium", trim="both", style={"word_break": "break-all"}),
        rx.text(asset["duration"], " · ", asset["size"], size="2", color_scheme="gray"),
        _delete_button(asset),
        aria_label="Media " + asset["name"].to(str),
    )


def _library() -> rx.Component:
    return rx.cond(
        MediaState.assets.length() > 0,
        rx.grid(
            rx.foreach(MediaState.assets, _asset_card),
            columns={"initial": "1", "sm": "2", "md": "3"},
            spacing="3",
            width="100%",
        ),
        empty_state(
            "image",
            "No media yet",
            "Upload clips or images to use as backgrounds, and music to play under the voice.",
        ),
    )


def media_page() -> rx.Component:
    """The media library."""
    return app_shell(
        "Media",
        rx.cond(AuthState.can_edit, _upload_card()),
        error_callout(MediaState.action_error),
        _library(),
    )
