"""A real ``worker.py publish`` process with the real YouTube and TikTok clients against their
local fakes.

The worker's own ticker dispatches, its work horse uploads. Killing the horse alone with
SIGKILL mid-upload (as the OOM killer would) must not give a second copy on the platform: the
dispatcher notices the dead job, the next horse resumes the same upload (YouTube: the session's
Range; TikTok: the publish_id's ``uploaded_bytes``, then the missing chunks in order), and the
post ends PUBLISHED with one video on the fake.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from tests.factories import new_user
from tests.fakes.tiktok_server import FakeTikTok
from tests.fakes.youtube_server import FakeYouTube
from tests.integrations.platform_support import click_allow
from tests.jobs.worker_support import FAST_SETTINGS, WorkerProcess, fast_settings, wait_for
from tests.publishing_support import add_account, add_ready_video, file_bytes, options_of
from viralshorts import db as db_module
from viralshorts.domain import posts
from viralshorts.domain.posts import PostRequest
from viralshorts.domain.workspaces import actor_for, personal_workspace_id
from viralshorts.integrations.services import build_services
from viralshorts.models import Post, PostStatus
from viralshorts.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.slow
SIZE = 10 * 1024 * 1024 + 12345  # two 8 MiB-chunk PUTs
BYTES_PER_SECOND = 3 * 1024 * 1024
REDIRECT = "http://localhost:3000/api/accounts/youtube/callback"
TIKTOK_SIZE = 25 * 1024 * 1024 + 321  # two chunks of the client's 10 MiB plan: 10 MiB + 15 MiB


class ThrottlingProxy:
    """Forwards TCP to ``target_port``, sending client→server bytes at a slow steady rate, so
    an upload to a local fake lasts long enough to be killed in the middle."""

    def __init__(self, target_port: int) -> None:
        self._target = target_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self._target))
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, dest: socket.socket, slow: bool) -> None:
        try:
            while data := source.recv(64 * 1024):
                dest.sendall(data)
                if slow:
                    time.sleep(len(data) / BYTES_PER_SECOND)
        except OSError:
            pass
        finally:
            for sock in (source, dest):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._listener.close()


class PublishWorker(WorkerProcess):
    """``python worker.py publish`` (its ticker dispatches due posts every second)."""

    def __init__(self, log_path: Path, media_root: Path, **env: str) -> None:
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "worker.py", "publish"],
            cwd=PROJECT_ROOT,
            env={**os.environ, **FAST_SETTINGS, "MEDIA_ROOT": str(media_root), **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@pytest.fixture()
def fake() -> Iterator[FakeYouTube]:
    with FakeYouTube() as server:
        yield server


@pytest.fixture()
def proxy(fake) -> Iterator[ThrottlingProxy]:
    port = int(fake.base_url.rsplit(":", 1)[1])
    throttle = ThrottlingProxy(port)
    yield throttle
    throttle.close()


def _overrides(fake: FakeYouTube, proxy: ThrottlingProxy) -> dict[str, str]:
    values = fake.settings_overrides()
    values["youtube_upload_base"] = f"http://127.0.0.1:{proxy.port}"
    return {**values, "platform_sandbox": "true", "publish_stale_seconds": "2"}


def _fresh(post_id: int) -> Post:
    with Session(db_module.get_engine()) as session:
        return session.get(Post, post_id)


def test_a_horse_killed_mid_upload_leaves_one_video_and_the_post_published(
    use_database, use_redis, tmp_path, fake, proxy
):
    overrides = _overrides(fake, proxy)
    base = fast_settings(tmp_path / "media").model_dump(include=set(Settings.model_fields))
    services = build_services(Settings(**{**base, **overrides}))
    services = dataclasses.replace(services, email=None)
    youtube = services.platforms["youtube"]
    url = youtube.authorize_url(redirect_uri=REDIRECT, state="s", code_verifier="v" * 64)
    tokens = youtube.exchange_code(
        code=click_allow(url)["code"], redirect_uri=REDIRECT, code_verifier="v" * 64
    )
    with Session(db_module.get_engine(), expire_on_commit=False) as session:
        user = new_user(session, "olga@example.com")
        actor = actor_for(
            session, user_id=user.id, workspace_id=personal_workspace_id(session, user.id)
        )
        account = add_account(
            session,
            services,
            workspace_id=actor.workspace_id,
            user_id=user.id,
            scopes=youtube.scopes,
        )
        account.access_token_enc = services.token_cipher.encrypt(tokens.access_token)
        account.refresh_token_enc = services.token_cipher.encrypt(tokens.refresh_token)
        session.add(account)
        session.commit()
        video = add_ready_video(
            session,
            services,
            workspace_id=actor.workspace_id,
            user_id=user.id,
            tmp_path=tmp_path,
            size=SIZE,
        )
        request = PostRequest(account.id, options_of(privacy="unlisted"))
        [post] = posts.publish_video(
            session, services, actor=actor, video_id=video.id, requests=[request]
        )
        expected = file_bytes(services, video)
    env = {key.upper(): value for key, value in overrides.items()}
    worker = PublishWorker(tmp_path / "worker.log", services.settings.media_root, **env)
    try:
        _kill_the_horse_mid_upload(worker, fake, post.id)
        done = wait_for(
            lambda: (
                (p := _fresh(post.id)).status in (PostStatus.PUBLISHED, PostStatus.FAILED) and p
            ),
            timeout=90,
            what="the post to end",
            worker=worker,
        )
    finally:
        worker.stop()
    assert done.status == PostStatus.PUBLISHED, (done.last_error, worker.log()[-3000:])
    assert done.attempts == 1, "the killed attempt counts once"
    assert len(fake.state.videos) == 1, "no second copy on YouTube"
    assert fake.requests_of("upload_init") == 1, "the retry resumed the same upload session"
    [session_state] = fake.state.sessions.values()
    assert session_state.received == len(expected)
    assert done.external_id == session_state.video_id
    assert done.external_url.endswith(done.external_id)


def _kill_the_horse_mid_upload(worker: PublishWorker, fake: FakeYouTube, post_id: int) -> None:
    def first_chunk_stored() -> bool:
        with fake.state.lock:
            return any(s.received >= 8 * 1024 * 1024 for s in fake.state.sessions.values())

    wait_for(first_chunk_stored, timeout=60, what="the first chunk on the fake", worker=worker)
    assert _fresh(post_id).checkpoint, "the upload session was saved before any byte"
    horse = wait_for(worker.horse, timeout=10, what="the work horse", worker=worker)
    os.kill(horse.pid, signal.SIGKILL)
    assert worker.proc.poll() is None, "only the horse was killed"


@pytest.fixture()
def tiktok() -> Iterator[FakeTikTok]:
    with FakeTikTok() as server:
        yield server


def _tiktok_services(tmp_path: Path, tiktok: FakeTikTok, proxy_port: int):
    """The test process's services; every TikTok call (the upload URL too, which TikTok builds
    from the Host it was asked on) goes through the slow proxy."""
    overrides = {
        **tiktok.settings_overrides(),
        "tiktok_api_base": f"http://127.0.0.1:{proxy_port}",
        "platform_sandbox": "true",
        "publish_stale_seconds": "2",
    }
    base = fast_settings(tmp_path / "media").model_dump(include=set(Settings.model_fields))
    services = build_services(Settings(**{**base, **overrides}))
    return dataclasses.replace(services, email=None), overrides


def _tiktok_post(services, tmp_path: Path) -> tuple[int, int]:
    """A TikTok account connected through the fake's consent page, and a post of a video."""
    client = services.platforms["tiktok"]
    url = client.authorize_url(redirect_uri=REDIRECT, state="s", code_verifier="v" * 64)
    tokens = client.exchange_code(
        code=click_allow(url)["code"], redirect_uri=REDIRECT, code_verifier="v" * 64
    )
    with Session(db_module.get_engine(), expire_on_commit=False) as session:
        user = new_user(session, "olga@example.com")
        actor = actor_for(
            session, user_id=user.id, workspace_id=personal_workspace_id(session, user.id)
        )
        account = add_account(
            session,
            services,
            workspace_id=actor.workspace_id,
            user_id=user.id,
            platform="tiktok",
            scopes=client.scopes,
        )
        account.access_token_enc = services.token_cipher.encrypt(tokens.access_token)
        account.refresh_token_enc = services.token_cipher.encrypt(tokens.refresh_token)
        session.add(account)
        session.commit()
        video = add_ready_video(
            session,
            services,
            workspace_id=actor.workspace_id,
            user_id=user.id,
            tmp_path=tmp_path,
            size=TIKTOK_SIZE,
        )
        options = {"description": "Three hearts.", "privacy": "SELF_ONLY"}
        [post] = posts.publish_video(
            session,
            services,
            actor=actor,
            video_id=video.id,
            requests=[PostRequest(account.id, options)],
        )
        return post.id, video.id


def test_a_horse_killed_mid_tiktok_upload_leaves_one_post_and_sends_only_the_rest(
    use_database, use_redis, tmp_path, tiktok
):
    throttle = ThrottlingProxy(int(tiktok.base_url.rsplit(":", 1)[1]))
    try:
        services, overrides = _tiktok_services(tmp_path, tiktok, throttle.port)
        post_id, _ = _tiktok_post(services, tmp_path)
        env = {key.upper(): value for key, value in overrides.items()}
        worker = PublishWorker(tmp_path / "worker.log", services.settings.media_root, **env)
        try:
            _kill_the_horse_after_the_first_tiktok_chunk(worker, tiktok, post_id)
            done = wait_for(
                lambda: (
                    (p := _fresh(post_id)).status in (PostStatus.PUBLISHED, PostStatus.FAILED) and p
                ),
                timeout=120,
                what="the post to end",
                worker=worker,
            )
        finally:
            worker.stop()
    finally:
        throttle.close()
    assert done.status == PostStatus.PUBLISHED, (done.last_error, worker.log()[-3000:])
    assert done.attempts == 1, "the killed attempt counts once"
    assert tiktok.requests_of("init") == 1, "the retry went on with the same publish_id"
    [(tiktok_post_id, upload)] = tiktok.state.posts.items()
    assert (upload.received, upload.chunks) == (TIKTOK_SIZE, 2)
    assert done.external_id == tiktok_post_id


def _kill_the_horse_after_the_first_tiktok_chunk(
    worker: PublishWorker, tiktok: FakeTikTok, post_id: int
) -> None:
    def first_chunk_stored() -> bool:
        with tiktok.state.lock:
            return any(u.chunks >= 1 for u in tiktok.state.uploads.values())

    wait_for(first_chunk_stored, timeout=60, what="the first chunk on the fake", worker=worker)
    assert _fresh(post_id).checkpoint.get("publish_id"), "the publish_id was saved before bytes"
    horse = wait_for(worker.horse, timeout=10, what="the work horse", worker=worker)
    os.kill(horse.pid, signal.SIGKILL)
    assert worker.proc.poll() is None, "only the horse was killed"
