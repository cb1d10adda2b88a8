"""What a creator may ask for when requesting videos, and the rules that check it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, func, select

from viralshorts.domain import video_facts, voice_catalogue
from viralshorts.domain.quotas import Plan
from viralshorts.domain.rendering.captions import CAPTION_STYLES
from viralshorts.domain.rendering.pipeline import BUNDLED_TRACKS, PLAN_LENGTH_TOLERANCE
from viralshorts.domain.rendering.timings import count_syllables, pause_after, split_words
from viralshorts.domain.voice_catalogue import LANGUAGES, language_note
from viralshorts.errors import ValidationError
from viralshorts.integrations.ports import Script, Services
from viralshorts.models import BackgroundSource, MediaAsset, MediaKind

MIN_COUNT, MAX_COUNT = 1, 20
MIN_SECONDS, MAX_SECONDS = 15, 90
MIN_SPEED, MAX_SPEED = 0.7, 1.5
MAX_TOPIC = 300
MAX_CUSTOM_SCRIPT = 5000
MAX_SCRIPT_LINES = 40
_ASSET = re.compile(r"^asset:(\d{1,12})$")
# Piper's Joe speaks about 4.9 syllables (pauses included) a second at speed 1.0; speed changes
# the words' length more than the pauses', so 1.5x is about 1.33x faster (measured).
SYLLABLES_PER_SECOND = 4.9
SPEED_EXPONENT = 0.7
LENGTH_NOTE_MARGIN = 0.35


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
    facts: str = ""  # the creator's key facts, one per line (see video_facts)


@dataclass(frozen=True)
class LanguageOption:
    """A language of the request form; ``note`` says, for a creator, why it is unavailable."""

    code: str
    label: str
    available: bool
    note: str


def language_options(services: Services) -> list[LanguageOption]:
    """Every language the forms list, marked available when the writer and a voice can do it."""
    options = []
    for code, label in LANGUAGES.items():
        note = language_note(services, code)
        options.append(LanguageOption(code, label, not note, note))
    return options


def estimate_narration_seconds(text: str, *, voice_speed: float) -> float:
    """About how long ``text`` takes to say at ``voice_speed`` (from syllables and pauses)."""
    words = split_words(text)
    units = sum(count_syllables(w) for w in words) + sum(pause_after(w) for w in words[:-1])
    return units / (SYLLABLES_PER_SECOND * max(voice_speed, 0.1) ** SPEED_EXPONENT)


def script_length_note(script_text: str, *, target_seconds: int, voice_speed: float) -> str:
    """A warning when a script reads much shorter or longer than the target ("" when close).

    Returns:
        "" when the estimate is within 35 % of ``target_seconds``, else e.g.
        "This script reads in about 48 s; the target is 20 s."
    """
    if not script_text.strip() or target_seconds <= 0:
        return ""
    seconds = estimate_narration_seconds(script_text, voice_speed=voice_speed)
    if abs(seconds - target_seconds) <= LENGTH_NOTE_MARGIN * target_seconds:
        return ""
    return f"This script reads in about {round(seconds)} s; the target is {target_seconds} s."


def plan_length_error(text: str, *, voice_speed: float, plan: Plan) -> str:
    """Why ``text`` is too long for the plan's longest video ("" when it fits)."""
    seconds = estimate_narration_seconds(text, voice_speed=voice_speed)
    if seconds <= plan.max_seconds * (1 + PLAN_LENGTH_TOLERANCE):
        return ""
    words = max(1, int(len(split_words(text)) * plan.max_seconds / seconds))
    return (
        f"This script reads in about {round(seconds)} s; your {plan.label} plan makes videos "
        f"up to {plan.max_seconds} s. Shorten it to about {words} words."
    )


def _text_errors(request: VideoRequest) -> dict[str, str]:
    errors = {}
    if not (request.topic.strip() or request.custom_script.strip() or request.facts.strip()):
        errors["topic"] = "Give a topic, or paste your own script."
    elif len(request.topic) > MAX_TOPIC:
        errors["topic"] = f"Keep the topic under {MAX_TOPIC} characters."
    if len(request.custom_script) > MAX_CUSTOM_SCRIPT:
        errors["custom_script"] = f"Keep your script under {MAX_CUSTOM_SCRIPT} characters."
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


Problems = dict[str, tuple[str, str]]
"""Field → (message, stable code)."""


def _coded(errors: dict[str, str], code: str = "invalid") -> Problems:
    return {name: (message, code) for name, message in errors.items()}


def _language_error(request: VideoRequest, services: Services) -> Problems:
    label = LANGUAGES.get(request.language)
    if label is None:
        return {"language": ("Pick a language from the list.", "language_unknown")}
    note = language_note(services, request.language)
    return {"language": (note, "language_unavailable")} if note else {}


def _voice_error(request: VideoRequest, services: Services) -> Problems:
    offered = voice_catalogue.offered_voices(services)
    if request.voice not in offered:
        message = "That voice is not available; pick one from the list."
        return {"voice": (message, "voice_unknown")}
    label = LANGUAGES.get(request.language)
    if label is None or language_note(services, request.language):
        return {}  # the language field says what is wrong
    if request.language not in voice_catalogue.voice_language_codes(request.voice):
        name = offered[request.voice].split(" \u2014 ")[0]
        message = f"{name} does not speak {label}; pick a voice that does."
        return {"voice": (message, "voice_language")}
    return {}


def _length_error(request: VideoRequest, plan: Plan) -> Problems:
    if not request.custom_script.strip() or len(request.custom_script) > MAX_CUSTOM_SCRIPT:
        return {}
    error = plan_length_error(request.custom_script, voice_speed=request.voice_speed, plan=plan)
    return {"custom_script": (error, "script_too_long_for_plan")} if error else {}


# ---------------------------------------------------------------- the plan's batch size


def _batch_error(request: VideoRequest, plan: Plan) -> Problems:
    """A request for more videos at once than the plan's batch size (checked on the server)."""
    if request.count <= plan.batch_size:
        return {}
    message = (
        f"Your {plan.label} plan makes up to {plan.batch_size} videos in one request. Ask for "
        "fewer, or the workspace owner can upgrade on the Billing page (/app/billing)."
    )
    return {"count": (message, "batch_too_large_for_plan")}


# ---------------------------------------------------------------- the creator's facts


def _facts_error(request: VideoRequest, services: Services, plan: Plan) -> Problems:
    """The facts' own rules (video_facts), then whether saying them fits the plan's length."""
    message, code = video_facts.facts_problem(
        services, facts=request.facts, custom_script=request.custom_script
    )
    if message:
        return {"facts": (message, code)}
    if request.custom_script.strip() or not request.facts.strip():
        return {}
    spoken = video_facts.facts_text(video_facts.fact_lines(request.facts))
    error = plan_length_error(spoken, voice_speed=request.voice_speed, plan=plan)
    return {"facts": (error, "facts_too_long_for_plan")} if error else {}


def _count_media(session: Session, workspace_id: int, kinds: tuple[MediaKind, ...]) -> int:
    query = select(func.count()).where(
        MediaAsset.workspace_id == workspace_id,
        MediaAsset.kind.in_(kinds),  # type: ignore[attr-defined]
    )
    return session.exec(query).one()


def _background_error(
    session: Session, services: Services, workspace_id: int, request: VideoRequest
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
        session, workspace_id, (MediaKind.CLIP, MediaKind.IMAGE)
    ):
        return {"background_source": "Upload at least one clip or image to your media library."}
    return {}


def music_asset_id(music: str) -> int | None:
    """The media asset id in ``"asset:<id>"``, else None."""
    match = _ASSET.match(music)
    return int(match.group(1)) if match else None


def _music_error(session: Session, workspace_id: int, music: str) -> dict[str, str]:
    if music == "none" or music in BUNDLED_TRACKS:
        return {}
    asset_id = music_asset_id(music)
    asset = session.get(MediaAsset, asset_id) if asset_id is not None else None
    if asset is None or asset.workspace_id != workspace_id or asset.kind != MediaKind.MUSIC:
        return {"music": "Pick no music, a bundled track, or one of the workspace's music uploads."}
    return {}


def request_problems(
    session: Session, services: Services, *, workspace_id: int, request: VideoRequest, plan: Plan
) -> Problems:
    """Every rule ``request`` breaks: form field → (message, code); empty when it is fine."""
    return {
        **_coded(_text_errors(request)),
        **_length_error(request, plan),
        **_facts_error(request, services, plan),
        **_batch_error(request, plan),
        **_coded(_number_errors(request, plan)),
        **_language_error(request, services),
        **_voice_error(request, services),
        **_coded(_background_error(session, services, workspace_id, request)),
        **_coded(_music_error(session, workspace_id, request.music)),
    }


def validate_request(
    session: Session, services: Services, *, workspace_id: int, request: VideoRequest, plan: Plan
) -> None:
    """Raise ValidationError (with a message and a code per field) unless ``request`` is fine."""
    problems = request_problems(
        session, services, workspace_id=workspace_id, request=request, plan=plan
    )
    if problems:
        raise ValidationError(
            {name: message for name, (message, _) in problems.items()},
            field_codes={name: code for name, (_, code) in problems.items()},
        )


def request_errors(
    session: Session, services: Services, *, workspace_id: int, request: VideoRequest, plan: Plan
) -> dict[str, str]:
    """Every rule ``request`` breaks, keyed by form field (empty when it is fine)."""
    problems = request_problems(
        session, services, workspace_id=workspace_id, request=request, plan=plan
    )
    return {name: message for name, (message, _) in problems.items()}


def script_errors(
    script: dict[str, Any], *, plan: Plan | None = None, voice_speed: float = 1.0
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """Check an edited script; returns the normalised script dict, or field errors.

    With ``plan``, a script that reads longer than the plan's longest video is refused too.
    """
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
    elif plan is not None and (
        too_long := plan_length_error(parsed.narration, voice_speed=voice_speed, plan=plan)
    ):
        errors["lines"] = too_long
    if errors:
        return None, errors
    cleaned = Script(parsed.hook.strip(), lines, parsed.title, parsed.description, parsed.hashtags)
    return cleaned.to_dict(), {}
