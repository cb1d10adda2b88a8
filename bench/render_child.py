"""The render the benchmark measures, run in its own process by ``bench/render``.

Renders a fixed 30 s spec (offline writer, Piper, generated backgrounds, bundled music) into a
fresh media root (no cache), and prints one JSON line: step start times, video path, duration.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from viralshorts.domain.rendering.pipeline import RenderSpec, render, resolve_music  # noqa: E402
from viralshorts.integrations.services import build_services  # noqa: E402
from viralshorts.settings import get_settings  # noqa: E402

SPEC = RenderSpec(
    topic="how honeybees talk",
    niche="nature",
    tone="curious",
    language="en",
    target_seconds=30,
    seed=42,
    background_source="generated",
    music_path=resolve_music("bundled:chill"),
)


def main(work: Path, preset: str) -> None:
    settings = get_settings().model_copy(
        update={"media_root": work / "media", "openai_api_key": "", "pexels_api_key": ""}
    )
    services = build_services(settings)
    starts: dict[str, float] = {}
    cpu: dict[str, float] = {}
    started = time.monotonic()

    def on_progress(step: str, _percent: int, _message: str) -> None:
        starts.setdefault(step, time.monotonic() - started)
        cpu.setdefault(step, cpu_seconds())

    if preset:
        services.renderer = _with_preset(services.renderer, preset)
    output = render(SPEC, services, work_dir=work / "out", on_progress=on_progress,
                    is_cancelled=lambda: False)  # fmt: skip
    starts["done"] = time.monotonic() - started
    cpu["done"] = cpu_seconds()
    result = {"steps": starts, "cpu": cpu, "video": str(output.video_path)}
    print(json.dumps({**result, "duration": output.duration}))


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (ffmpeg), user + system."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _with_preset(renderer, preset: str):
    from dataclasses import replace

    class PresetRenderer:
        def render(self, plan, **kwargs):
            renderer.render(replace(plan, preset=preset), **kwargs)

        def thumbnail(self, video_path, **kwargs):
            renderer.thumbnail(video_path, **kwargs)

    return PresetRenderer()


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "")
