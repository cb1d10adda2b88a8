"""``python -m viralshorts render``: one video, no web app, no database, offline providers."""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from viralshorts.domain.rendering.backgrounds import IMAGE_SUFFIXES
from viralshorts.domain.rendering.pipeline import RenderSpec, render
from viralshorts.errors import ValidationError
from viralshorts.integrations.ports import Services
from viralshorts.settings import Settings

VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".webm", ".mkv"})


def background_choice(background: str) -> tuple[str, list[Path]]:
    """``(source, files)`` for ``--bg``: "generated", "stock", or a folder of clips/images.

    Raises:
        ValidationError: ``background`` is none of those.
    """
    if background in ("generated", "stock"):
        return background, []
    folder = Path(background).expanduser()
    if not folder.is_dir():
        raise ValidationError({"bg": "Use generated, stock, or a folder of clips and images."})
    media = sorted(
        p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES
    )
    return "uploads", media


def offline_settings(settings: Settings, *, stock: bool) -> Settings:
    """The settings with every paid outside service off (Pexels kept for ``--bg stock``)."""
    keep_pexels = settings.pexels_api_key if stock else ""
    return settings.model_copy(update={"openai_api_key": "", "pexels_api_key": keep_pexels})


class _ProgressPrinter:
    """Prints a progress line whenever the step, percent or message changes."""

    def __init__(self) -> None:
        self._last: tuple[str, int, str] | None = None

    def __call__(self, step: str, percent: int, message: str) -> None:
        if (step, percent, message) != self._last:
            self._last = (step, percent, message)
            print(f"[{percent:3d}%] {step:<11} {message}", flush=True)


def render_to_file(
    services: Services,
    *,
    topic: str,
    duration: int,
    out: str,
    voice: str,
    caption_style: str,
    background: str,
    seed: int,
    facts: tuple[str, ...] = (),
    language: str = "en",
) -> int:
    """Render one video to ``out`` (with ``.srt``, ``.jpg`` and the 1280x720 ``.wide.jpg``
    beside it); returns an exit code.

    ``services`` come from the entry point, built on ``offline_settings``. Errors meant for
    people propagate as ViralShortsError (the CLI prints them).
    """
    source, media = background_choice(background)
    spec = RenderSpec(
        topic=topic, niche="general", tone="curious", language=language, target_seconds=duration,
        seed=seed, voice=voice, caption_style=caption_style, background_source=source,
        user_media=media, facts=facts,
    )  # fmt: skip
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="viralshorts-render-") as tmp:
        result = render(
            spec, services, work_dir=Path(tmp), on_progress=_ProgressPrinter(),
            is_cancelled=lambda: False,
        )  # fmt: skip
        target = Path(out)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(result.video_path, target)
        shutil.copyfile(result.captions_srt_path, target.with_suffix(".srt"))
        shutil.copyfile(result.thumbnail_path, target.with_suffix(".jpg"))
        if result.wide_thumbnail_path:
            shutil.copyfile(result.wide_thumbnail_path, target.with_suffix(".wide.jpg"))
    elapsed = time.monotonic() - started
    print(f"wrote {target} ({result.duration:.1f} s video in {elapsed:.1f} s)", file=sys.stdout)
    return 0
