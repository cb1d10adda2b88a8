"""Campaigns: a channel idea with its look, voice, target platforms and posting schedule.

Every use case takes an ``Actor`` and checks its role once; reads and writes filter by the
actor's workspace, so another workspace's campaign is ``NotFoundError``.
The option lists below are the single source the UI builds its form from.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlmodel import Session, col, delete, func, or_, select

from viralshorts.domain import voice_catalogue
from viralshorts.domain.rendering.looks import look_options
from viralshorts.domain.voice_catalogue import ESPEAK_VOICES, LANGUAGES, OPENAI_VOICES
from viralshorts.domain.workspaces import Action, Actor, require
from viralshorts.errors import NotFoundError, ValidationError
from viralshorts.integrations.ports import Services
from viralshorts.models import AuditLog, Campaign, Schedule, utcnow
from viralshorts.settings import Settings, get_settings

TONES: dict[str, str] = {
    "energetic": "Energetic",
    "calm": "Calm",
    "funny": "Funny",
    "serious": "Serious",
    "inspirational": "Inspirational",
    "educational": "Educational",
    "dramatic": "Dramatic",
}
CAPTION_STYLES: dict[str, str] = {
    "bold": "Bold",
    "clean": "Clean",
    "karaoke": "Karaoke (word by word)",
    "minimal": "Minimal",
    "huge": "Huge (one or two words)",
}
BACKGROUNDS: dict[str, str] = {
    "generated": "Generated motion backgrounds",
    "stock": "Stock footage",
    "uploads": "My uploaded clips",
}
PLATFORMS: dict[str, str] = {
    "youtube": "YouTube Shorts",
    "tiktok": "TikTok",
    "instagram": "Instagram Reels",
}
WEEKDAYS: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MAX_TIMES_PER_DAY = 12

_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})$")


@dataclass
class CampaignInput:
    """What a person typed into the campaign form (validated by ``validate_campaign``)."""

    name: str
    niche: str
    tone: str = "energetic"
    language: str = "en"
    voice: str = "piper:joe"
    caption_style: str = "bold"
    look: str = "generated"
    palette: str = "auto"  # a colour look of rendering.looks ("auto" varies per video)
    platforms: list[str] = field(default_factory=list)
    days: list[int] = field(default_factory=list)
    times: list[str] = field(default_factory=list)
    timezone: str = "UTC"
    description: str = ""


PALETTES: dict[str, str] = look_options()
"""The colour looks a campaign's videos are drawn in (backgrounds, cards, thumbnails)."""


def voice_options(services: Services) -> dict[str, str]:
    """The voices a campaign may use on this site now: each engine's voices when the engine
    is configured (OpenAI voices only with OpenAI, the basic eSpeak NG ones when installed)."""
    return voice_catalogue.offered_voices(services)


def split_times(text: str) -> list[str]:
    """Split what was typed in "Posting times" ("09:00, 18:30") into separate entries."""
    return [part.strip() for part in re.split(r"[,;\s]+", text) if part.strip()]


def normalise_time(value: str) -> str | None:
    """``"9:05"`` → ``"09:05"``; ``None`` when it is not a 24-hour time."""
    match = _TIME_RE.match(value.strip())
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


def is_timezone(name: str) -> bool:
    """Whether ``name`` is an IANA timezone this machine knows (e.g. ``Europe/Berlin``)."""
    return bool(name) and name in zoneinfo.available_timezones()


# A rule break is (field, code, message): the code is stable, the message is for the person.
Problem = tuple[str, str, str]
STOCK_UNAVAILABLE = "not available on this site yet"


def unavailable_backgrounds(settings: Settings | None = None) -> dict[str, str]:
    """Backgrounds a campaign cannot use on this site now, each with the reason in few words."""
    settings = settings or get_settings()
    return {} if settings.pexels_enabled else {"stock": STOCK_UNAVAILABLE}


def _time_problems(data: CampaignInput) -> list[Problem]:
    bad = [t for t in data.times if normalise_time(t) is None]
    if bad:
        text = f"“{bad[0]}” is not a time. Use 24-hour HH:MM, e.g. 09:00, 18:30."
        return [("times", "time_invalid", text)]
    if len(set(data.times)) > MAX_TIMES_PER_DAY:
        text = f"Use at most {MAX_TIMES_PER_DAY} posting times a day."
        return [("times", "too_many_times", text)]
    if data.days and not data.times:
        return [("times", "required", "Add at least one posting time, e.g. 09:00.")]
    return []


def _schedule_problems(data: CampaignInput) -> list[Problem]:
    problems = _time_problems(data)
    if any(day not in range(7) for day in data.days):
        problems.append(("days", "day_invalid", "Pick posting days from Monday to Sunday."))
    elif data.times and not data.days:
        problems.append(("days", "required", "Pick at least one posting day."))
    if not is_timezone(data.timezone):
        text = "Use a timezone name such as Europe/Berlin or America/New_York."
        problems.append(("timezone", "timezone_unknown", text))
    return problems


def _missing_voice_problem(voice: str) -> Problem:
    if voice in OPENAI_VOICES:
        text = "OpenAI voices need OpenAI to be configured; pick one of the listed voices."
        return ("voice", "voice_not_configured", text)
    if voice in ESPEAK_VOICES:
        text = "The basic eSpeak NG voices are not installed here; pick one of the listed voices."
        return ("voice", "voice_not_configured", text)
    return ("voice", "voice_unknown", "Pick one of the listed voices.")


def _voice_problems(data: CampaignInput, services: Services) -> list[Problem]:
    offered = voice_options(services)
    if data.voice not in offered:
        return [_missing_voice_problem(data.voice)]
    if data.language not in LANGUAGES:
        return []  # the language field says what is wrong
    note = voice_catalogue.language_note(services, data.language)
    if note:
        return [("language", "language_unavailable", note)]
    if data.language not in voice_catalogue.voice_language_codes(data.voice):
        name = offered[data.voice].split(" \u2014 ")[0]
        text = f"{name} does not speak {LANGUAGES[data.language]}; pick a voice that does."
        return [("voice", "voice_language", text)]
    return []


def _look_problems(data: CampaignInput, settings: Settings) -> list[Problem]:
    if data.look not in BACKGROUNDS:
        return [("look", "choice_unknown", "Pick one of the listed backgrounds.")]
    if data.look in unavailable_backgrounds(settings):
        text = (
            "Stock footage is not available on this site yet. Pick generated motion "
            "backgrounds or your uploaded clips."
        )
        return [("look", "stock_unavailable", text)]
    return []


def _choice_problems(data: CampaignInput, services: Services) -> list[Problem]:
    problems: list[Problem] = []
    if data.tone not in TONES:
        problems.append(("tone", "choice_unknown", "Pick one of the listed tones."))
    if data.language not in LANGUAGES:
        problems.append(("language", "choice_unknown", "Pick one of the supported languages."))
    problems += _voice_problems(data, services)
    if data.caption_style not in CAPTION_STYLES:
        text = "Pick one of the listed caption styles."
        problems.append(("caption_style", "choice_unknown", text))
    problems += _look_problems(data, services.settings)
    if data.palette not in PALETTES:
        problems.append(("palette", "choice_unknown", "Pick one of the listed looks."))
    if not set(data.platforms) <= set(PLATFORMS):
        text = "Pick platforms from YouTube Shorts, TikTok and Instagram Reels."
        problems.append(("platforms", "choice_unknown", text))
    return problems


def _text_problems(data: CampaignInput) -> list[Problem]:
    problems: list[Problem] = []
    if not 2 <= len(data.name) <= 120:
        problems.append(("name", "length", "Give the campaign a name of 2 to 120 characters."))
    if not data.niche:
        problems.append(("niche", "required", "Describe the niche, e.g. “space facts for kids”."))
    elif len(data.niche) > 200:
        problems.append(("niche", "too_long", "Keep the niche to 200 characters or fewer."))
    if len(data.description) > 2000:
        text = "Keep the description to 2000 characters or fewer."
        problems.append(("description", "too_long", text))
    return problems


def validate_campaign(data: CampaignInput, services: Services) -> CampaignInput:
    """Check every rule (voices and languages against what ``services`` can do) and return a
    cleaned copy.

    Raises:
        ValidationError: with a message per form field that breaks a rule.
    """
    clean = replace(
        data,
        name=data.name.strip(),
        niche=data.niche.strip(),
        timezone=data.timezone.strip(),
        description=data.description.strip(),
    )
    problems = [
        *_text_problems(clean),
        *_choice_problems(clean, services),
        *_schedule_problems(clean),
    ]
    if problems:
        raise ValidationError(
            {name: text for name, _, text in problems},
            field_codes={name: code for name, code, _ in problems},
        )
    clean.platforms = [p for p in PLATFORMS if p in clean.platforms]
    clean.days = sorted(set(clean.days))
    clean.times = sorted({normalise_time(t) or "" for t in clean.times})
    return clean


def _audit(session: Session, *, actor: Actor, action: str, campaign: Campaign) -> None:
    details: dict[str, Any] = {"name": campaign.name}
    session.add(
        AuditLog(
            user_id=actor.user_id,
            workspace_id=actor.workspace_id,
            action=action,
            target_type="campaign",
            target_id=str(campaign.id),
            details=details,
        )
    )


def _apply(campaign: Campaign, data: CampaignInput) -> None:
    campaign.name, campaign.niche, campaign.tone = data.name, data.niche, data.tone
    campaign.language, campaign.voice = data.language, data.voice
    campaign.caption_style, campaign.look = data.caption_style, data.look
    campaign.palette = data.palette
    campaign.default_platforms = list(data.platforms)
    campaign.description = data.description


def _replace_schedule(session: Session, campaign: Campaign, data: CampaignInput) -> None:
    session.exec(delete(Schedule).where(col(Schedule.campaign_id) == campaign.id))
    if data.days:
        session.add(
            Schedule(
                campaign_id=campaign.id,
                days=list(data.days),
                times=list(data.times),
                timezone=data.timezone,
                platforms=list(data.platforms),
            )
        )


def create_campaign(
    session: Session, *, actor: Actor, data: CampaignInput, services: Services
) -> Campaign:
    """Validate ``data`` and store a new campaign (and its schedule) in the actor's workspace.

    Raises:
        PermissionDeniedError: the actor's role may not manage campaigns.
        ValidationError: when a field breaks a rule; nothing is stored.
    """
    require(actor, Action.MANAGE_CAMPAIGNS)
    clean = validate_campaign(data, services)
    campaign = Campaign(
        workspace_id=actor.workspace_id,
        user_id=actor.user_id,
        name=clean.name,
        niche=clean.niche,
    )
    _apply(campaign, clean)
    session.add(campaign)
    session.flush()
    _replace_schedule(session, campaign, clean)
    _audit(session, actor=actor, action="campaign.create", campaign=campaign)
    session.flush()
    return campaign


def update_campaign(
    session: Session,
    *,
    actor: Actor,
    campaign_id: int,
    data: CampaignInput,
    services: Services,
) -> Campaign:
    """Validate ``data`` and overwrite the campaign; its schedule is replaced.

    Raises:
        PermissionDeniedError: the actor's role may not manage campaigns.
        NotFoundError: the campaign does not exist or is another workspace's.
        ValidationError: when a field breaks a rule; nothing is changed.
    """
    require(actor, Action.MANAGE_CAMPAIGNS)
    campaign = _find(session, actor, campaign_id)
    clean = validate_campaign(data, services)
    _apply(campaign, clean)
    campaign.updated_at = utcnow()
    session.add(campaign)
    _replace_schedule(session, campaign, clean)
    _audit(session, actor=actor, action="campaign.update", campaign=campaign)
    session.flush()
    return campaign


def _set_archived(session: Session, *, actor: Actor, campaign_id: int, archived: bool) -> Campaign:
    require(actor, Action.MANAGE_CAMPAIGNS)
    campaign = _find(session, actor, campaign_id)
    campaign.archived_at = utcnow() if archived else None
    campaign.updated_at = utcnow()
    session.add(campaign)
    action = "campaign.archive" if archived else "campaign.restore"
    _audit(session, actor=actor, action=action, campaign=campaign)
    session.flush()
    return campaign


def archive_campaign(session: Session, *, actor: Actor, campaign_id: int) -> Campaign:
    """Hide the campaign from the default list (its videos and posts stay).

    Raises:
        PermissionDeniedError: the actor's role may not manage campaigns.
        NotFoundError: the campaign does not exist or is another workspace's.
    """
    return _set_archived(session, actor=actor, campaign_id=campaign_id, archived=True)


def restore_campaign(session: Session, *, actor: Actor, campaign_id: int) -> Campaign:
    """Bring an archived campaign back into the default list.

    Raises:
        PermissionDeniedError: the actor's role may not manage campaigns.
        NotFoundError: the campaign does not exist or is another workspace's.
    """
    return _set_archived(session, actor=actor, campaign_id=campaign_id, archived=False)


def _find(session: Session, actor: Actor, campaign_id: int) -> Campaign:
    campaign = session.exec(
        select(Campaign).where(
            Campaign.id == campaign_id, Campaign.workspace_id == actor.workspace_id
        )
    ).first()
    if campaign is None:
        raise NotFoundError("Campaign not found.", code="campaign_not_found")
    return campaign


def get_campaign(session: Session, *, actor: Actor, campaign_id: int) -> Campaign:
    """A campaign of the actor's workspace.

    Raises:
        NotFoundError: the campaign does not exist or is another workspace's (never says which).
    """
    require(actor, Action.VIEW)
    return _find(session, actor, campaign_id)


def get_schedule(session: Session, *, actor: Actor, campaign_id: int) -> Schedule | None:
    """The campaign's posting schedule, or ``None`` when it posts only on demand.

    Raises:
        NotFoundError: the campaign does not exist or is another workspace's.
    """
    require(actor, Action.VIEW)
    _find(session, actor, campaign_id)
    return session.exec(select(Schedule).where(Schedule.campaign_id == campaign_id)).first()


def list_campaigns(
    session: Session, *, actor: Actor, search: str = "", include_archived: bool = False
) -> Sequence[Campaign]:
    """The workspace's campaigns, newest first; ``search`` matches name or niche, any case."""
    require(actor, Action.VIEW)
    query = select(Campaign).where(Campaign.workspace_id == actor.workspace_id)
    if not include_archived:
        query = query.where(col(Campaign.archived_at).is_(None))
    term = search.strip().lower()
    if term:
        pattern = f"%{_escape_like(term)}%"
        query = query.where(
            or_(
                func.lower(Campaign.name).like(pattern, escape="\\"),
                func.lower(Campaign.niche).like(pattern, escape="\\"),
            )
        )
    return session.exec(
        query.order_by(col(Campaign.created_at).desc(), col(Campaign.id).desc())
    ).all()


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
