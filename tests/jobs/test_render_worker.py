"""Real worker processes render, cancel, retry into the dead-letter queue and survive SIGKILL.

Each test starts ``python worker.py render`` in its own process group against the test
PostgreSQL database and Redis index, and watches the Video row. Renders are 15 s videos.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from rq.registry import FailedJobRegistry

from tests.factories import make_creator
from tests.fakes.openai_server import API_KEY, FakeOpenAI
from tests.jobs.worker_support import partial_files, processes_using, read_video, wait_for
from viralshorts.domain import quotas, videos
from viralshorts.domain.videos import VideoRequest
from viralshorts.domain.workspaces import personal_actor, personal_workspace_id
from viralshorts.integrations.redis_progress import progress_channel
from viralshorts.models import VideoStatus

pytestmark = pytest.mark.slow
RENDER_TIMEOUT = 300
FINAL = (VideoStatus.READY, VideoStatus.FAILED, VideoStatus.CANCELED)


def _request(session, services, user_id, campaign_id, count=1):
    request = VideoRequest(
        campaign_id=campaign_id,
        topic="Black holes",
        count=count,
        target_seconds=15,
        facts="Black holes bend light.\nNothing escapes a black hole.",
    )
    return videos.request_videos(
        session, services, actor=personal_actor(session, user_id), request=request
    )


def _finished(video_id: int):
    video = read_video(video_id)
    return video if video.status in FINAL else None


def _files(services, user_id: int, video_id: int) -> list[str]:
    folder = Path(services.settings.media_root) / "videos" / str(user_id) / str(video_id)
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _duration(path: Path) -> float:
    args = ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)]
    out = subprocess.run(args, capture_output=True, text=True, check=True, timeout=30).stdout
    return float(json.loads(out)["format"]["duration"])


def _messages_until_ready(pubsub) -> list[dict]:
    """Progress messages up to the final one (it is published just after the READY commit)."""
    messages: list[dict] = []

    def read() -> bool:
        while (message := pubsub.get_message(timeout=0.1)) is not None:
            if message["type"] == "message":
                messages.append(json.loads(message["data"]))
        return bool(messages) and messages[-1]["status"] == "ready"

    wait_for(read, timeout=15, what="the final progress message")
    return messages


def test_a_requested_video_renders_to_ready_with_live_progress(session, services, workers):
    user_id, campaign_id = make_creator(session, "ready@example.com")
    pubsub = services.progress.client.pubsub()
    pubsub.subscribe(progress_channel(personal_workspace_id(session, user_id)))
    worker = workers()
    video = _request(session, services, user_id, campaign_id)[0]
    done = wait_for(
        lambda: _finished(video.id), timeout=RENDER_TIMEOUT, what="READY", worker=worker
    )
    assert done.status == VideoStatus.READY, done.error
    base = f"videos/{user_id}/{video.id}/{done.render_hash}"
    keys = (done.video_key, done.thumbnail_key, done.captions_key, done.wide_thumbnail_key)
    assert keys == (f"{base}.mp4", f"{base}.jpg", f"{base}.srt", f"{base}.wide.jpg")
    assert _files(services, user_id, video.id) == sorted(Path(k).name for k in keys)
    mp4 = services.storage.path_for(done.video_key)
    assert _duration(mp4) == pytest.approx(done.duration_seconds, abs=0.5)
    assert done.title and done.script["lines"] and done.progress == 100
    usage = quotas.usage_summary(session, workspace_id=personal_workspace_id(session, user_id))
    assert (usage.videos_used, usage.videos_reserved) == (1, 0)
    assert usage.render_seconds == pytest.approx(done.duration_seconds)
    messages = _messages_until_ready(pubsub)
    assert {"script", "voice", "render", "upload"} <= {m["step"] for m in messages}
    assert messages[-1] == {
        "video_id": video.id,
        "status": "ready",
        "step": "done",
        "percent": 100,
        "message": "Ready",
    }
    pubsub.close()


def test_cancel_queued_and_running_videos(session, services, workers):
    user_id, campaign_id = make_creator(session, "cancel@example.com")
    worker = workers()
    first, second = _request(session, services, user_id, campaign_id, count=2)
    wait_for(
        lambda: read_video(first.id).step in ("voice", "captions", "backgrounds", "render"),
        timeout=120, what="the first render to get going", worker=worker,
    )  # fmt: skip
    queued = videos.cancel_video(
        session, services, actor=personal_actor(session, user_id), video_id=second.id
    )
    assert queued.status == VideoStatus.CANCELED
    running = videos.cancel_video(
        session, services, actor=personal_actor(session, user_id), video_id=first.id
    )
    assert running.status == VideoStatus.RUNNING and running.cancel_requested
    stopped = wait_for(lambda: _finished(first.id), timeout=60, what="CANCELED", worker=worker)
    assert stopped.status == VideoStatus.CANCELED
    assert read_video(second.id).started_at is None
    assert _files(services, user_id, first.id) == []
    assert (
        quotas.usage_summary(
            session, workspace_id=personal_workspace_id(session, user_id)
        ).videos_reserved
        == 0
    )


def wait_until_dead_lettered(services, job_id: str) -> None:
    """RQ runs the failure callback (which marks the video FAILED) before it moves the job into
    the FailedJobRegistry, so the registry may lag the row by a moment."""
    registry = FailedJobRegistry("render", connection=services.queue.connection)
    wait_for(lambda: job_id in registry.get_job_ids(), timeout=10, what="the dead-letter queue")


def test_retryable_failures_end_failed_in_the_dead_letter_queue(session, services, workers):
    user_id, campaign_id = make_creator(session, "dlq@example.com")
    with FakeOpenAI() as fake:
        fake.fail_next("/chat/completions", 503, times=100)
        worker = workers(OPENAI_API_KEY=API_KEY, OPENAI_BASE_URL=fake.base_url)
        video = _request(session, services, user_id, campaign_id)[0]
        failed = wait_for(lambda: _finished(video.id), timeout=120, what="FAILED", worker=worker)
        calls = fake.count("/chat/completions")
    assert failed.status == VideoStatus.FAILED
    assert "server error (HTTP 503)" in failed.error
    assert calls == 3 * 3  # three attempts (max 2 retries), each with the SDK's own 2 retries
    wait_until_dead_lettered(services, failed.job_id)
    usage = quotas.usage_summary(session, workspace_id=personal_workspace_id(session, user_id))
    assert (usage.videos_used, usage.videos_reserved) == (0, 0)


def test_a_non_retryable_error_fails_at_once_without_burning_retries(session, services, workers):
    user_id, campaign_id = make_creator(session, "final@example.com")
    with FakeOpenAI() as fake:
        worker = workers(OPENAI_API_KEY="sk-wrong-key", OPENAI_BASE_URL=fake.base_url)
        video = _request(session, services, user_id, campaign_id)[0]
        failed = wait_for(lambda: _finished(video.id), timeout=120, what="FAILED", worker=worker)
        calls = fake.count("/chat/completions")
    assert failed.status == VideoStatus.FAILED
    assert failed.error == "OpenAI rejected the API key"
    assert calls == 1
    wait_until_dead_lettered(services, failed.job_id)
    assert worker.terminate() == 0
    assert "event=worker.stopped" in worker.log()
    assert f"event=job.done job_id={failed.job_id}" in worker.log()


def test_a_worker_killed_mid_render_is_recovered_and_finishes_exactly_once(
    session, services, workers
):
    user_id, campaign_id = make_creator(session, "crash@example.com")
    first = workers()
    video = _request(session, services, user_id, campaign_id)[0]
    wait_for(
        lambda: (v := read_video(video.id)).step == "render" and v.progress >= 40,
        timeout=180, what="ffmpeg to be rendering", worker=first,
    )  # fmt: skip
    killed = first.kill_tree()
    assert "ffmpeg" in killed, killed
    assert read_video(video.id).status == VideoStatus.RUNNING
    assert _files(services, user_id, video.id) == []
    second = workers()
    done = wait_for(
        lambda: _finished(video.id), timeout=RENDER_TIMEOUT, what="READY", worker=second
    )
    assert done.status == VideoStatus.READY, done.error
    assert (done.attempts, done.job_id) == (2, f"render-{video.id}-2")
    assert len(_files(services, user_id, video.id)) == 4  # mp4, srt and two thumbnails
    media_root = Path(services.settings.media_root)
    assert partial_files(media_root) == []
    assert processes_using(media_root, besides=[second]) == []
    usage = quotas.usage_summary(session, workspace_id=personal_workspace_id(session, user_id))
    assert (usage.videos_used, usage.videos_reserved) == (1, 0)
