"""YouTubePlatform against the local fake of Google OAuth + the YouTube upload protocol."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.fakes.youtube_server import CLIENT_ID, READONLY_SCOPE, UPLOAD_SCOPE, FakeYouTube
from tests.fakes.youtube_server import settings_overrides as standalone_overrides
from tests.integrations.platform_support import (
    Checkpoints,
    KilledError,
    click_allow,
    connect,
    memory_source,
    standalone_fake,
    video_bytes,
)
from viralshorts.errors import PlatformAuthError, PlatformError, PlatformRateLimitedError
from viralshorts.integrations.ports import PlatformTokens, PostOptions, PublishingPlatform
from viralshorts.integrations.youtube import UPLOAD_QUANTUM, YouTubePlatform
from viralshorts.settings import Settings

REDIRECT = "http://localhost:3000/api/accounts/youtube/callback"
VERIFIER = "v" * 64
CHUNK = 2 * UPLOAD_QUANTUM  # small chunks: a 2.3 MiB file goes up in five PUTs
SIZE = 9 * UPLOAD_QUANTUM + 12345
OPTIONS = PostOptions(
    title="How honeybees talk",
    description="They dance.",
    hashtags=("shorts", "#bees"),
    privacy="unlisted",
    made_for_kids=False,
    synthetic_content=True,
)


@pytest.fixture()
def fake() -> Iterator[FakeYouTube]:
    with FakeYouTube() as server:
        yield server


@pytest.fixture()
def youtube(fake: FakeYouTube) -> YouTubePlatform:
    settings = Settings(**fake.settings_overrides())
    return YouTubePlatform(settings, sandbox=True, chunk_bytes=CHUNK, retry_delay_seconds=0)


@pytest.fixture()
def tokens(youtube: YouTubePlatform) -> PlatformTokens:
    return _connect(youtube)


def _connect(youtube: YouTubePlatform) -> PlatformTokens:
    return connect(youtube, redirect_uri=REDIRECT, verifier=VERIFIER)


def _publish(youtube: YouTubePlatform, tokens: PlatformTokens, data: bytes, saved: Checkpoints):
    return youtube.publish(
        tokens,
        profile_extra={},
        source=memory_source(data),
        options=OPTIONS,
        checkpoint=dict(saved.current),
        save_checkpoint=saved,
    )


def _only_video(fake: FakeYouTube, data: bytes) -> str:
    assert len(fake.state.videos) == 1
    video = next(iter(fake.state.videos.values()))
    assert (video.size, video.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    return video.video_id


# ---------------------------------------------------------------- OAuth


def test_it_is_a_publishing_platform(youtube: YouTubePlatform) -> None:
    assert isinstance(youtube, PublishingPlatform)
    assert (youtube.name, youtube.sandbox) == ("youtube", True)


def test_the_consent_url_asks_for_offline_access_with_pkce(youtube: YouTubePlatform) -> None:
    url = youtube.authorize_url(redirect_uri=REDIRECT, state="s", code_verifier=VERIFIER)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert urlsplit(url).path == "/o/oauth2/v2/auth"
    assert query["client_id"] == CLIENT_ID
    assert query["scope"].split() == [UPLOAD_SCOPE, READONLY_SCOPE]
    assert (query["access_type"], query["prompt"], query["code_challenge_method"]) == (
        "offline",
        "consent",
        "S256",
    )
    assert query["code_challenge"] and query["code_challenge"] != VERIFIER


def test_connecting_gives_tokens_and_the_channel(youtube: YouTubePlatform) -> None:
    tokens = _connect(youtube)
    assert tokens.access_token.startswith("ya29.") and tokens.refresh_token.startswith("1//")
    assert tokens.expires_at is not None and set(tokens.scopes) == {UPLOAD_SCOPE, READONLY_SCOPE}
    profile = youtube.profile(tokens)
    assert (profile.external_id, profile.display_name) == (
        "UCsandbox0000000000000001",
        "Sandbox Channel",
    )
    assert profile.avatar_url.startswith("http")


def test_an_access_token_past_its_expiry_is_refused_until_refreshed(
    fake: FakeYouTube, youtube: YouTubePlatform
) -> None:
    fake.state.access_token_seconds = 0
    tokens = _connect(youtube)
    with pytest.raises(PlatformAuthError, match="invalid authentication"):
        youtube.profile(tokens)
    fake.state.access_token_seconds = 3599
    assert youtube.profile(youtube.refresh(tokens)).display_name == "Sandbox Channel"


def test_a_code_redeemed_with_the_wrong_verifier_is_refused(youtube: YouTubePlatform) -> None:
    url = youtube.authorize_url(redirect_uri=REDIRECT, state="s", code_verifier=VERIFIER)
    code = click_allow(url)["code"]
    with pytest.raises(PlatformAuthError, match="code verifier"):
        youtube.exchange_code(code=code, redirect_uri=REDIRECT, code_verifier="w" * 64)


def test_refresh_gives_a_new_access_token_and_keeps_the_refresh_token(
    youtube: YouTubePlatform, tokens: PlatformTokens
) -> None:
    fresh = youtube.refresh(tokens)
    assert fresh.access_token != tokens.access_token
    assert fresh.refresh_token == tokens.refresh_token
    assert youtube.profile(fresh).display_name == "Sandbox Channel"


def test_a_refresh_token_google_rotates_is_in_the_result(
    fake: FakeYouTube, youtube: YouTubePlatform, tokens: PlatformTokens
) -> None:
    fake.state.rotate_refresh_tokens = True
    fresh = youtube.refresh(tokens)
    assert fresh.refresh_token.startswith("1//") and fresh.refresh_token != tokens.refresh_token
    with pytest.raises(PlatformAuthError):
        youtube.refresh(tokens)
    assert youtube.refresh(fresh).access_token


def test_revoke_ends_the_grant_and_a_second_revoke_is_fine(
    youtube: YouTubePlatform, tokens: PlatformTokens
) -> None:
    youtube.revoke(tokens)
    with pytest.raises(PlatformAuthError, match="expired or revoked"):
        youtube.refresh(tokens)
    with pytest.raises(PlatformAuthError):
        youtube.profile(tokens)
    youtube.revoke(tokens)


# ---------------------------------------------------------------- publishing


def test_publish_uploads_in_chunks_and_links_the_short(
    fake: FakeYouTube, youtube: YouTubePlatform, tokens: PlatformTokens
) -> None:
    data, saved = video_bytes(SIZE), Checkpoints()
    outcome = _publish(youtube, tokens, data, saved)
    video_id = _only_video(fake, data)
    assert (outcome.external_id, outcome.done) == (video_id, True)
    assert fake.requests_of("upload_chunk") == 5
    assert saved.saved[0].keys() == {"session_url"}  # before any byte went up
    assert saved.current["video_id"] == video_id
    assert outcome.url == f"{fake.base_url}/shorts/{video_id}"
    assert "How honeybees talk" in httpx.get(outcome.url).text


def test_the_video_resource_carries_the_post_fields(
    fake: FakeYouTube, youtube: YouTubePlatform, tokens: PlatformTokens
) -> None:
    _publish(youtube, tokens, video_bytes(1000), Checkpoints())
    resource = next(iter(fake.state.videos.values())).resource
    snippet, status = resource["snippet"], resource["status"]
    assert snippet["title"] == "How honeybees talk"
    assert snippet["description"] == "They dance.\n\n#shorts #bees"
    assert (snippet["tags"], snippet["categoryId"]) == (["shorts", "bees"], "22")
    assert status["privacyStatus"] == "unlisted"
    assert status["selfDeclaredMadeForKids"] is False
    assert status["containsSyntheticMedia"] is True


@pytest.mark.parametrize("fault", ["reset", "partial", "503"])
def test_a_broken_chunk_resumes_from_the_servers_range(
    fake: FakeYouTube, youtube: YouTubePlatform, tokens: PlatformTokens, fault: str
) -> None:
    data = video_bytes(SIZE)
    fake.fail_next("upload_chunk", "", "", fault)  # the third chunk breaks
    outcome = _publish(youtube, tokens, data, Checkpoints())
    assert outcome.external_id == _only_video(fake, data)
    assert fake.requests_of("upload_init") == 1
    # a 308 with a partial Range says where to go on; the others are asked with bytes */SIZE
    assert fake.requests_of("upload_status") == (0 if fault == "partial" else 1)


def test_a_retry_after_a_killed_attempt_resumes_the_same_session(
    fake: FakeYouTube, youtube: YouTubePlatform, tokens: PlatformTokens
) -> None:
    data, saved = video_bytes(SIZE), Checkpoints()
    with pytest.raises(KilledError):
        youtube.publish(
            tokens,
            profile_extra={},
            source=memory_source(data, kill_after=3 * CHUNK + 1000),
            options=OPTIONS,
            checkpoint={},
            save_checkpoint=saved,
        )
    assert fake.state.videos == {} and "session_url" in saved.current
    outcome = _publish(youtube, tokens, data, saved)
    assert outcome.external_id == _only_video(fake, data)
    assert fake.requests_of("upload_init") == 1
    assert fake.requests_of("upload_status") == 1
    assert fake.requests_of("upload_chunk") == 4 + 2  # three stored, one killed, then two


def test_a_retry_after_the_last_chunk_went_up_returns_the_same_video(
    fake: FakeYouTube, youtube: YouTubePlatform, tokens: PlatformTokens
) -> None:
    data, saved = video_bytes(SIZE), Checkpoints()
    first = _publish(youtube, tokens, data, saved)
    del saved.current["video_id"]  # killed after the 200, before the id was stored
    again = _publish(youtube, tokens, data, saved)
    assert again.external_id == first.external_id == _only_video(fake, data)
    assert fake.requests_of("upload_init") == 1


def test_a_retry_with_the_id_stored_does_not_call_youtube(
    fake: FakeYouTube, youtube: YouTubePlatform, tokens: PlatformTokens
) -> None:
    saved = Checkpoints({"session_url": "http://127.0.0.1:9/x", "video_id": "abc"})
    before = len(fake.state.requests)
    assert _publish(youtube, tokens, video_bytes(10), saved).external_id == "abc"
    assert len(fake.state.requests) == before


def test_an_expired_session_starts_a_new_upload(
    fake: FakeYouTube, youtube: YouTubePlatform, tokens: PlatformTokens
) -> None:
    data, saved = video_bytes(SIZE), Checkpoints()
    with pytest.raises(KilledError):
        youtube.publish(
            tokens,
            profile_extra={},
            source=memory_source(data, kill_after=CHUNK + 10),
            options=OPTIONS,
            checkpoint={},
            save_checkpoint=saved,
        )
    fake.fail_next("upload_status", "gone")
    outcome = _publish(youtube, tokens, data, saved)
    assert outcome.external_id == _only_video(fake, data)
    assert fake.requests_of("upload_init") == 2
    assert saved.current["session_url"] != saved.saved[0]["session_url"]


def test_an_expired_token_mid_upload_is_an_auth_error_and_refresh_resumes(
    fake: FakeYouTube, youtube: YouTubePlatform, tokens: PlatformTokens
) -> None:
    data, saved = video_bytes(SIZE), Checkpoints()
    fake.fail_next("upload_chunk", "", "expired")
    with pytest.raises(PlatformAuthError, match="invalid authentication"):
        _publish(youtube, tokens, data, saved)
    outcome = _publish(youtube, youtube.refresh(tokens), data, saved)
    assert outcome.external_id == _only_video(fake, data)
    assert fake.requests_of("upload_init") == 1


def test_chunks_that_keep_breaking_give_up_as_retryable_and_keep_the_session(
    fake: FakeYouTube, youtube: YouTubePlatform, tokens: PlatformTokens
) -> None:
    saved = Checkpoints()
    fake.fail_next("upload_chunk", *["503"] * 10)
    with pytest.raises(PlatformError) as caught:
        _publish(youtube, tokens, video_bytes(SIZE), saved)
    assert caught.value.retryable is True and "session_url" in saved.current
    assert fake.state.videos == {}


# ---------------------------------------------------------------- errors


def test_429_is_rate_limited_with_retry_after(
    fake: FakeYouTube, youtube: YouTubePlatform, tokens: PlatformTokens
) -> None:
    fake.fail_next("upload_init", "429")
    with pytest.raises(PlatformRateLimitedError) as caught:
        _publish(youtube, tokens, video_bytes(100), Checkpoints())
    assert caught.value.retry_after_seconds == 2


def test_quota_exceeded_waits_until_midnight_pacific(
    fake: FakeYouTube, youtube: YouTubePlatform, tokens: PlatformTokens
) -> None:
    fake.fail_next("upload_init", "quota")
    with pytest.raises(PlatformRateLimitedError, match="exceeded your quota") as caught:
        _publish(youtube, tokens, video_bytes(100), Checkpoints())
    assert 0 < caught.value.retry_after_seconds <= 25 * 3600


def test_the_daily_upload_quota_is_rate_limited(
    fake: FakeYouTube, youtube: YouTubePlatform, tokens: PlatformTokens
) -> None:
    fake.state.daily_uploads = 1
    _publish(youtube, tokens, video_bytes(100), Checkpoints())
    with pytest.raises(PlatformRateLimitedError):
        _publish(youtube, tokens, video_bytes(100), Checkpoints())
    assert len(fake.state.videos) == 1


def test_a_5xx_is_retryable(
    fake: FakeYouTube, youtube: YouTubePlatform, tokens: PlatformTokens
) -> None:
    fake.fail_next("channels", "500")
    with pytest.raises(PlatformError, match="Backend Error") as caught:
        youtube.profile(tokens)
    assert caught.value.retryable is True


def test_a_refusal_is_final_with_youtubes_message(
    fake: FakeYouTube, youtube: YouTubePlatform, tokens: PlatformTokens
) -> None:
    with pytest.raises(PlatformError, match="invalid video title") as caught:
        youtube.publish(
            tokens,
            profile_extra={},
            source=memory_source(video_bytes(100)),
            options=PostOptions(title="<b>bold</b>"),
            checkpoint={},
            save_checkpoint=Checkpoints(),
        )
    assert caught.value.retryable is False
    assert not isinstance(caught.value, PlatformRateLimitedError | PlatformAuthError)


def test_an_unreachable_youtube_is_retryable(tokens: PlatformTokens) -> None:
    settings = Settings(youtube_api_base="http://127.0.0.1:9")
    with pytest.raises(PlatformError, match="Could not reach youtube") as caught:
        YouTubePlatform(settings).profile(tokens)
    assert caught.value.retryable is True
    assert tokens.access_token not in str(caught.value)


# ---------------------------------------------------------------- limits and stats


def test_creator_limits_are_youtubes_fixed_ones(
    youtube: YouTubePlatform, tokens: PlatformTokens
) -> None:
    limits = youtube.creator_limits(tokens, {})
    assert limits.privacy_options == ("public", "unlisted", "private")
    assert limits.max_duration_seconds == 180


def test_stats_read_the_string_counters_fifty_ids_a_call(
    fake: FakeYouTube, youtube: YouTubePlatform, tokens: PlatformTokens
) -> None:
    published = [
        _publish(youtube, tokens, video_bytes(100), Checkpoints()).external_id for _ in range(2)
    ]
    ids = [*published, *(f"unknown{i}" for i in range(100))]
    stats = youtube.stats(tokens, {}, ids)
    assert set(stats) == set(published)
    assert all(s.views >= 1 and s.shares == 0 for s in stats.values())
    assert fake.requests_of("videos_list") == 3


def test_the_fake_runs_on_its_own_for_the_sandbox() -> None:
    with standalone_fake("tests.fakes.youtube_server") as base_url:
        platform = YouTubePlatform(Settings(**standalone_overrides(base_url)), sandbox=True)
        assert platform.profile(_connect(platform)).display_name.startswith("Sandbox")
