"""The render pipeline: script → voice → captions → backgrounds → one ffmpeg pass → verified MP4.

It talks to outside tools only through the ``Services`` ports. Every step's output is cached by
content hash under ``MEDIA_ROOT/cache/<step>/`` (written atomically), so a retry after a crash
resumes where it stopped instead of starting again.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from viralshorts.domain.rendering import captions, cards, scenes
from viralshorts.domain.rendering.backgrounds import (
    IMAGE_SUFFIXES,
    MediaItem,
    generated_segments,
    stock_segments,
    upload_segments,
)
from viralshorts.domain.rendering.caption_markup import readable_script
from viralshorts.domain.rendering.looks import AUTO_LOOK, Look, resolve_look
from viralshorts.domain.rendering.planning import Span
from viralshorts.domain.rendering.step_cache import (
    StepCache,
    atomic_path,
    content_hash,
    file_hash,
    touch,
)
from viralshorts.errors import CancelledError, IntegrationError, RenderError, ValidationError
from viralshorts.integrations.ports import (
    Card,
    ProgressCallback,
    RenderPlan,
    Script,
    ScriptBrief,
    Segment,
    Services,
    SpeechResult,
    ThumbnailLayout,
    WordTiming,
    thumbnail_of,
    wide_thumbnail_of,
)
from viralshorts.settings import PROJECT_ROOT

TAIL_SECONDS = 0.6
DURATION_TOLERANCE = 0.5
PLAN_LENGTH_TOLERANCE = 0.1
"""How far (a fraction of the plan's longest video) a narration may run over before it fails."""
PIPELINE_VERSION = 3  # bump when a change should invalidate cached renders
MUSIC_DIR = PROJECT_ROOT / "assets" / "music"
BUNDLED_TRACKS: dict[str, Path] = {
    "bundled:chill": MUSIC_DIR / "chill.m4a",
    "bundled:upbeat": MUSIC_DIR / "upbeat.m4a",
    "bundled:cinematic": MUSIC_DIR / "cinematic.m4a",
}
STEP_START = {"script": 0, "voice": 5, "captions": 20, "backgrounds": 25, "render": 35}
RENDER_END = 97


def bundled_tracks() -> list[tuple[str, str]]:
    """``(id, label)`` of every bundled music track, for a select box."""
    return [(key, key.split(":", 1)[1].title()) for key in BUNDLED_TRACKS]


def resolve_music(choice: str) -> Path | None:
    """The file behind a music choice: "none"/"" → None, "bundled:<name>" → the bundled track.

    Raises:
        ValidationError: ``choice`` names no bundled track.
    """
    if choice in ("", "none"):
        return None
    if choice not in BUNDLED_TRACKS:
        raise ValidationError({"music": f"Unknown music track \u201c{choice}\u201d."})
    return BUNDLED_TRACKS[choice]


@dataclass(frozen=True)
class RenderSpec:
    """Everything that decides what the video looks and sounds like."""

    topic: str
    niche: str
    tone: str
    language: str
    target_seconds: int
    seed: int
    custom_script: str = ""  # "" = let the writer write one
    script: dict[str, Any] | None = None  # an edited Script.to_dict() to re-render; skips writing
    voice: str = "piper:joe"
    voice_speed: float = 1.0
    caption_style: str = "bold"
    background_source: str = "generated"  # "uploads" | "stock" | "generated"
    user_media: list[Path] = field(default_factory=list)
    music_path: Path | None = None
    max_seconds: int = 0  # the plan's longest video; 0 = no limit (the headless command)
    look: str = AUTO_LOOK  # a palette of looks.LOOKS; "auto" = one chosen by the seed
    illustrations: bool = True  # a picture (or a typographic card) per line
    facts: tuple[str, ...] = ()  # the creator's key facts, for the writer


@dataclass(frozen=True)
class RenderOutput:
    video_path: Path
    thumbnail_path: Path
    captions_srt_path: Path
    duration: float
    script: Script
    render_hash: str
    wide_thumbnail_path: Path | None = None  # 1280x720, for YouTube


class Progress:
    """Maps each step's own 0..1 progress onto the overall 0..100 and checks for cancellation."""

    def __init__(self, report: ProgressCallback, is_cancelled: Callable[[], bool]) -> None:
        self._report = report
        self.is_cancelled = is_cancelled

    def __call__(self, step: str, fraction: float, message: str) -> None:
        self.check()
        start = STEP_START[step]
        ends = [*STEP_START.values(), RENDER_END]
        end = ends[list(STEP_START).index(step) + 1]
        self._report(step, int(start + (end - start) * min(max(fraction, 0.0), 1.0)), message)

    def check(self) -> None:
        """Raise CancelledError when the creator asked to stop."""
        if self.is_cancelled():
            raise CancelledError("The render was cancelled.")


# ---------------------------------------------------------------- steps


def write_script(spec: RenderSpec, services: Services, cache: StepCache) -> Script:
    """The edited script if given, else the writer's (cached by brief)."""
    if spec.script:
        return Script.from_dict(spec.script)
    brief = ScriptBrief(
        topic=spec.topic, niche=spec.niche, tone=spec.tone, language=spec.language,
        target_seconds=spec.target_seconds, seed=spec.seed, custom_script=spec.custom_script,
        facts=spec.facts,
    )  # fmt: skip
    writer = type(services.script_writer).__name__
    path = cache.path("script", content_hash([writer, asdict(brief)]), ".json")
    cached = cache.read_json(path)
    if cached:
        return Script.from_dict(cached)
    script = services.script_writer.write(brief)
    cache.write_json(path, script.to_dict())
    return script


def synthesize_voice(
    narration: str,
    spec: RenderSpec,
    services: Services,
    cache: StepCache,
    is_cancelled: Callable[[], bool] = lambda: False,
) -> SpeechResult:
    """The narration as audio (cached by text, voice and speed)."""
    engine = services.speech.get(spec.voice.split(":", 1)[0])
    if engine is None:
        raise ValidationError({"voice": f"The voice \u201c{spec.voice}\u201d is not available."})
    key = content_hash([narration, spec.voice, spec.voice_speed])
    wav, meta_path = cache.path("voice", key, ".wav"), cache.path("voice", key, ".json")
    meta = cache.read_json(meta_path)
    if meta and wav.exists():
        touch(wav)
        return SpeechResult(wav, meta["duration"], _words(meta["words"]))
    with atomic_path(wav) as tmp:
        result = engine.synthesize(
            narration, voice=spec.voice, speed=spec.voice_speed, out_path=tmp,
            is_cancelled=is_cancelled,
        )  # fmt: skip
    words = [asdict(w) for w in result.words] if result.words is not None else None
    cache.write_json(meta_path, {"duration": result.duration, "words": words})
    return SpeechResult(wav, result.duration, result.words)


def _words(raw: list[dict[str, Any]] | None) -> list[WordTiming] | None:
    return None if raw is None else [WordTiming(**w) for w in raw]


def time_words(
    speech: SpeechResult, narration: str, spec: RenderSpec, services: Services, cache: StepCache
) -> list[WordTiming]:
    """One timing per narration word (cached by the audio's hash)."""
    key = content_hash([file_hash(speech.audio_path), narration, spec.language])
    path = cache.path("captions", key, ".json")
    cached = cache.read_json(path)
    if cached is not None:
        return _words(cached) or []
    words = captions.resolve_word_timings(
        speech, narration, transcriber=services.transcriber, language=spec.language
    )
    cache.write_json(path, [asdict(w) for w in words])
    return words


def choose_backgrounds(
    spans: list[Span],
    spec: RenderSpec,
    services: Services,
    cache: StepCache,
    notify: Callable[[str], None],
) -> list[Segment]:
    """A background segment for every span, from the source the creator picked (generated
    ones in the video's look)."""
    colours = resolve_look(spec.look, spec.seed).background
    if spec.background_source == "uploads":
        items = probe_uploads(spec.user_media, services, notify)
        return upload_segments(spans, items, spec.seed, colours)
    if spec.background_source == "stock":
        stock_dir = cache.root / "stock"
        return stock_segments(
            spans, services.stock, cache_dir=stock_dir, seed=spec.seed, notify=notify,
            colours=colours,
        )  # fmt: skip
    return generated_segments(spans, spec.seed, colours)


def probe_uploads(
    paths: list[Path], services: Services, notify: Callable[[str], None]
) -> list[MediaItem]:
    """The creator's files that are readable media; the others are skipped with a message."""
    items = []
    for path in paths:
        try:
            probe = services.prober.probe(path)
        except IntegrationError as exc:
            notify(f"Skipping {path.name}: {exc}")
            continue
        still = path.suffix.lower() in IMAGE_SUFFIXES or "pipe" in probe.format_name
        if probe.has_video:
            items.append(MediaItem(path, None if still else probe.duration))
    if not items:
        notify("No usable uploads: using generated backgrounds.")
    return items


def write_captions(words: list[WordTiming], spec: RenderSpec, work_dir: Path) -> tuple[Path, Path]:
    """The burned-in ASS captions and the SRT sidecar, in ``work_dir``."""
    ass, srt = work_dir / "captions.ass", work_dir / "captions.srt"
    ass.write_text(captions.build_ass(words, style=spec.caption_style), encoding="utf-8")
    srt.write_text(captions.build_srt(words), encoding="utf-8")
    return ass, srt


def write_cards(
    visuals: list[scenes.LineVisual], entrance: str, look: Look, work_dir: Path
) -> tuple[Path | None, list[Card]]:
    """The ASS file that draws the video's hook and typographic cards (None: it has none)."""
    text, found = cards.cards_ass(visuals, entrance, look)
    if not found:
        return None, []
    path = work_dir / "cards.ass"
    path.write_text(text, encoding="utf-8")
    return path, found


def write_titles(
    title: str, look: Look, work_dir: Path, *, with_picture: bool
) -> tuple[Path, Path]:
    """The thumbnails' title layers (1080x1920 and 1280x720) as ASS files in ``work_dir``."""
    paths = work_dir / "title-tall.ass", work_dir / "title-wide.ass"
    for path, wide in zip(paths, (False, True), strict=True):
        text = cards.title_ass(title, look, wide=wide, with_picture=with_picture)
        path.write_text(text, encoding="utf-8")
    return paths


Illustrator = Callable[[Script], tuple[list[Any], str]]


def pick_illustrations(script: Script) -> tuple[list[Any], str]:
    """One pick per script line from the offline illustration library, and the attribution
    the description must carry ("" when none is required)."""
    from viralshorts.domain.rendering import illustrations

    picks = illustrations.choose_illustrations(script.lines, illustrations.load_index())
    # A picture not rasterised yet (./dev setup not finished) is left out, not a failed render.
    picks = [p if p.path is None or p.path.is_file() else replace(p, path=None) for p in picks]
    return picks, illustrations.attribution_for([p for p in picks if p.path is not None])


def with_attribution(script: Script, attribution: str) -> Script:
    """The script with ``attribution`` at the end of its description (once)."""
    if not attribution or attribution in script.description:
        return script
    description = f"{script.description.rstrip()}\n\n{attribution}".strip()
    return replace(script, description=description)


def check_plan_length(narration_seconds: float, max_seconds: int) -> None:
    """Raise RenderError when the spoken narration is longer than the plan allows."""
    if max_seconds <= 0 or narration_seconds <= max_seconds * (1 + PLAN_LENGTH_TOLERANCE):
        return
    seconds = round(narration_seconds)
    raise RenderError(
        f"The narration lasts {seconds} s, longer than the {max_seconds} s your plan allows. "
        "Shorten the script and try again.",
        code="narration_too_long",
        params={"seconds": seconds, "max_seconds": max_seconds},
    )


def render_identity(plan: RenderPlan) -> str:
    """A hash of everything that decides the rendered bytes (files by content, not by path)."""
    # An upload often backs several segments: read each file once.
    sources = {s.source: file_hash(s.source) for s in plan.segments if s.source}
    sources |= {o.source: file_hash(o.source) for o in plan.overlays}
    segments = [
        {**asdict(s), "source": sources[s.source] if s.source else ""} for s in plan.segments
    ]
    overlays = [{**asdict(o), "source": sources[o.source]} for o in plan.overlays]
    settings = asdict(
        replace(plan, segments=[], overlays=[], thumbnails=None, out_path=Path(),
                narration_path=Path())
    )  # fmt: skip
    files = {
        "narration": plan.narration_path,
        "subtitles_path": plan.subtitles_path,
        "cards_ass": plan.cards_ass,
        "music_path": plan.music_path,
    }
    if plan.thumbnails:
        layout = plan.thumbnails
        settings["thumbnail_at"] = layout.at
        files |= {"title_tall": layout.title_tall_ass, "title_wide": layout.title_wide_ass}
        files["thumbnail_picture"] = layout.illustration
    for name, path in files.items():
        settings[name] = file_hash(path) if path else ""
    identity = {"version": PIPELINE_VERSION, "plan": settings, "segments": segments}
    return content_hash(identity | {"overlays": overlays})


def verify_video(path: Path, expected_seconds: float, services: Services) -> None:
    """Raise RenderError unless ``path`` is a 1080x1920 H.264/AAC video of the expected length."""
    try:
        probe = services.prober.probe(path)
    except IntegrationError as exc:
        raise RenderError(f"The rendered video cannot be read: {exc}") from exc
    problems = []
    if (probe.width, probe.height) != (1080, 1920):
        problems.append(f"it is {probe.width}x{probe.height}, not 1080x1920")
    if (probe.video_codec, probe.audio_codec) != ("h264", "aac"):
        problems.append(
            f"it is {probe.video_codec or 'no video'}/{probe.audio_codec or 'no audio'}"
        )
    if probe.duration is None or abs(probe.duration - expected_seconds) > DURATION_TOLERANCE:
        problems.append(f"it lasts {probe.duration} s instead of {expected_seconds:.1f} s")
    if problems:
        raise RenderError("The rendered video came out wrong: " + "; ".join(problems) + ".")


def render_video(plan: RenderPlan, services: Services, progress: Progress) -> None:
    """Render ``plan`` unless a verified render of the same content is already cached."""
    if plan.out_path.exists():
        try:
            verify_video(plan.out_path, plan.duration, services)
        except RenderError:
            plan.out_path.unlink(missing_ok=True)
        else:
            touch(plan.out_path, thumbnail_of(plan.out_path), wide_thumbnail_of(plan.out_path))
            progress("render", 1.0, "Reusing the finished render")
            return
    progress("render", 0.0, "Rendering the video")
    services.renderer.render(
        plan,
        on_progress=lambda fraction: progress("render", fraction, "Rendering the video"),
        is_cancelled=progress.is_cancelled,
    )
    verify_video(plan.out_path, plan.duration, services)


def _link_or_copy(source: Path, dest: Path) -> Path:
    dest.unlink(missing_ok=True)
    try:
        dest.hardlink_to(source)
    except OSError:
        shutil.copy2(source, dest)
    return dest


# ---------------------------------------------------------------- the use case


def render(
    spec: RenderSpec,
    services: Services,
    *,
    work_dir: Path,
    on_progress: ProgressCallback,
    is_cancelled: Callable[[], bool],
    illustrator: Illustrator = pick_illustrations,
) -> RenderOutput:
    """Produce a finished, verified video for ``spec``.

    Args:
        spec: What to make.
        services: The ports (writer, speech, transcriber, stock, prober, renderer).
        work_dir: Where the video, thumbnail and captions are written.
        on_progress: Called with ``(step, percent 0-100, message)``.
        is_cancelled: Polled often; when it returns True the work stops.
        illustrator: Picks each line's illustration (or card) and says what attribution the
            description needs; the offline library's matcher unless a test brings its own.

    Returns:
        The files and facts of the finished video.

    Raises:
        CancelledError: The creator cancelled.
        RenderError: The video could not be made (the message says why).
        ValidationError: The spec asks for something unavailable (voice, music).
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    cache = StepCache(services.settings.media_root / "cache")
    progress = Progress(on_progress, is_cancelled)
    progress("script", 0.0, "Writing the script")
    script = readable_script(write_script(spec, services, cache))
    if not script.narration:
        raise RenderError("The script is empty: there is nothing to say.")
    picks, attribution = illustrator(script) if spec.illustrations else ([], "")
    plan = _plan(
        script, spec, services, picks=picks, cache=cache, progress=progress, work_dir=work_dir
    )
    render_video(plan, services, progress)
    return _finish(plan, with_attribution(script, attribution), services, work_dir)


def _plan(
    script: Script,
    spec: RenderSpec,
    services: Services,
    *,
    picks: list[Any],
    cache: StepCache,
    progress: Progress,
    work_dir: Path,
) -> RenderPlan:
    progress("voice", 0.0, "Recording the voice-over")
    speech = synthesize_voice(script.narration, spec, services, cache, progress.is_cancelled)
    check_plan_length(speech.duration, spec.max_seconds)
    progress("captions", 0.0, "Timing the captions")
    words = time_words(speech, script.narration, spec, services, cache)
    total = round(speech.duration + TAIL_SECONDS, 3)
    spans = scenes.plan_scenes(script, words, total)
    look, entrance = resolve_look(spec.look, spec.seed), scenes.entrance_for(spec.seed)
    visuals = scenes.line_visuals(script, spans, picks)
    cards_path, scene_cards = write_cards(visuals, entrance, look, work_dir)
    ass, _srt = write_captions(words, spec, work_dir)
    progress("backgrounds", 0.0, "Choosing the backgrounds")

    def notify(message: str) -> None:
        progress("backgrounds", 0.5, message)

    segments = choose_backgrounds(spans, spec, services, cache, notify)
    at, picture = scenes.thumbnail_moment(visuals)
    tall, wide = write_titles(
        script.title or script.hook, look, work_dir, with_picture=picture is not None
    )
    plan = RenderPlan(
        segments=segments, narration_path=speech.audio_path, out_path=Path(), duration=total,
        subtitles_path=ass, fonts_dir=captions.FONTS_DIR, music_path=spec.music_path,
        thumbnail_at=min(at, total / 2), overlays=scenes.overlays_for(visuals, entrance),
        cards=scene_cards, cards_ass=cards_path,
        thumbnails=ThumbnailLayout(min(at, total / 2), tall, wide, picture),
    )  # fmt: skip
    return replace(plan, out_path=cache.path("render", render_identity(plan), ".mp4"))


def _finish(plan: RenderPlan, script: Script, services: Services, work_dir: Path) -> RenderOutput:
    video = _link_or_copy(plan.out_path, work_dir / "video.mp4")
    thumbnail = work_dir / "thumbnail.jpg"
    rendered = thumbnail_of(plan.out_path)
    if rendered.exists():
        _link_or_copy(rendered, thumbnail)
    else:  # a render cached before renders wrote their thumbnails
        services.renderer.thumbnail(video, at_seconds=plan.thumbnail_at, out_path=thumbnail)
    wide = wide_thumbnail_of(plan.out_path)
    wide_copy = _link_or_copy(wide, work_dir / "thumbnail-wide.jpg") if wide.exists() else None
    return RenderOutput(
        video_path=video,
        thumbnail_path=thumbnail,
        captions_srt_path=work_dir / "captions.srt",
        duration=plan.duration,
        script=script,
        render_hash=plan.out_path.stem,
        wide_thumbnail_path=wide_copy,
    )
