"""Redis unreachable while a creator asks for videos: the request stays consistent and clear.

The real RQ adapter points at a closed port, then at the test Redis; the periodic tick enqueues
what waited.
"""

import dataclasses
import socket

import pytest
import sqlalchemy as sa
from rq import Queue

from tests.factories import make_creator
from viralshorts.domain import quotas, render_queue, video_lifecycle, videos
from viralshorts.domain.videos import VideoRequest
from viralshorts.domain.workspaces import personal_actor, personal_workspace_id
from viralshorts.errors import ServiceUnavailableError, ValidationError
from viralshorts.integrations.ports import Services
from viralshorts.integrations.rq_queue import RQJobQueue
from viralshorts.integrations.services import build_services
from viralshorts.models import Video, VideoStatus
from viralshorts.settings import Settings, get_settings


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe is closed


@pytest.fixture()
def up(use_database, use_redis, tmp_path) -> Services:
    current = get_settings().model_dump(include=set(Settings.model_fields))
    return build_services(Settings(**{**current, "media_root": tmp_path / "media"}))


@pytest.fixture()
def down(up: Services) -> Services:
    settings = up.settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{_closed_port()}/0"})
    return dataclasses.replace(up, queue=RQJobQueue(settings))


def _queued(services: Services) -> list[str]:
    return Queue("render", connection=services.queue.connection).job_ids


def _reserved(session, user_id: int) -> int:
    return quotas.usage_summary(
        session, workspace_id=personal_workspace_id(session, user_id)
    ).videos_reserved


def _read(session, user_id: int, video_id: int) -> Video:
    return videos.get_video(session, actor=personal_actor(session, user_id), video_id=video_id)


def test_the_adapter_says_the_queue_is_unavailable(down: Services):
    for call in (
        lambda: down.queue.enqueue_render(1, 1),
        lambda: down.queue.cancel("render-1-1"),
        lambda: down.queue.is_alive("render-1-1"),
    ):
        with pytest.raises(ServiceUnavailableError) as caught:
            call()
        assert caught.value.code == "render_queue_unavailable"


def test_a_request_is_saved_waiting_and_the_tick_enqueues_it_later(session, up, down):
    user_id, campaign_id = make_creator(session, "outage@example.com")
    request = VideoRequest(
        campaign_id=campaign_id,
        topic="Black holes",
        count=2,
        facts="Black holes bend light.\nNothing escapes a black hole.",
    )
    with pytest.raises(ServiceUnavailableError) as caught:
        videos.request_videos(
            session, down, actor=personal_actor(session, user_id), request=request
        )
    error = caught.value
    assert str(error) == (
        "The render service is busy right now. Your 2 videos are saved and will start "
        "automatically as soon as it answers."
    )
    assert error.code == "render_queue_unavailable"
    ids = error.params["video_ids"]
    assert error.params["saved"] == 2 and len(ids) == 2
    for video_id in ids:
        video = _read(session, user_id, video_id)
        assert (video.status, video.job_id) == (VideoStatus.QUEUED, "")
        assert video.status_message == video_lifecycle.WAITING_MESSAGE
        assert video.quota_reserved
    assert _reserved(session, user_id) == 2


def test_the_tick_enqueues_saved_videos_once_the_queue_answers(session, up, down):
    user_id, campaign_id = make_creator(session, "later@example.com")
    request = VideoRequest(
        campaign_id=campaign_id,
        topic="Black holes",
        count=2,
        facts="Black holes bend light.\nNothing escapes a black hole.",
    )
    with pytest.raises(ServiceUnavailableError) as caught:
        videos.request_videos(
            session, down, actor=personal_actor(session, user_id), request=request
        )
    ids = caught.value.params["video_ids"]
    with pytest.raises(ServiceUnavailableError):
        render_queue.tick(session, down)
    assert _queued(up) == []
    result = render_queue.tick(session, up)
    assert sorted(result["promoted"]) == sorted(ids)
    job_ids = [_read(session, user_id, video_id).job_id for video_id in ids]
    assert all(job_ids) and sorted(_queued(up)) == sorted(job_ids)
    assert _reserved(session, user_id) == 2


def _failed(session, services: Services, user_id: int, campaign_id: int) -> Video:
    request = VideoRequest(
        campaign_id=campaign_id,
        topic="Comets",
        facts="Comets have tails.\nTheir tails point away from the sun.",
    )
    video = videos.request_videos(
        session, services, actor=personal_actor(session, user_id), request=request
    )[0]
    assert video_lifecycle.end(
        session, video_id=video.id, job_id=video.job_id, status=VideoStatus.FAILED, message="x"
    )
    session.commit()
    return video


def test_a_retry_during_an_outage_reserves_once_and_waits(session, up, down):
    user_id, campaign_id = make_creator(session, "retry-outage@example.com")
    video = _failed(session, up, user_id, campaign_id)
    assert _reserved(session, user_id) == 0
    with pytest.raises(ServiceUnavailableError, match="Your video is saved"):
        videos.retry_video(session, down, actor=personal_actor(session, user_id), video_id=video.id)
    with pytest.raises(ValidationError):  # a second click: it is already back in line
        videos.retry_video(session, down, actor=personal_actor(session, user_id), video_id=video.id)
    waiting = _read(session, user_id, video.id)
    assert (waiting.status, waiting.job_id) == (VideoStatus.QUEUED, "")
    assert _reserved(session, user_id) == 1
    assert render_queue.tick(session, up)["promoted"] == [video.id]


def test_a_rerender_during_an_outage_reserves_once_and_waits(session, up, down):
    user_id, campaign_id = make_creator(session, "rerender-outage@example.com")
    video = _failed(session, up, user_id, campaign_id)
    session.exec(sa.update(Video).where(Video.id == video.id).values(status=VideoStatus.READY))
    session.commit()
    script = {"hook": "Comets have tails.", "lines": [{"text": "Two of them.", "keywords": []}]}
    with pytest.raises(ServiceUnavailableError, match="Your video is saved"):
        videos.rerender_with_script(
            session, down, actor=personal_actor(session, user_id), video_id=video.id, script=script
        )
    with pytest.raises(ValidationError):
        videos.rerender_with_script(
            session, down, actor=personal_actor(session, user_id), video_id=video.id, script=script
        )
    assert _reserved(session, user_id) == 1
    assert _read(session, user_id, video.id).script["hook"] == "Comets have tails."


def test_cancel_works_while_the_queue_is_down(session, up, down):
    user_id, campaign_id = make_creator(session, "cancel-outage@example.com")
    request = VideoRequest(
        campaign_id=campaign_id,
        topic="Black holes",
        count=3,
        facts="Black holes bend light.\nNothing escapes a black hole.",
    )
    made = videos.request_videos(
        session, up, actor=personal_actor(session, user_id), request=request
    )
    canceled = videos.cancel_video(
        session, down, actor=personal_actor(session, user_id), video_id=made[0].id
    )
    assert canceled.status == VideoStatus.CANCELED
    assert _reserved(session, user_id) == 2
    assert render_queue.tick(session, up)["promoted"] == [made[2].id]
