"""The publish job on real PostgreSQL and Redis, with an in-memory platform at the port.

Each test goes the way production goes: a post is made through ``posts.publish_video``, the
dispatcher claims it and enqueues a job id, and ``publishing.publish_post`` runs that job (what
the ``publish`` queue's work horse calls). The real clients against their local fakes, and a
real worker killed mid-upload, are in ``test_publish_worker.py``.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from tests.factories import new_user
from tests.publishing_support import (
    MemoryPlatform,
    RecordingQueue,
    add_account,
    add_ready_video,
    file_bytes,
    options_of,
)
from viralshorts.domain import dispatcher, posts, publishing
from viralshorts.domain.post_times import local_text
from viralshorts.domain.posts import PostRequest
from viralshorts.domain.workspaces import actor_for, personal_workspace_id
from viralshorts.errors import PlatformAuthError, PlatformError, PlatformRateLimitedError
from viralshorts.integrations.ports import Services
from viralshorts.integrations.services import build_services
from viralshorts.models import AccountHealth, Notification, Post, PostStatus, SocialAccount, utcnow
from viralshorts.settings import get_settings


@pytest.fixture()
def platform() -> MemoryPlatform:
    return MemoryPlatform(name="youtube")


@pytest.fixture()
def queue() -> RecordingQueue:
    return RecordingQueue()


@pytest.fixture()
def services(use_database, use_redis, platform, queue) -> Services:
    settings = get_settings().model_copy(update={"publish_retry_intervals": "30,120"})
    built = build_services(settings)
    return dataclasses.replace(built, platforms={"youtube": platform}, queue=queue, email=None)


@pytest.fixture()
def owner(session: Session):
    user = new_user(session, "olga@example.com", display_name="Olga")
    return actor_for(session, user_id=user.id, workspace_id=personal_workspace_id(session, user.id))


@pytest.fixture()
def video(session, services, owner, tmp_path):
    return add_ready_video(
        session, services, workspace_id=owner.workspace_id, user_id=owner.user_id, tmp_path=tmp_path
    )


@pytest.fixture()
def account(session, services, owner):
    return add_account(
        session, services, workspace_id=owner.workspace_id, user_id=owner.user_id, name="Channel"
    )


def _post(session, services, owner, video, account, when=""):
    request = PostRequest(account.id, options_of(privacy="unlisted"))
    [post] = posts.publish_video(
        session, services, actor=owner, video_id=video.id, requests=[request], when_local=when
    )
    return post


def _run_jobs(services: Services, queue: RecordingQueue) -> list[str]:
    """Run every job enqueued since the last call, as a work horse would."""
    pending, queue.enqueued[:] = list(queue.enqueued), []
    return [
        publishing.publish_post(services, post_id=post_id, job_id=job_id)
        for post_id, job_id in pending
    ]


def _tick(session, services, queue, *, minutes: float = 0) -> list[str]:
    dispatcher.dispatch_due(session, services, now=utcnow() + timedelta(minutes=minutes))
    return _run_jobs(services, queue)


def _fresh(session: Session, post_id: int) -> Post:
    session.expire_all()
    return session.get(Post, post_id)


def test_publish_now_goes_on_the_queue_at_once_and_ends_published(
    session, services, queue, platform, owner, video, account
):
    post = _post(session, services, owner, video, account)
    assert [job for _, job in queue.enqueued] == [f"publish-{post.idempotency_key}-1"]
    assert _run_jobs(services, queue) == ["published"]
    post = _fresh(session, post.id)
    assert post.status == PostStatus.PUBLISHED
    assert (post.external_id, post.external_url) == (
        platform.published[0],
        f"https://youtube.example/{platform.published[0]}",
    )
    assert platform.uploads[post.external_id] == file_bytes(services, video)  # streamed whole
    kinds = session.exec(select(Notification.kind)).all()
    assert kinds == ["post_published"]


def test_a_scheduled_post_is_published_by_the_dispatcher_when_due(
    session, services, queue, platform, owner, video, account
):
    when = local_text(utcnow() + timedelta(hours=3), "UTC")
    post = _post(session, services, owner, video, account, when=when)
    assert _tick(session, services, queue) == []  # not due yet
    assert _tick(session, services, queue, minutes=181) == ["published"]
    assert _fresh(session, post.id).status == PostStatus.PUBLISHED
    assert _tick(session, services, queue, minutes=200) == []  # once
    assert len(platform.published) == 1


def test_a_401_refreshes_the_tokens_once_and_retries(
    session, services, queue, platform, owner, video, account
):
    platform.valid_token = "a-token-we-do-not-have-yet"  # the stored one has expired
    post = _post(session, services, owner, video, account)
    assert _run_jobs(services, queue) == ["published"]
    assert len(platform.tokens_seen) == 2
    assert platform.tokens_seen[1] == platform.valid_token
    stored = services.token_cipher.decrypt(_fresh_account(session, account.id).access_token_enc)
    assert stored == platform.valid_token  # kept for the next post
    assert _fresh(session, post.id).attempts == 0


def _fresh_account(session: Session, account_id: int) -> SocialAccount:
    session.expire_all()
    return session.get(SocialAccount, account_id)


def test_a_429_waits_the_platforms_delay_without_burning_an_attempt(
    session, services, queue, platform, owner, video, account
):
    platform.failures = [PlatformRateLimitedError("Too many requests", retry_after_seconds=90)]
    post = _post(session, services, owner, video, account)
    assert _run_jobs(services, queue) == ["rate_limited"]
    waiting = _fresh(session, post.id)
    assert (waiting.status, waiting.attempts) == (PostStatus.SCHEDULED, 0)
    assert timedelta(seconds=80) < waiting.next_attempt_at - utcnow() <= timedelta(seconds=90)
    assert _tick(session, services, queue, minutes=1) == []  # still waiting
    assert _tick(session, services, queue, minutes=2) == ["published"]
    assert _fresh(session, post.id).attempts == 0


def test_three_5xx_back_off_then_fail_with_the_platforms_message(
    session, services, queue, platform, owner, video, account
):
    platform.failures = [PlatformError("Backend Error", retryable=True) for _ in range(3)]
    post = _post(session, services, owner, video, account)
    assert _run_jobs(services, queue) == ["retrying"]
    first = _fresh(session, post.id)
    assert (first.status, first.attempts, first.last_error) == (
        PostStatus.SCHEDULED,
        1,
        "Backend Error",
    )
    assert timedelta(seconds=25) < first.next_attempt_at - utcnow() <= timedelta(seconds=30)
    assert _tick(session, services, queue, minutes=1) == ["retrying"]
    assert _tick(session, services, queue, minutes=5) == ["failed"]
    failed = _fresh(session, post.id)
    assert (failed.status, failed.attempts, failed.last_error) == (
        PostStatus.FAILED,
        3,
        "Backend Error",
    )
    assert _tick(session, services, queue, minutes=60) == []
    assert platform.published == []
    assert session.exec(select(Notification.kind)).all() == ["post_failed"]


def test_a_refusal_fails_at_once(session, services, queue, platform, owner, video, account):
    platform.failures = [PlatformError("The title is invalid (invalidTitle).", retryable=False)]
    post = _post(session, services, owner, video, account)
    assert _run_jobs(services, queue) == ["failed"]
    failed = _fresh(session, post.id)
    assert (failed.status, failed.attempts) == (PostStatus.FAILED, 1)
    assert failed.last_error == "The title is invalid (invalidTitle)."


def test_still_processing_is_asked_again_later_without_a_second_upload(
    session, services, queue, platform, owner, video, account
):
    platform.processing_polls = 1
    post = _post(session, services, owner, video, account)
    assert _run_jobs(services, queue) == ["processing"]
    processing = _fresh(session, post.id)
    assert processing.status == PostStatus.PROCESSING
    assert processing.external_id == processing.checkpoint["upload_id"]
    assert _tick(session, services, queue, minutes=1) == ["published"]
    assert len(platform.uploads) == 1 and len(platform.published) == 1


def test_a_retry_resumes_the_upload_from_its_checkpoint(
    session, services, queue, platform, owner, video, account
):
    _post(session, services, owner, video, account)
    [(post_id, job_id)] = queue.enqueued
    queue.enqueued.clear()
    # The first attempt had saved its upload id and sent part of the file when it died.
    assert publishing.post_outcomes.start(post_id, job_id)
    platform.uploads["up-resumed"] = file_bytes(services, video)[:100_000]
    assert publishing.post_outcomes.save_checkpoint(post_id, job_id, {"upload_id": "up-resumed"})
    queue.dead.add(job_id)
    later = utcnow() + timedelta(seconds=services.settings.publish_stale_seconds + 5)
    assert dispatcher.dispatch_due(session, services, now=later) == [post_id]
    assert _run_jobs(services, queue) == ["published"]
    assert platform.published == ["up-resumed"]
    assert platform.uploads["up-resumed"] == file_bytes(services, video)
    assert _fresh(session, post_id).attempts == 1


def test_an_account_that_needs_reconnect_pauses_only_its_posts_until_reconnected(
    session, services, queue, platform, owner, video, account
):
    other = add_account(session, services, workspace_id=owner.workspace_id,
                        user_id=owner.user_id, name="Second")  # fmt: skip
    when = local_text(utcnow() + timedelta(minutes=30), "UTC")
    first = _post(session, services, owner, video, account, when=when)
    second = _post(session, services, owner, video, other, when=when)
    platform.valid_token = "only-a-reconnect-gets-this"

    def refused(_tokens):
        raise PlatformAuthError("invalid_grant: Token has been expired or revoked.")

    platform.refresh = refused  # both accounts' refresh tokens are dead ...
    assert _tick(session, services, queue, minutes=31) == ["paused", "paused"]
    assert _fresh_account(session, account.id).health == AccountHealth.NEEDS_RECONNECT
    paused = _fresh(session, first.id)
    assert paused.status == PostStatus.SCHEDULED
    assert paused.paused_reason.startswith("The account needs reconnecting")
    # ... the second account is reconnected at once: only its post goes out.
    _reconnect(session, services, other.id, platform.valid_token)
    assert _tick(session, services, queue, minutes=32) == ["published"]
    assert _fresh(session, second.id).status == PostStatus.PUBLISHED
    assert _fresh(session, first.id).status == PostStatus.SCHEDULED
    _reconnect(session, services, account.id, platform.valid_token)
    assert _tick(session, services, queue, minutes=33) == ["published"]
    resumed = _fresh(session, first.id)
    assert (resumed.status, resumed.paused_reason, resumed.attempts) == (
        PostStatus.PUBLISHED,
        "",
        0,
    )


def _reconnect(session: Session, services: Services, account_id: int, access_token: str) -> None:
    """What finishing the OAuth flow again leaves on the row."""
    account = _fresh_account(session, account_id)
    account.access_token_enc = services.token_cipher.encrypt(access_token)
    account.health, account.health_message = AccountHealth.OK, ""
    session.add(account)
    session.commit()


def test_a_cancelled_post_is_not_published_by_its_queued_job(
    session, services, queue, platform, owner, video, account
):
    post = _post(session, services, owner, video, account)
    posts.cancel(session, services, actor=owner, post_id=post.id)
    assert _run_jobs(services, queue) == ["skipped"]
    assert platform.published == []
