"""The media library with the real ffprobe prober and local storage on PostgreSQL."""

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from tests.factories import new_user
from tests.image_samples import bomb_png
from viralshorts.domain import media_library
from viralshorts.domain.workspaces import Actor, personal_actor
from viralshorts.errors import IntegrationError, NotFoundError, ValidationError
from viralshorts.integrations.services import build_services
from viralshorts.models import MediaKind
from viralshorts.settings import get_settings

FFMPEG = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y"]


def _ffmpeg(*args: str) -> None:
    subprocess.run([*FFMPEG, *args], check=True, timeout=60)


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("samples")
    clip, still, song = root / "clip.mp4", root / "still.png", root / "song.m4a"
    _ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=64x64:rate=10:duration=1",
        "-pix_fmt",
        "yuv420p",
        str(clip),
    )
    _ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64", "-frames:v", "1", str(still))
    _ffmpeg("-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac", str(song))
    fast = root / "fast.mp4"
    _ffmpeg("-i", str(clip), "-c", "copy", "-movflags", "+faststart", str(fast))
    text = root / "holiday.mp4"
    text.write_text("this is not a video at all, just some notes\n" * 20)
    cut = root / "cut.mp4"
    cut.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    cut_fast = root / "cut_fast.mp4"
    cut_fast.write_bytes(fast.read_bytes()[: fast.stat().st_size - 200])
    return {
        "clip": clip,
        "still": still,
        "song": song,
        "text": text,
        "cut": cut,
        "cut_fast": cut_fast,
    }


@pytest.fixture()
def services(use_database):
    return build_services(get_settings())


def _user(session, email="media@example.com") -> Actor:
    return personal_actor(session, new_user(session, email).id)


def test_clip_image_and_music_are_recognised_by_content(session, services, samples):
    actor = _user(session)
    clip = media_library.add_media(
        session, services, actor=actor, filename="a.mov", path=samples["clip"]
    )
    still = media_library.add_media(
        session, services, actor=actor, filename="b.mp4", path=samples["still"]
    )
    song = media_library.add_media(
        session, services, actor=actor, filename="c.jpg", path=samples["song"]
    )
    assert [a.kind for a in (clip, still, song)] == [
        MediaKind.CLIP,
        MediaKind.IMAGE,
        MediaKind.MUSIC,
    ]
    assert clip.storage_key == f"media/w{actor.workspace_id}/{clip.sha256}.mp4"
    assert still.storage_key.endswith(".png") and song.storage_key.endswith(".m4a")
    assert (clip.width, clip.height) == (64, 64)
    assert services.storage.exists(clip.storage_key)
    assert [a.id for a in media_library.list_media(session, actor=actor, kind=MediaKind.CLIP)] == [
        clip.id
    ]


def test_the_same_file_twice_is_stored_once(session, services, samples):
    actor = _user(session)
    first = media_library.add_media(
        session, services, actor=actor, filename="a.mp4", path=samples["clip"]
    )
    second = media_library.add_media(
        session, services, actor=actor, filename="b.mp4", path=samples["clip"]
    )
    assert first.id == second.id
    assert len(media_library.list_media(session, actor=actor)) == 1


def test_a_renamed_text_file_is_refused(session, services, samples):
    actor = _user(session)
    with pytest.raises(ValidationError) as caught:
        media_library.add_media(
            session, services, actor=actor, filename="holiday.mp4", path=samples["text"]
        )
    assert caught.value.field_errors["file"] == media_library.NOT_MEDIA


@pytest.mark.parametrize("sample", ["cut", "cut_fast"])
def test_a_truncated_mp4_is_called_damaged(session, services, samples, sample):
    actor = _user(session)
    with pytest.raises(ValidationError) as caught:
        media_library.add_media(
            session, services, actor=actor, filename="x.mp4", path=samples[sample]
        )
    assert "damaged or incomplete" in caught.value.field_errors["file"]


def test_size_limit_names_the_limit_in_mb(session, samples):
    small = build_services(get_settings().model_copy(update={"max_upload_bytes": 1024 * 1024}))
    big = samples["clip"].parent / "big.mp4"
    big.write_bytes(b"\0" * (1024 * 1024 + 1))
    with pytest.raises(ValidationError, match="larger than the 1 MB limit"):
        media_library.add_media(session, small, actor=_user(session), filename="big.mp4", path=big)


def test_delete_is_limited_to_the_owner(session, services, samples):
    owner = _user(session)
    other = _user(session, "other@example.com")
    asset = media_library.add_media(
        session, services, actor=owner, filename="a.mp4", path=samples["clip"]
    )
    with pytest.raises(NotFoundError):
        media_library.delete_media(session, services, actor=other, asset_id=asset.id)
    media_library.delete_media(session, services, actor=owner, asset_id=asset.id)
    assert media_library.list_media(session, actor=owner) == []
    assert not services.storage.exists(asset.storage_key)


def test_max_upload_mb_follows_the_settings():
    assert get_settings().max_upload_bytes // (1024 * 1024) == media_library.MAX_UPLOAD_MB


class _RecordingProber:
    """The real prober, remembering which files reached it."""

    def __init__(self, inner) -> None:
        self.inner, self.seen = inner, []

    def probe(self, path: Path):
        self.seen.append(path.name)
        return self.inner.probe(path)


@pytest.mark.parametrize("side", [16000, 20000])
def test_an_image_bomb_is_refused_before_anything_decodes_it(session, services, tmp_path, side):
    bomb = bomb_png(tmp_path / "bomb.png", side, side)
    prober = _RecordingProber(services.prober)
    with pytest.raises(ValidationError) as caught:
        media_library.add_media(
            session,
            replace(services, prober=prober),
            actor=_user(session),
            filename="poster.png",
            path=bomb,
        )
    assert caught.value.field_errors["file"] == (
        f"Images can be at most 8000x8000 pixels (48 megapixels); this one is {side}x{side}. "
        "Make it smaller and upload it again."
    )
    assert caught.value.field_codes["file"] == "image_too_large"
    assert caught.value.params == {"width": side, "height": side, "max_side": 8000}
    assert prober.seen == []
    assert media_library.list_media(session, actor=_user(session, "b@example.com")) == []


def test_a_picture_ffprobe_cannot_size_is_refused(session, services, samples):
    class SizelessProber:
        def probe(self, path: Path):
            return replace(services.prober.probe(path), width=0, height=0)

    with pytest.raises(ValidationError) as caught:
        media_library.add_media(
            session,
            replace(services, prober=SizelessProber()),
            actor=_user(session),
            filename="clip.mp4",
            path=samples["clip"],
        )
    assert caught.value.field_codes["file"] == "damaged"


def test_a_large_but_allowed_image_is_accepted(session, services, tmp_path):
    image = bomb_png(tmp_path / "wide.png", 8000, 6000)
    asset = media_library.add_media(
        session, services, actor=_user(session), filename="wide.png", path=image
    )
    assert (asset.kind, asset.width, asset.height) == (MediaKind.IMAGE, 8000, 6000)


_MEASURE = """
import json, resource, sys
from pathlib import Path
from types import SimpleNamespace
from viralshorts.domain import media_library
from viralshorts.domain.workspaces import Actor
from viralshorts.models import WorkspaceRole
from viralshorts.integrations.ffmpeg_tools import FfmpegProber
from viralshorts.settings import get_settings
from tests.factories import new_user

settings = get_settings()
services = SimpleNamespace(settings=settings, prober=FfmpegProber(settings), storage=None)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    actor = Actor(user_id=1, workspace_id=1, role=WorkspaceRole.OWNER)
    media_library.add_media(None, services, actor=actor, filename="b.png", path=Path(sys.argv[1]))
    outcome = "accepted"
except Exception as exc:
    outcome = getattr(exc, "field_codes", {}).get("file", repr(exc))
print(json.dumps({
    "outcome": outcome,
    "self_growth_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before,
    "children_peak_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
}))
"""


def test_checking_a_bomb_costs_no_memory(tmp_path):
    """Measured in a fresh process: its own peak and its children's (ffprobe) peak."""
    bomb = bomb_png(tmp_path / "bomb.png", 16000, 16000)
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(bomb)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    print("bomb check:", measured)  # before the fix: ffprobe peaked at about 800 MB
    assert measured["outcome"] == "image_too_large"
    assert measured["children_peak_kb"] < 100 * 1024
    assert measured["self_growth_kb"] < 50 * 1024


@pytest.mark.parametrize(
    ("width", "height", "usable"),
    [
        (1080, 1920, True),
        (8000, 6000, True),
        (8000, 6001, False),
        (8001, 10, False),
        (16000, 16000, False),
        (0, 0, False),
        (None, None, False),
        (-5, 10, False),
    ],
)
def test_picture_limits(width, height, usable):
    assert media_library.within_picture_limits(width, height) is usable


def _wide_clip(folder: Path) -> Path:
    """Two seconds of a 320x180 clip: black for the first half second, then colour bars."""
    clip = folder / "wide.mp4"
    _ffmpeg(
        "-f", "lavfi", "-i", "color=c=black:size=320x180:rate=10:duration=0.5",
        "-f", "lavfi", "-i", "smptebars=size=320x180:rate=10:duration=1.5",
        "-filter_complex", "[0:v][1:v]concat=n=2:v=1[v]", "-map", "[v]",
        "-pix_fmt", "yuv420p", str(clip),
    )  # fmt: skip
    return clip


def _jpeg_size_and_brightness(path: Path) -> tuple[tuple[int, int], float]:
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=width,height", "-of", "json",
         str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    stream = json.loads(probe)["streams"][0]
    gray = subprocess.run(
        [*FFMPEG, "-i", str(path), "-vf", "scale=8:8,format=gray", "-f", "rawvideo", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return (stream["width"], stream["height"]), sum(gray) / len(gray)


def test_a_clip_gets_a_preview_frame_past_its_fade_and_images_need_none(
    session, services, samples, tmp_path
):
    actor = _user(session)
    clip = media_library.add_media(
        session, services, actor=actor, filename="wide.mp4", path=_wide_clip(tmp_path)
    )
    assert clip.preview_key.endswith(".preview.jpg")
    frame = services.storage.download_to(clip.preview_key, tmp_path / "frame.jpg")
    assert frame.read_bytes()[:3] == b"\xff\xd8\xff"
    size, brightness = _jpeg_size_and_brightness(frame)
    assert size == (480, 270)  # the clip's own 16:9, not stretched to a portrait frame
    assert brightness > 60  # taken after the black opening
    still = media_library.add_media(
        session, services, actor=actor, filename="b.png", path=samples["still"]
    )
    song = media_library.add_media(
        session, services, actor=actor, filename="c.m4a", path=samples["song"]
    )
    assert (still.preview_key, song.preview_key) == ("", "")
    media_library.delete_media(session, services, actor=actor, asset_id=clip.id)
    assert not services.storage.exists(clip.preview_key)


class _BrokenPreviews:
    def preview_frame(self, source: Path, *, at_seconds: float, out_path: Path) -> None:
        raise IntegrationError("no frame")


def test_a_clip_whose_frame_cannot_be_taken_is_still_added(session, services, samples):
    broken = replace(services, previews=_BrokenPreviews())
    clip = media_library.add_media(
        session, broken, actor=_user(session), filename="a.mp4", path=samples["clip"]
    )
    assert clip.kind == MediaKind.CLIP and clip.preview_key == ""
