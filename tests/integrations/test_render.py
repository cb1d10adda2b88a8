"""FfmpegRenderer and FfmpegProber with the real ffmpeg, checked with ffprobe and ebur128."""

import json
import os
import re
import subprocess
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import psutil
import pytest

from viralshorts.domain.rendering import captions
from viralshorts.domain.rendering.backgrounds import generated_lavfi
from viralshorts.domain.rendering.pipeline import BUNDLED_TRACKS
from viralshorts.errors import CancelledError, IntegrationError, RenderError
from viralshorts.integrations.ffmpeg_tools import (
    FfmpegProber,
    FfmpegRenderer,
    check_complete,
    frame_counts,
    partial_paths,
    probe_from_ffmpeg_log,
    remove_dead_partials,
)
from viralshorts.integrations.ports import RenderPlan, Segment, thumbnail_of
from viralshorts.settings import Settings

NARRATION = "Tiny robots clean the ocean. They eat plastic all day."

# ---------------------------------------------------------------- helpers (the pipeline tests too)


def ffprobe_streams(path: Path) -> dict[str, dict]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_format",
         str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    data = json.loads(out)
    streams = {s["codec_type"]: s for s in data["streams"]}
    streams["format"] = data["format"]
    return streams


def assert_shorts_format(path: Path) -> None:
    """1080x1920 H.264 High yuv420p 30 fps + AAC 48 kHz stereo."""
    streams = ffprobe_streams(path)
    video, audio = streams["video"], streams["audio"]
    assert (video["codec_name"], video["profile"], video["pix_fmt"]) == ("h264", "High", "yuv420p")
    assert (video["width"], video["height"], video["r_frame_rate"]) == (1080, 1920, "30/1")
    assert (audio["codec_name"], audio["sample_rate"], audio["channels"]) == ("aac", "48000", 2)


def top_level_boxes(path: Path) -> list[str]:
    names, data = [], path.read_bytes()
    offset = 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        names.append(data[offset + 4 : offset + 8].decode("latin-1"))
        offset += size if size >= 8 else len(data)
    return names


def integrated_loudness(path: Path) -> float:
    log = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-map", "0:a", "-af", "ebur128",
         "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    ).stderr  # fmt: skip
    return float(re.findall(r"I:\s+(-?[\d.]+) LUFS", log)[-1])


def gray_frame(path: Path, at: float) -> np.ndarray:
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-ss", f"{at:.3f}", "-i", str(path), "-frames:v", "1",
         "-f", "rawvideo", "-pix_fmt", "gray", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, dtype=np.uint8).reshape(1920, 1080).astype(np.int16)


def caption_band_difference(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Mean absolute difference in the caption band (58-62 % height) and at the top."""
    band = slice(int(1920 * 0.55), int(1920 * 0.65))
    top = slice(0, int(1920 * 0.2))
    return float(np.abs(a[band] - b[band]).mean()), float(np.abs(a[top] - b[top]).mean())


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("render-media")
    made = {
        "narration": (folder / "narration.wav", ["-f", "lavfi", "-i", f"flite=text='{NARRATION}'"]),
        "image": (folder / "still.png", ["-f", "lavfi", "-i", "testsrc=s=800x600",
                                         "-frames:v", "1"]),
        "clip": (folder / "wide.mp4", ["-f", "lavfi", "-i", "testsrc=s=640x360:r=25:d=2",
                                       "-pix_fmt", "yuv420p"]),
    }  # fmt: skip
    for path, args in made.values():
        subprocess.run(["ffmpeg", "-v", "error", "-y", *args, str(path)], check=True)
    return {name: path for name, (path, _) in made.items()}


def _plan(media: dict[str, Path], out: Path, *, with_captions: bool) -> RenderPlan:
    duration = FfmpegProber(Settings()).probe(media["narration"]).duration + 0.6
    words = captions.estimate_word_timings(NARRATION, duration - 0.6)
    ass = out.with_suffix(".ass")
    ass.write_text(captions.build_ass(words, style="bold"), encoding="utf-8")
    third = duration / 3
    segments = [
        Segment(0.0, third, "generated", lavfi=generated_lavfi(7)),
        Segment(third, third, "image", source=media["image"]),
        Segment(2 * third, duration - 2 * third, "clip", source=media["clip"], clip_offset=0.5),
    ]
    return RenderPlan(
        segments=segments, narration_path=media["narration"], out_path=out,
        duration=round(duration, 3), subtitles_path=ass if with_captions else None,
        fonts_dir=captions.FONTS_DIR, music_path=BUNDLED_TRACKS["bundled:upbeat"],
    )  # fmt: skip


@pytest.fixture(scope="module")
def rendered(media: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict:
    out_dir = tmp_path_factory.mktemp("rendered")
    plan = _plan(media, out_dir / "video.mp4", with_captions=True)
    progress: list[float] = []
    FfmpegRenderer(Settings()).render(plan, on_progress=progress.append, is_cancelled=lambda: False)
    return {"plan": plan, "progress": progress, "dir": out_dir}


# ---------------------------------------------------------------- the rendered video


def test_video_has_the_shorts_format(rendered: dict) -> None:
    assert_shorts_format(rendered["plan"].out_path)


def test_duration_and_frame_count_follow_the_plan(rendered: dict) -> None:
    plan = rendered["plan"]
    video = ffprobe_streams(plan.out_path)["video"]
    assert float(video["duration"]) == pytest.approx(plan.duration, abs=0.05)
    assert int(video["nb_frames"]) == round(plan.duration * 30)


def test_moov_comes_before_mdat(rendered: dict) -> None:
    boxes = top_level_boxes(rendered["plan"].out_path)
    assert boxes.index("moov") < boxes.index("mdat")


def test_loudness_is_normalised_to_minus_14_lufs(rendered: dict) -> None:
    assert integrated_loudness(rendered["plan"].out_path) == pytest.approx(-14.0, abs=1.5)


def test_progress_climbs_to_one(rendered: dict) -> None:
    progress = rendered["progress"]
    assert progress == sorted(progress)
    assert progress[-1] == 1.0


def test_no_partial_file_is_left(rendered: dict) -> None:
    assert [p.name for p in rendered["dir"].iterdir() if "partial" in p.name] == []


def test_captions_are_burned_in(rendered: dict, media: dict[str, Path], tmp_path: Path) -> None:
    plan = rendered["plan"]
    first_second = replace(plan.segments[0], duration=1.0)
    bare = replace(
        plan, out_path=tmp_path / "bare.mp4", subtitles_path=None, segments=[first_second],
        duration=1.0, music_path=None,
    )  # fmt: skip
    FfmpegRenderer(Settings()).render(bare, on_progress=lambda f: None, is_cancelled=lambda: False)
    at = 0.5  # the first word is on screen (generated background: identical without captions)
    band, top = caption_band_difference(
        gray_frame(plan.out_path, at), gray_frame(bare.out_path, at)
    )
    assert band > 5 * max(top, 0.5)


def small_gray(path: Path, at: float | None = None) -> np.ndarray:
    """The frame at ``at`` of a video (or the image), as 54x96 gray pixels."""
    seek = [] if at is None else ["-ss", f"{at:.3f}"]
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", *seek, "-i", str(path), "-frames:v", "1",
         "-vf", "scale=54:96", "-f", "rawvideo", "-pix_fmt", "gray", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, dtype=np.uint8).reshape(96, 54).astype(np.int16)


def test_the_render_writes_its_thumbnail_from_the_pass(rendered: dict) -> None:
    plan = rendered["plan"]
    thumb = thumbnail_of(plan.out_path)
    video = ffprobe_streams(thumb)["video"]
    assert (video["codec_name"], video["width"], video["height"]) == ("mjpeg", 1080, 1920)
    at = round(plan.thumbnail_at * plan.fps) / plan.fps
    same = np.abs(small_gray(thumb) - small_gray(plan.out_path, at)).mean()
    later = np.abs(small_gray(thumb) - small_gray(plan.out_path, plan.duration - 0.5)).mean()
    assert same < 4 < later  # the frame it says (the clip at the end looks nothing like it)


def test_thumbnail_is_a_1080x1920_jpeg(rendered: dict, tmp_path: Path) -> None:
    thumb = tmp_path / "thumb.jpg"
    FfmpegRenderer(Settings()).thumbnail(rendered["plan"].out_path, at_seconds=1.0, out_path=thumb)
    assert thumb.read_bytes()[:3] == b"\xff\xd8\xff"
    video = ffprobe_streams(thumb)["video"]
    assert (video["codec_name"], video["width"], video["height"]) == ("mjpeg", 1080, 1920)


# ---------------------------------------------------------------- failure and cancellation


def _ffmpeg_children() -> list[psutil.Process]:
    children = psutil.Process().children(recursive=True)
    return [c for c in children if c.is_running() and "ffmpeg" in c.name()]


def test_cancelling_kills_ffmpeg_and_leaves_nothing(media: dict[str, Path], tmp_path: Path) -> None:
    long = Segment(0.0, 60.0, "generated", lavfi=generated_lavfi(1))
    plan = replace(_plan(media, tmp_path / "v.mp4", with_captions=False), segments=[long],
                   duration=60.0)  # fmt: skip
    polls = iter(range(1000))
    seen_running = threading.Event()

    def is_cancelled() -> bool:
        if _ffmpeg_children():
            seen_running.set()
        return next(polls) >= 3

    with pytest.raises(CancelledError):
        FfmpegRenderer(Settings()).render(
            plan, on_progress=lambda f: None, is_cancelled=is_cancelled
        )
    assert seen_running.is_set()
    assert _ffmpeg_children() == []
    assert list(tmp_path.glob("v.mp4*")) == []


def test_an_ffmpeg_killed_from_outside_is_worth_another_try(
    media: dict[str, Path], tmp_path: Path
) -> None:
    """The OOM killer may pick ffmpeg alone: that attempt failed, the video did not."""
    long = Segment(0.0, 60.0, "generated", lavfi=generated_lavfi(3))
    plan = replace(_plan(media, tmp_path / "v.mp4", with_captions=False), segments=[long],
                   duration=60.0)  # fmt: skip
    killed: list[int] = []

    def kill_the_encoder() -> bool:
        for child in _ffmpeg_children():
            if "-progress" in child.cmdline() and not killed:
                killed.append(child.pid)
                child.kill()
        return False

    with pytest.raises(IntegrationError, match="stopped by signal 9") as caught:
        FfmpegRenderer(Settings()).render(
            plan, on_progress=lambda f: None, is_cancelled=kill_the_encoder
        )
    assert killed
    assert caught.value.retryable and caught.value.code == "ffmpeg_killed"
    assert _ffmpeg_children() == []
    assert list(tmp_path.glob("v.mp4*")) == []


def test_a_truncated_output_is_worth_another_try(rendered: dict, tmp_path: Path) -> None:
    """What a second writer or a killed one leaves: the next attempt must run, not give up."""
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(rendered["plan"].out_path.read_bytes()[:-5000])
    still = thumbnail_of(rendered["plan"].out_path)
    with pytest.raises(IntegrationError, match="before the video was complete") as caught:
        check_complete(cut, still)
    assert caught.value.retryable and caught.value.code == "render_incomplete"
    check_complete(rendered["plan"].out_path, still)  # a whole one passes


def test_every_attempt_writes_partial_files_of_its_own(tmp_path: Path) -> None:
    first, second = partial_paths(tmp_path / "v.mp4"), partial_paths(tmp_path / "v.mp4")
    assert first != second
    assert all(p.name.startswith(f"v.mp4.{os.getpid()}-") for p in (*first, *second))
    assert [p.suffix for p in first] == [".mp4", ".jpg"]


def test_partial_files_of_dead_processes_are_removed(tmp_path: Path) -> None:
    dead_pid = psutil.Popen(["true"])
    dead_pid.wait()
    dead = tmp_path / f"v.mp4.{dead_pid.pid}-0a1b2c3d.partial.mp4"
    live = tmp_path / f"v.mp4.{os.getpid()}-0a1b2c3d.partial.mp4"
    other = tmp_path / f"w.mp4.{dead_pid.pid}-0a1b2c3d.partial.mp4"
    for path in (dead, live, other):
        path.write_bytes(b"half a video")
    assert remove_dead_partials(tmp_path / "v.mp4") == [dead]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other.name])


def test_an_unreadable_source_is_a_render_error(media: dict[str, Path], tmp_path: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all")
    plan = replace(
        _plan(media, tmp_path / "v.mp4", with_captions=False),
        segments=[Segment(0.0, 2.0, "clip", source=text)], duration=2.0,
    )  # fmt: skip
    with pytest.raises(RenderError, match=r"ffmpeg could not render the video: .*notes\.mp4"):
        FfmpegRenderer(Settings()).render(
            plan, on_progress=lambda f: None, is_cancelled=lambda: False
        )
    assert list(tmp_path.glob("v.mp4*")) == []


def test_a_broken_soundtrack_stops_the_picture_pass(media: dict[str, Path], tmp_path: Path) -> None:
    song = tmp_path / "song.mp3"
    song.write_text("not music")
    long = Segment(0.0, 60.0, "generated", lavfi=generated_lavfi(2))
    plan = replace(
        _plan(media, tmp_path / "v.mp4", with_captions=False),
        segments=[long], duration=60.0, music_path=song,
    )  # fmt: skip
    progress: list[float] = []
    with pytest.raises(RenderError, match=r"Could not read the audio of song\.mp3"):
        FfmpegRenderer(Settings()).render(
            plan, on_progress=progress.append, is_cancelled=lambda: False
        )
    assert max(progress, default=0.0) < 1.0  # stopped before the 60 s of picture were done
    assert _ffmpeg_children() == []
    assert list(tmp_path.glob("v.mp4*")) == []


def test_repeated_identical_segments_render(media: dict[str, Path], tmp_path: Path) -> None:
    same = [Segment(i * 0.5, 0.5, "image", source=media["image"]) for i in range(2)]
    plan = replace(
        _plan(media, tmp_path / "v.mp4", with_captions=False),
        segments=same, duration=1.0, music_path=None,
    )  # fmt: skip
    FfmpegRenderer(Settings()).render(plan, on_progress=lambda f: None, is_cancelled=lambda: False)
    assert int(ffprobe_streams(plan.out_path)["video"]["nb_frames"]) == 30


def test_frame_counts_add_up_to_the_whole_video() -> None:
    segments = [Segment(0.0, 1.33, "generated"), Segment(1.33, 2.0, "generated"),
                Segment(3.33, 1.01, "generated")]  # fmt: skip
    counts = frame_counts(segments, 30, 4.34)
    assert sum(counts) == round(4.34 * 30)
    assert counts == [40, 60, 30]


# ---------------------------------------------------------------- the prober


def test_prober_describes_a_video(rendered: dict) -> None:
    probe = FfmpegProber(Settings()).probe(rendered["plan"].out_path)
    assert (probe.width, probe.height, probe.video_codec, probe.audio_codec) == (
        1080, 1920, "h264", "aac",
    )  # fmt: skip


def test_ffmpeg_log_fallback_reads_the_same_facts(rendered: dict) -> None:
    """Without ffprobe (imageio-ffmpeg ships none) the prober parses ``ffmpeg -i``."""
    path = rendered["plan"].out_path
    log = subprocess.run(["ffmpeg", "-hide_banner", "-i", str(path)], capture_output=True,
                         text=True, check=False).stderr  # fmt: skip
    fallback = probe_from_ffmpeg_log(log)
    probe = FfmpegProber(Settings()).probe(path)
    assert (fallback.width, fallback.height) == (probe.width, probe.height)
    assert (fallback.video_codec, fallback.audio_codec) == ("h264", "aac")
    assert fallback.duration == pytest.approx(probe.duration, abs=0.05)


def test_prober_rejects_a_truncated_mp4(rendered: dict, tmp_path: Path) -> None:
    data = rendered["plan"].out_path.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(IntegrationError, match=r"cut\.mp4 is truncated") as caught:
        FfmpegProber(Settings()).probe(cut)
    assert caught.value.retryable is False


def test_prober_rejects_an_mp4_cut_before_its_index(media: dict[str, Path], tmp_path: Path) -> None:
    data = media["clip"].read_bytes()  # not faststart: the index (moov) is at the end
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(IntegrationError, match=r"cut\.mp4") as caught:
        FfmpegProber(Settings()).probe(cut)
    assert caught.value.retryable is False


def test_prober_rejects_a_renamed_text_file(tmp_path: Path) -> None:
    fake = tmp_path / "holiday.mp4"
    fake.write_text("Dear diary, today I renamed a text file.\n" * 20)
    with pytest.raises(IntegrationError, match=r"holiday\.mp4 is not a video, image or audio file"):
        FfmpegProber(Settings()).probe(fake)


def test_prober_rejects_an_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.touch()
    with pytest.raises(IntegrationError, match="empty"):
        FfmpegProber(Settings()).probe(empty)


# ---------------------------------------------------------------- clips read once, front to back


def mean_gray(path: Path, at: float) -> float:
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-ss", f"{at:.3f}", "-i", str(path), "-frames:v", "1",
         "-f", "rawvideo", "-pix_fmt", "gray", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return float(np.frombuffer(raw, dtype=np.uint8).mean())


@pytest.fixture(scope="module")
def ramp_clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A clip that brightens frame by frame (its time readable from a frame) and a flat one."""
    folder = tmp_path_factory.mktemp("ramp")
    sources = {
        "ramp": "color=c=black:s=320x180:r=30:d=3,format=yuv420p,geq=lum='20+N*2':cb=128:cr=128",
        "flat": "color=c=0x3050a0:s=320x180:r=30:d=3",
    }
    for name, source in sources.items():
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", source, "-c:v",
                        "libx264", "-qp", "0", "-pix_fmt", "yuv420p", str(folder / f"{name}.mp4")],
                       check=True)  # fmt: skip
    return {name: folder / f"{name}.mp4" for name in sources}


def test_a_clip_in_two_scenes_is_read_once_and_plays_on(
    ramp_clips: dict[str, Path], media: dict[str, Path], tmp_path: Path
) -> None:
    ramp, flat = ramp_clips["ramp"], ramp_clips["flat"]
    segments = [
        Segment(0.0, 1.0, "clip", ramp, clip_offset=0.2),
        Segment(1.0, 1.0, "clip", flat),
        Segment(2.0, 1.0, "clip", ramp, clip_offset=1.2),  # where the first scene stopped
    ]
    plan = RenderPlan(segments=segments, narration_path=media["narration"],
                      out_path=tmp_path / "video.mp4", duration=3.0)  # fmt: skip
    renderer = FfmpegRenderer(Settings())
    command = renderer.command(plan, tmp_path / "x.mp4", tmp_path / "x.f32")
    assert command.count(str(ramp)) == 1  # one input, one decoder for both scenes
    renderer.render(plan, on_progress=lambda _f: None, is_cancelled=lambda: False)
    # 0.5 s into the third scene is 1.2 + 0.5 s into the clip, not its start or first scene
    shown = mean_gray(plan.out_path, 2.5)
    assert abs(shown - mean_gray(ramp, 1.7)) < 3
    assert abs(shown - mean_gray(ramp, 0.7)) > 20
    assert abs(mean_gray(plan.out_path, 0.5) - mean_gray(ramp, 0.7)) < 3
    assert abs(mean_gray(plan.out_path, 1.5) - mean_gray(flat, 0.5)) < 3


@pytest.mark.parametrize(
    ("second_offset", "inputs"),
    [(0.0, 2), (1.5, 1), (2.5, 2)],  # back in the clip; a 0.5 s gap (decoded); a 1.5 s gap
)
def test_a_clip_read_on_only_forward_and_close_by(
    ramp_clips: dict[str, Path], tmp_path: Path, second_offset: float, inputs: int
) -> None:
    ramp = ramp_clips["ramp"]
    segments = [Segment(0.0, 1.0, "clip", ramp, clip_offset=0.0),
                Segment(1.0, 1.0, "clip", ramp, clip_offset=second_offset)]  # fmt: skip
    plan = RenderPlan(segments=segments, narration_path=tmp_path / "n.wav",
                      out_path=tmp_path / "video.mp4", duration=2.0)  # fmt: skip
    command = FfmpegRenderer(Settings()).command(plan, tmp_path / "x.mp4", tmp_path / "x.f32")
    assert command.count(str(ramp)) == inputs


def test_generated_backgrounds_are_drawn_inside_the_pass_filter_graph(tmp_path: Path) -> None:
    segments = [Segment(0.0, 1.0, "generated", lavfi=generated_lavfi(1)),
                Segment(1.0, 1.0, "generated", lavfi=generated_lavfi(2))]  # fmt: skip
    plan = RenderPlan(segments=segments, narration_path=tmp_path / "n.wav",
                      out_path=tmp_path / "video.mp4", duration=2.0)  # fmt: skip
    command = FfmpegRenderer(Settings()).command(plan, tmp_path / "x.mp4", tmp_path / "x.f32")
    assert "lavfi" not in command  # no input to decode: source chains in the filter graph
    graph = command[command.index("-filter_complex") + 1]
    assert graph.startswith(segments[0].lavfi) and f";{segments[1].lavfi}," in graph
    assert "concat=a=0:n=2:v=1" in graph
