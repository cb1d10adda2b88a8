"""ffmpeg/ffprobe adapters: probe media, render a RenderPlan in one ffmpeg pass, take thumbnails.

The filter graph is built with ffmpeg-python and run as ONE ffmpeg child per video, watched
through ``-progress pipe:1``. The child is always killed in ``finally`` (an RQ job timeout does
not kill grandchildren, so nobody else would), and dies with the work horse if that is killed
(``processes.popen``). Each attempt writes partial files of its own, named after its pid, and a
later attempt deletes those of dead processes. Before the pass, the soundtrack (mix, loudness,
limiter) is made by ``audio_mix`` into a raw sample file beside the partial video, which the
pass encodes to AAC, while a short ffmpeg draws the cards to pictures and another composes
the thumbnails from the background at their moment.
"""

from __future__ import annotations

import glob
import itertools
import json
import math
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

import ffmpeg

from viralshorts.errors import CancelledError, IntegrationError, RenderError
from viralshorts.integrations import audio_mix, processes
from viralshorts.integrations.memory import trim_heap
from viralshorts.integrations.ports import (
    MediaProbe,
    Overlay,
    RenderPlan,
    Segment,
    ThumbnailLayout,
    card_canvas,
    thumbnail_of,
    wide_thumbnail_of,
)
from viralshorts.integrations.processes import stop
from viralshorts.settings import Settings

POLL_SECONDS = 0.2
THUMBNAIL_SIZE = (1080, 1920)
WIDE_THUMBNAIL_SIZE = (1280, 720)
ENTRANCE_SECONDS = 0.35
POP_CANVAS = 1.12  # the pop overshoots to ~1.07x: room for it around the picture
THUMBNAIL_QUALITY = 3  # mjpeg qscale: 2 (best) .. 31
PROBE_MAX_PIXELS = 48_000_000  # the media library's limit (8000 px a side, 48 MP in all)
# FFmpeg's "fast" AAC coder: its own recommendation above 64 kb/s (commit fcb681ac), a third of
# twoloop's CPU; on our soundtrack 39.6 dB SNR against twoloop's 25.3 dB.
AAC_OPTIONS = {"aac_coder": "fast", "b:a": "128k", "ar": audio_mix.RATE, "ac": 2}
_DURATION = re.compile(r"Duration: (\d+):(\d+):([\d.]+)")
_STREAM = re.compile(r"Stream #\S+.*?: (Video|Audio): (\w+)(.*)")
_SIZE = re.compile(r", (\d{2,5})x(\d{2,5})")


def find_ffmpeg(settings: Settings) -> str:
    """The ffmpeg binary: configured, else on PATH, else the one bundled with imageio-ffmpeg."""
    if settings.ffmpeg_binary:
        return settings.ffmpeg_binary
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def find_ffprobe(settings: Settings) -> str | None:
    """The ffprobe binary, or None (imageio-ffmpeg ships none: then we probe with ``ffmpeg -i``)."""
    return settings.ffprobe_binary or shutil.which("ffprobe")


def _run(args: list[str], *, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return processes.run(
        args, timeout=timeout, text=True, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def _run_step(args: list[str], doing: str) -> None:
    """Run one of the short ffmpeg steps around the pass (cards, thumbnails, a frame).

    Raises:
        IntegrationError: ffmpeg was killed by a signal: retryable, like the pass itself.
        RenderError: ffmpeg failed; "Could not <doing>: <why>".
    """
    done = _run(args, timeout=60)
    killed = processes.killed_error(
        done.returncode, f"ffmpeg was stopped by signal {{signal}} before it could {doing}.",
        code="ffmpeg_killed",
    )  # fmt: skip
    if killed is not None:
        raise killed
    if done.returncode != 0:
        raise RenderError(f"Could not {doing}: {summarise_stderr(done.stderr)}")


def summarise_stderr(stderr: str, lines: int = 4) -> str:
    """The last few meaningful lines of ffmpeg's log, joined for a person to read."""
    kept = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    kept = [ln for ln in kept if not ln.startswith(("frame=", "size=", "Press [q]"))]
    return " | ".join(kept[-lines:]) or "no error output"


class FfmpegProber:
    """Describes media files with ffprobe (or ``ffmpeg -i`` when there is no ffprobe)."""

    def __init__(self, settings: Settings) -> None:
        self._ffmpeg = find_ffmpeg(settings)
        self._ffprobe = find_ffprobe(settings)

    def probe(self, path: Path) -> MediaProbe:
        """Describe ``path``; raises IntegrationError(retryable=False) if it is not media."""
        if not path.is_file() or path.stat().st_size == 0:
            raise IntegrationError(f"{path.name} is missing or empty.", retryable=False)
        probe = self._ffprobe_json(path) if self._ffprobe else self._ffmpeg_i(path)
        if "mp4" in probe.format_name and mp4_is_truncated(path):
            raise IntegrationError(
                f"{path.name} is truncated: the file ends before its video data does "
                "(an interrupted upload or copy?).",
                retryable=False,
            )
        if not (probe.has_video or probe.has_audio):
            raise IntegrationError(f"{path.name} has no video or audio in it.", retryable=False)
        return probe

    def _ffprobe_json(self, path: Path) -> MediaProbe:
        # max_pixels: a picture larger than any we accept is reported 0x0 instead of decoded
        # (a 16000x16000 PNG would otherwise cost ffprobe ~800 MB).
        args = [self._ffprobe or "ffprobe", "-v", "error", "-max_pixels", str(PROBE_MAX_PIXELS)]
        args += ["-print_format", "json"]
        done = _run([*args, "-show_format", "-show_streams", str(path)])
        if done.returncode != 0:
            raise _not_media(path, done.stderr)
        return probe_from_json(json.loads(done.stdout or "{}"))

    def _ffmpeg_i(self, path: Path) -> MediaProbe:
        done = _run([self._ffmpeg, "-hide_banner", "-i", str(path)])
        if "Stream #" not in done.stderr:
            raise _not_media(path, done.stderr)
        return probe_from_ffmpeg_log(done.stderr)


def mp4_is_truncated(path: Path) -> bool:
    """True when an MP4/MOV's top-level boxes claim more bytes than the file has.

    ffprobe only reads the header, so a faststart file cut inside its media data passes it.
    """
    size, offset = path.stat().st_size, 0
    with path.open("rb") as handle:
        while offset + 8 <= size:
            handle.seek(offset)
            header = handle.read(16)
            box_size = int.from_bytes(header[:4], "big")
            if box_size == 1 and len(header) == 16:
                box_size = int.from_bytes(header[8:16], "big")
            if box_size == 0:  # "extends to the end of the file"
                return False
            if box_size < 8:
                return True
            offset += box_size
    return offset != size


def _not_media(path: Path, stderr: str) -> IntegrationError:
    reason = summarise_stderr(stderr, lines=1).replace(str(path), path.name)
    return IntegrationError(
        f"{path.name} is not a video, image or audio file we can read ({reason}).",
        retryable=False,
    )


def probe_from_json(data: dict[str, Any]) -> MediaProbe:
    """A MediaProbe from ffprobe's ``-show_format -show_streams`` JSON."""
    streams = data.get("streams", [])
    video = next((s for s in streams if s.get("codec_type") == "video"), {})
    audio = next((s for s in streams if s.get("codec_type") == "audio"), {})
    duration = data.get("format", {}).get("duration") or video.get("duration")
    return MediaProbe(
        format_name=data.get("format", {}).get("format_name", ""),
        duration=float(duration) if duration not in (None, "N/A") else None,
        width=video.get("width"),
        height=video.get("height"),
        has_video=bool(video),
        has_audio=bool(audio),
        video_codec=video.get("codec_name", ""),
        audio_codec=audio.get("codec_name", ""),
    )


def probe_from_ffmpeg_log(log: str) -> MediaProbe:
    """A MediaProbe parsed from ``ffmpeg -i``'s log (fallback without ffprobe)."""
    found: dict[str, tuple[str, str, str]] = {}
    for kind, codec, rest in _STREAM.findall(log):
        size = _SIZE.search(rest)
        found.setdefault(kind, (codec, *(size.groups() if size else ("", ""))))
    video, audio = found.get("Video"), found.get("Audio")
    match = _DURATION.search(log)
    duration = (
        int(match[1]) * 3600 + int(match[2]) * 60 + float(match[3]) if match else None
    )  # fmt: skip
    return MediaProbe(
        format_name=(re.search(r"Input #0, ([\w,]+)", log) or [None, ""])[1],
        duration=duration,
        width=int(video[1]) if video and video[1] else None,
        height=int(video[2]) if video and video[2] else None,
        has_video=video is not None,
        has_audio=audio is not None,
        video_codec=video[0] if video else "",
        audio_codec=audio[0] if audio else "",
    )


def frame_counts(segments: list[Segment], fps: int, total: float) -> list[int]:
    """Frames per segment, cut on the frame grid so they add up to exactly ``total`` seconds."""
    edges = [round(seg.start * fps) for seg in segments[1:]]
    bounds = [0, *edges, round(total * fps)]
    return [max(1, b - a) for a, b in itertools.pairwise(bounds)]


def _cover(stream: Any, plan: RenderPlan) -> Any:
    """Crop the centre to the frame's aspect, then scale it to the frame (no black bars).

    Cropping first scales only the pixels that stay: a 1920x1080 clip is cut to 608x1080 and
    scaled up, instead of scaled to 3413x1920 and mostly thrown away.
    """
    w, h = plan.width, plan.height
    cropped = stream.filter("crop", f"min(iw,ih*{w}/{h})", f"min(ih,iw*{h}/{w})")
    return cropped.filter("scale", w, h, flags="bilinear")


def _segment_source(seg: Segment, seconds: float, plan: RenderPlan, index: int) -> Any:
    # ffmpeg-python merges nodes with equal arguments, which would feed two segments of the
    # same file from one chain; a distinct queue size keeps one input per segment. It stays
    # near ffmpeg's default of 8 because a lavfi input queues raw frames (memory).
    unique = {"thread_queue_size": 8 + index}
    if seg.kind == "generated":
        source = ffmpeg.input(seg.lavfi, f="lavfi", t=seconds, **unique).video
        return source.filter("scale", plan.width, plan.height, flags="bilinear")
    if seg.kind == "image":
        # Decode and cover-scale the still once; zoompan then emits every frame from it.
        frames = max(1, round(seconds * plan.fps))
        return _cover(ffmpeg.input(str(seg.source), **unique).video, plan).filter(
            "zoompan", z=f"1+0.08*on/{frames}", x="iw/2-(iw/zoom/2)", y="ih/2-(ih/zoom/2)",
            d=frames, s=f"{plan.width}x{plan.height}", fps=plan.fps,
        )  # fmt: skip
    clip = ffmpeg.input(str(seg.source), ss=seg.clip_offset, t=seconds, stream_loop=-1, **unique)
    return _cover(clip.video, plan)


def _segment_video(seg: Segment, frames: int, plan: RenderPlan, index: int) -> Any:
    source = _segment_source(seg, frames / plan.fps + 0.2, plan, index)
    return (
        source.filter("fps", plan.fps)
        .filter("setsar", 1)
        .filter("format", "yuv420p")
        .filter("trim", end_frame=frames)
        .filter("setpts", "PTS-STARTPTS")
    )


def _unique(index: int) -> dict[str, int]:
    return {"thread_queue_size": 8 + index}


def _pop_frames(picture: Any, overlay: Overlay, fps: int) -> Any:
    """The picture growing from 30 % with a small overshoot, on a fixed transparent canvas."""
    frames = math.ceil(ENTRANCE_SECONDS * fps) + 1  # the last one at full size
    left = f"(min(t/{ENTRANCE_SECONDS},1)-1)"  # -1 .. 0 over the entrance
    grow = f"(0.3+0.7*(1+2.70158*pow({left},3)+1.70158*pow({left},2)))"  # ease-out-back
    width, height = _pop_canvas(overlay)
    return (
        picture.filter("loop", loop=frames - 1, size=1)
        .filter("setpts", f"N/{fps}/TB")
        .filter("scale", w=f"max(2,trunc(iw*{grow}/2)*2)", h=f"max(2,trunc(ih*{grow}/2)*2)",
                eval="frame")
        .filter("pad", w=width, h=height, x="(ow-iw)/2", y="(oh-ih)/2", color="black@0",
                eval="frame")
    )  # fmt: skip


def _pop_canvas(overlay: Overlay) -> tuple[int, int]:
    """Room for the pop's overshoot around the picture, in its aspect (a card is wide: a
    square canvas would blend twice its area into every frame it is shown)."""
    side = overlay.size * POP_CANVAS
    width, height = (side, side / overlay.aspect) if overlay.aspect >= 1 else (
        side * overlay.aspect, side)  # fmt: skip
    return 2 * round(width / 2), 2 * round(height / 2)


def _overlay_input(overlay: Overlay, fps: int, index: int) -> Any:
    """The illustration decoded and scaled once to its box; a few frames for its entrance."""
    picture = (
        ffmpeg.input(str(overlay.source), **_unique(index)).video
        .filter("scale", overlay.size, overlay.size, force_original_aspect_ratio="decrease")
        .filter("format", "rgba")
    )  # fmt: skip
    if overlay.entrance == "pop":
        picture = _pop_frames(picture, overlay, fps)
    elif overlay.entrance == "float":
        frames = math.ceil(ENTRANCE_SECONDS * fps) + 1
        picture = (
            picture.filter("loop", loop=frames - 1, size=1).filter("setpts", f"N/{fps}/TB")
            .filter("fade", type="in", start_frame=0, nb_frames=frames, alpha=1)
        )  # fmt: skip
    return picture.filter("setpts", f"PTS-STARTPTS+{overlay.start:.3f}/TB")


def _lay_over(video: Any, overlay: Overlay, fps: int, index: int) -> Any:
    start, end = overlay.start, overlay.end
    done = f"min(max((t-{start:.3f})/{ENTRANCE_SECONDS},0),1)"
    x, y = f"{overlay.centre_x}-w/2", f"{overlay.centre_y}-h/2"
    if overlay.entrance == "slide":
        x += f"+{overlay.side}*{overlay.centre_x + overlay.size}*pow(1-{done},3)"
    elif overlay.entrance == "float":
        y += f"+160*pow(1-{done},3)"
    return ffmpeg.overlay(
        video, _overlay_input(overlay, fps, index), x=x, y=y,
        enable=f"between(t,{start:.3f},{end:.3f})", eof_action="repeat",
    )  # fmt: skip


def clip_runs(plan: RenderPlan) -> dict[int, tuple[int, int, int]]:
    """The clip segments that can share one input: ``{index: (first index of its run, start
    frame, end frame)}``, frames counted from the run's first offset.

    A run is segments of one file, each starting where the previous one ends in the clip, so
    one decoder reads them front to back; an overlap of up to two frames (the frame grid's
    rounding) continues the clip, and so does a gap of up to a second (decoded and dropped,
    cheaper than another decoder); anything else starts a new input.
    """
    counts = frame_counts(plan.segments, plan.fps, plan.duration)
    runs: dict[int, tuple[int, int, int]] = {}
    last_of: dict[Path, int] = {}
    for index, (seg, frames) in enumerate(zip(plan.segments, counts, strict=True)):
        if seg.kind != "clip" or seg.source is None:
            continue
        previous = last_of.get(seg.source)
        if previous is not None:
            first, _, end = runs[previous]
            start = round((seg.clip_offset - plan.segments[first].clip_offset) * plan.fps)
            if end - 2 <= start <= end + plan.fps:
                runs[index] = (first, max(start, end), max(start, end) + frames)
                last_of[seg.source] = index
                continue
        runs[index] = (index, 0, frames)
        last_of[seg.source] = index
    return runs


def _clip_run_branches(plan: RenderPlan, runs: dict[int, tuple[int, int, int]]) -> dict[int, Any]:
    """Each clip segment's picture: its run's input covered once, split, trimmed per segment."""
    members: dict[int, list[int]] = {}
    for index, (first, _, _) in runs.items():
        members.setdefault(first, []).append(index)
    branches: dict[int, Any] = {}
    for first, indexes in members.items():
        seg, end = plan.segments[first], runs[indexes[-1]][2]
        # One decoding thread: frame threads hold a context and frames each (~17 MB per 1080p
        # clip); the pass keeps both cores busy with x264 and the filters anyway.
        clip = ffmpeg.input(
            str(seg.source), ss=seg.clip_offset, t=end / plan.fps + 0.2, stream_loop=-1,
            threads=1, **_unique(first),
        )  # fmt: skip
        video = _cover(clip.video, plan).filter("fps", plan.fps).filter("setsar", 1)
        video = video.filter("format", "yuv420p")
        split = video.split() if len(indexes) > 1 else None
        for n, index in enumerate(indexes):
            _, start, stop = runs[index]
            branch = split[n] if split is not None else video
            branches[index] = branch.filter("trim", start_frame=start, end_frame=stop).filter(
                "setpts", "PTS-STARTPTS"
            )
    return branches


class _SourceChain(ffmpeg.nodes.FilterNode):
    """A filter chain that starts with a source filter (no input), written into the filter
    graph as it is: ffmpeg-python knows only filters that take an input."""

    def __init__(self, chain: str, index: int) -> None:
        # Node.__init__ directly: FilterNode asks for at least one input. The index keeps two
        # equal chains apart (ffmpeg-python merges equal nodes).
        stream = ffmpeg.nodes.FilterableStream
        ffmpeg.nodes.Node.__init__(
            self, stream_spec=None, name="source", incoming_stream_types={stream},
            outgoing_stream_type=stream, min_inputs=0, max_inputs=0, args=[chain, index],
            kwargs={},
        )  # fmt: skip

    def _get_filter(self, outgoing_edges: Any) -> str:
        return str(self.args[0])


def _generated_background(plan: RenderPlan, counts: list[int]) -> Any:
    """Generated segments only: every pattern drawn, upscaled and cut by source chains inside
    the pass's own filter graph, concatenated there. As a lavfi input the same graph held
    ≈ 40 MB more (its frames are copied into packets for a decoder), as one lavfi input per
    scene ≈ 80 MB more."""
    size, fps = f"{plan.width}:{plan.height}", plan.fps
    chains = [
        _SourceChain(
            f"{seg.lavfi},scale={size}:flags=bilinear,fps={fps},setsar=1,format=yuv420p,"
            f"trim=end_frame={frames},setpts=PTS-STARTPTS",
            index,
        ).stream()
        for index, (seg, frames) in enumerate(zip(plan.segments, counts, strict=True))
    ]
    return chains[0] if len(chains) == 1 else ffmpeg.concat(*chains, v=1, a=0)


def _background(plan: RenderPlan) -> Any:
    """Every segment at output size and fps, concatenated."""
    counts = frame_counts(plan.segments, plan.fps, plan.duration)
    if all(seg.kind == "generated" for seg in plan.segments):
        return _generated_background(plan, counts)
    clips = _clip_run_branches(plan, clip_runs(plan))
    parts = [
        clips[index] if index in clips else _segment_video(seg, frames, plan, index)
        for index, (seg, frames) in enumerate(zip(plan.segments, counts, strict=True))
    ]
    return parts[0] if len(parts) == 1 else ffmpeg.concat(*parts, v=1, a=0)


def _burn(video: Any, ass: Path | None, fonts_dir: Path | None) -> Any:
    if ass is None:
        return video
    fonts = {"fontsdir": str(fonts_dir)} if fonts_dir else {}
    return video.filter("subtitles", filename=str(ass), **fonts)


def _with_overlays(video: Any, plan: RenderPlan) -> Any:
    first = len(plan.segments)
    for n, overlay in enumerate(plan.overlays):
        video = _lay_over(video, overlay, plan.fps, first + n)
    return video


def build_video(plan: RenderPlan) -> Any:
    """The picture: background segments, illustrations laid over them, captions burned in."""
    video = _with_overlays(_background(plan), plan)
    return _burn(video, plan.subtitles_path, plan.fonts_dir)


def _background_frame(plan: RenderPlan, at: float) -> Any:
    """The background alone at ``at`` seconds: the one segment shown then, drawn or read up
    to that frame (the thumbnails' picture, made before the pass by an ffmpeg of its own: a
    branch split off in the pass held every frame before that moment queued, ≈ 380 MB at 5 s)."""
    counts = frame_counts(plan.segments, plan.fps, plan.duration)
    wanted = min(round(at * plan.fps), sum(counts) - 1)
    first = 0
    for index, (seg, frames) in enumerate(zip(plan.segments, counts, strict=True)):
        if wanted < first + frames or index == len(counts) - 1:
            offset = min(wanted - first, frames - 1)
            return _segment_video(seg, offset + 1, plan, 0).filter(
                "trim", start_frame=offset, end_frame=offset + 1
            )
        first += frames
    raise ValueError("a plan without segments has no background")


def _thumbnail_picture(layout: ThumbnailLayout, size: int, index: int) -> Any:
    return (
        ffmpeg.input(str(layout.illustration), **_unique(index)).video
        .filter("scale", size, size, force_original_aspect_ratio="decrease")
    )  # fmt: skip


def _thumbnails(still: Any, plan: RenderPlan, layout: ThumbnailLayout) -> tuple[Any, Any]:
    """The 1080x1920 and 1280x720 thumbnails from one background frame: the illustration
    (if any) and the title drawn large; never a caption."""
    branches = still.split()
    tall_bg, wide_bg = branches[0], branches[1]
    wide_w, wide_h = WIDE_THUMBNAIL_SIZE
    crop_h = round(plan.width * wide_h / wide_w)
    wide_bg = wide_bg.filter("crop", plan.width, crop_h, 0, (plan.height - crop_h) // 2)
    wide_bg = wide_bg.filter("scale", wide_w, wide_h, flags="bicubic")
    if layout.illustration is not None:
        index = len(plan.segments) + len(plan.overlays)
        tall_bg = ffmpeg.overlay(
            tall_bg, _thumbnail_picture(layout, 760, index), x="(W-w)/2", y="640-h/2"
        )
        wide_bg = ffmpeg.overlay(
            wide_bg, _thumbnail_picture(layout, 540, index + 1), x="W-w-70", y="(H-h)/2"
        )
    tall = _burn(tall_bg, layout.title_tall_ass, plan.fonts_dir)
    wide = _burn(wide_bg, layout.title_wide_ass, plan.fonts_dir)
    return tall, wide


def _jpeg(picture: Any, target: Path) -> Any:
    return ffmpeg.output(
        picture, str(target), format="image2", vframes=1, **{"q:v": THUMBNAIL_QUALITY}
    )


def card_pictures_of(partial: Path, count: int) -> list[Path]:
    """Where a render attempt draws its cards (beside its partial video, cleaned up alike)."""
    return [partial.with_name(f"{partial.name}.card{k}.png") for k in range(count)]


def _unmixed(plan: RenderPlan) -> Any:
    """The cards as straight-alpha RGBA frames, card ``k`` the ``k``-th frame of the canvas.

    libass blends onto a frame's alpha channel as if it were a colour, which squares a
    half-transparent box's alpha. So each card is drawn on black and on white instead, and
    its alpha and colour are solved from the two: a = 1 - (white - black), colour = black / a.
    """
    width, height = card_canvas(plan.cards)
    drawn = []
    for colour in ("black", "white"):
        canvas = ffmpeg.input(
            f"color=c={colour}:s={width}x{height}:r=1:d={len(plan.cards)}", f="lavfi"
        ).video.filter("format", "gbrp")
        drawn.append(_burn(canvas, plan.cards_ass, plan.fonts_dir).split())
    black, white = drawn
    straight = "if(lt(y-x,255),clip(x*255/(255-(y-x)),0,255),0)"
    colour = ffmpeg.filter([black[0], white[0]], "lut2", c0=straight, c1=straight, c2=straight)
    alpha = ffmpeg.filter([black[1], white[1]], "lut2", c0="clip(255-(y-x),0,255)")
    return ffmpeg.filter([colour, alpha.filter("extractplanes", "g")], "alphamerge")


def x264_options(preset: str, crf: int) -> dict[str, str | int]:
    """The video encoder settings of every render, as ffmpeg output options (bench/render too).

    x264's defaults at 1080x1920 hold about 50 MB more than they need: 1.5 frame threads per
    core, and a threaded lookahead buffering frames for them. One frame thread per core and
    no lookahead thread (``superfast`` looks ahead 0 frames anyway) give the same bytes.
    One B-frame chosen without b-adapt instead of up to three: on the bench's 30 s render
    40 MB less in ffmpeg and 2.0 s less CPU (of 16.2) for 1.7 % more bytes at the same SSIM
    and PSNR against a lossless encode of the same picture (docs/performance.md).
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "vcodec": "libx264", "preset": preset, "crf": crf, "profile:v": "high",
        "pix_fmt": "yuv420p",
        "x264-params": f"threads={cores or 1}:sync-lookahead=0:bframes=1:b-adapt=0",
    }  # fmt: skip


class FfmpegRenderer:
    """Runs a RenderPlan as one watched, cancellable ffmpeg process; takes thumbnails."""

    def __init__(self, settings: Settings) -> None:
        self._ffmpeg = find_ffmpeg(settings)

    def command(self, plan: RenderPlan, out: Path, soundtrack: Path) -> list[str]:
        """The ffmpeg command that renders ``plan`` into ``out``, its soundtrack read as raw
        samples from ``soundtrack`` (``_write_soundtrack``). A plan's cards are drawn first
        (``with_card_pictures``); the thumbnails are composed by a short ffmpeg of their own."""
        if plan.cards:
            raise ValueError("draw the plan's cards first (with_card_pictures)")
        sound = ffmpeg.input(str(soundtrack), f="f32le", ar=audio_mix.RATE, ac=2).audio
        video_out = ffmpeg.output(
            build_video(plan), sound, str(out), format="mp4", r=plan.fps, acodec="aac",
            movflags="+faststart", **AAC_OPTIONS, **x264_options(plan.preset, plan.crf),
        )  # fmt: skip
        flags = ("-hide_banner", "-nostats", "-v", "error", "-progress", "pipe:1", "-y")
        return video_out.global_args(*flags).compile(cmd=self._ffmpeg)

    def cards_command(self, plan: RenderPlan, pictures: list[Path]) -> list[str]:
        """The ffmpeg command that draws each of ``plan.cards`` once, still, into its own
        transparent PNG in ``pictures``, cut to the card's size."""
        width, height = card_canvas(plan.cards)
        frames = _unmixed(plan).split()
        outputs = []
        for k, (card, picture) in enumerate(zip(plan.cards, pictures, strict=True)):
            one = frames[k].filter("trim", start_frame=k, end_frame=k + 1).filter(
                "crop", card.width, card.height, (width - card.width) // 2,
                (height - card.height) // 2,
            )  # fmt: skip
            outputs.append(ffmpeg.output(one, str(picture), format="image2", vframes=1))
        merged = ffmpeg.merge_outputs(*outputs).global_args("-hide_banner", "-v", "error", "-y")
        return merged.compile(cmd=self._ffmpeg)

    def with_card_pictures(self, plan: RenderPlan, pictures: list[Path]) -> RenderPlan:
        """``plan`` with its cards drawn into ``pictures`` and laid over as overlays."""
        if not plan.cards:
            return plan
        _run_step(self.cards_command(plan, pictures), "draw the cards")
        if not all(p.is_file() for p in pictures):
            raise RenderError("Could not draw the cards: ffmpeg wrote no picture.")
        drawn = [card.as_overlay(p) for card, p in zip(plan.cards, pictures, strict=True)]
        return replace(plan, overlays=[*drawn, *plan.overlays], cards=[], cards_ass=None)

    def thumbnails_command(
        self, plan: RenderPlan, thumbnail: Path, wide_thumbnail: Path
    ) -> list[str]:
        """The ffmpeg command that composes the 1080x1920 and 1280x720 thumbnails of a plan with
        a ``thumbnails`` layout from its background at the layout's moment."""
        if plan.thumbnails is None:
            raise ValueError("only a plan with a thumbnails layout has thumbnails composed")
        frame = _background_frame(plan, plan.thumbnails.at)
        tall, wide = _thumbnails(frame, plan, plan.thumbnails)
        jpegs = [_jpeg(tall, thumbnail), _jpeg(wide, wide_thumbnail)]
        merged = ffmpeg.merge_outputs(*jpegs).global_args("-hide_banner", "-v", "error", "-y")
        return merged.compile(cmd=self._ffmpeg)

    def render(
        self,
        plan: RenderPlan,
        *,
        on_progress: Callable[[float], None],
        is_cancelled: Callable[[], bool],
    ) -> None:
        """Render ``plan`` to ``plan.out_path`` (written whole or not at all).

        The soundtrack is mixed while the thumbnails are composed and the cards drawn, all
        before the pass: beside the pass, the mix's memory landed on top of ffmpeg's peak.

        Raises:
            CancelledError: ``is_cancelled()`` turned true; ffmpeg was killed.
            RenderError: ffmpeg or the soundtrack failed; the message summarises why.
        """
        plan.out_path.parent.mkdir(parents=True, exist_ok=True)
        remove_dead_partials(plan.out_path)
        partial, still = partial_paths(plan.out_path)
        wide = still.with_name(still.name.removesuffix(".jpg") + ".wide.jpg")
        card_pictures = card_pictures_of(partial, len(plan.cards))
        samples = partial.with_name(f"{partial.name}.f32")

        def check() -> None:
            if is_cancelled():
                raise CancelledError("The render was cancelled.")

        try:
            # The mix, the thumbnails' ffmpeg and the cards' side by side, all before the pass:
            # beside it their memory would land on top of its peak.
            with ThreadPoolExecutor(2) as pool:
                mixing = pool.submit(self._write_soundtrack, plan, samples)
                composing = pool.submit(self._compose_thumbnails, plan, still, wide)
                drawn = self.with_card_pictures(plan, card_pictures)
                mixing.result()
                composing.result()
            check()
            _run_watched(self.command(drawn, partial, samples), plan.duration, on_progress, check)
            check_complete(partial)
            if plan.thumbnails is not None:
                check_complete(partial, still, wide)
                wide.replace(wide_thumbnail_of(plan.out_path))
            else:  # no layout: the finished frame, as it is
                last = max(0.0, plan.duration - 2 / plan.fps)
                self.thumbnail(partial, at_seconds=min(plan.thumbnail_at, last), out_path=still)
            still.replace(thumbnail_of(plan.out_path))
            partial.replace(plan.out_path)  # last: a video in the cache has its thumbnails
            on_progress(1.0)
        finally:
            for path in (partial, still, wide, samples, *card_pictures):
                path.unlink(missing_ok=True)

    def _compose_thumbnails(self, plan: RenderPlan, still: Path, wide: Path) -> None:
        if plan.thumbnails is None:  # no layout: taken from the finished video after the pass
            return
        _run_step(self.thumbnails_command(plan, still, wide), "make the thumbnails")

    def _write_soundtrack(self, plan: RenderPlan, path: Path) -> None:
        """Mix the plan's narration and ducked music at its target loudness into ``path`` as
        raw samples, before the pass: mixed beside it, the mix's ≈ 50 MB landed on top of
        ffmpeg's peak."""
        samples = audio_mix.soundtrack(
            self._ffmpeg, narration=plan.narration_path, music=plan.music_path,
            music_volume_db=plan.music_volume_db, seconds=plan.duration,
            target_lufs=plan.target_lufs,
        )  # fmt: skip
        with path.open("wb") as stream:
            audio_mix.write_pcm(samples, stream)
        del samples
        trim_heap()  # the mix's temporaries would otherwise stay mapped next to ffmpeg

    def thumbnail(self, video_path: Path, *, at_seconds: float, out_path: Path) -> None:
        """Write a 1080x1920 JPEG of the frame at ``at_seconds``."""
        partial = out_path.with_name(out_path.name + ".partial.jpg")
        args = [self._ffmpeg, "-hide_banner", "-v", "error", "-y", "-ss", f"{at_seconds:.3f}"]
        width, height = THUMBNAIL_SIZE
        args += ["-i", str(video_path), "-frames:v", "1", "-vf", f"scale={width}:{height}"]
        args += ["-q:v", str(THUMBNAIL_QUALITY)]
        try:
            _run_step([*args, str(partial)], "take the thumbnail")
            if not partial.exists():
                raise RenderError("Could not take the thumbnail: ffmpeg wrote no picture.")
            partial.replace(out_path)
        finally:
            partial.unlink(missing_ok=True)


def partial_paths(out_path: Path) -> tuple[Path, Path]:
    """This attempt's own temporary video and thumbnail beside ``out_path``.

    The pid tells a later attempt whether the writer is still alive; the token keeps two
    attempts of the same process apart.
    """
    tag = f"{os.getpid()}-{secrets.token_hex(4)}"
    name = out_path.name
    return (
        out_path.with_name(f"{name}.{tag}.partial.mp4"),
        out_path.with_name(f"{name}.{tag}.partial.jpg"),
    )


def remove_dead_partials(out_path: Path) -> list[Path]:
    """Delete partial files of ``out_path`` whose writing process no longer runs.

    A work horse killed by SIGKILL cannot clean up after itself; its ffmpeg died with it.
    The render cache is per machine, so a pid names a process on this machine.
    """
    removed = []
    for path in out_path.parent.glob(f"{glob.escape(out_path.name)}.*.partial.*"):
        pid = path.name[len(out_path.name) + 1 :].split("-", 1)[0]
        if pid.isdigit() and not processes.is_running(int(pid)):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def check_complete(partial: Path, *thumbnails: Path) -> None:
    """Refuse an output ffmpeg reported as done but that is incomplete (worth another try).

    Raises:
        IntegrationError: ``retryable=True``, code ``render_incomplete``.
    """
    missing = not partial.is_file() or not all(path.is_file() for path in thumbnails)
    if missing or mp4_is_truncated(partial):
        raise IntegrationError(
            "The render stopped before the video was complete; trying again.",
            retryable=True,
            code="render_incomplete",
        )


class _ProgressReader(threading.Thread):
    """Reads ``-progress pipe:1`` lines; ``fraction`` is how far ffmpeg has got (0..1)."""

    def __init__(self, stream: Any, total: float) -> None:
        super().__init__(daemon=True)
        self._stream, self._total = stream, max(total, 0.001)
        self.fraction = 0.0

    def run(self) -> None:
        for raw in self._stream:
            key, _, value = raw.decode(errors="replace").strip().partition("=")
            if key == "out_time_us" and value.isdigit():
                self.fraction = min(1.0, int(value) / 1e6 / self._total)


def _run_watched(
    args: list[str],
    total: float,
    on_progress: Callable[[float], None],
    check: Callable[[], None],
) -> None:
    """Run ffmpeg, reporting its progress; ``check()`` raising stops (and kills) it."""
    with tempfile.TemporaryFile("w+b") as log:
        proc = processes.popen(args, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL)
        try:
            _watch(proc, _ProgressReader(proc.stdout, total), on_progress, check)
            _raise_for_exit(proc, log)
        finally:
            stop(proc)


def _raise_for_exit(proc: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    """Raise unless ffmpeg ended well: killed by a signal is worth a retry, an error is not."""
    code = proc.poll()
    killed = processes.killed_error(
        code, "ffmpeg was stopped by signal {signal} before the video was done.",
        code="ffmpeg_killed",
    )  # fmt: skip
    if killed is not None:
        raise killed
    if code:
        log.seek(0)
        reason = summarise_stderr(log.read().decode(errors="replace"))
        raise RenderError(f"ffmpeg could not render the video: {reason}")


def _watch(
    proc: subprocess.Popen[bytes],
    reader: _ProgressReader,
    on_progress: Callable[[float], None],
    check: Callable[[], None],
) -> None:
    reader.start()
    while proc.poll() is None:
        check()
        on_progress(reader.fraction)
        time.sleep(POLL_SECONDS)
