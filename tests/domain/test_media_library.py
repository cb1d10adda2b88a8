"""The media library with the real ffprobe prober and local storage on PostgreSQL."""

import subprocess
from pathlib import Path

import pytest

from viralshorts.domain import media_library
from viralshorts.errors import NotFoundError, ValidationError
from viralshorts.integrations.services import build_services
from viralshorts.models import MediaKind, User
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


def _user(session, email="media@example.com") -> int:
    user = User(email=email)
    session.add(user)
    session.commit()
    return user.id


def test_clip_image_and_music_are_recognised_by_content(session, services, samples):
    user_id = _user(session)
    clip = media_library.add_media(
        session, services, user_id=user_id, filename="a.mov", path=samples["clip"]
    )
    still = media_library.add_media(
        session, services, user_id=user_id, filename="b.mp4", path=samples["still"]
    )
    song = media_library.add_media(
        session, services, user_id=user_id, filename="c.jpg", path=samples["song"]
    )
    assert [a.kind for a in (clip, still, song)] == [
        MediaKind.CLIP,
        MediaKind.IMAGE,
        MediaKind.MUSIC,
    ]
    assert clip.storage_key == f"media/{user_id}/{clip.sha256}.mp4"
    assert still.storage_key.endswith(".png") and song.storage_key.endswith(".m4a")
    assert (clip.width, clip.height) == (64, 64)
    assert services.storage.exists(clip.storage_key)
    assert [
        a.id for a in media_library.list_media(session, user_id=user_id, kind=MediaKind.CLIP)
    ] == [clip.id]


def test_the_same_file_twice_is_stored_once(session, services, samples):
    user_id = _user(session)
    first = media_library.add_media(
        session, services, user_id=user_id, filename="a.mp4", path=samples["clip"]
    )
    second = media_library.add_media(
        session, services, user_id=user_id, filename="b.mp4", path=samples["clip"]
    )
    assert first.id == second.id
    assert len(media_library.list_media(session, user_id=user_id)) == 1


def test_a_renamed_text_file_is_refused(session, services, samples):
    user_id = _user(session)
    with pytest.raises(ValidationError) as caught:
        media_library.add_media(
            session, services, user_id=user_id, filename="holiday.mp4", path=samples["text"]
        )
    assert caught.value.field_errors["file"] == media_library.NOT_MEDIA


@pytest.mark.parametrize("sample", ["cut", "cut_fast"])
def test_a_truncated_mp4_is_called_damaged(session, services, samples, sample):
    user_id = _user(session)
    with pytest.raises(ValidationError) as caught:
        media_library.add_media(
            session, services, user_id=user_id, filename="x.mp4", path=samples[sample]
        )
    assert "damaged or incomplete" in caught.value.field_errors["file"]


def test_size_limit_names_the_limit_in_mb(session, samples):
    small = build_services(get_settings().model_copy(update={"max_upload_bytes": 1024 * 1024}))
    big = samples["clip"].parent / "big.mp4"
    big.write_bytes(b"\0" * (1024 * 1024 + 1))
    with pytest.raises(ValidationError, match="larger than the 1 MB limit"):
        media_library.add_media(
            session, small, user_id=_user(session), filename="big.mp4", path=big
        )


def test_delete_is_limited_to_the_owner(session, services, samples):
    owner = _user(session)
    other = _user(session, "other@example.com")
    asset = media_library.add_media(
        session, services, user_id=owner, filename="a.mp4", path=samples["clip"]
    )
    with pytest.raises(NotFoundError):
        media_library.delete_media(session, services, user_id=other, asset_id=asset.id)
    media_library.delete_media(session, services, user_id=owner, asset_id=asset.id)
    assert media_library.list_media(session, user_id=owner) == []
    assert not services.storage.exists(asset.storage_key)


def test_max_upload_mb_follows_the_settings():
    assert get_settings().max_upload_bytes // (1024 * 1024) == media_library.MAX_UPLOAD_MB
