"""The admin's queues and dead-letter queue on real PostgreSQL and Redis.

Jobs really fail: a render is enqueued the way a creator's request enqueues it and run by a
real RQ ``SimpleWorker`` in this process with no voice engine (a final error at the voice step),
so RQ's failure callback marks the video FAILED and the job lands in the FailedJobRegistry. A
publish job fails by an unexpected exception at the platform. Retrying goes through the domain.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from rq import Queue, SimpleWorker
from rq.registry import FailedJobRegistry
from sqlmodel import Session, select

from tests.factories import make_creator, new_user
from tests.jobs.worker_support import fast_settings, read_video
from tests.publishing_support import MemoryPlatform, add_account, add_ready_video, options_of
from viralshorts import db as db_module
from viralshorts.domain import admin_jobs, posts, quotas, videos
from viralshorts.domain.posts import PostRequest
from viralshorts.domain.videos import VideoRequest
from viralshorts.domain.workspaces import personal_actor, personal_workspace_id
from viralshorts.errors import (
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    ValidationError,
)
from viralshorts.integrations.ports import Services
from viralshorts.integrations.services import build_services, use_services
from viralshorts.models import (
    AuditLog,
    Notification,
    Post,
    PostStatus,
    Role,
    Usage,
    VideoStatus,
)

FORGED_IDS = ("", "../../etc", "render 1", "x" * 200, "render-1-1\n", "ü-1")


@pytest.fixture()
def platform() -> MemoryPlatform:
    return MemoryPlatform(name="youtube")


@pytest.fixture()
def services(use_database, use_redis, tmp_path, platform) -> Iterator[Services]:
    built = build_services(fast_settings(tmp_path / "media"))
    services = dataclasses.replace(built, platforms={"youtube": platform}, email=None)
    use_services(services)  # what the in-process worker's jobs get from get_services()
    yield services
    use_services(None)


@pytest.fixture()
def admin_id(session: Session) -> int:
    return new_user(session, "root@example.com", role=Role.ADMIN).id


def _work(services: Services, *, voiceless: bool = False) -> None:
    """Run every job on the queues to the end in this process (a real RQ worker)."""
    use_services(dataclasses.replace(services, speech={}) if voiceless else services)
    try:
        names = ("render", "publish", "default")
        queues = [Queue(name, connection=services.queue.connection) for name in names]
        SimpleWorker(queues, connection=services.queue.connection).work(burst=True)
    finally:
        use_services(services)


def _failed_render(session: Session, services: Services, email: str) -> int:
    user_id, campaign_id = make_creator(session, email)
    request = VideoRequest(campaign_id=campaign_id, topic="Black holes", target_seconds=15)
    request = dataclasses.replace(request, facts="Black holes bend light.\nNothing escapes.")
    actor = personal_actor(session, user_id)
    [video] = videos.request_videos(session, services, actor=actor, request=request)
    _work(services, voiceless=True)
    failed = read_video(video.id)
    assert failed.status == VideoStatus.FAILED and "is not available" in failed.error
    assert failed.job_id in _registry(services, "render").get_job_ids()
    return video.id


def _registry(services: Services, name: str) -> FailedJobRegistry:
    return FailedJobRegistry(name, connection=services.queue.connection)


def _reserved(session: Session, video_id: int) -> tuple[int, int]:
    usage = quotas.usage_summary(session, workspace_id=read_video(video_id).workspace_id)
    return usage.videos_used, usage.videos_reserved


def _audit(session: Session, action: str) -> list[AuditLog]:
    session.expire_all()
    return list(session.exec(select(AuditLog).where(AuditLog.action == action)).all())


@pytest.mark.slow
def test_a_failed_render_retried_from_the_dead_letter_queue_ends_ready_once(
    session, services, admin_id
):
    video_id = _failed_render(session, services, "dlq@example.com")
    [view] = admin_jobs.list_failed_jobs(session, services, actor_user_id=admin_id)
    assert (view.job.job_id, view.job.kind, view.job.queue) == (
        f"render-{video_id}-1",
        "render",
        "render",
    )
    assert view.subject.startswith(f"video {video_id} ") and view.workspace_name
    assert "is not available" in view.error_line and view.can_retry
    whole = admin_jobs.failed_job(session, services, actor_user_id=admin_id, job_id=view.job.job_id)
    assert "Traceback" in whole.job.exc_string and whole.job.args == (video_id,)
    assert whole.job.meta["video_id"] == video_id

    said = admin_jobs.retry_failed_job(
        session, services, actor_user_id=admin_id, job_id=f"render-{video_id}-1"
    )
    assert f"render-{video_id}-2" in said
    queued = read_video(video_id)
    assert (queued.status, queued.job_id, queued.attempts) == (
        VideoStatus.QUEUED,
        f"render-{video_id}-2",
        2,
    )
    assert _registry(services, "render").get_job_ids() == []
    assert _reserved(session, video_id) == (0, 1)
    with pytest.raises(NotFoundError):  # a second click on the same job does nothing
        admin_jobs.retry_failed_job(
            session, services, actor_user_id=admin_id, job_id=f"render-{video_id}-1"
        )

    _work(services)
    done = read_video(video_id)
    assert (done.status, done.attempts, done.job_id) == (
        VideoStatus.READY,
        2,
        f"render-{video_id}-2",
    )
    assert _reserved(session, video_id) == (1, 0)
    ready = session.exec(select(Notification).where(Notification.kind == "video_ready")).all()
    assert len(ready) == 1
    [row] = _audit(session, "admin.failed_job_retried")
    assert (row.user_id, row.target_id, row.workspace_id) == (
        admin_id,
        f"render-{video_id}-1",
        done.workspace_id,
    )


def test_a_render_its_creator_already_retried_is_not_retried_again(session, services, admin_id):
    video_id = _failed_render(session, services, "twice@example.com")
    creator = personal_actor(session, read_video(video_id).user_id)
    videos.retry_video(session, services, actor=creator, video_id=video_id)
    assert read_video(video_id).job_id == f"render-{video_id}-2"
    [view] = admin_jobs.list_failed_jobs(session, services, actor_user_id=admin_id)
    assert not view.can_retry and "already retried" in view.retry_note
    with pytest.raises(ValidationError) as refused:
        admin_jobs.retry_failed_job(
            session, services, actor_user_id=admin_id, job_id=f"render-{video_id}-1"
        )
    assert "already retried" in refused.value.field_errors["job_id"]
    assert len(Queue("render", connection=services.queue.connection)) == 1
    assert _reserved(session, video_id) == (0, 1)
    assert read_video(video_id).job_id == f"render-{video_id}-2"
    assert _audit(session, "admin.failed_job_retried") == []


def test_two_admins_retrying_at_once_make_one_new_attempt(session, services, admin_id):
    video_id = _failed_render(session, services, "race@example.com")
    job_id = f"render-{video_id}-1"
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def retry() -> None:
        with Session(db_module.get_engine()) as own:
            barrier.wait()
            try:
                outcomes.append(
                    admin_jobs.retry_failed_job(
                        own, services, actor_user_id=admin_id, job_id=job_id
                    )
                )
            except (ValidationError, NotFoundError) as exc:
                outcomes.append(f"refused: {exc}")

    threads = [threading.Thread(target=retry) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(o.startswith("refused") for o in outcomes) == [False, True], outcomes
    assert len(Queue("render", connection=services.queue.connection)) == 1
    assert read_video(video_id).job_id == f"render-{video_id}-2"
    assert _reserved(session, video_id) == (0, 1)


def test_delete_removes_the_job_and_leaves_the_video_as_it_is(session, services, admin_id):
    video_id = _failed_render(session, services, "delete@example.com")
    job_id = f"render-{video_id}-1"
    said = admin_jobs.delete_failed_job(session, services, actor_user_id=admin_id, job_id=job_id)
    assert "was not changed" in said
    assert _registry(services, "render").get_job_ids() == []
    assert read_video(video_id).status == VideoStatus.FAILED
    [row] = _audit(session, "admin.failed_job_deleted")
    assert row.target_id == job_id and "is not available" in row.details["error"]
    with pytest.raises(NotFoundError):
        admin_jobs.delete_failed_job(session, services, actor_user_id=admin_id, job_id=job_id)


@pytest.mark.parametrize("forged", FORGED_IDS)
def test_forged_job_ids_get_a_message(session, services, admin_id, forged):
    for action in (
        admin_jobs.failed_job,
        admin_jobs.retry_failed_job,
        admin_jobs.delete_failed_job,
    ):
        with pytest.raises(ValidationError) as refused:
            action(session, services, actor_user_id=admin_id, job_id=forged)
        assert refused.value.field_errors == {"job_id": admin_jobs.NOT_A_JOB_ID}


def test_a_well_formed_id_that_is_not_a_failed_job_is_not_found(session, services, admin_id):
    Queue("render", connection=services.queue.connection).enqueue(
        "builtins.len", "ab", job_id="waiting-1"
    )
    for job_id in ("render-999-1", "waiting-1"):
        with pytest.raises(NotFoundError, match="not in the failed jobs"):
            admin_jobs.retry_failed_job(session, services, actor_user_id=admin_id, job_id=job_id)


def test_only_site_admins_reach_the_queues(session, services):
    video_id = _failed_render(session, services, "victim@example.com")
    creator_id = read_video(video_id).user_id
    job_id = f"render-{video_id}-1"
    calls: list[Callable[[], object]] = [
        lambda: admin_jobs.queues_overview(session, services, actor_user_id=creator_id),
        lambda: admin_jobs.list_failed_jobs(session, services, actor_user_id=creator_id),
        lambda: admin_jobs.failed_job(session, services, actor_user_id=creator_id, job_id=job_id),
        lambda: admin_jobs.retry_failed_job(
            session, services, actor_user_id=creator_id, job_id=job_id
        ),
        lambda: admin_jobs.delete_failed_job(
            session, services, actor_user_id=creator_id, job_id=job_id
        ),
    ]
    for call in calls:
        with pytest.raises(PermissionDeniedError):
            call()
    assert job_id in _registry(services, "render").get_job_ids()
    assert read_video(video_id).status == VideoStatus.FAILED


def test_the_overview_counts_every_queue_and_shows_live_workers(session, services, admin_id):
    connection = services.queue.connection
    Queue("render", connection=connection).enqueue("builtins.len", "abc")
    Queue("thumbnails", connection=connection).enqueue("builtins.len", None)
    SimpleWorker([Queue("thumbnails", connection=connection)], connection=connection).work(
        burst=True
    )
    worker = SimpleWorker([Queue("render", connection=connection)], connection=connection)
    worker.register_birth()
    try:
        overview = admin_jobs.queues_overview(session, services, actor_user_id=admin_id)
    finally:
        worker.register_death()
    counts = {q.name: (q.queued, q.failed) for q in overview.queues}
    assert counts["render"] == (1, 0) and counts["thumbnails"] == (0, 1)
    assert {"publish", "default"} <= set(counts)
    [live] = [w for w in overview.workers if w.name == worker.name]
    assert live.queues == ("render",) and live.pid > 0 and live.current_job_id == ""


def test_other_jobs_can_be_deleted_but_not_retried(session, services, admin_id):
    Queue("default", connection=services.queue.connection).enqueue(
        "builtins.len", None, job_id="misc-1"
    )
    _work(services)
    [view] = admin_jobs.list_failed_jobs(session, services, actor_user_id=admin_id)
    assert view.job.kind == "other" and "TypeError" in view.error_line and not view.can_retry
    with pytest.raises(ValidationError, match="Only render and publish"):
        admin_jobs.retry_failed_job(session, services, actor_user_id=admin_id, job_id="misc-1")


def test_a_failed_publish_job_retried_from_here_is_published_once(
    session, services, admin_id, platform, tmp_path
):
    owner = new_user(session, "poster@example.com")
    workspace_id = personal_workspace_id(session, owner.id)
    video = add_ready_video(
        session, services, workspace_id=workspace_id, user_id=owner.id, tmp_path=tmp_path
    )
    account = add_account(session, services, workspace_id=workspace_id, user_id=owner.id)
    platform.failures.append(RuntimeError("the platform client crashed"))
    [post] = posts.publish_video(
        session,
        services,
        actor=personal_actor(session, owner.id),
        video_id=video.id,
        requests=[PostRequest(account.id, options_of(privacy="unlisted"))],
    )
    _work(services)
    session.expire_all()
    stuck = session.get(Post, post.id)
    assert stuck.status == PostStatus.UPLOADING
    [view] = admin_jobs.list_failed_jobs(session, services, actor_user_id=admin_id)
    assert view.job.kind == "publish" and view.subject.startswith(f"post {post.id} to youtube")
    assert "the platform client crashed" in view.error_line and view.can_retry

    said = admin_jobs.retry_failed_job(
        session, services, actor_user_id=admin_id, job_id=stuck.job_id
    )
    assert "publish queue again" in said
    _work(services)
    session.expire_all()
    published = session.get(Post, post.id)
    assert published.status == PostStatus.PUBLISHED and published.attempts == 1
    assert len(platform.published) == 1
    assert _registry(services, "publish").get_job_ids() == []


def test_a_retry_over_the_workspaces_quota_is_refused_and_changes_nothing(
    session, services, admin_id
):
    video_id = _failed_render(session, services, "full@example.com")
    workspace_id = read_video(video_id).workspace_id
    summary = quotas.usage_summary(session, workspace_id=workspace_id)
    session.exec(
        sa.update(Usage)
        .where(Usage.workspace_id == workspace_id)
        .values(videos_used=summary.plan.videos_per_month)
    )
    session.commit()
    with pytest.raises(QuotaExceededError):
        admin_jobs.retry_failed_job(
            session, services, actor_user_id=admin_id, job_id=f"render-{video_id}-1"
        )
    session.rollback()
    assert read_video(video_id).status == VideoStatus.FAILED
    assert f"render-{video_id}-1" in _registry(services, "render").get_job_ids()
    assert len(Queue("render", connection=services.queue.connection)) == 0


def test_a_job_whose_data_cannot_be_read_is_listed_and_can_be_deleted(session, services, admin_id):
    connection = services.queue.connection
    job = Queue("default", connection=connection).enqueue("builtins.len", "x", job_id="odd-1")
    FailedJobRegistry("default", connection=connection).add(job, ttl=600, exc_string="boom")
    connection.hset(job.key, "data", b"not a pickle")
    [view] = admin_jobs.list_failed_jobs(session, services, actor_user_id=admin_id)
    assert (view.job.job_id, view.job.kind, view.can_retry) == ("odd-1", "other", False)
    admin_jobs.delete_failed_job(session, services, actor_user_id=admin_id, job_id="odd-1")
    assert _registry(services, "default").get_job_ids() == []
