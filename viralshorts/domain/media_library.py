"""The creator's media library: uploaded clips, images and music, checked by probing them.

The file's extension is never trusted: ffprobe (through ``services.prober``) says what it is.
A file that starts like a media container but cannot be read, or whose boxes run past the end
of the file, is reported as damaged or incomplete (an interrupted upload) rather than as "not
media".

A clip gets a preview frame when it is added (``services.previews``; a clip whose frame cannot
be taken is still added, its card shows its kind instead); an image is its own preview.

Pictures are limited to ``MAX_SIDE`` pixels a side and ``MAX_PIXELS`` in all. An image's size is
read from its header before ffprobe sees it: decoding a 775 KB PNG that claims 16000x16000 takes
about 800 MB. Whatever ffprobe then reports (video frames, other image formats) is checked again.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import re
import struct
from pathlib import Path

from sqlmodel import Session, col, select

from viralshorts.domain.image_header import read_image_header
from viralshorts.domain.workspaces import Action, Actor, require
from viralshorts.errors import IntegrationError, NotFoundError, ValidationError
from viralshorts.integrations.ports import MediaProbe, Services
from viralshorts.models import MediaAsset, MediaKind
from viralshorts.settings import get_settings

logger = logging.getLogger(__name__)

MB = 1024 * 1024
PREVIEW_AT_SECONDS = 1.0
NOT_MEDIA = "This file is not a video, image or audio file we can read."
DAMAGED = (
    "This file looks damaged or incomplete (was the upload or export interrupted?). "
    "Export it again and upload the new copy."
)
MAX_SIDE = 8000
MAX_PIXELS = 48_000_000
_IMAGE_CODECS = {"png", "mjpeg", "webp", "bmp", "tiff", "jpegls"}
_EXTENSIONS = {"png_pipe": "png", "jpeg_pipe": "jpg", "webp_pipe": "webp", "bmp_pipe": "bmp"}
_EXTENSIONS |= {"mp3": "mp3", "wav": "wav", "ogg": "ogg", "flac": "flac", "aac": "aac"}
_EXTENSIONS |= {"avi": "avi", "gif": "gif", "matroska,webm": "webm"}
_MEDIA_MAGIC = (b"RIFF", b"ID3", b"OggS", b"fLaC", b"\x1a\x45\xdf\xa3", b"\x89PNG", b"\xff\xd8")


def __getattr__(name: str) -> int:
    """``MAX_UPLOAD_MB`` is read from the current settings each time (the UI shows it)."""
    if name == "MAX_UPLOAD_MB":
        return get_settings().max_upload_bytes // MB
    raise AttributeError(name)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(MB), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _iso_boxes(path: Path) -> bool | None:
    """For an MP4/MOV file: True when its top-level boxes fit in the file; None if not one."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(12)
        if len(head) < 12 or head[4:8] != b"ftyp":
            return None
        offset = 0
        while offset + 8 <= size:
            handle.seek(offset)
            box_size, _ = struct.unpack(">I4s", handle.read(8))
            if box_size == 1:
                box_size = struct.unpack(">Q", handle.read(8))[0]
            if box_size == 0:
                return True  # the last box runs to the end of the file
            if box_size < 8 or offset + box_size > size:
                return False
            offset += box_size
        return offset == size


def _looks_like_media(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(12)
    return head[4:8] == b"ftyp" or head.startswith(_MEDIA_MAGIC) or head[:2] == b"\xff\xfb"


def within_picture_limits(width: int | None, height: int | None) -> bool:
    """Whether a picture (image or video frame) of this size may be used.

    False for a size ffprobe could not read (0 or ``None``): such a file was stored before
    the limits existed and is not safe to decode.
    """
    if not width or not height or width < 0 or height < 0:
        return False
    return max(width, height) <= MAX_SIDE and width * height <= MAX_PIXELS


def _refuse_picture_size(width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise ValidationError({"file": DAMAGED}, field_codes={"file": "damaged"})
    if within_picture_limits(width, height):
        return
    message = (
        f"Images can be at most {MAX_SIDE}x{MAX_SIDE} pixels ({MAX_PIXELS // 1_000_000} "
        f"megapixels); this one is {width}x{height}. Make it smaller and upload it again."
    )
    raise ValidationError(
        {"file": message},
        field_codes={"file": "image_too_large"},
        params={"width": width, "height": height, "max_side": MAX_SIDE},
    )


def _check_image_header(path: Path) -> None:
    """Refuse an oversized (or unsizeable) image before any decoder touches it."""
    header = read_image_header(path)
    if header is not None:
        _refuse_picture_size(header.width, header.height)


def _probe(services: Services, path: Path) -> MediaProbe:
    if _iso_boxes(path) is False:
        raise ValidationError({"file": DAMAGED}, field_codes={"file": "damaged"})
    try:
        probe = services.prober.probe(path)
    except IntegrationError as exc:
        damaged = _looks_like_media(path)
        raise ValidationError(
            {"file": DAMAGED if damaged else NOT_MEDIA},
            field_codes={"file": "damaged" if damaged else "not_media"},
        ) from exc
    if probe.has_video:
        _refuse_picture_size(probe.width or 0, probe.height or 0)
    return probe


def _kind(probe: MediaProbe) -> MediaKind:
    still = probe.video_codec in _IMAGE_CODECS and (probe.duration or 0.0) < 0.5
    if probe.has_video and (still or probe.format_name.endswith("_pipe")):
        return MediaKind.IMAGE
    return MediaKind.CLIP if probe.has_video else MediaKind.MUSIC


def _extension(probe: MediaProbe, kind: MediaKind) -> str:
    if probe.format_name.startswith("mov,mp4"):
        return "m4a" if kind == MediaKind.MUSIC else "mp4"
    if probe.format_name == "image2" and probe.video_codec == "mjpeg":
        return "jpg"
    if probe.format_name == "matroska,webm" and probe.video_codec not in ("vp8", "vp9", "av1"):
        return "mkv"
    return _EXTENSIONS.get(probe.format_name, "bin")


def _clean_filename(filename: str) -> str:
    name = re.sub(r"[\x00-\x1f/\\]", "", Path(filename).name).strip()
    return (name or "upload")[:255]


def _preview_time(duration: float | None) -> float:
    """A second in (past a fade from black), or the middle of a shorter clip."""
    return min(PREVIEW_AT_SECONDS, (duration or 0.0) / 2)


def _store_preview(services: Services, path: Path, key: str, duration: float | None) -> str:
    """Take and store a clip's preview frame; its key, or "" when there is none."""
    if services.previews is None:
        return ""
    frame = path.with_name(path.name + ".preview.jpg")
    try:
        services.previews.preview_frame(path, at_seconds=_preview_time(duration), out_path=frame)
        preview_key = key.rsplit(".", 1)[0] + ".preview.jpg"
        services.storage.put_file(preview_key, frame, "image/jpeg")
    except IntegrationError as exc:
        logger.warning("media: no preview frame for %s: %s", key, exc)
        return ""
    finally:
        frame.unlink(missing_ok=True)
    return preview_key


def add_media(
    session: Session, services: Services, *, actor: Actor, filename: str, path: Path
) -> MediaAsset:
    """Check, store and record an uploaded file in the actor's workspace (once per workspace).

    Raises:
        PermissionDeniedError: the actor's role may not change the media library.
        ValidationError: too large (in bytes or pixels), not media, or damaged
            (``field_errors["file"]``, with a code in ``field_codes["file"]``).
    """
    require(actor, Action.MANAGE_MEDIA)
    limit = services.settings.max_upload_bytes
    if path.stat().st_size > limit:
        raise ValidationError(
            {"file": f"This file is larger than the {limit // MB} MB limit."},
            field_codes={"file": "file_too_large"},
            params={"max_mb": limit // MB},
        )
    _check_image_header(path)
    probe = _probe(services, path)
    sha256 = _sha256(path)
    query = select(MediaAsset).where(
        MediaAsset.workspace_id == actor.workspace_id, MediaAsset.sha256 == sha256
    )
    existing = session.exec(query).first()
    if existing is not None:
        return existing
    kind = _kind(probe)
    key = f"media/w{actor.workspace_id}/{sha256}.{_extension(probe, kind)}"
    content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
    services.storage.put_file(key, path, content_type)
    preview = _store_preview(services, path, key, probe.duration) if kind == MediaKind.CLIP else ""
    asset = MediaAsset(
        workspace_id=actor.workspace_id, user_id=actor.user_id, kind=kind,
        filename=_clean_filename(filename), storage_key=key,
        content_type=content_type, size_bytes=path.stat().st_size, sha256=sha256,
        duration_seconds=probe.duration, width=probe.width, height=probe.height,
        preview_key=preview,
    )  # fmt: skip
    session.add(asset)
    session.commit()
    return asset


def list_media(
    session: Session, *, actor: Actor, kind: MediaKind | None = None
) -> list[MediaAsset]:
    """The workspace's media, newest first, optionally of one kind."""
    require(actor, Action.VIEW)
    query = select(MediaAsset).where(MediaAsset.workspace_id == actor.workspace_id)
    if kind is not None:
        query = query.where(MediaAsset.kind == kind)
    return list(session.exec(query.order_by(col(MediaAsset.id).desc())).all())


def delete_media(session: Session, services: Services, *, actor: Actor, asset_id: int) -> None:
    """Delete one of the workspace's media files.

    Raises:
        PermissionDeniedError: the actor's role may not change the media library.
        NotFoundError: no such file in the actor's workspace.
    """
    require(actor, Action.MANAGE_MEDIA)
    asset = session.get(MediaAsset, asset_id)
    if asset is None or asset.workspace_id != actor.workspace_id:
        raise NotFoundError("Media file not found.", code="media_not_found")
    session.delete(asset)
    session.commit()
    services.storage.delete(asset.storage_key)
    if asset.preview_key:
        services.storage.delete(asset.preview_key)
