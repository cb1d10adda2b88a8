"""Scenes in rendered videos, checked on decoded frames: illustrations, cards, captions, thumbnails.

Real ffmpeg and ffprobe. The pictures are made by ``tests/illustration_samples.py`` (discs of
the test pattern in different hues), so a frame can be compared with the picture it should show.
"""

from __future__ import annotations

import dataclasses
import itertools
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.illustration_samples import SamplePicker, make_pictures
from tests.integrations.test_render import assert_shorts_format, ffprobe_streams
from viralshorts.domain.rendering import captions, cards, scenes
from viralshorts.domain.rendering.looks import LOOKS
from viralshorts.domain.rendering.pipeline import RenderSpec, render, resolve_music
from viralshorts.errors import IntegrationError
from viralshorts.integrations.ffmpeg_tools import FfmpegRenderer
from viralshorts.integrations.ports import (
    Overlay,
    RenderPlan,
    Script,
    ScriptLine,
    Segment,
    Services,
    ThumbnailLayout,
    WordTiming,
    thumbnail_of,
    wide_thumbnail_of,
)
from viralshorts.integrations.services import build_services
from viralshorts.settings import Settings

SCRIPT = Script(
    hook="Octopuses have three hearts.",
    lines=[
        ScriptLine("Two of them pump blood to the gills.", ["gills"]),
        ScriptLine("The third one feeds the rest of the body.", ["body"]),
        ScriptLine("Three hearts, one blue blood.", ["three"]),
        ScriptLine("Their blood carries copper instead of iron.", ["copper"]),
    ],
    title="Why octopuses have three hearts",
    description="Octopus facts.",
    hashtags=["#octopus"],
)
CARD_LINE = 2  # script line 2 gets a typographic card instead of a picture
CREDIT = "Illustrations: sample pictures (test)"
BLACK = "color=c=black:s=108x192:r=5"


class RecordingRenderer:
    """The real renderer; remembers the plan it was given."""

    def __init__(self, inner: object) -> None:
        self.inner, self.plan = inner, None

    def render(self, plan: RenderPlan, **kwargs: object) -> None:
        self.plan = plan
        self.inner.render(plan, **kwargs)

    def thumbnail(self, video_path: Path, **kwargs: object) -> None:
        self.inner.thumbnail(video_path, **kwargs)


# ---------------------------------------------------------------- frames


def frame(path: Path, at: float, size: tuple[int, int] = (1080, 1920)) -> np.ndarray:
    """The picture of ``path`` at ``at`` seconds as RGB (a still image: ``at`` = 0)."""
    seek = ["-ss", f"{at:.3f}"] if at else []  # a JPEG has no time to seek in
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", *seek, "-i", str(path), "-frames:v", "1",
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    width, height = size
    return np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3).astype(np.int16)


def on_screen(picture: Path, box: int) -> tuple[np.ndarray, np.ndarray]:
    """``picture`` scaled into a ``box`` square as the renderer does: RGB and a mask of its
    solid pixels away from the edge of the disc."""
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(picture), "-vf",
         f"scale={box}:{box}:force_original_aspect_ratio=decrease", "-f", "rawvideo",
         "-pix_fmt", "rgba", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    rgba = np.frombuffer(raw, dtype=np.uint8).reshape(box, box, 4).astype(np.int16)
    solid = rgba[..., 3] == 255
    inner = solid.copy()
    for shift in (6, -6):  # keep only pixels whose neighbours 6 px away are solid too
        inner &= np.roll(solid, shift, axis=0) & np.roll(solid, shift, axis=1)
    return rgba[..., :3], inner


def difference_at(image: np.ndarray, picture: Path, centre: tuple[int, int], box: int) -> float:
    """Mean absolute difference between ``picture`` and ``image`` where the picture sits,
    allowing a pixel or two of rounding in its position."""
    rgb, mask = on_screen(picture, box)
    cx, cy = centre
    best = float("inf")
    for dx in (-2, -1, 0, 1, 2):
        for dy in (-2, -1, 0, 1, 2):
            top, left = cy - box // 2 + dy, cx - box // 2 + dx
            region = image[top : top + box, left : left + box]
            best = min(best, float(np.abs(region - rgb)[mask].mean()))
    return best


def seconds(event: str) -> float:
    """When an ASS Dialogue line starts."""
    clock = event.split(",")[1].split(":")
    return round(sum(float(part) * 60**i for i, part in enumerate(reversed(clock))), 2)


def near(image: np.ndarray, colour: str, tolerance: int = 40) -> np.ndarray:
    """Where ``image`` has about the colour ``0xRRGGBB``."""
    rgb = np.array([int(colour[2 + 2 * i : 4 + 2 * i], 16) for i in range(3)])
    return np.abs(image - rgb).max(axis=-1) <= tolerance


# ---------------------------------------------------------------- one pipeline render


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return make_pictures(tmp_path_factory.mktemp("pictures"), 4)


def _services(tmp: Path) -> Services:
    services = build_services(Settings(media_root=tmp / "media", openai_api_key=""))
    return dataclasses.replace(services, renderer=RecordingRenderer(services.renderer))


def _render(tmp: Path, picker: SamplePicker, **changes: object) -> dict:
    spec = RenderSpec(
        topic="octopus hearts", niche="nature", tone="curious", language="en",
        target_seconds=15, seed=3, script=SCRIPT.to_dict(), look="neon",
        music_path=resolve_music("bundled:chill"),
    )  # fmt: skip
    services = _services(tmp)
    output = render(
        dataclasses.replace(spec, **changes), services, work_dir=tmp / "work",
        on_progress=lambda *_: None, is_cancelled=lambda: False, illustrator=picker,
    )  # fmt: skip
    return {"output": output, "plan": services.renderer.plan, "picker": picker}


@pytest.fixture(scope="module")
def video(pictures: list[Path], tmp_path_factory: pytest.TempPathFactory) -> dict:
    picker = SamplePicker(pictures, cards={CARD_LINE: "3"}, attribution=CREDIT)
    return _render(tmp_path_factory.mktemp("scenes"), picker)


def _line_overlays(video: dict) -> dict[Path, Overlay]:
    return {overlay.source: overlay for overlay in video["plan"].overlays}


def test_each_illustration_shows_during_its_line_and_not_outside_it(
    video: dict, pictures: list[Path]
) -> None:
    overlays = _line_overlays(video)
    shown = [p for p in pictures if p in overlays]
    assert len(shown) == 3  # lines 0, 1 and 3; line 2 is a card
    path = video["output"].video_path
    for picture in shown:
        overlay = overlays[picture]
        centre = (overlay.centre_x, overlay.centre_y)
        during = frame(path, min(overlay.start + 0.8, overlay.end - 0.2))
        own = difference_at(during, picture, centre, overlay.size)
        others = [difference_at(during, p, centre, overlay.size) for p in shown if p != picture]
        assert own < 16 < min(others), (picture.name, own, others)
        for at in (overlay.start - 0.3, overlay.end + 0.3):
            if 0 < at < video["plan"].duration - 0.1:
                outside = difference_at(frame(path, at), picture, centre, overlay.size)
                assert outside > 3 * own + 10, (picture.name, at, own, outside)


def test_no_illustration_is_shown_twice(video: dict) -> None:
    sources = [overlay.source for overlay in video["plan"].overlays]
    assert len(sources) == len(set(sources))
    spans = sorted((o.start, o.end) for o in video["plan"].overlays)
    assert all(a[1] <= b[0] + 1e-6 for a, b in itertools.pairwise(spans))


def test_the_hook_card_is_on_screen_in_the_first_second(video: dict) -> None:
    plan, look = video["plan"], LOOKS["neon"]
    early = frame(video["output"].video_path, 0.8)
    x, y = scenes.VISUAL_CENTRE
    box = early[y - 200 : y + 200, x - 430 : x + 430]
    # the card: mostly its own dark colour, with the hook's white capitals on it
    assert near(box, look.card, 45).mean() > 0.4
    assert (box.min(axis=-1) > 225).mean() > 0.04
    first_picture = min(plan.overlays, key=lambda o: o.start)
    later = frame(video["output"].video_path, first_picture.start + 0.8)
    assert near(later[y - 200 : y + 200, x - 430 : x + 430], look.card, 45).mean() < 0.2


def test_a_line_with_no_match_shows_its_card_and_no_picture(
    video: dict, pictures: list[Path]
) -> None:
    card = next(card for card in video["plan"].cards if card.start > 0)  # not the hook's
    image = frame(video["output"].video_path, card.start + 0.8)
    x, y = scenes.VISUAL_CENTRE
    region = image[y - 250 : y + 250, x - 340 : x + 340]
    assert near(region, LOOKS["neon"].accent, 50).mean() > 0.05  # the big "3"
    assert near(region, LOOKS["neon"].card, 45).mean() > 0.3
    for picture in pictures:
        assert difference_at(image, picture, scenes.VISUAL_CENTRE, scenes.ILLUSTRATION_BOX) > 30


def test_scene_cuts_fall_where_sentences_start(video: dict) -> None:
    plan = video["plan"]
    ass = plan.subtitles_path.read_text(encoding="utf-8")
    word_starts = {seconds(line) for line in ass.splitlines() if ",Caption," in line}
    for segment in plan.segments[1:]:
        assert any(abs(segment.start - t) <= 0.011 for t in word_starts), segment.start
    assert len(plan.segments) >= 5  # hook + four lines


def test_the_description_credits_the_illustrations(video: dict) -> None:
    assert video["output"].script.description == f"Octopus facts.\n\n{CREDIT}"


def test_thumbnails_are_tall_and_wide_jpegs(video: dict) -> None:
    output = video["output"]
    for path, size in ((output.thumbnail_path, (1080, 1920)),
                       (output.wide_thumbnail_path, (1280, 720))):  # fmt: skip
        stream = ffprobe_streams(path)["video"]
        assert (stream["codec_name"], stream["width"], stream["height"]) == ("mjpeg", *size)


# ---------------------------------------------------------------- renderer-level checks


@pytest.fixture(scope="module")
def narration(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("narration") / "silence.wav"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono",
         "-t", "3", str(path)],
        check=True,
    )  # fmt: skip
    return path


def _plan(out: Path, narration: Path, **changes: object) -> RenderPlan:
    plan = RenderPlan(
        segments=[Segment(0.0, 3.0, "generated", lavfi=BLACK)], narration_path=narration,
        out_path=out, duration=3.0, fonts_dir=captions.FONTS_DIR,
    )  # fmt: skip
    return dataclasses.replace(plan, **changes)


def _rendered(plan: RenderPlan) -> RenderPlan:
    FfmpegRenderer(Settings()).render(plan, on_progress=lambda _: None, is_cancelled=lambda: False)
    return plan


@pytest.mark.parametrize("entrance", scenes.ENTRANCES)
def test_every_entrance_ends_with_the_picture_in_its_place(
    entrance: str, pictures: list[Path], narration: Path, tmp_path: Path
) -> None:
    overlay = Overlay(pictures[1], 0.5, 2.6, 640, 540, 700, entrance=entrance, side=-1)
    plan = _rendered(_plan(tmp_path / "v.mp4", narration, overlays=[overlay]))
    path = plan.out_path
    settled = difference_at(frame(path, 1.5), pictures[1], (540, 700), 640)
    entering = difference_at(frame(path, 0.5 + 1 / 30), pictures[1], (540, 700), 640)
    before, after = (
        difference_at(frame(path, t), pictures[1], (540, 700), 640) for t in (0.3, 2.8)
    )
    assert settled < 16 < entering
    assert min(before, after) > 40


def rgba_of(picture: Path) -> np.ndarray:
    """A PNG's pixels as RGBA."""
    probe = ffprobe_streams(picture)["video"]
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(picture), "-f", "rawvideo", "-pix_fmt", "rgba", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    shape = (probe["height"], probe["width"], 4)
    return np.frombuffer(raw, dtype=np.uint8).reshape(shape).astype(np.int16)


def test_a_card_is_drawn_once_with_its_own_transparency_and_laid_over(
    narration: Path, tmp_path: Path
) -> None:
    look = LOOKS["ocean"]
    text, found = cards.cards_ass([scenes.LineVisual(1, 0.5, 2.6, "card", "42")], "pop", look)
    ass = tmp_path / "cards.ass"
    ass.write_text(text, encoding="utf-8")
    plan = _plan(tmp_path / "v.mp4", narration, cards=found, cards_ass=ass)
    picture = tmp_path / "card0.png"
    laid = FfmpegRenderer(Settings()).with_card_pictures(plan, [picture])
    assert laid.cards == [] and [o.source for o in laid.overlays] == [picture]
    rgba = rgba_of(picture)
    assert rgba.shape == (found[0].height, found[0].width, 4)
    card = np.array([int(look.card[2 + 2 * i : 4 + 2 * i], 16) for i in range(3)])
    # the box: the look's card colour, as transparent as its style says (0x30 of 0xff)
    assert abs(rgba[100, 100, 3] - (255 - 0x30)) <= 2
    assert np.abs(rgba[100, 100, :3] - card).max() <= 3
    assert rgba[0, 0, 3] == 0  # outside the rounded corner
    accent = near(rgba[..., :3], look.accent, 8) & (rgba[..., 3] == 255)
    assert accent.mean() > 0.05  # the opaque "42"
    _rendered(dataclasses.replace(plan, out_path=tmp_path / "w.mp4"))
    on_black = frame(tmp_path / "w.mp4", 1.5)
    x, y = scenes.VISUAL_CENTRE
    inside = on_black[y - 200 - 30 : y - 200 + 30, x - 380 : x - 320]  # box, away from the text
    assert np.abs(inside - card * (255 - 0x30) / 255).max() <= 8
    assert on_black[y - 330, x].max() < 8  # above the box: the black background
    assert frame(tmp_path / "w.mp4", 0.3).max() < 8  # before its scene: nothing


def _killing_ffmpeg(folder: Path, when_args_contain: str) -> Path:
    """An ffmpeg that dies by SIGKILL, alone, when its arguments contain the text: what the
    OOM killer does to one of the render's short ffmpeg steps."""
    wrapper = folder / "ffmpeg"
    wrapper.write_text(
        f'#!/bin/bash\ncase "$*" in *{when_args_contain}*) kill -9 $$ ;; esac\nexec ffmpeg "$@"\n',
        encoding="utf-8",
    )
    wrapper.chmod(0o755)
    return wrapper


@pytest.mark.parametrize(
    "step", ["cards.ass", "killed-tall.ass", "-nostdin"], ids=["cards", "thumbnails", "soundtrack"]
)
def test_a_short_ffmpeg_step_killed_alone_is_worth_another_try_and_leaves_nothing(
    step: str, pictures: list[Path], narration: Path, tmp_path: Path
) -> None:
    look = LOOKS["ocean"]
    text, found = cards.cards_ass([scenes.LineVisual(0, 0.0, 1.4, "card", "42")], "pop", look)
    (tmp_path / "cards.ass").write_text(text, encoding="utf-8")
    tall, wide = tmp_path / "killed-tall.ass", tmp_path / "killed-wide.ass"
    tall.write_text(cards.title_ass("Title", look, wide=False, with_picture=True), "utf-8")
    wide.write_text(cards.title_ass("Title", look, wide=True, with_picture=True), "utf-8")
    plan = _plan(
        tmp_path / "out" / "v.mp4", narration, cards=found, cards_ass=tmp_path / "cards.ass",
        overlays=[Overlay(pictures[0], 1.5, 2.9, 640, 540, 700)],
        thumbnails=ThumbnailLayout(1.5, tall, wide, pictures[0]),
    )  # fmt: skip
    renderer = FfmpegRenderer(Settings(ffmpeg_binary=str(_killing_ffmpeg(tmp_path, step))))
    with pytest.raises(IntegrationError, match="stopped by signal 9") as caught:
        renderer.render(plan, on_progress=lambda _: None, is_cancelled=lambda: False)
    assert caught.value.retryable and caught.value.code == "ffmpeg_killed"
    assert list((tmp_path / "out").iterdir()) == []  # no partial video, picture or samples
    FfmpegRenderer(Settings()).render(plan, on_progress=lambda _: None, is_cancelled=lambda: False)
    assert_shorts_format(plan.out_path)  # the next attempt renders it


@pytest.mark.parametrize("style", ["bold", "huge", "minimal"])
def test_caption_capitals_are_as_tall_as_the_style_says(
    style: str, narration: Path, tmp_path: Path
) -> None:
    words = [WordTiming("HE", 0.1, 1.0), WordTiming("HEH", 1.0, 2.9)]  # "HEH" is not active at 0.5
    ass = tmp_path / "c.ass"
    ass.write_text(captions.build_ass(words, style=style), encoding="utf-8")
    plan = _rendered(_plan(tmp_path / "v.mp4", narration, subtitles_path=ass))
    image = frame(plan.out_path, 0.5)
    white = image.min(axis=-1) > 200  # the words not spoken yet are white
    rows = np.flatnonzero(white.any(axis=1))
    height = rows.max() - rows.min() + 1
    expected = captions.CAPTION_STYLES[style].cap_height
    assert expected - 3 <= height <= expected * 1.25
    columns = np.flatnonzero(white.any(axis=0))
    assert columns.min() >= 1080 * captions.SAFE_LEFT_MARGIN - 5
    assert columns.max() <= 1080 * (1 - captions.SAFE_RIGHT_MARGIN) + 5
    assert rows.min() > 1920 * 0.5 and rows.max() < 1920 * 0.75  # above the platforms' UI


def test_accented_captions_render_every_glyph(narration: Path, tmp_path: Path) -> None:
    inked = {}
    for word in ("¿Sabías", "Sabias"):
        ass = tmp_path / "c.ass"
        ass.write_text(captions.build_ass([WordTiming(word, 0.1, 2.9)], style="bold"), "utf-8")
        plan = _rendered(_plan(tmp_path / "v.mp4", narration, subtitles_path=ass))
        ink = frame(plan.out_path, 0.5).max(axis=-1) > 150
        rows, columns = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
        inked[word] = (rows.min(), rows.max(), columns.max() - columns.min())
    accented, plain = inked["¿Sabías"], inked["Sabias"]
    assert accented[0] < plain[0] - 10  # the acute rises above the capitals
    assert accented[2] > plain[2] + 40  # the inverted question mark is drawn in front


def test_thumbnails_show_the_title_and_no_caption(
    pictures: list[Path], narration: Path, tmp_path: Path
) -> None:
    look = LOOKS["ocean"]
    words = [WordTiming("CAPTION", 0.2, 2.9)]
    ass = tmp_path / "c.ass"
    ass.write_text(captions.build_ass(words, style="bold"), encoding="utf-8")
    titles = {}
    for name, title in (("blank", " "), ("titled", "Why octopuses have three hearts")):
        tall, wide = tmp_path / f"{name}-tall.ass", tmp_path / f"{name}-wide.ass"
        tall.write_text(cards.title_ass(title, look, wide=False, with_picture=True), "utf-8")
        wide.write_text(cards.title_ass(title, look, wide=True, with_picture=True), "utf-8")
        layout = ThumbnailLayout(1.5, tall, wide, pictures[0])
        overlay = Overlay(pictures[0], 0.2, 2.9, 640, 540, 700)
        plan = _rendered(_plan(tmp_path / f"{name}.mp4", narration, subtitles_path=ass,
                               overlays=[overlay], thumbnails=layout))  # fmt: skip
        titles[name] = plan
    blank, titled = titles["blank"].out_path, titles["titled"].out_path
    in_video = frame(blank, 1.5)
    tall_blank = frame(thumbnail_of(blank), 0)
    band = slice(1060, 1250)  # where the caption is in the video
    assert np.abs(in_video[band] - tall_blank[band]).mean() > 5  # the video has the caption...
    assert (tall_blank[band].min(axis=-1) > 200).mean() < 0.002  # ...the thumbnail has not
    tall_titled = frame(thumbnail_of(titled), 0)
    changed = np.abs(tall_titled - tall_blank).max(axis=-1) > 60
    rows = np.flatnonzero(changed.mean(axis=1) > 0.05)
    assert rows.size > 150 and rows.min() > 1000  # large title below the picture
    assert difference_at(tall_titled, pictures[0], (540, 640), 760) < 16
    wide_blank = frame(wide_thumbnail_of(blank), 0, (1280, 720))
    wide_titled = frame(wide_thumbnail_of(titled), 0, (1280, 720))
    changed = np.abs(wide_titled - wide_blank).max(axis=-1) > 60
    assert changed[:, :700].mean() > 0.05 and changed[:, 760:].mean() < 0.01
    assert difference_at(wide_titled, pictures[0], (1280 - 70 - 270, 360), 540) < 20  # JPEG
    assert difference_at(wide_titled, pictures[1], (1280 - 70 - 270, 360), 540) > 40


# ---------------------------------------------------------------- user clips


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("clips")
    made = []
    for n, source in enumerate(("testsrc2", "mandelbrot")):
        path = folder / f"clip{n}.mp4"
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"{source}=s=1920x1080:r=30",
             "-t", "4", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
             str(path)],
            check=True,
        )  # fmt: skip
        made.append(path)
    return made


def test_user_clips_with_illustrations_make_a_verified_short(
    clips: list[Path], pictures: list[Path], tmp_path: Path
) -> None:
    result = _render(
        tmp_path, SamplePicker(pictures), background_source="uploads", user_media=clips
    )
    assert_shorts_format(result["output"].video_path)
    plan = result["plan"]
    assert {s.kind for s in plan.segments} == {"clip"}
    assert len(plan.overlays) == len(SCRIPT.lines)
    overlay = plan.overlays[1]
    shown = frame(result["output"].video_path, overlay.start + 0.8)
    assert difference_at(shown, overlay.source, (overlay.centre_x, overlay.centre_y), 640) < 16
