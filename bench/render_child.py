"""The render the benchmark measures, run in its own process by ``bench/render``.

Usage: render_child.py WORK [PRESET] [BG_DIR]

Renders a fixed 30 s spec (offline writer with the facts in ``bench/facts-honeybees.txt``,
Piper, bundled music, illustrations on) into a fresh media root (no cache), over generated
backgrounds or, with ``BG_DIR``, over the clips in it (as the creator's uploads), and prints
one JSON line: step start times, CPU time at each step, the video path and length, this
process's own peak RSS (the kernel's high-water mark), the background segments the renderer
drew (for the floors) and how many illustrations it laid over them.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from viralshorts.domain.rendering.headless import background_choice  # noqa: E402
from viralshorts.domain.rendering.pipeline import RenderSpec, render, resolve_music  # noqa: E402
from viralshorts.domain.video_facts import fact_lines  # noqa: E402
from viralshorts.integrations.ffmpeg_tools import clip_runs, frame_counts  # noqa: E402
from viralshorts.integrations.ports import RenderPlan  # noqa: E402
from viralshorts.integrations.services import build_services  # noqa: E402
from viralshorts.settings import get_settings  # noqa: E402

FACTS_FILE = ROOT / "bench" / "facts-honeybees.txt"
TOPIC = "how honeybees talk"
SEED = 42
SPEC = RenderSpec(
    topic=TOPIC,
    niche="nature",
    tone="curious",
    language="en",
    target_seconds=30,
    seed=SEED,
    background_source="generated",
    music_path=resolve_music("bundled:chill"),
    facts=tuple(fact_lines(FACTS_FILE.read_text(encoding="utf-8"))),
)


class RecordingRenderer:
    """Passes every call to the real renderer; remembers the plan (optionally with a preset)."""

    def __init__(self, renderer: Any, preset: str) -> None:
        self._renderer, self._preset = renderer, preset
        self.plan: RenderPlan | None = None

    def render(self, plan: RenderPlan, **kwargs: Any) -> None:
        self.plan = replace(plan, preset=self._preset) if self._preset else plan
        self._renderer.render(self.plan, **kwargs)

    def thumbnail(self, video_path: Path, **kwargs: Any) -> None:
        self._renderer.thumbnail(video_path, **kwargs)


def spec_for(background: str) -> RenderSpec:
    """The bench spec over generated backgrounds, or over the clips in folder ``background``."""
    if not background:
        return SPEC
    source, media = background_choice(background)
    return replace(SPEC, background_source=source, user_media=media)


def main(work: Path, preset: str, background: str) -> None:
    settings = get_settings().model_copy(
        update={"media_root": work / "media", "openai_api_key": "", "pexels_api_key": ""}
    )
    services = build_services(settings)
    recorder = RecordingRenderer(services.renderer, preset)
    services.renderer = recorder
    starts: dict[str, float] = {}
    cpu: dict[str, float] = {}
    started = time.monotonic()

    def on_progress(step: str, _percent: int, _message: str) -> None:
        starts.setdefault(step, time.monotonic() - started)
        cpu.setdefault(step, cpu_seconds())

    output = render(spec_for(background), services, work_dir=work / "out", on_progress=on_progress,
                    is_cancelled=lambda: False)  # fmt: skip
    starts["done"] = time.monotonic() - started
    cpu["done"] = cpu_seconds()
    result = {"steps": starts, "cpu": cpu, "video": str(output.video_path)}
    result |= {"duration": output.duration, **peak_rss(), "segments": segments(recorder.plan)}
    result["illustrations"] = len(recorder.plan.overlays) if recorder.plan else 0
    print(json.dumps(result))


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (ffmpeg), user + system."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def peak_rss() -> dict[str, float]:
    """This process's peak RSS in MB, from the kernel.

    Not the children's: a child started with vfork inherits its parent's high-water mark
    before it execs ffmpeg, so RUSAGE_CHILDREN reports the Python process's peak again.
    """
    return {"peak_rss_self_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def segments(plan: RenderPlan | None) -> list[dict[str, Any]]:
    """Each background segment as the renderer drew it: kind, frame count, the lavfi source
    of a generated one; for a clip its file, offset and the run of one input it is read in
    (``run``: the index of the run's first segment, ``start``/``end``: frames in that run)."""
    if plan is None:  # the render was served from the cache
        return []
    counts = frame_counts(plan.segments, plan.fps, plan.duration)
    runs = clip_runs(plan)
    described = []
    for index, (seg, frames) in enumerate(zip(plan.segments, counts, strict=True)):
        item: dict[str, Any] = {"kind": seg.kind, "lavfi": seg.lavfi, "frames": frames}
        if index in runs:
            run, start, end = runs[index]
            item |= {"source": str(seg.source), "offset": seg.clip_offset}
            item |= {"run": run, "start": start, "end": end}
        described.append(item)
    return described


if __name__ == "__main__":
    preset, background = [*sys.argv[2:], "", ""][:2]
    main(Path(sys.argv[1]), preset, background)
