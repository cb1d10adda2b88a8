"""Each platform's limits for one post, in one table: the Publish panel's counters and the
pre-flight checks both read it, so what the page allows is what the queue accepts.

Sources: ``PROTOCOLS.md`` (YouTube title ≤ 100 characters without ``<``/``>``, description
≤ 5000 bytes, Shorts ≤ 3 minutes and not landscape; TikTok caption ≤ 2200 UTF-16 units,
privacy and duration from ``creator_info``; Instagram caption ≤ 2200, ≤ 30 hashtags, Reels
3 s-15 min and ≤ 300 MB). Daily caps come from the settings (they change over time).
"""

from __future__ import annotations

from dataclasses import dataclass

from viralshorts.models import Platform
from viralshorts.settings import Settings

GIB = 1024**3
MIB = 1024**2


@dataclass(frozen=True)
class PlatformLimits:
    """What one post to a platform may be."""

    label: str
    title_max: int  # 0: the platform has no title
    caption_max: int  # YouTube: the description
    caption_unit: str  # how the platform counts the caption: "chars" | "bytes" | "utf16"
    hashtags_max: int  # 0: no limit of its own
    privacy_options: tuple[str, ...]  # () on TikTok: the account's creator_info decides
    default_privacy: str
    min_seconds: float
    max_seconds: float
    max_bytes: int
    max_aspect: float  # width / height: 1.0 refuses landscape
    video_codecs: tuple[str, ...]
    audio_codecs: tuple[str, ...]


LIMITS: dict[Platform, PlatformLimits] = {
    Platform.YOUTUBE: PlatformLimits(
        label="YouTube Shorts", title_max=100, caption_max=5000, caption_unit="bytes",
        hashtags_max=15, privacy_options=("public", "unlisted", "private"),
        default_privacy="public", min_seconds=1, max_seconds=180, max_bytes=256 * GIB,
        max_aspect=1.0, video_codecs=("h264", "hevc", "vp9", "av1"),
        audio_codecs=("aac", "mp3", "opus"),
    ),
    Platform.TIKTOK: PlatformLimits(
        label="TikTok", title_max=0, caption_max=2200, caption_unit="utf16", hashtags_max=0,
        privacy_options=(), default_privacy="", min_seconds=3, max_seconds=600,
        max_bytes=4 * GIB, max_aspect=1.0, video_codecs=("h264", "hevc", "vp8", "vp9"),
        audio_codecs=("aac", "mp3", "opus"),
    ),
    Platform.INSTAGRAM: PlatformLimits(
        label="Instagram Reels", title_max=0, caption_max=2200, caption_unit="chars",
        hashtags_max=30, privacy_options=(), default_privacy="", min_seconds=3,
        max_seconds=900, max_bytes=300 * MIB, max_aspect=1.0, video_codecs=("h264", "hevc"),
        audio_codecs=("aac",),
    ),
}  # fmt: skip


def limits_for(platform: Platform | str) -> PlatformLimits:
    return LIMITS[Platform(platform)]


def measured_length(text: str, unit: str) -> int:
    """How long ``text`` is the way the platform counts it."""
    if unit == "bytes":
        return len(text.encode("utf-8"))
    if unit == "utf16":
        return len(text.encode("utf-16-le")) // 2
    return len(text)


def caption_text(description: str, hashtags: tuple[str, ...] | list[str]) -> str:
    """The caption as it is posted: the text, then the hashtags (each with one ``#``)."""
    tags = " ".join(f"#{tag.lstrip('#')}" for tag in hashtags if tag.strip("# "))
    return f"{description.rstrip()}\n\n{tags}".strip() if tags else description.strip()


def daily_cap(platform: Platform | str, settings: Settings) -> int:
    """Posts one account may publish in 24 h (YouTube: what the project's quota pays for)."""
    platform = Platform(platform)
    if platform == Platform.YOUTUBE:
        return settings.youtube_daily_quota_units // max(settings.youtube_upload_quota_units, 1)
    if platform == Platform.TIKTOK:
        return settings.tiktok_daily_posts
    return settings.instagram_daily_posts
