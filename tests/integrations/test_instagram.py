"""InstagramPlatform, the real client, against the local fake of Facebook Login + the Graph API."""

from __future__ import annotations

import functools
import os
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from tests.fakes.instagram_server import APP_ID, FakeInstagram, InstagramState
from tests.integrations.platform_support import Checkpoints, Clock
from viralshorts.errors import PlatformAuthError, PlatformError, PlatformRateLimitedError
from viralshorts.integrations.instagram import InstagramPlatform, caption_of, graph_error
from viralshorts.integrations.ports import (
    PlatformTokens,
    PostOptions,
    PublishingPlatform,
    VideoSource,
)
from viralshorts.settings import Settings

REDIRECT = "http://localhost:3000/api/accounts/callback/instagram"
OPTIONS = PostOptions(description="Three facts about owls", hashtags=("owls", "#nature"))


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def fake(clock: Clock) -> Iterator[FakeInstagram]:
    with FakeInstagram(state=InstagramState(clock=clock)) as server:
        yield server


@pytest.fixture()
def sleeps() -> list[float]:
    return []


@pytest.fixture()
def platform(fake: FakeInstagram, sleeps: list[float]) -> InstagramPlatform:
    settings = Settings(**fake.settings_overrides())
    return InstagramPlatform(settings, sandbox=True, max_polls=3, sleep=sleeps.append)


@pytest.fixture()
def video(tmp_path: Path) -> Path:
    path = tmp_path / "reel.mp4"
    path.write_bytes(os.urandom(3 * 1024 * 1024 + 123))
    return path


def _source(path: Path, public_url: str = "") -> VideoSource:
    def open_at(offset: int) -> BinaryIO:
        stream = path.open("rb")
        stream.seek(offset)
        return stream

    return VideoSource(size=path.stat().st_size, open_at=open_at, public_url=public_url)


def _connect(platform: InstagramPlatform) -> PlatformTokens:
    url = platform.authorize_url(redirect_uri=REDIRECT, state="st-123", code_verifier="unused")
    page = httpx.get(url).text
    allow = re.search(r"href='([^']+)'", page)
    assert allow is not None
    query = parse_qs(urlparse(allow.group(1).removesuffix("#_")).query)
    assert query["state"] == ["st-123"]
    return platform.exchange_code(code=query["code"][0], redirect_uri=REDIRECT, code_verifier="")


def _publish(platform, tokens, source, checkpoints, checkpoint=None):
    return platform.publish(
        tokens,
        profile_extra={"ig_user_id": "17841400000000001", "page_id": "100000000000001"},
        source=source,
        options=OPTIONS,
        checkpoint=checkpoint if checkpoint is not None else checkpoints.last,
        save_checkpoint=checkpoints,
    )


# ---------------------------------------------------------------- login and tokens


def test_it_implements_the_port(platform: InstagramPlatform) -> None:
    assert isinstance(platform, PublishingPlatform)
    assert platform.name == "instagram" and platform.sandbox


def test_login_dialog_asks_the_scopes_with_state_and_no_pkce(platform: InstagramPlatform) -> None:
    url = platform.authorize_url(redirect_uri=REDIRECT, state="abc", code_verifier="v" * 43)
    query = parse_qs(urlparse(url).query)
    assert urlparse(url).path == "/v24.0/dialog/oauth"
    assert query["client_id"] == [APP_ID] and query["state"] == ["abc"]
    assert query["redirect_uri"] == [REDIRECT] and query["response_type"] == ["code"]
    assert "instagram_content_publish" in query["scope"][0].split(",")
    assert "code_challenge" not in query


def test_connect_gives_a_long_lived_token_and_the_pages_instagram_account(
    platform: InstagramPlatform, fake: FakeInstagram
) -> None:
    tokens = _connect(platform)
    assert tokens.access_token.startswith("long-") and tokens.refresh_token == ""
    assert tokens.expires_at is not None
    assert tokens.expires_at - datetime.now(UTC) > timedelta(days=59)
    profile = platform.profile(tokens)
    assert profile.external_id == fake.state.ig_user_id
    assert profile.display_name == "sandbox_reels"
    assert profile.extra == {"page_id": fake.state.page_id, "ig_user_id": fake.state.ig_user_id}


def test_a_used_code_is_refused_with_metas_message(platform: InstagramPlatform) -> None:
    url = platform.authorize_url(redirect_uri=REDIRECT, state="s", code_verifier="")
    code = parse_qs(urlparse(re.findall(r"href='([^']+)'", httpx.get(url).text)[0]).query)["code"]
    platform.exchange_code(code=code[0], redirect_uri=REDIRECT, code_verifier="")
    with pytest.raises(PlatformError) as refused:
        platform.exchange_code(code=code[0], redirect_uri=REDIRECT, code_verifier="")
    assert "authorization code has been used" in refused.value.message
    assert refused.value.retryable is False


def test_refresh_trades_the_long_lived_token_for_a_new_one(platform: InstagramPlatform) -> None:
    tokens = _connect(platform)
    renewed = platform.refresh(tokens)
    assert renewed.access_token != tokens.access_token
    assert platform.profile(renewed).external_id


def test_revoke_removes_the_permissions(platform: InstagramPlatform, fake: FakeInstagram) -> None:
    tokens = _connect(platform)
    platform.revoke(tokens)
    assert fake.count("DELETE", "/me/permissions") == 1
    with pytest.raises(PlatformAuthError):
        platform.profile(tokens)
    platform.revoke(tokens)  # already invalid: nothing to do, no error


def test_creator_limits_are_the_reels_limits(platform: InstagramPlatform) -> None:
    limits = platform.creator_limits(PlatformTokens("t"), {})
    assert limits.max_duration_seconds == 15 * 60 and limits.can_post


# ---------------------------------------------------------------- publishing


def test_resumable_publish_checkpoints_before_sending_bytes_and_links_the_reel(
    platform: InstagramPlatform, fake: FakeInstagram, video: Path
) -> None:
    tokens, checkpoints = _connect(platform), Checkpoints()
    outcome = _publish(platform, tokens, _source(video), checkpoints, {})
    assert outcome.done and outcome.external_id in fake.state.media
    first = checkpoints.saved[0]
    assert set(first) == {"container_id", "upload_uri"}  # saved before the upload started
    assert checkpoints.last["media_id"] == outcome.external_id
    media = fake.state.media[outcome.external_id]
    assert media.size == video.stat().st_size
    assert media.caption == "Three facts about owls\n\n#owls #nature"
    assert httpx.get(outcome.url).status_code == 200


def test_video_url_publish_lets_instagram_fetch_the_file(
    platform: InstagramPlatform, fake: FakeInstagram, video: Path
) -> None:
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(video.parent))
    files = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=files.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{files.server_port}/{video.name}"
        outcome = _publish(platform, _connect(platform), _source(video, url), Checkpoints(), {})
    finally:
        files.shutdown()
        files.server_close()
    assert outcome.done
    assert fake.state.media[outcome.external_id].size == video.stat().st_size
    assert not any(p.startswith("/ig-api-upload") for m, p in fake.state.requests if m == "POST")


def test_an_unreachable_video_url_fails_with_metas_reason(
    platform: InstagramPlatform, video: Path
) -> None:
    checkpoints = Checkpoints()
    source = _source(video, "http://127.0.0.1:9/nothing.mp4")
    with pytest.raises(PlatformError) as failed:
        _publish(platform, _connect(platform), source, checkpoints, {})
    assert "download failed" in failed.value.message
    assert checkpoints.last == {}  # the next attempt starts with a new container


def test_a_connection_reset_mid_upload_resumes_from_the_received_offset(
    platform: InstagramPlatform, fake: FakeInstagram, video: Path
) -> None:
    tokens, checkpoints = _connect(platform), Checkpoints()
    fake.fault("reset_upload")
    with pytest.raises(PlatformError) as broken:
        _publish(platform, tokens, _source(video), checkpoints, {})
    assert broken.value.retryable
    container = fake.state.containers[checkpoints.last["container_id"]]
    received = len(container.received)
    assert 0 < received < video.stat().st_size
    outcome = _publish(platform, tokens, _source(video), checkpoints)
    assert outcome.done
    assert fake.count("POST", f"/{fake.state.ig_user_id}/media") == 1  # one container
    assert len(fake.state.media) == 1
    assert bytes(container.received) == video.read_bytes()


def test_a_retry_with_the_media_id_never_publishes_again(
    platform: InstagramPlatform, fake: FakeInstagram, video: Path
) -> None:
    tokens, checkpoints = _connect(platform), Checkpoints()
    first = _publish(platform, tokens, _source(video), checkpoints, {})
    again = _publish(platform, tokens, _source(video), checkpoints)
    assert again.external_id == first.external_id and again.url == first.url
    assert fake.count("POST", "/media_publish") == 1


def test_a_published_container_whose_media_id_was_lost_is_found_not_posted_twice(
    platform: InstagramPlatform, fake: FakeInstagram, video: Path
) -> None:
    tokens, checkpoints = _connect(platform), Checkpoints()
    first = _publish(platform, tokens, _source(video), checkpoints, {})
    killed_before_saving = {"container_id": checkpoints.last["container_id"], "uploaded": True}
    again = _publish(platform, tokens, _source(video), checkpoints, killed_before_saving)
    assert again.external_id == first.external_id
    assert fake.count("POST", "/media_publish") == 1


def test_processing_is_polled_a_bounded_number_of_times_then_picked_up_again(
    platform: InstagramPlatform, fake: FakeInstagram, video: Path, clock: Clock, sleeps: list
) -> None:
    fake.state.processing_seconds = 120
    tokens, checkpoints = _connect(platform), Checkpoints()
    pending = _publish(platform, tokens, _source(video), checkpoints, {})
    assert not pending.done and pending.external_id == checkpoints.last["container_id"]
    assert len(sleeps) == 2  # three status reads, two waits between them
    clock.now += 121
    outcome = _publish(platform, tokens, _source(video), checkpoints)
    assert outcome.done
    assert fake.count("POST", f"/{fake.state.ig_user_id}/media") == 1
    assert fake.count("POST", "/ig-api-upload/v24.0/" + pending.external_id) == 1


def test_a_container_error_is_final_with_metas_status(
    platform: InstagramPlatform, fake: FakeInstagram, video: Path
) -> None:
    fake.fault("container_error")
    checkpoints = Checkpoints()
    with pytest.raises(PlatformError) as failed:
        _publish(platform, _connect(platform), _source(video), checkpoints, {})
    assert not failed.value.retryable and "2207053" in failed.value.message
    assert checkpoints.last == {} and not fake.state.media


def test_the_daily_publishing_limit_is_checked_before_publishing(
    platform: InstagramPlatform, fake: FakeInstagram, video: Path
) -> None:
    fake.state.quota_total = 1
    tokens = _connect(platform)
    _publish(platform, tokens, _source(video), Checkpoints(), {})
    with pytest.raises(PlatformRateLimitedError) as capped:
        _publish(platform, tokens, _source(video), Checkpoints(), {})
    assert capped.value.retry_after_seconds > 0
    assert fake.count("POST", "/media_publish") == 1


def test_an_expired_token_is_an_auth_error(
    platform: InstagramPlatform, fake: FakeInstagram, video: Path
) -> None:
    tokens = _connect(platform)
    fake.fault("expired_token")
    with pytest.raises(PlatformAuthError) as expired:
        _publish(platform, tokens, _source(video), Checkpoints(), {})
    assert "expired" in expired.value.message


def test_throttling_is_rate_limited_and_5xx_is_retryable(
    platform: InstagramPlatform, fake: FakeInstagram
) -> None:
    tokens = _connect(platform)
    fake.fault("rate_limit")
    with pytest.raises(PlatformRateLimitedError) as throttled:
        platform.profile(tokens)
    assert throttled.value.retry_after_seconds == 60
    fake.fault("server_error")
    with pytest.raises(PlatformError) as broken:
        platform.profile(tokens)
    assert broken.value.retryable and not isinstance(broken.value, PlatformRateLimitedError)


def test_an_unreachable_graph_is_retryable(video: Path) -> None:
    settings = Settings(meta_app_id=APP_ID, instagram_graph_base="http://127.0.0.1:9")
    with pytest.raises(PlatformError) as unreachable:
        InstagramPlatform(settings).profile(PlatformTokens("t"))
    assert unreachable.value.retryable and unreachable.value.code == "platform_unreachable"


@pytest.mark.parametrize(
    ("status", "error", "expected", "retryable"),
    [
        (400, {"code": 190, "message": "expired"}, PlatformAuthError, True),
        (400, {"code": 4, "message": "app limit"}, PlatformRateLimitedError, True),
        (400, {"code": 32, "message": "page limit"}, PlatformRateLimitedError, True),
        (400, {"code": 613, "message": "custom"}, PlatformRateLimitedError, True),
        (
            400,
            {"code": 9, "error_subcode": 2207042, "message": "cap"},
            PlatformRateLimitedError,
            True,
        ),
        (400, {"code": -1, "error_subcode": 2207001, "message": "server"}, PlatformError, True),
        (503, {"code": 2, "message": "down"}, PlatformError, True),
        (
            400,
            {"code": 36000, "error_subcode": 2207004, "message": "too large"},
            PlatformError,
            False,
        ),
    ],
)
def test_graph_errors_map_to_platform_errors(
    status: int, error: dict, expected: type, retryable: bool
) -> None:
    mapped = graph_error(status, {"error": error}, {})
    assert type(mapped) is expected
    assert mapped.retryable is retryable and mapped.message == error["message"]


def test_a_buc_header_sets_the_wait() -> None:
    header = '{"1": [{"call_count": 100, "estimated_time_to_regain_access": 7}]}'
    mapped = graph_error(400, {"error": {"code": 17}}, {"x-business-use-case-usage": header})
    assert isinstance(mapped, PlatformRateLimitedError) and mapped.retry_after_seconds == 420


def test_caption_joins_description_and_hashtags() -> None:
    assert caption_of(PostOptions(description=" Hi ", hashtags=("a", "#b", " "))) == "Hi\n\n#a #b"


# ---------------------------------------------------------------- numbers


def test_stats_read_the_reels_insights_and_grow_with_time(
    platform: InstagramPlatform, fake: FakeInstagram, video: Path, clock: Clock
) -> None:
    tokens = _connect(platform)
    media_id = _publish(platform, tokens, _source(video), Checkpoints(), {}).external_id
    clock.now += 300
    first = platform.stats(tokens, {}, [media_id, "999"])  # an unknown id is left out
    assert set(first) == {media_id}
    assert first[media_id].views == 1500 and first[media_id].saves == 50
    assert first[media_id].likes == 150 and first[media_id].shares == 37
    clock.now += 300
    assert platform.stats(tokens, {}, [media_id])[media_id].views == 3000


def test_stats_stop_at_a_rate_limit(
    platform: InstagramPlatform, fake: FakeInstagram, video: Path
) -> None:
    tokens = _connect(platform)
    media_id = _publish(platform, tokens, _source(video), Checkpoints(), {}).external_id
    fake.fault("rate_limit")
    with pytest.raises(PlatformRateLimitedError):
        platform.stats(tokens, {}, [media_id])
