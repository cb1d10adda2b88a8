"""The small interfaces the domain talks to. No SDK imports here; adapters implement these.

Every adapter lives in its own module next to this one; ``services.py`` picks which.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

# ---------------------------------------------------------------- data passed across the ports


@dataclass(frozen=True)
class ScriptBrief:
    """What the creator asked for; the writer turns it into a Script."""

    topic: str
    niche: str
    tone: str
    language: str
    target_seconds: int
    seed: int = 0
    custom_script: str = ""


@dataclass(frozen=True)
class ScriptLine:
    text: str
    keywords: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Script:
    hook: str
    lines: list[ScriptLine]
    title: str
    description: str
    hashtags: list[str]

    @property
    def narration(self) -> str:
        """Everything that is spoken, hook first."""
        return " ".join([self.hook, *(line.text for line in self.lines)]).strip()

    def to_dict(self) -> dict[str, Any]:
        return {
            "hook": self.hook,
            "lines": [{"text": ln.text, "keywords": list(ln.keywords)} for ln in self.lines],
            "title": self.title,
            "description": self.description,
            "hashtags": list(self.hashtags),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Script:
        return cls(
            hook=data["hook"],
            lines=[ScriptLine(ln["text"], list(ln.get("keywords", []))) for ln in data["lines"]],
            title=data.get("title", ""),
            description=data.get("description", ""),
            hashtags=list(data.get("hashtags", [])),
        )


@dataclass(frozen=True)
class WordTiming:
    word: str
    start: float
    end: float


@dataclass(frozen=True)
class SpeechResult:
    """A WAV file of the narration; ``words`` when the engine can time them, else None."""

    audio_path: Path
    duration: float
    words: list[WordTiming] | None = None


@dataclass(frozen=True)
class StockClip:
    provider: str
    clip_id: str
    download_url: str
    width: int
    height: int
    duration: float


@dataclass(frozen=True)
class MediaProbe:
    """What ffprobe says a file is."""

    format_name: str
    duration: float | None
    width: int | None
    height: int | None
    has_video: bool
    has_audio: bool
    video_codec: str = ""
    audio_codec: str = ""


# ---------------------------------------------------------------- ports


class ScriptWriter(Protocol):
    def write(self, brief: ScriptBrief) -> Script: ...


class SpeechSynthesizer(Protocol):
    def synthesize(
        self, text: str, *, voice: str, speed: float, out_path: Path
    ) -> SpeechResult: ...


class Transcriber(Protocol):
    def word_timings(self, audio_path: Path, *, language: str) -> list[WordTiming]: ...


class StockFootage(Protocol):
    def search(self, query: str, *, min_duration: float, count: int) -> list[StockClip]: ...

    def download(self, clip: StockClip, dest: Path) -> Path: ...


class MediaStorage(Protocol):
    """Where finished videos, thumbnails, captions and uploads live (local folder or S3)."""

    def put_file(self, key: str, source: Path, content_type: str) -> None: ...

    def download_to(self, key: str, dest: Path) -> Path: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def signed_url(self, key: str, *, expires_in: int, download_name: str = "") -> str: ...


class RateLimiter(Protocol):
    def retry_after(self, key: str, *, limit: int, window_seconds: int) -> int:
        """Seconds until ``key`` may try again (0 when it may)."""
        ...

    def hit(self, key: str, *, window_seconds: int) -> None: ...

    def reset(self, key: str) -> None: ...


class ProgressPublisher(Protocol):
    def publish(self, user_id: int, payload: dict[str, Any]) -> None: ...


class JobQueue(Protocol):
    """How the domain hands work to workers without importing RQ."""

    def enqueue_render(self, video_id: int, user_id: int) -> str: ...

    def cancel(self, job_id: str) -> None: ...


ProgressCallback = Callable[[str, int, str], None]
"""``(step, percent, message)`` reported by long-running work."""


class MediaProber(Protocol):
    def probe(self, path: Path) -> MediaProbe:
        """Describe a media file; raises IntegrationError(retryable=False) if it is not media."""
        ...


class VideoRenderer(Protocol):
    """Runs the one ffmpeg pass described by a render plan (the plan type lives in ports too)."""

    def render(
        self,
        plan: Any,
        *,
        on_progress: Callable[[float], None],
        is_cancelled: Callable[[], bool],
    ) -> None: ...

    def thumbnail(self, video_path: Path, *, at_seconds: float, out_path: Path) -> None: ...
