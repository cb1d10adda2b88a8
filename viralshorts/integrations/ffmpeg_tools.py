"""ffmpeg/ffprobe adapters: probe media, render a RenderPlan in one ffmpeg pass, take thumbnails.

The filter graph is built with ffmpeg-python and run as ONE ffmpeg child per video, watched
through ``-progress pipe:1``. The child is always killed in ``finally`` (an RQ job timeout does
not kill grandchildren, so nobody else would), and dies with the work horse if that is killed
(``processes.popen``). Each attempt writes partial files of its own, named after its pid, and a
later attempt deletes those of dead processes. The soundtrack (mix, loudness, limiter) is made
by ``audio_mix`` in a thread while ffmpeg already encodes the picture, and streamed into the same
ffmpeg on its stdin as raw samples, which it encodes to AAC.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, cast

import ffmpeg

from viralshorts.errors import CancelledError, IntegrationError, RenderError
from viralshorts.integrations import audio_mix, processes
from viralshorts.integrations.memory import trim_heap
from viralshorts.integrations.ports import MediaProbe, RenderPlan, Segment, thumbnail_of
from viralshorts.integrations.processes import stop
from viralshorts.settings import Settings

POLL_SECONDS = 0.2
THUMBNAIL_SIZE = (540, 960)
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
    """Scale to cover the frame, then crop the centre (no black bars)."""
    w, h = plan.width, plan.height
    return stream.filter("scale", w, h, force_original_aspect_ratio="increase").filter("crop", w, h)


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


def build_video(plan: RenderPlan) -> Any:
    """The picture: every segment at output size and fps, concatenated, captions burned in."""
    counts = frame_counts(plan.segments, plan.fps, plan.duration)
    parts = [
        _segment_video(seg, frames, plan, index)
        for index, (seg, frames) in enumerate(zip(plan.segments, counts, strict=True))
    ]
    video = parts[0] if len(parts) == 1 else ffmpeg.concat(*parts, v=1, a=0)
    if plan.subtitles_path:
        fonts = {"fontsdir": str(plan.fonts_dir)} if plan.fonts_dir else {}
        video = video.filter("subtitles", filename=str(plan.subtitles_path), **fonts)
    return video


def x264_options(preset: str, crf: int) -> dict[str, str | int]:
    """The video encoder settings of every render, as ffmpeg output options (bench/render too).

    x264's defaults at 1080x1920 hold about 50 MB more than they need: 1.5 frame threads per
    core, and a threaded lookahead buffering frames for them. One frame thread per core and
    no lookahead thread (``superfast`` looks ahead 0 frames anyway) give the same bytes.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "vcodec": "libx264", "preset": preset, "crf": crf, "profile:v": "high",
        "pix_fmt": "yuv420p", "x264-params": f"threads={cores or 1}:sync-lookahead=0",
    }  # fmt: skip


class FfmpegRenderer:
    """Runs a RenderPlan as one watched, cancellable ffmpeg process; takes thumbnails."""

    def __init__(self, settings: Settings) -> None:
        self._ffmpeg = find_ffmpeg(settings)

    def command(self, plan: RenderPlan, out: Path, thumbnail: Path) -> list[str]:
        """The ffmpeg command that renders ``plan`` into ``out``, its soundtrack read from stdin
        as raw samples, and the frame at ``plan.thumbnail_at`` into ``thumbnail`` on the way."""
        split = build_video(plan).split()
        picture, still = split[0], split[1]
        last = max(0, round(plan.duration * plan.fps) - 1)
        frame = min(round(plan.thumbnail_at * plan.fps), last)
        sound = ffmpeg.input("pipe:0", f="f32le", ar=audio_mix.RATE, ac=2).audio
        video = ffmpeg.output(
            picture, sound, str(out), format="mp4", r=plan.fps, acodec="aac",
            movflags="+faststart", **AAC_OPTIONS, **x264_options(plan.preset, plan.crf),
        )  # fmt: skip
        still = still.filter("trim", start_frame=frame, end_frame=frame + 1)
        jpeg = ffmpeg.output(
            still.filter("scale", *THUMBNAIL_SIZE), str(thumbnail), format="image2",
            vframes=1, **{"q:v": THUMBNAIL_QUALITY},
        )  # fmt: skip
        flags = ("-hide_banner", "-nostats", "-v", "error", "-progress", "pipe:1", "-y")
        return ffmpeg.merge_outputs(video, jpeg).global_args(*flags).compile(cmd=self._ffmpeg)

    def render(
        self,
        plan: RenderPlan,
        *,
        on_progress: Callable[[float], None],
        is_cancelled: Callable[[], bool],
    ) -> None:
        """Render ``plan`` to ``plan.out_path`` (written whole or not at all).

        ffmpeg starts on the picture at once; a thread mixes the soundtrack meanwhile (the
        picture leaves about half a core idle on two) and streams it into ffmpeg's stdin.

        Raises:
            CancelledError: ``is_cancelled()`` turned true; ffmpeg was killed.
            RenderError: ffmpeg or the soundtrack failed; the message summarises why.
        """
        plan.out_path.parent.mkdir(parents=True, exist_ok=True)
        remove_dead_partials(plan.out_path)
        partial, still = partial_paths(plan.out_path)

        def check() -> None:
            if is_cancelled():
                raise CancelledError("The render was cancelled.")

        try:
            command = self.command(plan, partial, still)
            _run_watched(
                command, plan.duration, on_progress, check, feed=lambda s: self._feed(plan, s)
            )
            check_complete(partial, still)
            still.replace(thumbnail_of(plan.out_path))
            partial.replace(plan.out_path)  # last: a video in the cache has its thumbnail
            on_progress(1.0)
        finally:
            for path in (partial, still):
                path.unlink(missing_ok=True)

    def _feed(self, plan: RenderPlan, stream: IO[bytes]) -> None:
        """Mix the plan's narration and ducked music at its target loudness into ``stream``."""
        try:
            samples = audio_mix.soundtrack(
                self._ffmpeg, narration=plan.narration_path, music=plan.music_path,
                music_volume_db=plan.music_volume_db, seconds=plan.duration,
                target_lufs=plan.target_lufs,
            )  # fmt: skip
        except BaseException:
            stream.close()
            raise
        trim_heap()  # the mix's temporaries would otherwise stay mapped next to ffmpeg
        audio_mix.write_pcm(samples, stream)

    def thumbnail(self, video_path: Path, *, at_seconds: float, out_path: Path) -> None:
        """Write a 540x960 JPEG of the frame at ``at_seconds``."""
        partial = out_path.with_name(out_path.name + ".partial.jpg")
        args = [self._ffmpeg, "-hide_banner", "-v", "error", "-y", "-ss", f"{at_seconds:.3f}"]
        width, height = THUMBNAIL_SIZE
        args += ["-i", str(video_path), "-frames:v", "1", "-vf", f"scale={width}:{height}"]
        args += ["-q:v", str(THUMBNAIL_QUALITY)]
        done = _run([*args, str(partial)])
        if done.returncode != 0 or not partial.exists():
            partial.unlink(missing_ok=True)
            raise RenderError(f"Could not take the thumbnail: {summarise_stderr(done.stderr)}")
        partial.replace(out_path)


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


def check_complete(partial: Path, still: Path) -> None:
    """Refuse an output ffmpeg reported as done but that is incomplete (worth another try).

    Raises:
        IntegrationError: ``retryable=True``, code ``render_incomplete``.
    """
    if not partial.is_file() or not still.is_file() or mp4_is_truncated(partial):
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
    *,
    feed: Callable[[IO[bytes]], None] | None = None,
) -> None:
    """Run ffmpeg, reporting its progress; ``check()`` raising stops (and kills) it.

    ``feed`` writes ffmpeg's stdin from a thread (and closes it); its exception stops ffmpeg too.
    """
    with tempfile.TemporaryFile("w+b") as log:
        proc = processes.popen(
            args, stdout=subprocess.PIPE, stderr=log,
            stdin=subprocess.PIPE if feed else subprocess.DEVNULL,
        )  # fmt: skip
        feeder = _Background(lambda: feed(cast(IO[bytes], proc.stdin))) if feed else None

        def watched_check() -> None:
            check()
            if feeder and isinstance(feeder.error, BrokenPipeError):
                # ffmpeg closed its stdin: it ended, and how it ended is the reason.
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=10)
                _raise_for_exit(proc, log)
            if feeder:
                feeder.raise_if_failed()

        try:
            if feeder:
                feeder.start()
            _watch(proc, _ProgressReader(proc.stdout, total), on_progress, watched_check)
            _raise_for_exit(proc, log)
            if feeder:
                feeder.wait(watched_check)
        finally:
            stop(proc)
            if feeder:
                feeder.join()


def _raise_for_exit(proc: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    """Raise unless ffmpeg ended well: killed by a signal is worth a retry, an error is not."""
    code = proc.poll()
    if processes.killed_by_signal(code):
        signum = -(code or 0)
        raise IntegrationError(
            f"ffmpeg was stopped by signal {signum} before the video was done.",
            retryable=True,
            code="ffmpeg_killed",
            params={"signal": signum},
        )
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


class _Background:
    """Runs ``work`` in a thread; its exception is raised again in the caller's thread."""

    def __init__(self, work: Callable[[], None]) -> None:
        self._work = work
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self._work()
        except BaseException as exc:  # handed to the caller by raise_if_failed
            self._error = exc

    def start(self) -> None:
        self._thread.start()

    @property
    def error(self) -> BaseException | None:
        """What the work raised, if it failed."""
        return self._error

    def raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def wait(self, check: Callable[[], None]) -> None:
        """Wait for the work to end, calling ``check()`` meanwhile; re-raise its exception."""
        while self._thread.is_alive():
            check()
            self._thread.join(POLL_SECONDS)
        self.raise_if_failed()

    def join(self) -> None:
        if self._thread.ident is not None:
            self._thread.join()
