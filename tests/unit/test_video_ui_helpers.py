"""The pure helpers behind the video and media pages (no server, no browser)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from reflex_components_core.core._upload import UploadChunk

from viralshorts.domain import media_library
from viralshorts.domain import videos as video_domain
from viralshorts.errors import ValidationError
from viralshorts.integrations.redis_progress import parse_progress
from viralshorts.integrations.storage_local import LocalStorage
from viralshorts.models import MediaAsset, Video
from viralshorts.models.enums import MediaKind, RenderStep, VideoStatus
from viralshorts.settings import get_settings
from viralshorts.ui.media import (
    asset_row,
    format_duration,
    format_size,
    receive_upload,
    rejected_message,
)
from viralshorts.ui.progress import (
    STEPS,
    apply_update,
    merge_rows,
    step_index,
    video_row,
)
from viralshorts.ui.video_detail import script_from_text, split_hashtags, video_id_from_path
from viralshorts.ui.video_new import parse_request


def _video(**values: object) -> Video:
    base: dict[str, object] = {
        "id": 7,
        "user_id": 1,
        "campaign_id": 2,
        "topic": "Owls",
        "status": VideoStatus.RUNNING,
        "step": RenderStep.VOICE,
        "progress": 30,
        "status_message": "Voicing the script",
        "created_at": datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
    }
    return Video(**{**base, **values})


def test_step_index_counts_finished_steps() -> None:
    assert step_index(RenderStep.SCRIPT, VideoStatus.RUNNING) == 0
    assert step_index(RenderStep.RENDER, VideoStatus.RUNNING) == 4
    assert step_index(RenderStep.QUEUED, VideoStatus.QUEUED) == 0
    assert step_index(RenderStep.UPLOAD, VideoStatus.READY) == len(STEPS)
    assert step_index(RenderStep.DONE, VideoStatus.RUNNING) == len(STEPS)


def test_video_row_uses_topic_until_there_is_a_title() -> None:
    row = video_row(_video(), "Bird facts")
    assert (row["title"], row["campaign"], row["status_label"]) == ("Owls", "Bird facts", "Working")
    assert (row["step_index"], row["percent"], row["can_cancel"], row["can_retry"]) == (
        1,
        30,
        True,
        False,
    )
    assert video_row(_video(title="Owl heads"), "")["title"] == "Owl heads"


def test_video_row_of_a_failed_video_offers_retry_and_keeps_the_reason() -> None:
    row = video_row(_video(status=VideoStatus.FAILED, error="ffmpeg ran out of disk"), "")
    assert (row["can_cancel"], row["can_retry"], row["active"]) == (False, True, False)
    assert row["error"] == "ffmpeg ran out of disk"


def test_apply_update_moves_the_row_forward_and_leaves_the_original() -> None:
    row = video_row(_video(), "")
    update = {"video_id": 7, "status": "running", "step": "render", "percent": 140}
    moved = apply_update(row, {**update, "message": "Rendering"})
    assert (moved["step"], moved["step_index"], moved["percent"]) == ("render", 4, 100)
    assert moved["message"] == "Rendering"
    assert row["step"] == "voice"
    ready = apply_update(moved, {"video_id": 7, "status": "ready", "step": "done", "percent": 99})
    assert (ready["ready"], ready["percent"], ready["status_label"]) == (True, 100, "Ready")


def test_a_finished_row_ignores_progress_messages() -> None:
    ready = video_row(_video(status=VideoStatus.READY, step=RenderStep.DONE, progress=100), "")
    late = {"video_id": 7, "status": "running", "step": "render", "percent": 70}
    assert apply_update(ready, late) == ready


def test_merge_rows_keeps_live_progress_the_database_has_not_caught() -> None:
    shown = apply_update(video_row(_video(), ""), {"video_id": 7, "percent": 45})
    loaded = video_row(_video(progress=40), "")
    assert merge_rows([shown], [loaded])[0]["percent"] == 45
    next_step = video_row(_video(step=RenderStep.CAPTIONS, progress=20), "")
    assert merge_rows([shown], [next_step])[0]["percent"] == 20
    failed = video_row(_video(status=VideoStatus.FAILED, progress=0), "")
    assert merge_rows([shown], [failed])[0]["percent"] == 0
    assert merge_rows([], [loaded]) == [loaded]


def test_parse_progress_accepts_only_progress_messages() -> None:
    payload = {"video_id": 3, "status": "running", "step": "voice", "percent": 20, "message": ""}
    assert parse_progress(json.dumps(payload).encode()) == payload
    assert parse_progress(b"not json") is None
    assert parse_progress(b'{"status": "running"}') is None
    assert parse_progress(b"[1, 2]") is None


def test_video_id_from_path() -> None:
    assert video_id_from_path("/app/videos/42") == 42
    assert video_id_from_path("/app/videos/42/") == 42
    assert video_id_from_path("/app/videos/new") is None


def test_split_hashtags_and_script_from_text() -> None:
    assert split_hashtags("#owls, facts  #nature,,") == ["#owls", "#facts", "#nature"]
    script = script_from_text(" Did you know? ", "First line\n\n  Second line  \n", title="T")
    assert script == {
        "hook": "Did you know?",
        "lines": [{"text": "First line", "keywords": []}, {"text": "Second line", "keywords": []}],
        "title": "T",
    }


def test_parse_request_reports_every_non_number_field() -> None:
    form = {"campaign_id": "", "count": "two", "target_seconds": "15", "voice_speed": "fast"}
    with pytest.raises(ValidationError) as caught:
        parse_request(form)
    assert set(caught.value.field_errors) == {"campaign_id", "count", "voice_speed"}


def test_parse_request_builds_the_domain_request() -> None:
    form = {
        "campaign_id": "5",
        "topic": "  Owls  ",
        "count": "2",
        "target_seconds": "15",
        "voice_speed": "1.1",
        "language": "en",
        "voice": "piper:joe",
        "caption_style": "bold",
        "background_source": "generated",
        "music": "none",
    }
    request = parse_request(form)
    assert (request.campaign_id, request.topic, request.count) == (5, "Owls", 2)
    assert (request.target_seconds, request.voice_speed) == (15, 1.1)


def test_formatting_sizes_and_durations() -> None:
    assert format_size(512) == "512 B"
    assert format_size(1536) == "1.5 KB"
    assert format_size(5 * 1024 * 1024) == "5.0 MB"
    assert format_duration(None) == "—"
    assert format_duration(75.4) == "1:15"
    asset = MediaAsset(
        id=3,
        user_id=1,
        kind=MediaKind.MUSIC,
        filename="song.mp3",
        storage_key="k",
        content_type="audio/mpeg",
        size_bytes=2048,
        sha256="0" * 64,
        duration_seconds=61.0,
    )
    assert asset_row(asset) == {
        "id": 3,
        "kind": "Music",
        "name": "song.mp3",
        "duration": "1:01",
        "size": "2.0 KB",
        "preview": "",
    }


def test_rejected_message_names_the_file_and_the_reason() -> None:
    too_big = [{"file": {"path": "./big.mov"}, "errors": [{"code": "file-too-large"}]}]
    assert "big.mov" in rejected_message(too_big)
    assert f"{media_library.MAX_UPLOAD_MB} MB" in rejected_message(too_big)
    wrong = [{"file": {"path": "notes.txt"}, "errors": [{"code": "file-invalid-type"}]}]
    assert rejected_message(wrong) == "“notes.txt” is not a video, image or audio file."


async def _chunks(name: str, parts: list[bytes], consumed: list[int]) -> AsyncIterator[UploadChunk]:
    offset = 0
    for data in parts:
        consumed.append(len(data))
        yield UploadChunk(filename=name, offset=offset, content_type="video/mp4", data=data)
        offset += len(data)


async def test_receive_upload_writes_the_chunks_to_one_file(tmp_path: Path) -> None:
    consumed: list[int] = []
    files = await receive_upload(_chunks("dir/clip.mp4", [b"ab", b"cd"], consumed), tmp_path, 10)
    assert [(name, path.read_bytes()) for name, path in files] == [("clip.mp4", b"abcd")]
    assert files[0][1].suffix == ".mp4"


async def test_receive_upload_stops_reading_past_the_limit(tmp_path: Path) -> None:
    consumed: list[int] = []
    parts = [b"x" * 4, b"x" * 4, b"x" * 4, b"x" * 4]
    with pytest.raises(ValidationError) as caught:
        await receive_upload(_chunks("big.mp4", parts, consumed), tmp_path, 10)
    assert "big.mp4" in caught.value.field_errors["file"]
    assert len(consumed) == 3, "it kept reading after the file passed the limit"


def test_every_live_progress_page_supplies_the_hooks() -> None:
    from viralshorts.ui.progress import PAGE_HOOKS, LiveProgress
    from viralshorts.ui.video_detail import VideoDetailState
    from viralshorts.ui.videos import VideosState

    for page in (VideosState, VideoDetailState):
        assert issubclass(page, LiveProgress)
        missing = [hook for hook in PAGE_HOOKS if not callable(getattr(page, hook, None))]
        assert missing == [], f"{page.__name__} lacks {missing}"


def test_every_download_link_is_signed_as_a_download_with_a_good_name(tmp_path: Path) -> None:
    settings = get_settings().model_copy(update={"media_root": tmp_path})
    services = SimpleNamespace(settings=settings, storage=LocalStorage(settings))
    base = "videos/1/7/abc"
    video = _video(
        title="Owls: Why?",
        video_key=f"{base}.mp4",
        thumbnail_key=f"{base}.jpg",
        wide_thumbnail_key=f"{base}.wide.jpg",
        captions_key=f"{base}.srt",
    )
    links = video_domain.media_links(services, video)
    names = {key: parse_qs(urlsplit(url).query).get("dl", [""])[0] for key, url in links.items()}
    assert names == {
        "mp4": "",
        "download": "owls-why-7.mp4",
        "thumbnail": "owls-why-7.jpg",
        "wide_thumbnail": "owls-why-7.wide.jpg",
        "srt": "owls-why-7.srt",
    }
