"""Pre-flight: everything a platform is known to refuse, checked before a post is accepted.

Each check returns ``{field: message}``; an empty dict passes. Field names are the Publish
panel's (``title``, ``description``, ``hashtags``, ``privacy``, ``video``, ``account``, ``when``),
so a message shows next to what has to change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from viralshorts.domain.post_limits import (
    PlatformLimits,
    caption_text,
    daily_cap,
    limits_for,
    measured_length,
)
from viralshorts.integrations.ports import CreatorLimits, PostOptions, PublishingPlatform
from viralshorts.models import AccountHealth, Platform, Post, PostStatus, SocialAccount, Video
from viralshorts.settings import Settings

# Every finished render is checked by ffprobe to be exactly this (rendering/pipeline.verify_video).
RENDERED_SIZE = (1080, 1920)
RENDERED_CODECS = ("h264", "aac")
NOT_COUNTED = (PostStatus.FAILED, PostStatus.CANCELED, PostStatus.REJECTED)
_SCOPE_SPLIT = re.compile(r"[\s,]+")
_TRUE = {"1", "true", "on", "yes"}


@dataclass(frozen=True)
class VideoFacts:
    """What the platforms check about the file."""

    duration_seconds: float
    size_bytes: int
    width: int
    height: int
    video_codec: str
    audio_codec: str


def video_facts(video: Video) -> VideoFacts:
    """The facts of a READY video (its render was verified by ffprobe before it became READY)."""
    width, height = RENDERED_SIZE
    return VideoFacts(
        duration_seconds=float(video.duration_seconds or 0.0),
        size_bytes=int(video.size_bytes or 0),
        width=width,
        height=height,
        video_codec=RENDERED_CODECS[0],
        audio_codec=RENDERED_CODECS[1],
    )


def _flag(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _TRUE


def _hashtags(value: Any) -> tuple[str, ...]:
    words = value if isinstance(value, list | tuple) else str(value or "").replace(",", " ").split()
    return tuple(dict.fromkeys(str(w).strip().lstrip("#") for w in words if str(w).strip("# ")))


def parse_options(fields: dict[str, Any], default_privacy: str = "") -> PostOptions:
    """The panel's raw values as PostOptions (text trimmed, switches read as booleans)."""
    return PostOptions(
        title=str(fields.get("title") or "").strip(),
        description=str(fields.get("description") or "").strip(),
        hashtags=_hashtags(fields.get("hashtags")),
        privacy=str(fields.get("privacy") or "").strip() or default_privacy,
        made_for_kids=_flag(fields.get("made_for_kids"), False),
        synthetic_content=_flag(fields.get("synthetic_content"), True),
        disable_comment=_flag(fields.get("disable_comment"), False),
        disable_duet=_flag(fields.get("disable_duet"), False),
        disable_stitch=_flag(fields.get("disable_stitch"), False),
        share_to_feed=_flag(fields.get("share_to_feed"), True),
    )


def check_text(limits: PlatformLimits, options: PostOptions) -> dict[str, str]:
    """Title, caption and hashtags against the platform's limits."""
    errors: dict[str, str] = {}
    if limits.title_max:
        if not options.title:
            errors["title"] = f"{limits.label} needs a title."
        elif len(options.title) > limits.title_max:
            errors["title"] = (
                f"The title is {len(options.title)} characters; "
                f"{limits.label} allows {limits.title_max}."
            )
        elif "<" in options.title or ">" in options.title:
            errors["title"] = f"{limits.label} refuses < and > in a title."
    caption = caption_text(options.description, options.hashtags)
    length = measured_length(caption, limits.caption_unit)
    if length > limits.caption_max:
        unit = "bytes" if limits.caption_unit == "bytes" else "characters"
        errors["description"] = (
            f"With its hashtags the text is {length} {unit}; "
            f"{limits.label} allows {limits.caption_max}."
        )
    if limits.hashtags_max and len(options.hashtags) > limits.hashtags_max:
        errors["hashtags"] = (
            f"{len(options.hashtags)} hashtags; {limits.label} allows {limits.hashtags_max}."
        )
    return errors


def check_privacy(
    limits: PlatformLimits, options: PostOptions, creator: CreatorLimits | None
) -> dict[str, str]:
    """A privacy the platform (TikTok: this creator, right now) offers."""
    offered = creator.privacy_options if creator and creator.privacy_options else None
    offered = offered or limits.privacy_options
    if not offered:
        return {}
    if not options.privacy:
        return {"privacy": "Choose who can see this post."}
    if options.privacy not in offered:
        return {"privacy": f"{limits.label} offers {', '.join(offered)} for this account."}
    return {}


def check_creator(creator: CreatorLimits | None, options: PostOptions) -> dict[str, str]:
    """What TikTok's creator_info says this account may do now."""
    if creator is None:
        return {}
    if not creator.can_post:
        return {"account": creator.message or "TikTok says this account cannot post right now."}
    switches = (
        ("disable_comment", creator.comment_disabled, options.disable_comment, "Comments"),
        ("disable_duet", creator.duet_disabled, options.disable_duet, "Duets"),
        ("disable_stitch", creator.stitch_disabled, options.disable_stitch, "Stitches"),
    )
    return {
        name: f"{word} are turned off on this account; keep them off."
        for name, off_on_account, off_here, word in switches
        if off_on_account and not off_here
    }


def check_video(
    limits: PlatformLimits, facts: VideoFacts, creator: CreatorLimits | None
) -> dict[str, str]:
    """Duration, size, aspect and codecs of the file."""
    max_seconds = limits.max_seconds
    if creator and creator.max_duration_seconds:
        max_seconds = min(max_seconds, creator.max_duration_seconds)
    problems = []
    if facts.duration_seconds < limits.min_seconds:
        problems.append(
            f"it lasts {facts.duration_seconds:.1f} s (at least {limits.min_seconds:g} s)"
        )
    if facts.duration_seconds > max_seconds:
        problems.append(f"it lasts {facts.duration_seconds:.1f} s (at most {max_seconds:g} s)")
    if not 0 < facts.size_bytes <= limits.max_bytes:
        problems.append(f"the file is {facts.size_bytes / 1024**2:.1f} MB")
    if facts.height <= 0 or facts.width / facts.height > limits.max_aspect:
        problems.append(f"it is {facts.width}x{facts.height}, not vertical")
    if facts.video_codec not in limits.video_codecs or facts.audio_codec not in limits.audio_codecs:
        problems.append(f"its codecs are {facts.video_codec}/{facts.audio_codec}")
    if not problems:
        return {}
    return {"video": f"{limits.label} would refuse this video: {'; '.join(problems)}."}


def check_account(account: SocialAccount, platform: PublishingPlatform | None) -> dict[str, str]:
    """The account can publish: its platform is configured, it is healthy, it has the scopes."""
    label = limits_for(account.platform).label
    if platform is None:
        return {"account": f"{label} is not configured on this server."}
    if account.health != AccountHealth.OK:
        reason = account.health_message or "its sign-in stopped working"
        return {"account": f"{account.display_name} needs reconnecting ({reason})."}
    granted = set(_SCOPE_SPLIT.split(account.scopes.strip())) - {""}
    missing = [scope for scope in platform.scopes if scope not in granted]
    if missing:
        return {
            "account": f"{account.display_name} did not grant {', '.join(missing)}; "
            "reconnect it and allow publishing."
        }
    return {}


def _window_count(
    session: Session,
    account: SocialAccount,
    start: datetime,
    end: datetime,
    exclude_post_id: int | None,
) -> int:
    when = func.coalesce(Post.published_at, Post.scheduled_at)
    query = (
        select(func.count())
        .select_from(Post)
        .join(SocialAccount, col(SocialAccount.id) == Post.social_account_id)
        .where(col(Post.status).not_in(NOT_COUNTED), when > start, when < end)
    )
    if Platform(account.platform) == Platform.YOUTUBE:  # the quota is the API project's
        query = query.where(SocialAccount.platform == Platform.YOUTUBE)
    else:
        query = query.where(Post.social_account_id == account.id)
    if exclude_post_id is not None:
        query = query.where(Post.id != exclude_post_id)
    return int(session.exec(query).one())


def check_daily_cap(
    session: Session,
    settings: Settings,
    account: SocialAccount,
    when: datetime,
    *,
    adding: int = 1,
    exclude_post_id: int | None = None,
) -> dict[str, str]:
    """Refuse when the 24 hours before or after ``when`` already hold the platform's cap."""
    cap = daily_cap(account.platform, settings)
    day = timedelta(hours=24)
    busiest = max(
        _window_count(session, account, when - day, when + timedelta(seconds=1), exclude_post_id),
        _window_count(session, account, when - timedelta(seconds=1), when + day, exclude_post_id),
    )
    if busiest + adding <= cap:
        return {}
    label = limits_for(account.platform).label
    scope = "this server's API quota" if account.platform == Platform.YOUTUBE else "an account"
    return {
        "when": f"{label} allows {cap} posts a day for {scope}, and {busiest} are already "
        "planned within 24 hours of this time. Pick another time."
    }
