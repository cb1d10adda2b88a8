"""The publish job with the real TikTok and Instagram clients against their local fakes.

As in ``test_publish_job.py``, a post is made through ``posts.publish_video`` (its pre-flight
asks the fake too), the dispatcher claims it and ``publishing.publish_post`` runs each job the
way the ``publish`` queue's work horse would; here the platform at the port is the real client
talking HTTP to ``tests/fakes/tiktok_server.py`` or ``instagram_server.py``. The Instagram fake
really fetches the ``video_url`` the job gives it: a signed URL under ``PUBLIC_BASE_URL``,
answered by the app's own media route (``web/media.py``) behind a small HTTP server.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select
from starlette.testclient import TestClient

from tests.factories import new_user
from tests.fakes.instagram_server import FakeInstagram
from tests.fakes.tiktok_server import FakeTikTok
from tests.integrations.platform_support import click_allow
from tests.publishing_support import RecordingQueue, add_account, add_ready_video, file_bytes
from viralshorts.domain import dispatcher, posts, publishing
from viralshorts.domain.posts import PostRequest
from viralshorts.domain.workspaces import Actor, actor_for, personal_workspace_id
from viralshorts.integrations.instagram import InstagramPlatform
from viralshorts.integrations.ports import Services
from viralshorts.integrations.services import build_services, use_services
from viralshorts.integrations.tiktok import MB, TikTokPlatform
from viralshorts.models import Notification, Post, PostStatus, SocialAccount, utcnow
from viralshorts.settings import Settings, get_settings
from viralshorts.web.routes import build_api

TIKTOK_SIZE = 11 * MB + 777  # two 5 MB chunks, the last absorbing the remainder
REDIRECT = "http://localhost:3000/api/connect/tiktok/callback"
VERIFIER = "v" * 64
TIKTOK_OPTIONS = {
    "description": "Three hearts, blue blood.",
    "hashtags": "octopus facts",
    "privacy": "PUBLIC_TO_EVERYONE",
}
REEL_OPTIONS = {"description": "Three hearts, blue blood.", "hashtags": "octopus facts"}


class MediaFront:
    """The web process's media route at ``PUBLIC_BASE_URL``: a real HTTP server handing each
    GET to the app's Starlette routes (``build_api``), so the fake fetches what Meta would."""

    def __init__(self) -> None:
        client, lock = TestClient(build_api()), threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                return

            def do_GET(self) -> None:
                with lock:
                    answer = client.get(self.path)
                self.send_response(answer.status_code)
                self.send_header("Content-Type", answer.headers.get("content-type", ""))
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture()
def tiktok_fake() -> Iterator[FakeTikTok]:
    with FakeTikTok() as fake:
        yield fake


@pytest.fixture()
def instagram_fake() -> Iterator[FakeInstagram]:
    with FakeInstagram() as fake:
        yield fake


@pytest.fixture()
def media_front() -> Iterator[MediaFront]:
    front = MediaFront()
    yield front
    front.close()


@pytest.fixture()
def queue() -> RecordingQueue:
    return RecordingQueue()


@pytest.fixture()
def services(
    use_database, use_redis, tiktok_fake, instagram_fake, media_front, queue
) -> Iterator[Services]:
    overrides = {
        **tiktok_fake.settings_overrides(),
        **instagram_fake.settings_overrides(),
        "public_base_url": media_front.base_url,
        "publish_retry_intervals": "30,120",
        "platform_sandbox": True,
    }
    current = get_settings().model_dump(include=set(Settings.model_fields))
    settings = Settings(**{**current, **overrides})
    tiktok = TikTokPlatform(
        settings,
        sandbox=True,
        chunk_bytes=5 * MB,
        poll_interval_seconds=0.05,
        max_wait_seconds=1.0,
        retry_delay_seconds=0,
    )
    instagram = InstagramPlatform(settings, sandbox=True, poll_interval=0.05, max_polls=60)
    built = dataclasses.replace(
        build_services(settings),
        platforms={"tiktok": tiktok, "instagram": instagram},
        queue=queue,
        email=None,
    )
    use_services(built)  # what the media route serves from
    yield built
    use_services(None)


@pytest.fixture()
def owner(session: Session) -> Actor:
    user = new_user(session, "olga@example.com", display_name="Olga")
    return actor_for(session, user_id=user.id, workspace_id=personal_workspace_id(session, user.id))


def _tiktok_account(session: Session, services: Services, owner: Actor) -> SocialAccount:
    """A TikTok account connected through the fake's consent page."""
    client = services.platforms["tiktok"]
    url = client.authorize_url(redirect_uri=REDIRECT, state="s", code_verifier=VERIFIER)
    tokens = client.exchange_code(
        code=click_allow(url)["code"], redirect_uri=REDIRECT, code_verifier=VERIFIER
    )
    account = add_account(
        session,
        services,
        workspace_id=owner.workspace_id,
        user_id=owner.user_id,
        platform="tiktok",
        scopes=client.scopes,
    )
    account.access_token_enc = services.token_cipher.encrypt(tokens.access_token)
    account.refresh_token_enc = services.token_cipher.encrypt(tokens.refresh_token)
    account.token_expires_at = tokens.expires_at
    session.add(account)
    session.commit()
    return account


def _instagram_account(
    session: Session, services: Services, owner: Actor, fake: FakeInstagram
) -> SocialAccount:
    """An Instagram account as connecting leaves it: a long-lived token and the IG user id."""
    client = services.platforms["instagram"]
    account = add_account(
        session,
        services,
        workspace_id=owner.workspace_id,
        user_id=owner.user_id,
        platform="instagram",
        scopes=client.scopes,
    )
    account.access_token_enc = services.token_cipher.encrypt(fake.long_lived_token())
    account.refresh_token_enc = ""
    account.profile_extra = {"ig_user_id": fake.state.ig_user_id, "page_id": fake.state.page_id}
    session.add(account)
    session.commit()
    return account


def _video(session: Session, services: Services, owner: Actor, tmp_path, size: int = 300_000):
    return add_ready_video(
        session,
        services,
        workspace_id=owner.workspace_id,
        user_id=owner.user_id,
        tmp_path=tmp_path,
        size=size,
    )


def _publish_now(session, services, owner, video, account, options: dict[str, Any]) -> Post:
    request = PostRequest(account.id, dict(options))
    [post] = posts.publish_video(
        session, services, actor=owner, video_id=video.id, requests=[request], when_local=""
    )
    return post


def _run_jobs(services: Services, queue: RecordingQueue) -> list[str]:
    """Run every job enqueued since the last call, as a work horse would."""
    pending, queue.enqueued[:] = list(queue.enqueued), []
    return [
        publishing.publish_post(services, post_id=post_id, job_id=job_id)
        for post_id, job_id in pending
    ]


def _tick(session, services, queue, *, minutes: float) -> list[str]:
    dispatcher.dispatch_due(session, services, now=utcnow() + timedelta(minutes=minutes))
    return _run_jobs(services, queue)


def _fresh(session: Session, post_id: int) -> Post:
    session.expire_all()
    return session.get(Post, post_id)


def _tiktok_post(session, services, owner, tmp_path) -> tuple[Post, bytes]:
    video = _video(session, services, owner, tmp_path, size=TIKTOK_SIZE)
    account = _tiktok_account(session, services, owner)
    post = _publish_now(session, services, owner, video, account, TIKTOK_OPTIONS)
    return post, file_bytes(services, video)


# ---------------------------------------------------------------- TikTok


def test_tiktok_publish_now_ends_published_with_the_post_id_and_its_page(
    session, services, queue, tiktok_fake, owner, tmp_path
):
    post, data = _tiktok_post(session, services, owner, tmp_path)
    assert _run_jobs(services, queue) == ["published"]
    done = _fresh(session, post.id)
    [(post_id, upload)] = tiktok_fake.state.posts.items()
    assert (done.status, done.external_id, done.attempts) == (PostStatus.PUBLISHED, post_id, 0)
    assert done.external_url == f"{tiktok_fake.base_url}/@sandbox.creator/video/{post_id}"
    assert httpx.get(done.external_url).status_code == 200  # the link leads to the video
    assert (upload.received, upload.chunks) == (len(data), 2)
    assert upload.post_info["title"] == "Three hearts, blue blood. #octopus #facts"
    assert upload.post_info["privacy_level"] == "PUBLIC_TO_EVERYONE"
    assert session.exec(select(Notification.kind)).all() == ["post_published"]


def test_tiktok_still_processing_is_polled_later_without_a_second_upload(
    session, services, queue, tiktok_fake, owner, tmp_path
):
    tiktok_fake.state.processing_seconds = 3600  # longer than the client waits in one job
    post, _ = _tiktok_post(session, services, owner, tmp_path)
    assert _run_jobs(services, queue) == ["processing"]
    processing = _fresh(session, post.id)
    [publish_id] = tiktok_fake.state.uploads
    assert (processing.status, processing.external_id) == (PostStatus.PROCESSING, publish_id)
    assert processing.checkpoint["publish_id"] == publish_id
    assert _tick(session, services, queue, minutes=0) == []  # asked again only after a while
    tiktok_fake.state.processing_seconds = 0
    assert _tick(session, services, queue, minutes=1) == ["published"]
    done = _fresh(session, post.id)
    assert done.status == PostStatus.PUBLISHED and done.external_id in tiktok_fake.state.posts
    assert (tiktok_fake.requests_of("init"), tiktok_fake.requests_of("upload_chunk")) == (1, 2)


def test_a_tiktok_publish_that_ends_failed_fails_with_tiktoks_reason(
    session, services, queue, tiktok_fake, owner, tmp_path
):
    tiktok_fake.fail_next("status", "failed")
    post, _ = _tiktok_post(session, services, owner, tmp_path)
    assert _run_jobs(services, queue) == ["failed"]
    failed = _fresh(session, post.id)
    assert (failed.status, failed.attempts) == (PostStatus.FAILED, 1)
    assert failed.last_error == "TikTok could not publish the video: file_format_check_failed."
    assert _tick(session, services, queue, minutes=60) == []
    assert tiktok_fake.state.posts == {}
    assert session.exec(select(Notification.kind)).all() == ["post_failed"]


def test_a_tiktok_429_waits_its_retry_after_without_burning_an_attempt(
    session, services, queue, tiktok_fake, owner, tmp_path
):
    tiktok_fake.fail_next("init", "429")  # Retry-After: 3
    post, _ = _tiktok_post(session, services, owner, tmp_path)
    before = utcnow()
    assert _run_jobs(services, queue) == ["rate_limited"]
    waiting = _fresh(session, post.id)
    assert (waiting.status, waiting.attempts) == (PostStatus.SCHEDULED, 0)
    wait = timedelta(seconds=3)
    assert before + wait <= waiting.next_attempt_at <= utcnow() + wait
    assert _tick(session, services, queue, minutes=1) == ["published"]
    assert _fresh(session, post.id).attempts == 0
    assert len(tiktok_fake.state.posts) == 1


def test_a_rotated_tiktok_refresh_token_is_stored_before_the_attempt_fails(
    session, services, queue, tiktok_fake, owner, tmp_path
):
    post, _ = _tiktok_post(session, services, owner, tmp_path)
    [grant] = tiktok_fake.state.grants
    first_refresh = grant.refresh_token
    # The access token expires on TikTok's side; the refresh that follows rotates the refresh
    # token, and the attempt then dies on a 500 before anything is uploaded.
    tiktok_fake.fail_next("creator_info", "expired")
    tiktok_fake.fail_next("init", "500")
    assert _run_jobs(services, queue) == ["retrying"]
    assert grant.refresh_token != first_refresh  # TikTok rotated it ...
    session.expire_all()
    account = session.get(SocialAccount, post.social_account_id)
    stored = services.token_cipher.decrypt(account.refresh_token_enc)
    assert stored == grant.refresh_token  # ... and we kept the new one
    assert _fresh(session, post.id).attempts == 1
    assert _tick(session, services, queue, minutes=1) == ["published"]  # with the new tokens


# ---------------------------------------------------------------- Instagram


def test_instagram_publish_now_hands_meta_a_signed_url_under_public_base_url(
    session, services, queue, instagram_fake, media_front, owner, tmp_path
):
    video = _video(session, services, owner, tmp_path)
    account = _instagram_account(session, services, owner, instagram_fake)
    post = _publish_now(session, services, owner, video, account, REEL_OPTIONS)
    assert _run_jobs(services, queue) == ["published"]
    [container] = instagram_fake.state.containers.values()
    assert container.video_url.startswith(f"{media_front.base_url}/api/media/")
    assert "sig=" in container.video_url and "exp=" in container.video_url
    assert bytes(container.received) == file_bytes(services, video)  # fetched through our route
    assert instagram_fake.count("POST", "/media") == 1  # a video_url container, no rupload
    done = _fresh(session, post.id)
    [media] = instagram_fake.state.media.values()
    assert (done.status, done.external_id) == (PostStatus.PUBLISHED, media.media_id)
    assert done.external_url == f"{instagram_fake.base_url}/reel/{media.shortcode}/"
    assert media.caption == "Three hearts, blue blood.\n\n#octopus #facts"
    assert httpx.get(done.external_url).status_code == 200


def test_instagram_gets_the_file_uploaded_when_it_could_not_fetch_our_url(
    session, services, queue, instagram_fake, owner, tmp_path
):
    # A site on localhost (the default PUBLIC_BASE_URL) is not reachable from Meta: the job
    # sends the file with the resumable upload instead of a video_url Meta would fail to fetch.
    settings = services.settings.model_copy(
        update={"platform_sandbox": False, "public_base_url": "http://localhost:3000"}
    )
    local = dataclasses.replace(services, settings=settings)
    video = _video(session, local, owner, tmp_path)
    account = _instagram_account(session, local, owner, instagram_fake)
    post = _publish_now(session, local, owner, video, account, REEL_OPTIONS)
    assert _run_jobs(local, queue) == ["published"]
    [container] = instagram_fake.state.containers.values()
    assert container.video_url == ""
    assert bytes(container.received) == file_bytes(local, video)  # sent by us, once
    assert _fresh(session, post.id).status == PostStatus.PUBLISHED


@pytest.mark.parametrize(
    ("base", "reachable"),
    [
        ("http://localhost:3000", False),
        ("http://127.0.0.1:3000", False),
        ("http://192.168.1.20", False),
        ("http://web:3000", False),
        ("https://shorts.example.com", True),
    ],
)
def test_a_video_url_is_offered_only_where_meta_can_fetch_it(
    services, owner, session, tmp_path, base, reachable
):
    settings = services.settings.model_copy(
        update={"platform_sandbox": False, "public_base_url": base}
    )
    local = dataclasses.replace(services, settings=settings)
    video = _video(session, local, owner, tmp_path)
    url = publishing.video_source(local, video, "instagram").public_url
    assert url.startswith(f"{base}/api/media/") if reachable else url == ""


def test_a_tampered_video_url_is_refused_by_the_media_route(
    services, media_front, owner, session, tmp_path
):
    video = _video(session, services, owner, tmp_path)
    url = publishing.video_source(services, video, "instagram").public_url
    assert httpx.get(url).content == file_bytes(services, video)
    assert httpx.get(url.replace("sig=", "sig=0")).status_code == 403


def test_an_instagram_container_error_fails_the_post_with_metas_status(
    session, services, queue, instagram_fake, owner, tmp_path
):
    instagram_fake.fault("container_error")
    video = _video(session, services, owner, tmp_path)
    account = _instagram_account(session, services, owner, instagram_fake)
    post = _publish_now(session, services, owner, video, account, REEL_OPTIONS)
    assert _run_jobs(services, queue) == ["failed"]
    failed = _fresh(session, post.id)
    assert (failed.status, failed.attempts) == (PostStatus.FAILED, 1)
    assert (
        failed.last_error == "Instagram could not process the video: 2207053: unknown upload error"
    )
    assert failed.checkpoint == {}  # a retry by hand would make a new container
    assert instagram_fake.state.media == {}
    assert session.exec(select(Notification.kind)).all() == ["post_failed"]


def test_an_instagram_rate_limit_waits_without_burning_an_attempt(
    session, services, queue, instagram_fake, owner, tmp_path
):
    instagram_fake.fault("rate_limit")  # code 17 on the container call
    video = _video(session, services, owner, tmp_path)
    account = _instagram_account(session, services, owner, instagram_fake)
    post = _publish_now(session, services, owner, video, account, REEL_OPTIONS)
    before = utcnow()
    assert _run_jobs(services, queue) == ["rate_limited"]
    waiting = _fresh(session, post.id)
    assert (waiting.status, waiting.attempts) == (PostStatus.SCHEDULED, 0)
    wait = timedelta(seconds=60)  # no Retry-After: Meta's usual minute
    assert before + wait <= waiting.next_attempt_at <= utcnow() + wait
    assert _tick(session, services, queue, minutes=0.5) == []
    assert _tick(session, services, queue, minutes=2) == ["published"]
    assert (_fresh(session, post.id).attempts, len(instagram_fake.state.media)) == (0, 1)
