"""Video use cases on real PostgreSQL and Redis (no worker: the queue is inspected directly)."""

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from rq import Queue
from rq.job import Job, JobStatus
from sqlmodel import Session

from tests.factories import make_creator
from viralshorts import db as db_module
from viralshorts.domain import quotas, render_queue, video_lifecycle, videos
from viralshorts.domain.videos import VideoRequest
from viralshorts.domain.workspaces import personal_actor, personal_workspace_id
from viralshorts.errors import NotFoundError, QuotaExceededError, ValidationError
from viralshorts.integrations.ports import Services
from viralshorts.integrations.services import build_services
from viralshorts.models import MediaAsset, MediaKind, Video, VideoStatus, utcnow
from viralshorts.settings import Settings, get_settings


@pytest.fixture()
def services(use_database, use_redis, tmp_path) -> Services:
    """Services with a media folder of this test's own."""
    current = get_settings().model_dump(include=set(Settings.model_fields))
    return build_services(Settings(**{**current, "media_root": tmp_path / "media"}))


def _queued_job_ids(services: Services) -> list[str]:
    return Queue("render", connection=services.queue.connection).job_ids


FACTS = "Black holes bend light.\nNothing escapes a black hole."


def _request(session, services, user_id, campaign_id, count=1, **fields):
    fields.setdefault("facts", "" if fields.get("custom_script") else FACTS)
    request = VideoRequest(campaign_id=campaign_id, topic="Black holes", count=count, **fields)
    return videos.request_videos(
        session, services, actor=personal_actor(session, user_id), request=request
    )


def test_request_reserves_quota_and_enqueues_up_to_the_per_user_limit(session, services):
    user_id, campaign_id = make_creator(session, "a@example.com")
    made = _request(session, services, user_id, campaign_id, count=3, target_seconds=20)
    assert [v.status for v in made] == [VideoStatus.QUEUED] * 3
    assert len({v.batch_id for v in made}) == 1
    assert len({v.seed for v in made}) == 3
    assert [v.job_id for v in made] == [f"render-{made[0].id}-1", f"render-{made[1].id}-1", ""]
    assert _queued_job_ids(services) == [made[0].job_id, made[1].job_id]
    job = Job.fetch(made[0].job_id, connection=services.queue.connection)
    assert job.meta == {"video_id": made[0].id, "user_id": user_id}
    assert job.timeout == get_settings().render_job_timeout_seconds
    assert (
        quotas.usage_summary(
            session, workspace_id=personal_workspace_id(session, user_id)
        ).videos_reserved
        == 3
    )


def test_invalid_requests_name_each_field(session, services):
    user_id, campaign_id = make_creator(session, "b@example.com")
    bad = {
        "target_seconds": 75,
        "voice": "robot:x",
        "voice_speed": 2.0,
        "background_source": "stock",
    }
    with pytest.raises(ValidationError) as caught:
        _request(session, services, user_id, campaign_id, count=0, music="asset:999", **bad)
    errors = caught.value.field_errors
    assert set(errors) == {
        "count",
        "target_seconds",
        "voice",
        "voice_speed",
        "background_source",
        "music",
    }
    assert "60 seconds" in errors["target_seconds"]
    assert "PEXELS_API_KEY" in errors["background_source"]
    with pytest.raises(ValidationError) as caught:
        _request(session, services, user_id, campaign_id, background_source="uploads")
    assert "Upload at least one" in caught.value.field_errors["background_source"]


def test_music_must_be_the_users_own_music_asset(session, services):
    user_id, campaign_id = make_creator(session, "m@example.com")
    other_id, _ = make_creator(session, "m2@example.com")
    fields = {"filename": "x", "content_type": "audio/mpeg", "size_bytes": 1, "sha256": "0" * 64}
    mine = MediaAsset(
        workspace_id=personal_workspace_id(session, user_id),
        user_id=user_id,
        kind=MediaKind.MUSIC,
        storage_key="media/a.mp3",
        **fields,
    )
    theirs = MediaAsset(
        workspace_id=personal_workspace_id(session, other_id),
        user_id=other_id,
        kind=MediaKind.MUSIC,
        storage_key="media/b.mp3",
        **fields,
    )
    session.add_all([mine, theirs])
    session.commit()
    with pytest.raises(ValidationError):
        _request(session, services, user_id, campaign_id, music=f"asset:{theirs.id}")
    made = _request(session, services, user_id, campaign_id, music=f"asset:{mine.id}")
    assert made[0].music == f"asset:{mine.id}"


def test_someone_elses_campaign_is_not_found(session, services):
    _, campaign_id = make_creator(session, "owner@example.com")
    intruder_id, _ = make_creator(session, "intruder@example.com")
    with pytest.raises(NotFoundError):
        _request(session, services, intruder_id, campaign_id)


def test_quota_exceeded_creates_nothing(session, services):
    user_id, campaign_id = make_creator(session, "c@example.com")
    _request(session, services, user_id, campaign_id, count=8)
    estimate = videos.estimate_cost(
        session, actor=personal_actor(session, user_id), request=VideoRequest(campaign_id, count=3)
    )
    assert (estimate.remaining_before, estimate.allowed) == (2, False)
    with pytest.raises(QuotaExceededError, match="2 left this month"):
        _request(session, services, user_id, campaign_id, count=3)
    session.rollback()
    assert len(videos.list_videos(session, actor=personal_actor(session, user_id))) == 8
    assert (
        quotas.usage_summary(
            session, workspace_id=personal_workspace_id(session, user_id)
        ).videos_reserved
        == 8
    )


def _finish_as_worker(session, services, video: Video) -> None:
    values = {"duration_seconds": 20.0, "video_key": f"videos/{video.user_id}/{video.id}/h.mp4"}
    assert video_lifecycle.complete(session, video_id=video.id, job_id=video.job_id, values=values)
    session.commit()
    render_queue.promote_waiting(
        session, services, workspace_id=personal_workspace_id(session, video.user_id)
    )


def test_a_big_batch_does_not_starve_another_users_single_video(session, services):
    a_id, a_campaign = make_creator(session, "a6@example.com")
    b_id, b_campaign = make_creator(session, "b1@example.com")
    batch = _request(session, services, a_id, a_campaign, count=6)
    single = _request(session, services, b_id, b_campaign)[0]
    _finish_as_worker(session, services, batch[0])
    order = _queued_job_ids(services)
    third = videos.get_video(session, actor=personal_actor(session, a_id), video_id=batch[2].id)
    assert order.index(single.job_id) < order.index(third.job_id)
    waiting = [
        videos.get_video(session, actor=personal_actor(session, a_id), video_id=v.id).job_id
        for v in batch[3:]
    ]
    assert waiting == ["", "", ""]
    done = videos.get_video(session, actor=personal_actor(session, a_id), video_id=batch[0].id)
    assert done.status == VideoStatus.READY
    usage = quotas.usage_summary(session, workspace_id=personal_workspace_id(session, a_id))
    assert (usage.videos_used, usage.videos_reserved, usage.render_seconds) == (1, 5, 20.0)


def test_completing_twice_counts_once(session, services):
    user_id, campaign_id = make_creator(session, "twice@example.com")
    video = _request(session, services, user_id, campaign_id)[0]
    _finish_as_worker(session, services, video)
    again = video_lifecycle.complete(session, video_id=video.id, job_id=video.job_id, values={})
    session.commit()
    assert again is False
    assert (
        quotas.usage_summary(
            session, workspace_id=personal_workspace_id(session, user_id)
        ).videos_used
        == 1
    )


def test_cancel_a_queued_video_releases_quota_and_promotes_the_next(session, services):
    user_id, campaign_id = make_creator(session, "cancel@example.com")
    made = _request(session, services, user_id, campaign_id, count=3)
    canceled = videos.cancel_video(
        session, services, actor=personal_actor(session, user_id), video_id=made[0].id
    )
    assert canceled.status == VideoStatus.CANCELED
    job = Job.fetch(made[0].job_id, connection=services.queue.connection)
    assert job.get_status() == JobStatus.CANCELED
    promoted = videos.get_video(
        session, actor=personal_actor(session, user_id), video_id=made[2].id
    )
    assert promoted.job_id == f"render-{made[2].id}-1"
    assert (
        quotas.usage_summary(
            session, workspace_id=personal_workspace_id(session, user_id)
        ).videos_reserved
        == 2
    )
    with pytest.raises(ValidationError):
        videos.cancel_video(
            session, services, actor=personal_actor(session, user_id), video_id=made[0].id
        )


def test_cancel_a_running_video_asks_the_worker_to_stop(session, services):
    user_id, campaign_id = make_creator(session, "run@example.com")
    video = _request(session, services, user_id, campaign_id)[0]
    session.exec(sa.update(Video).where(Video.id == video.id).values(status=VideoStatus.RUNNING))
    session.commit()
    running = videos.cancel_video(
        session, services, actor=personal_actor(session, user_id), video_id=video.id
    )
    assert running.status == VideoStatus.RUNNING
    assert running.cancel_requested is True


def test_retry_a_failed_video_reserves_again_with_a_new_attempt(session, services):
    user_id, campaign_id = make_creator(session, "retry@example.com")
    video = _request(session, services, user_id, campaign_id)[0]
    with pytest.raises(ValidationError):
        videos.retry_video(
            session, services, actor=personal_actor(session, user_id), video_id=video.id
        )
    assert video_lifecycle.end(
        session, video_id=video.id, job_id=video.job_id, status=VideoStatus.FAILED, message="boom"
    )
    session.commit()
    assert (
        quotas.usage_summary(
            session, workspace_id=personal_workspace_id(session, user_id)
        ).videos_reserved
        == 0
    )
    again = videos.retry_video(
        session, services, actor=personal_actor(session, user_id), video_id=video.id
    )
    assert (again.status, again.error, again.job_id) == (
        VideoStatus.QUEUED,
        "",
        f"render-{video.id}-2",
    )
    assert f"render-{video.id}-2" in _queued_job_ids(services)
    assert (
        quotas.usage_summary(
            session, workspace_id=personal_workspace_id(session, user_id)
        ).videos_reserved
        == 1
    )


def test_metadata_is_validated_and_hashtags_normalised(session, services):
    user_id, campaign_id = make_creator(session, "meta@example.com")
    video = _request(session, services, user_id, campaign_id)[0]
    updated = videos.update_metadata(
        session, actor=personal_actor(session, user_id), video_id=video.id, title=" Space! ",
        description="d",
        hashtags=["Space", "#fun facts", "#space", " "],
    )  # fmt: skip
    assert (updated.title, updated.hashtags) == ("Space!", ["#space", "#funfacts"])
    with pytest.raises(ValidationError) as caught:
        videos.update_metadata(
            session, actor=personal_actor(session, user_id), video_id=video.id, title="x" * 101,
            description="",
            hashtags=[f"t{i}" for i in range(16)],
        )  # fmt: skip
    assert set(caught.value.field_errors) == {"title", "hashtags"}
    stranger_id, _ = make_creator(session, "stranger@example.com")
    with pytest.raises(NotFoundError):
        videos.get_video(session, actor=personal_actor(session, stranger_id), video_id=video.id)


def test_rerender_with_an_edited_script(session, services):
    user_id, campaign_id = make_creator(session, "edit@example.com")
    video = _request(session, services, user_id, campaign_id)[0]
    _finish_as_worker(session, services, video)
    with pytest.raises(ValidationError) as caught:
        videos.rerender_with_script(
            session,
            services,
            actor=personal_actor(session, user_id),
            video_id=video.id,
            script={"hook": "", "lines": []},
        )
    assert set(caught.value.field_errors) == {"hook", "lines"}
    script = {"hook": "Did you know?", "lines": [{"text": "Stars die.", "keywords": ["star"]}],
              "title": "Stars", "description": "", "hashtags": ["#space"]}  # fmt: skip
    again = videos.rerender_with_script(
        session, services, actor=personal_actor(session, user_id), video_id=video.id, script=script
    )
    assert again.status == VideoStatus.QUEUED
    assert again.script["lines"][0]["text"] == "Stars die."
    assert again.job_id == f"render-{video.id}-2"


def test_media_links_are_signed_for_play_and_download(session, services):
    user_id, campaign_id = make_creator(session, "links@example.com")
    video = _request(session, services, user_id, campaign_id)[0]
    video.title, video.video_key = "Black Holes, Explained", f"videos/{user_id}/{video.id}/h.mp4"
    video.thumbnail_key = f"videos/{user_id}/{video.id}/h.jpg"
    links = videos.media_links(services, video)
    assert set(links) == {"mp4", "download", "thumbnail"}
    assert links["mp4"].startswith(f"/api/media/videos/{user_id}/{video.id}/h.mp4?exp=")
    assert f"dl=black-holes-explained-{video.id}.mp4" in links["download"]


def test_recovery_requeues_a_running_video_whose_job_is_gone(session, services):
    user_id, campaign_id = make_creator(session, "crash@example.com")
    lost, alive = _request(session, services, user_id, campaign_id, count=2)
    old = utcnow() - timedelta(seconds=get_settings().render_stale_seconds + 5)
    session.exec(
        sa.update(Video)
        .where(Video.user_id == user_id)
        .values(status=VideoStatus.RUNNING, heartbeat_at=old)
    )
    session.commit()
    Job.fetch(lost.job_id, connection=services.queue.connection).delete()
    result = render_queue.tick(session, services)
    assert result == {"recovered": [lost.id], "promoted": [lost.id]}
    recovered = videos.get_video(session, actor=personal_actor(session, user_id), video_id=lost.id)
    assert (recovered.status, recovered.job_id) == (VideoStatus.QUEUED, f"render-{lost.id}-2")
    untouched = videos.get_video(session, actor=personal_actor(session, user_id), video_id=alive.id)
    assert (untouched.status, untouched.job_id) == (VideoStatus.RUNNING, alive.job_id)


def test_concurrent_dispatchers_never_exceed_the_limit_or_enqueue_twice(session, services):
    user_id, campaign_id = make_creator(session, "race@example.com")
    workspace_id = personal_workspace_id(session, user_id)
    waiting = [
        Video(workspace_id=workspace_id, user_id=user_id, campaign_id=campaign_id, topic=f"t{i}")
        for i in range(6)
    ]
    session.add_all(waiting)
    session.commit()
    barrier = threading.Barrier(6)
    promoted: list[int] = []

    def dispatch() -> None:
        with Session(db_module.get_engine()) as own:
            barrier.wait()
            promoted.extend(
                render_queue.promote_waiting(
                    own, services, workspace_id=personal_workspace_id(own, user_id)
                )
            )

    threads = [threading.Thread(target=dispatch) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    limit = get_settings().render_per_user_concurrency
    assert sorted(promoted) == [v.id for v in waiting[:limit]]
    assert sorted(_queued_job_ids(services)) == sorted(f"render-{i}-1" for i in promoted)
