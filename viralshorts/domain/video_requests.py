"""What a creator may ask for when requesting videos, and the rules that check it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, func, select

from viralshorts.domain.quotas import Plan
from viralshorts.domain.rendering.captions import CAPTION_STYLES
from viralshorts.domain.rendering.pipeline import BUNDLED_TRACKS
from viralshorts.integrations.ports import Script, Services
from viralshorts.models import BackgroundSource, MediaAsset, MediaKind

MIN_COUNT, MAX_COUNT = 1, 20
MIN_SECONDS, MAX_SECONDS = 15, 90
MIN_SPEED, MAX_SPEED = 0.7, 1.5
MAX_TOPIC = 300
MAX_CUSTOM_SCRIPT = 5000
MAX_SCRIPT_LINES = 40
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
_ASSET = re.compile(r"^asset:(\d{1,12})$")


@dataclass(frozen=True)
class VideoRequest:
    """One "make videos" form: ``count`` videos about ``topic`` in ``campaign_id``."""

    campaign_id: int
    topic: str = ""
    custom_script: str = ""
    count: int = 1
    target_seconds: int = 30
    language: str = "en"
    voice: str = "piper:joe"
    voice_speed: float = 1.0
    caption_style: str = "bold"
    background_source: str = BackgroundSource.GENERATED.value
    music: str = "none"


def _text_errors(request: VideoRequest) -> dict[str, str]:
    errors = {}
    if not request.topic.strip() and not request.custom_script.strip():
        errors["topic"] = "Give a topic, or paste your own script."
    elif len(request.topic) > MAX_TOPIC:
        errors["topic"] = f"Keep the topic under {MAX_TOPIC} characters."
    if len(request.custom_script) > MAX_CUSTOM_SCRIPT:
        errors["custom_script"] = f"Keep your script under {MAX_CUSTOM_SCRIPT} characters."
    if not _LANGUAGE.match(request.language):
        errors["language"] = "Pick a language from the list."
    if request.caption_style not in CAPTION_STYLES:
        errors["caption_style"] = "Pick a caption style from the list."
    return errors


def _number_errors(request: VideoRequest, plan: Plan) -> dict[str, str]:
    errors = {}
    if not MIN_COUNT <= request.count <= MAX_COUNT:
        errors["count"] = f"Ask for between {MIN_COUNT} and {MAX_COUNT} videos at a time."
    if not MIN_SECONDS <= request.target_seconds <= MAX_SECONDS:
        errors["target_seconds"] = f"Videos last between {MIN_SECONDS} and {MAX_SECONDS} seconds."
    elif request.target_seconds > plan.max_seconds:
        errors["target_seconds"] = (
            f"Your {plan.label} plan makes videos up to {plan.max_seconds} seconds long."
        )
    if not MIN_SPEED <= request.voice_speed <= MAX_SPEED:
        errors["voice_speed"] = f"Voice speed goes from {MIN_SPEED}x to {MAX_SPEED}x."
    return errors


def _voice_error(request: VideoRequest, services: Services) -> dict[str, str]:
    engine, _, name = request.voice.partition(":")
    if not name or engine not in services.speech:
        return {"voice": "That voice is not available; pick one from the list."}
    return {}


def _count_media(session: Session, user_id: int, kinds: tuple[MediaKind, ...]) -> int:
    query = select(func.count()).where(MediaAsset.user_id == user_id, MediaAsset.kind.in_(kinds))  # type: ignore[attr-defined]
    return session.exec(query).one()


def _background_error(
    session: Session, services: Services, user_id: int, request: VideoRequest
) -> dict[str, str]:
    source = request.background_source
    if source not in {s.value for s in BackgroundSource}:
        return {"background_source": "Pick uploads, stock or generated backgrounds."}
    if source == BackgroundSource.STOCK and services.stock is None:
        return {
            "background_source": "Stock footage needs a Pexels API key (PEXELS_API_KEY), "
            "which is not configured. Use generated backgrounds or your uploads."
        }
    if source == BackgroundSource.UPLOADS and not _count_media(
        session, user_id, (MediaKind.CLIP, MediaKind.IMAGE)
    ):
        return {"background_source": "Upload at least one clip or image to your media library."}
    return {}


def music_asset_id(music: str) -> int | None:
    """The media asset id in ``"asset:<id>"``, else None."""
    match = _ASSET.match(music)
    return int(match.group(1)) if match else None


def _music_error(session: Session, user_id: int, music: str) -> dict[str, str]:
    if music == "none" or music in BUNDLED_TRACKS:
        return {}
    asset_id = music_asset_id(music)
    asset = session.get(MediaAsset, asset_id) if asset_id is not None else None
    if asset is None or asset.user_id != user_id or asset.kind != MediaKind.MUSIC:
        return {"music": "Pick no music, a bundled track, or one of your own music uploads."}
    return {}


def request_errors(
    session: Session, services: Services, *, user_id: int, request: VideoRequest, plan: Plan
) -> dict[str, str]:
    """Every rule ``request`` breaks, keyed by form field (empty when it is fine)."""
    return {
        **_text_errors(request),
        **_number_errors(request, plan),
        **_voice_error(request, services),
        **_background_error(session, services, user_id, request),
        **_music_error(session, user_id, request.music),
    }


def script_errors(script: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """Check an edited script; returns the normalised script dict, or field errors."""
    try:
        parsed = Script.from_dict(script)
    except (KeyError, TypeError, AttributeError):
        return None, {"script": "The script needs a hook and a list of lines."}
    lines = [line for line in parsed.lines if line.text.strip()]
    errors = {}
    if not parsed.hook.strip():
        errors["hook"] = "Write a hook: the first sentence people hear."
    if not lines:
        errors["lines"] = "Write at least one line."
    elif len(lines) > MAX_SCRIPT_LINES:
        errors["lines"] = f"Keep the script to {MAX_SCRIPT_LINES} lines."
    if len(parsed.narration) > MAX_CUSTOM_SCRIPT:
        errors["lines"] = f"Keep the script under {MAX_CUSTOM_SCRIPT} characters."
    if errors:
        return None, errors
    cleaned = Script(parsed.hook.strip(), lines, parsed.title, parsed.description, parsed.hashtags)
    return cleaned.to_dict(), {}
