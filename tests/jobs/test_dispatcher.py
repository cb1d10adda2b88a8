"""The due-post dispatcher: each due post claimed and enqueued exactly once, on real PostgreSQL
(two dispatchers racing, ``FOR UPDATE SKIP LOCKED``) and on SQLite (the conditional UPDATE)."""

from __future__ import annotations

import dataclasses
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.config import Config
from rq import Queue
from sqlmodel import Session, select

from alembic import command
from tests.factories import new_user
from tests.publishing_support import RecordingQueue, add_account, add_ready_video
from viralshorts import db as db_module
from viralshorts.domain import dispatcher
from viralshorts.domain.workspaces import personal_workspace_id
from viralshorts.integrations.ports import Services
from viralshorts.integrations.services import build_services
from viralshorts.models import AccountHealth, Post, PostStatus, utcnow
from viralshorts.settings import PROJECT_ROOT, get_settings


@pytest.fixture()
def queue() -> RecordingQueue:
    return RecordingQueue()


@pytest.fixture()
def services(use_redis, queue) -> Services:
    return dataclasses.replace(build_services(get_settings()), queue=queue, email=None)


def _due_posts(session: Session, services: Services, tmp_path: Path, count: int, **account_kw):
    user = new_user(session, f"u{count}-{len(account_kw)}@example.com")
    workspace_id = personal_workspace_id(session, user.id)
    account = add_account(
        session, services, workspace_id=workspace_id, user_id=user.id, **account_kw
    )
    video = add_ready_video(
        session, services, workspace_id=workspace_id, user_id=user.id, tmp_path=tmp_path
    )
    past = utcnow() - timedelta(minutes=1)
    posts = [
        Post(video_id=video.id, social_account_id=account.id, scheduled_at=past,
             idempotency_key=f"key-{account.id}-{i}")
        for i in range(count)
    ]  # fmt: skip
    session.add_all(posts)
    session.commit()
    return account, [p.id for p in posts]


def _race(engine, services: Services, rounds: int = 3) -> list[list[int]]:
    """Two dispatchers (own connections) start together and tick ``rounds`` times each."""
    barrier = threading.Barrier(2)
    results: list[list[int]] = [[], []]
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            for _ in range(rounds):
                with Session(engine, expire_on_commit=False) as session:
                    results[index] += dispatcher.dispatch_due(session, services)
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def test_two_dispatchers_racing_on_postgresql_claim_each_post_once(
    session, services, queue, tmp_path
):
    services = dataclasses.replace(
        services, settings=services.settings.model_copy(update={"publish_dispatch_batch": 7})
    )
    _, ids = _due_posts(session, services, tmp_path, 40)
    first, second = _race(db_module.get_engine(), services, rounds=6)
    assert sorted(first + second) == sorted(ids)
    assert first and second, "SKIP LOCKED lets both dispatchers work at once"
    assert sorted(post_id for post_id, _ in queue.enqueued) == sorted(ids)
    rows = session.exec(select(Post).where(Post.id.in_(ids))).all()
    assert {p.status for p in rows} == {PostStatus.QUEUED}
    assert {p.job_id for p in rows} == {f"publish-{p.idempotency_key}-1" for p in rows}


def test_sqlite_conditional_claim_takes_each_post_once(tmp_path, services, queue, monkeypatch):
    url = f"sqlite:///{tmp_path / 'dispatch.db'}"
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    db_module.reset_engines()
    try:
        engine = db_module.get_engine()
        with Session(engine, expire_on_commit=False) as session:
            _, ids = _due_posts(session, services, tmp_path, 12)
        first, second = _race(engine, services, rounds=4)
    finally:
        db_module.reset_engines()
        get_settings.cache_clear()
    assert sorted(first + second) == sorted(ids)
    assert len(queue.enqueued) == len(ids)


def test_the_claim_itself_refuses_a_post_another_dispatcher_moved(session, services, tmp_path):
    _, [post_id] = _due_posts(session, services, tmp_path, 1)
    assert dispatcher._claim_one(session, post_id, 0, "publish-a-1")
    assert not dispatcher._claim_one(session, post_id, 0, "publish-a-1")  # claims is 1 now
    session.commit()


def test_posts_of_an_unhealthy_account_wait_and_others_go(session, services, queue, tmp_path):
    sick, sick_ids = _due_posts(session, services, tmp_path, 2, platform="tiktok")
    _, healthy_ids = _due_posts(session, services, tmp_path, 1, platform="instagram")
    sick.health = AccountHealth.NEEDS_RECONNECT
    session.add(sick)
    session.commit()
    assert dispatcher.dispatch_due(session, services) == healthy_ids
    sick.health = AccountHealth.OK  # reconnected
    session.add(sick)
    session.commit()
    assert sorted(dispatcher.dispatch_due(session, services)) == sorted(sick_ids)


def test_future_posts_and_retries_wait_for_their_time(session, services, queue, tmp_path):
    _, [now_id, later_id] = _due_posts(session, services, tmp_path, 2)
    later = session.get(Post, later_id)
    later.next_attempt_at = utcnow() + timedelta(minutes=5)  # a back-off in progress
    session.add(later)
    session.commit()
    assert dispatcher.dispatch_due(session, services) == [now_id]
    assert dispatcher.dispatch_due(session, services, now=utcnow() + timedelta(minutes=6)) == [
        later_id
    ]


def test_an_unreachable_queue_leaves_the_posts_due_for_the_next_tick(
    session, services, queue, tmp_path
):
    _, ids = _due_posts(session, services, tmp_path, 3)
    queue.down = True
    assert dispatcher.dispatch_due(session, services) == []
    session.expire_all()
    assert {session.get(Post, i).status for i in ids} == {PostStatus.SCHEDULED}
    queue.down = False
    assert sorted(dispatcher.dispatch_due(session, services)) == sorted(ids)
    assert all(job.endswith("-2") for _, job in queue.enqueued), "a new claim, a new job id"


def test_a_post_whose_job_died_mid_upload_is_due_again_with_its_checkpoint(
    session, services, queue, tmp_path
):
    services = dataclasses.replace(
        services, settings=services.settings.model_copy(update={"publish_stale_seconds": 1})
    )
    _, [post_id] = _due_posts(session, services, tmp_path, 1)
    [claimed] = dispatcher.dispatch_due(session, services)
    post = session.get(Post, claimed)
    post.status, post.checkpoint = PostStatus.UPLOADING, {"upload_id": "up-7"}
    session.add(post)
    session.commit()
    later = utcnow() + timedelta(seconds=5)
    assert dispatcher.dispatch_due(session, services, now=later) == []  # its worker lives
    queue.dead.add(post.job_id)
    assert dispatcher.dispatch_due(session, services) == []  # not silent long enough yet
    assert dispatcher.dispatch_due(session, services, now=later) == [post_id]
    session.expire_all()
    post = session.get(Post, post_id)
    assert (post.status, post.attempts, post.claims) == (PostStatus.QUEUED, 1, 2)
    assert post.checkpoint == {"upload_id": "up-7"}


def test_the_real_queue_gets_one_job_per_claim(session, use_redis, tmp_path):
    services = dataclasses.replace(build_services(get_settings()), email=None)
    _, ids = _due_posts(session, services, tmp_path, 2)
    assert sorted(dispatcher.dispatch_due(session, services)) == sorted(ids)
    publish = Queue("publish", connection=services.queue.connection)
    jobs = {job.id: job for job in publish.get_jobs()}
    keys = {session.get(Post, i).idempotency_key for i in ids}
    assert set(jobs) == {f"publish-{key}-1" for key in keys}
    assert all(job.func_name == "viralshorts.jobs.publishing.publish_post" for job in jobs.values())
