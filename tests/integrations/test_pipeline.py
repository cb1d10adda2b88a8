"""The render pipeline end to end: offline writer + Piper + real ffmpeg, checked with ffprobe."""

import dataclasses
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.pexels_server import API_KEY, FakePexels, FakeVideo, make_portrait_clips
from tests.illustration_samples import no_pictures
from tests.integrations.test_render import (
    assert_shorts_format,
    ffprobe_streams,
    integrated_loudness,
    top_level_boxes,
)
from viralshorts.domain.rendering.headless import (
    background_choice,
    offline_settings,
    render_to_file,
)
from viralshorts.domain.rendering.pipeline import (
    BUNDLED_TRACKS,
    TAIL_SECONDS,
    RenderSpec,
    bundled_tracks,
    render,
    resolve_music,
)
from viralshorts.errors import CancelledError, RenderError, ValidationError
from viralshorts.integrations.ports import RenderPlan, Script, ScriptBrief, Services
from viralshorts.integrations.services import build_services
from viralshorts.settings import Settings, get_settings

STEPS = ["script", "voice", "captions", "backgrounds", "render"]
CUSTOM = (
    "Your cat's purr is a tiny engine of healing. "
    "Cats purr between twenty five and fifty times a second. "
    "That hum may help their bones mend faster."
)


class CountingWriter:
    """The real script writer, counting how often it is asked."""

    def __init__(self, inner: object) -> None:
        self.inner, self.calls = inner, 0

    def write(self, brief: ScriptBrief) -> Script:
        self.calls += 1
        return self.inner.write(brief)


class CountingRenderer:
    """The real renderer, counting renders."""

    def __init__(self, inner: object) -> None:
        self.inner, self.renders = inner, 0

    def render(self, plan: RenderPlan, **kwargs: object) -> None:
        self.renders += 1
        self.inner.render(plan, **kwargs)

    def thumbnail(self, video_path: Path, **kwargs: object) -> None:
        self.inner.thumbnail(video_path, **kwargs)


class Recorder:
    def __init__(self, cancel_at: str = "") -> None:
        self.events: list[tuple[str, int, str]] = []
        self.cancel_at = cancel_at

    def __call__(self, step: str, percent: int, message: str) -> None:
        self.events.append((step, percent, message))

    def is_cancelled(self) -> bool:
        return bool(self.cancel_at) and any(e[0] == self.cancel_at for e in self.events)

    def steps(self) -> list[str]:
        return list(dict.fromkeys(step for step, _, _ in self.events))

    def messages(self) -> str:
        return " ".join(message for _, _, message in self.events)


def _services(settings: Settings) -> Services:
    services = build_services(settings)
    return dataclasses.replace(
        services,
        script_writer=CountingWriter(services.script_writer),
        renderer=CountingRenderer(services.renderer),
    )


def _spec(**changes: object) -> RenderSpec:
    spec = RenderSpec(
        topic="why cats purr", niche="pets", tone="curious", language="en", target_seconds=10,
        seed=5, background_source="generated", music_path=resolve_music("bundled:chill"),
    )  # fmt: skip
    return dataclasses.replace(spec, **changes)


def _run(spec: RenderSpec, services: Services, work_dir: Path, recorder: Recorder):
    return render(
        spec, services, work_dir=work_dir, on_progress=recorder, is_cancelled=recorder.is_cancelled,
        illustrator=no_pictures,
    )  # fmt: skip


def _cache_files(services: Services) -> dict[Path, tuple[int, int]]:
    """Each cached file's inode and size: an atomic rewrite gives a new inode (reads only
    touch the modification time, which marks the last use)."""
    root = services.settings.media_root / "cache"
    return {p: (p.stat().st_ino, p.stat().st_size) for p in root.rglob("*") if p.is_file()}


def _counts(services: Services) -> tuple[int, int]:
    return services.script_writer.calls, services.renderer.renders


@pytest.fixture()
def services(tmp_path: Path) -> Services:
    """Services of one test, with its own media folder (cache) and fresh counters."""
    return _services(Settings(media_root=tmp_path / "media", openai_api_key=""))


def _rendered(services: Services, work_dir: Path, spec: RenderSpec) -> dict:
    recorder = Recorder()
    started = time.time() - 0.01  # file times and the clock may round differently
    output = _run(spec, services, work_dir, recorder)
    return {"output": output, "recorder": recorder, "cache": _cache_files(services),
            "counts": _counts(services), "started": started}  # fmt: skip


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One render, the same again, then with stock asked for but not configured, in services
    of their own (no other test touches this cache or these counters)."""
    media = tmp_path_factory.mktemp("media")
    services = _services(Settings(media_root=media, openai_api_key=""))
    first = _rendered(services, tmp_path_factory.mktemp("first"), _spec(custom_script=CUSTOM))
    first["narration_seconds"] = _narration_seconds(services)
    second = _rendered(services, tmp_path_factory.mktemp("second"), _spec(custom_script=CUSTOM))
    stock_spec = _spec(custom_script=CUSTOM, background_source="stock")
    stock = _rendered(services, tmp_path_factory.mktemp("stock"), stock_spec)
    return {"first": first, "second": second, "stock": stock, "cache_root": media / "cache"}


@pytest.fixture()
def first(rendered: dict) -> dict:
    return rendered["first"]


@pytest.fixture()
def second(rendered: dict) -> dict:
    return rendered["second"]


def _narration_seconds(services: Services) -> float:
    wavs = list((services.settings.media_root / "cache" / "voice").glob("*.wav"))
    assert len(wavs) == 1
    return float(ffprobe_streams(wavs[0])["format"]["duration"])


# ---------------------------------------------------------------- the finished video


def test_video_is_a_verified_short(first: dict) -> None:
    output = first["output"]
    assert_shorts_format(output.video_path)
    boxes = top_level_boxes(output.video_path)
    assert boxes.index("moov") < boxes.index("mdat")


def test_length_follows_the_narration(first: dict) -> None:
    narration = first["narration_seconds"]
    seconds = float(ffprobe_streams(first["output"].video_path)["format"]["duration"])
    assert seconds == pytest.approx(narration + TAIL_SECONDS, abs=0.8)
    assert first["output"].duration == pytest.approx(seconds, abs=0.1)


def test_audio_is_loud_enough_and_normalised(first: dict) -> None:
    assert integrated_loudness(first["output"].video_path) == pytest.approx(-14.0, abs=1.5)
    log = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostats", "-i", str(first["output"].video_path),
         "-af", "volumedetect", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    ).stderr  # fmt: skip
    mean = float(log.split("mean_volume:")[1].split("dB")[0])
    assert mean > -30.0


def test_sidecar_captions_speak_the_script(first: dict) -> None:
    srt = first["output"].captions_srt_path.read_text(encoding="utf-8")
    assert srt.startswith("1\n00:00:")
    first_words = first["output"].script.hook.split()[:3]
    assert " ".join(first_words) in " ".join(srt.split())


def test_thumbnails_are_jpegs_tall_and_wide(first: dict) -> None:
    output = first["output"]
    for path, size in (
        (output.thumbnail_path, (1080, 1920)),
        (output.wide_thumbnail_path, (1280, 720)),
    ):
        assert path.read_bytes()[:3] == b"\xff\xd8\xff"
        video = ffprobe_streams(path)["video"]
        assert (video["width"], video["height"]) == size


def test_progress_reports_every_step_in_order(first: dict) -> None:
    recorder = first["recorder"]
    assert recorder.steps() == STEPS
    percents = [percent for _, percent, _ in recorder.events]
    assert percents == sorted(percents)
    assert percents[0] >= 0
    assert percents[-1] >= 95


def test_render_hash_names_the_content(first: dict) -> None:
    assert len(first["output"].render_hash) == 64


# ---------------------------------------------------------------- caching and resuming


def test_a_second_render_reuses_every_cached_step(first: dict, second: dict) -> None:
    assert second["cache"] == first["cache"]  # nothing rewritten, nothing added
    steps = [
        p for p in second["cache"] if p.parent.name in ("script", "voice", "captions", "render")
    ]
    assert [p for p in steps if p.stat().st_mtime < second["started"]] == []  # marked used
    assert second["output"].render_hash == first["output"].render_hash
    assert second["output"].video_path.read_bytes() == first["output"].video_path.read_bytes()
    assert "Reusing the finished render" in second["recorder"].messages()


def test_the_writer_and_the_renderer_are_not_asked_again(first: dict, second: dict) -> None:
    assert first["counts"] == (1, 1)  # the creator's text goes through the writer too
    assert second["counts"] == (1, 1)


def test_each_step_has_its_cache_folder(rendered: dict) -> None:
    root = rendered["cache_root"]
    steps = {p.relative_to(root).parts[0] for p in rendered["first"]["cache"]}
    assert {"script", "voice", "captions", "render"} <= steps


def test_an_edited_script_skips_the_writer(services: Services, tmp_path: Path) -> None:
    edited = {"hook": "Cats purr to heal.", "lines": [{"text": "Really.", "keywords": []}],
              "title": "Purr", "description": "", "hashtags": []}  # fmt: skip
    recorder = Recorder(cancel_at="backgrounds")
    with pytest.raises(CancelledError):
        _run(_spec(script=edited), services, tmp_path, recorder)
    assert services.script_writer.calls == 0
    assert "Cats purr to heal." in (tmp_path / "captions.srt").read_text(encoding="utf-8")


def test_cancelling_stops_before_rendering(services: Services, tmp_path: Path) -> None:
    recorder = Recorder(cancel_at="script")
    with pytest.raises(CancelledError):
        _run(_spec(topic="octopus hearts"), services, tmp_path, recorder)
    assert recorder.steps() == ["script"]
    assert services.renderer.renders == 0
    assert not (tmp_path / "video.mp4").exists()


def test_an_unknown_voice_is_a_validation_error(services: Services, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="voice"):
        _run(_spec(voice="robot:zork"), services, tmp_path, Recorder())


def test_a_narration_longer_than_the_plan_fails_after_voicing(
    services: Services, tmp_path: Path
) -> None:
    recorder = Recorder()
    with pytest.raises(RenderError) as caught:
        _run(_spec(custom_script=CUSTOM, max_seconds=5), services, tmp_path, recorder)
    assert caught.value.code == "narration_too_long"
    assert caught.value.params["max_seconds"] == 5
    assert caught.value.params["seconds"] > 6  # Piper says CUSTOM in about 8 s
    assert "longer than the 5 s your plan allows" in str(caught.value)
    assert recorder.steps() == ["script", "voice"]
    assert services.renderer.renders == 0


# ---------------------------------------------------------------- backgrounds and music


def test_bundled_tracks_are_listed_and_exist() -> None:
    assert [key for key, _ in bundled_tracks()] == list(BUNDLED_TRACKS)
    for path in BUNDLED_TRACKS.values():
        seconds = float(ffprobe_streams(path)["format"]["duration"])
        assert 30 <= seconds <= 90
        assert path.stat().st_size < 1_500_000
    assert resolve_music("none") is None
    with pytest.raises(ValidationError):
        resolve_music("bundled:polka")


def test_stock_without_a_key_falls_back_to_generated(rendered: dict) -> None:
    stock, first = rendered["stock"], rendered["first"]
    assert "not configured" in stock["recorder"].messages()
    assert stock["output"].render_hash == first["output"].render_hash  # the same generated video


@pytest.fixture()
def pexels(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakePexels]:
    clips = make_portrait_clips(tmp_path_factory.mktemp("stock"), count=2)
    videos = [FakeVideo(1, {"cats", "purr"}, clips[0], 5), FakeVideo(2, {"heal"}, clips[1], 5)]
    with FakePexels(videos) as server:
        yield server


SHORT = "Cats purr to heal. Purring helps bones heal."


def test_stock_footage_renders_a_short(pexels: FakePexels, tmp_path: Path) -> None:
    settings = Settings(
        media_root=tmp_path / "media", pexels_api_key=API_KEY, pexels_api_base=pexels.base_url
    )
    spec = _spec(custom_script=SHORT, background_source="stock", music_path=None)
    output = _run(spec, _services(settings), tmp_path / "work", Recorder())
    assert_shorts_format(output.video_path)
    assert sorted(set(pexels.downloads())) == ["/files/clip0.mp4", "/files/clip1.mp4"]
    assert len(pexels.downloads()) == 2


def test_uploads_render_and_unreadable_ones_are_skipped(tmp_path: Path) -> None:
    image, notes = tmp_path / "photo.png", tmp_path / "notes.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=s=640x480",
                    "-frames:v", "1", str(image)], check=True)  # fmt: skip
    notes.write_text("not a video")
    recorder = Recorder()
    settings = Settings(media_root=tmp_path / "media")
    spec = _spec(custom_script=SHORT, background_source="uploads", user_media=[image, notes])
    output = _run(spec, _services(settings), tmp_path / "work", recorder)
    assert_shorts_format(output.video_path)
    assert "Skipping notes.mp4" in recorder.messages()


# ---------------------------------------------------------------- the headless command


def test_headless_render_writes_video_captions_and_thumbnail(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out" / "short.mp4"
    settings = get_settings().model_copy(update={"media_root": tmp_path / "media"})
    services = build_services(offline_settings(settings, stock=False))
    code = render_to_file(
        services, topic="paper planes", duration=5, out=str(out), voice="piper:joe",
        caption_style="bold", background="generated", seed=2,
    )  # fmt: skip
    assert code == 0
    assert_shorts_format(out)
    assert out.with_suffix(".srt").read_text(encoding="utf-8").startswith("1\n")
    assert out.with_suffix(".jpg").read_bytes()[:3] == b"\xff\xd8\xff"
    printed = capsys.readouterr().out
    assert all(f"] {step}" in printed for step in STEPS)
    assert f"wrote {out}" in printed


def test_headless_background_choices(tmp_path: Path) -> None:
    (tmp_path / "a.mp4").write_bytes(b"x")
    (tmp_path / "b.JPG").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("x")
    assert background_choice("generated") == ("generated", [])
    assert background_choice(str(tmp_path)) == ("uploads", [tmp_path / "a.mp4", tmp_path / "b.JPG"])
    with pytest.raises(ValidationError, match="bg"):
        background_choice(str(tmp_path / "missing"))
    settings = offline_settings(Settings(openai_api_key="k", pexels_api_key="p"), stock=False)
    assert (settings.openai_enabled, settings.pexels_enabled) == (False, False)
