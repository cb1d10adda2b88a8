"""A render attempt in this process (no worker): the plan's cap on the spoken narration.

The speech engine is a stand-in that reports a measured length (writing a short silent WAV),
so the attempt stops right after voicing without running ffmpeg.
"""

import dataclasses
import wave
from pathlib import Path

import pytest
from sqlmodel import select

from tests.factories import make_creator
from viralshorts.domain import quotas, render_queue, videos
from viralshorts.domain.rendering import attempt, render_inputs
from viralshorts.domain.rendering.pipeline import check_plan_length
from viralshorts.domain.workspaces import personal_actor, personal_workspace_id
from viralshorts.errors import RenderError
from viralshorts.integrations.ports import Services, SpeechResult
from viralshorts.integrations.services import build_services
from viralshorts.models import (
    BackgroundSource,
    Campaign,
    MediaAsset,
    MediaKind,
    Subscription,
    SubscriptionStatus,
    Video,
    VideoStatus,
    Workspace,
)
from viralshorts.settings import Settings, get_settings


class MeasuredSpeech:
    """Says every text in ``seconds`` (the length a real engine would measure)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def synthesize(self, text: str, *, voice: str, speed: float, out_path: Path, **_: object):
        with wave.open(str(out_path), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(16000)
            wav.writeframes(b"\0\0" * 1600)
        return SpeechResult(out_path, self.seconds, None)


@pytest.fixture()
def services(use_database, use_redis, tmp_path) -> Services:
    current = get_settings().model_dump(include=set(Settings.model_fields))
    return build_services(Settings(**{**current, "media_root": tmp_path / "media"}))


def _claimed_video(session, services: Services, email: str) -> Video:
    user_id, campaign_id = make_creator(session, email)
    request = videos.VideoRequest(
        campaign_id=campaign_id, custom_script="Stars are far away. Very far.", target_seconds=15
    )
    return videos.request_videos(
        session, services, actor=personal_actor(session, user_id), request=request
    )[0]


def test_a_narration_longer_than_the_plan_fails_for_good_and_gives_the_quota_back(
    session, services
):
    video = _claimed_video(session, services, "long-voice@example.com")
    assert (
        quotas.usage_summary(
            session, workspace_id=personal_workspace_id(session, video.user_id)
        ).videos_reserved
        == 1
    )
    speaking = dataclasses.replace(services, speech={"piper": MeasuredSpeech(258.0)})
    with pytest.raises(RenderError) as caught:
        attempt.run(speaking, video_id=video.id, job_id=video.job_id)
    error = caught.value
    assert error.code == "narration_too_long"
    assert error.params == {"seconds": 258, "max_seconds": 60}
    assert str(error) == (
        "The narration lasts 258 s, longer than the 60 s your plan allows. "
        "Shorten the script and try again."
    )
    attempt.attempt_failed(
        services, video_id=video.id, user_id=video.user_id, job_id=video.job_id,
        reason=str(error), final=True,
    )  # fmt: skip
    failed = videos.get_video(
        session, actor=personal_actor(session, video.user_id), video_id=video.id
    )
    assert (failed.status, failed.error) == (VideoStatus.FAILED, str(error))
    assert (
        quotas.usage_summary(
            session, workspace_id=personal_workspace_id(session, video.user_id)
        ).videos_reserved
        == 0
    )


def test_the_render_spec_carries_the_plans_cap(session, services, tmp_path):
    video = _claimed_video(session, services, "cap@example.com")
    campaign = session.get(Campaign, video.campaign_id)
    spec = render_inputs.build_spec(services, video, campaign, tmp_path / "work")
    assert spec.max_seconds == 60
    session.add(
        Subscription(
            workspace_id=video.workspace_id,
            user_id=video.user_id,
            plan="pro",
            status=SubscriptionStatus.ACTIVE,
        )
    )
    session.commit()
    assert render_inputs.build_spec(services, video, campaign, tmp_path / "w2").max_seconds == 90


def test_a_small_overrun_is_tolerated():
    check_plan_length(65.9, 60)  # within 10 %: the estimate before queueing is rough too
    check_plan_length(500.0, 0)  # no cap (the headless command)
    with pytest.raises(RenderError):
        check_plan_length(66.5, 60)


def test_a_job_that_lost_its_video_is_skipped(session, services):
    video = _claimed_video(session, services, "lost@example.com")
    assert attempt.run(services, video_id=video.id, job_id="render-0-9") == "skipped"
    assert attempt.run(services, video_id=10**9, job_id="") == "missing"
    assert (
        render_queue.promote_waiting(
            session, services, workspace_id=personal_workspace_id(session, video.user_id)
        )
        == []
    )


def test_uploads_stored_before_the_picture_limits_are_left_out(session, services, tmp_path):
    video = _claimed_video(session, services, "bomb@example.com")
    video.background_source = BackgroundSource.UPLOADS
    session.add(video)
    for name, width, height in (("ok", 1080, 1920), ("bomb", 20000, 20000), ("unread", 0, 0)):
        source = tmp_path / f"{name}.png"
        source.write_bytes(b"\x89PNG")
        key = f"media/{video.user_id}/{name}.png"
        services.storage.put_file(key, source, "image/png")
        session.add(MediaAsset(
            workspace_id=video.workspace_id, user_id=video.user_id, kind=MediaKind.IMAGE,
            filename=source.name, storage_key=key,
            content_type="image/png", size_bytes=4, sha256=name, width=width, height=height,
        ))  # fmt: skip
    session.commit()
    campaign = session.get(Campaign, video.campaign_id)
    spec = render_inputs.build_spec(services, video, campaign, tmp_path / "work")
    assert [path.stem for path in spec.user_media] == [
        str(a.id) for a in session.exec(select(MediaAsset).where(MediaAsset.sha256 == "ok"))
    ]


class RecordedProgress:
    """A ProgressPublisher that keeps what it was asked to publish."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, dict]] = []

    def publish(self, workspace_id: int, payload: dict) -> None:
        self.sent.append((workspace_id, payload))


def test_progress_goes_to_the_videos_workspace_so_every_member_sees_it(session, services):
    session.add(Workspace(name="Someone else's"))  # so workspace and user ids differ
    session.commit()
    video = _claimed_video(session, services, "progress@example.com")
    assert video.workspace_id != video.user_id
    recorded = RecordedProgress()
    watching = dataclasses.replace(services, progress=recorded)
    attempt.attempt_failed(
        watching, video_id=video.id, user_id=0, job_id=video.job_id, reason="boom", final=True
    )
    assert [(target, sent["status"]) for target, sent in recorded.sent] == [
        (video.workspace_id, VideoStatus.FAILED)
    ]
