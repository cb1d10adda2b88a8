"""TikTokPlatform against the local fake of TikTok OAuth v2 + the Content Posting API."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.fakes.tiktok_server import CLIENT_KEY, FakeTikTok
from tests.fakes.tiktok_server import settings_overrides as standalone_overrides
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
from viralshorts.integrations.tiktok import MB, TikTokPlatform, chunk_plan
from viralshorts.settings import Settings

REDIRECT = "https://localhost:3000/api/accounts/tiktok/callback"
VERIFIER = "k" * 64
SIZE = 17 * MB + 4321  # three 5 MB chunks, the last one absorbing the remainder
OPTIONS = PostOptions(
    title="How honeybees talk",
    description="Bees dance to talk",
    hashtags=("bees", "#science"),
    privacy="PUBLIC_TO_EVERYONE",
    disable_duet=True,
    synthetic_content=True,
)


@pytest.fixture()
def fake() -> Iterator[FakeTikTok]:
    with FakeTikTok() as server:
        yield server


@pytest.fixture()
def tiktok(fake: FakeTikTok) -> TikTokPlatform:
    settings = Settings(**fake.settings_overrides())
    return TikTokPlatform(
        settings,
        sandbox=True,
        chunk_bytes=5 * MB,
        poll_interval_seconds=0.05,
        max_wait_seconds=3.0,
        retry_delay_seconds=0,
    )


@pytest.fixture()
def tokens(tiktok: TikTokPlatform) -> PlatformTokens:
    return _connect(tiktok)


@pytest.fixture(scope="module")
def data() -> bytes:
    return video_bytes(SIZE)


def _connect(tiktok: TikTokPlatform) -> PlatformTokens:
    return connect(tiktok, redirect_uri=REDIRECT, verifier=VERIFIER)


def _publish(tiktok: TikTokPlatform, tokens: PlatformTokens, data: bytes, saved: Checkpoints, **kw):
    return tiktok.publish(
        tokens,
        profile_extra={},
        source=kw.pop("source", None) or memory_source(data),
        options=kw.pop("options", OPTIONS),
        checkpoint=dict(saved.current),
        save_checkpoint=saved,
    )


def _only_post(fake: FakeTikTok, data: bytes) -> str:
    assert len(fake.state.posts) == 1
    post_id, upload = next(iter(fake.state.posts.items()))
    assert (upload.received, upload.digest.hexdigest()) == (
        len(data),
        hashlib.sha256(data).hexdigest(),
    )
    return post_id


# ---------------------------------------------------------------- OAuth


def test_it_is_a_publishing_platform(tiktok: TikTokPlatform) -> None:
    assert isinstance(tiktok, PublishingPlatform)
    assert (tiktok.name, tiktok.sandbox) == ("tiktok", True)


def test_the_consent_url_uses_client_key_comma_scopes_and_pkce(tiktok: TikTokPlatform) -> None:
    url = tiktok.authorize_url(redirect_uri=REDIRECT, state="s", code_verifier=VERIFIER)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert urlsplit(url).path == "/v2/auth/authorize/"
    assert query["client_key"] == CLIENT_KEY and "client_id" not in query
    assert query["scope"] == "user.info.basic,video.publish,video.upload,video.list"
    assert query["code_challenge_method"] == "S256" and query["code_challenge"] != VERIFIER


def test_connecting_gives_tokens_and_the_creator(tiktok: TikTokPlatform) -> None:
    tokens = _connect(tiktok)
    assert tokens.access_token.startswith("act.") and tokens.refresh_token.startswith("rft.")
    assert tokens.expires_at and tokens.refresh_expires_at and "video.publish" in tokens.scopes
    profile = tiktok.profile(tokens)
    assert (profile.external_id, profile.display_name) == (
        "sandbox-open-id-0001",
        "Sandbox Creator",
    )


def test_a_code_with_the_wrong_verifier_is_refused(tiktok: TikTokPlatform) -> None:
    url = tiktok.authorize_url(redirect_uri=REDIRECT, state="s", code_verifier=VERIFIER)
    code = click_allow(url)["code"]
    with pytest.raises(PlatformAuthError, match="verifier"):
        tiktok.exchange_code(code=code, redirect_uri=REDIRECT, code_verifier="x" * 64)


def test_refresh_rotates_the_refresh_token_and_the_old_one_stops_working(
    tiktok: TikTokPlatform, tokens: PlatformTokens
) -> None:
    fresh = tiktok.refresh(tokens)
    assert fresh.refresh_token and fresh.refresh_token != tokens.refresh_token
    assert fresh.access_token != tokens.access_token
    with pytest.raises(PlatformAuthError, match="invalid or expired"):
        tiktok.refresh(tokens)
    assert tiktok.refresh(fresh).refresh_token != fresh.refresh_token


def test_revoke_ends_the_access(tiktok: TikTokPlatform, tokens: PlatformTokens) -> None:
    tiktok.revoke(tokens)
    with pytest.raises(PlatformAuthError):
        tiktok.profile(tokens)


# ---------------------------------------------------------------- publishing


@pytest.mark.parametrize(
    ("size", "plan"),
    [
        (3 * MB, (3 * MB, 1)),
        (8 * MB, (8 * MB, 1)),
        (17 * MB, (10 * MB, 1)),
        (95 * MB, (10 * MB, 9)),
    ],
)
def test_chunk_plan_follows_tiktoks_rules(size: int, plan: tuple[int, int]) -> None:
    assert chunk_plan(size, 10 * MB) == plan


def test_publish_sends_ordered_chunks_and_waits_for_the_post(
    fake: FakeTikTok, tiktok: TikTokPlatform, tokens: PlatformTokens, data: bytes
) -> None:
    saved = Checkpoints()
    outcome = _publish(tiktok, tokens, data, saved)
    post_id = _only_post(fake, data)
    assert (outcome.external_id, outcome.done) == (post_id, True)
    assert fake.requests_of("upload_chunk") == 3 and fake.requests_of("creator_info") == 1
    assert saved.saved[0].keys() >= {"publish_id", "upload_url"}
    assert outcome.url == f"{fake.base_url}/@sandbox.creator/video/{post_id}"
    assert "Bees dance to talk" in httpx.get(outcome.url).text


def test_the_post_info_carries_the_post_fields(
    fake: FakeTikTok, tiktok: TikTokPlatform, tokens: PlatformTokens
) -> None:
    _publish(tiktok, tokens, video_bytes(1000), Checkpoints())
    post_info = next(iter(fake.state.uploads.values())).post_info
    assert post_info["title"] == "Bees dance to talk #bees #science"
    assert post_info["privacy_level"] == "PUBLIC_TO_EVERYONE"
    assert (post_info["disable_duet"], post_info["disable_comment"]) == (True, False)
    assert post_info["is_aigc"] is True


@pytest.mark.parametrize("fault", ["reset", "500", "503"])
def test_a_broken_chunk_is_sent_again(
    fake: FakeTikTok, tiktok: TikTokPlatform, tokens: PlatformTokens, data: bytes, fault: str
) -> None:
    fake.fail_next("upload_chunk", "", fault)
    outcome = _publish(tiktok, tokens, data, Checkpoints())
    assert outcome.external_id == _only_post(fake, data)
    assert fake.requests_of("upload_chunk") == 4 and fake.requests_of("init") == 1


def test_a_retry_after_a_killed_upload_sends_only_the_missing_chunks(
    fake: FakeTikTok, tiktok: TikTokPlatform, tokens: PlatformTokens, data: bytes
) -> None:
    saved = Checkpoints()
    with pytest.raises(KilledError):
        _publish(tiktok, tokens, data, saved, source=memory_source(data, kill_after=6 * MB))
    assert fake.state.posts == {} and saved.current["publish_id"]
    outcome = _publish(tiktok, tokens, data, saved)
    assert outcome.external_id == _only_post(fake, data)
    assert fake.requests_of("init") == 1
    assert fake.requests_of("upload_chunk") == 2 + 2  # one stored, one killed; then two


def test_a_chunk_that_keeps_failing_gives_up_as_retryable_and_the_retry_resumes(
    fake: FakeTikTok, tiktok: TikTokPlatform, tokens: PlatformTokens, data: bytes
) -> None:
    saved = Checkpoints()
    fake.fail_next("upload_chunk", "", *["500"] * 4)  # the second chunk, every try
    with pytest.raises(PlatformError) as caught:
        _publish(tiktok, tokens, data, saved)
    assert caught.value.retryable is True and saved.current["publish_id"]
    outcome = _publish(tiktok, tokens, data, saved)
    assert outcome.external_id == _only_post(fake, data)
    assert fake.requests_of("init") == 1 and fake.requests_of("upload_chunk") == 5 + 2


def test_a_retry_after_a_killed_upload_that_tiktok_failed_starts_again(
    fake: FakeTikTok, tiktok: TikTokPlatform, tokens: PlatformTokens, data: bytes
) -> None:
    saved = Checkpoints()
    with pytest.raises(KilledError):
        _publish(tiktok, tokens, data, saved, source=memory_source(data, kill_after=6 * MB))
    fake.fail_next("status", "failed")  # TikTok gave up on the unfinished upload
    outcome = _publish(tiktok, tokens, data, saved)
    assert outcome.external_id == _only_post(fake, data)
    assert fake.requests_of("init") == 2


def test_a_retry_after_the_upload_finished_only_polls(
    fake: FakeTikTok, tiktok: TikTokPlatform, tokens: PlatformTokens, data: bytes
) -> None:
    saved = Checkpoints()
    first = _publish(tiktok, tokens, data, saved)
    again = _publish(tiktok, tokens, data, saved)
    assert again.external_id == first.external_id == _only_post(fake, data)
    assert (fake.requests_of("init"), fake.requests_of("upload_chunk")) == (1, 3)


def test_a_slow_platform_returns_not_done_and_a_later_call_finishes(
    fake: FakeTikTok, tiktok: TikTokPlatform, tokens: PlatformTokens
) -> None:
    fake.state.processing_seconds = 60
    saved = Checkpoints()
    tiktok._max_wait = 0.2
    pending = _publish(tiktok, tokens, video_bytes(1000), saved)
    assert (pending.done, pending.external_id) == (False, saved.current["publish_id"])
    fake.state.processing_seconds = 0
    done = _publish(tiktok, tokens, video_bytes(1000), saved)
    assert done.done and done.external_id.isdigit()
    assert fake.requests_of("init") == 1


def test_a_video_longer_than_the_creator_may_post_is_refused_before_any_upload(
    fake: FakeTikTok, tiktok: TikTokPlatform, tokens: PlatformTokens
) -> None:
    fake.state.creator.max_duration_seconds = 20  # the source says 30 s
    with pytest.raises(PlatformError, match="up to 20 s") as caught:
        _publish(tiktok, tokens, video_bytes(1000), Checkpoints())
    assert caught.value.retryable is False and fake.requests_of("init") == 0


def test_a_failed_publish_raises_tiktoks_reason(
    fake: FakeTikTok, tiktok: TikTokPlatform, tokens: PlatformTokens
) -> None:
    fake.fail_next("status", "failed")
    with pytest.raises(PlatformError, match="file_format_check_failed") as caught:
        _publish(tiktok, tokens, video_bytes(1000), Checkpoints())
    assert caught.value.retryable is False


def test_an_unknown_upload_url_starts_a_fresh_upload(
    fake: FakeTikTok, tiktok: TikTokPlatform, tokens: PlatformTokens
) -> None:
    saved = Checkpoints({"publish_id": "v_pub_file~unknown", "upload_url": "x", "chunk_size": 1})
    outcome = _publish(tiktok, tokens, video_bytes(1000), saved)
    assert outcome.done and fake.requests_of("init") == 1
    assert saved.current["publish_id"] != "v_pub_file~unknown"


# ---------------------------------------------------------------- errors


def test_an_expired_token_is_an_auth_error(
    fake: FakeTikTok, tiktok: TikTokPlatform, tokens: PlatformTokens
) -> None:
    fake.fail_next("creator_info", "expired")
    with pytest.raises(PlatformAuthError, match="access token is invalid"):
        tiktok.creator_limits(tokens, {})
    with pytest.raises(PlatformAuthError):
        tiktok.creator_limits(tokens, {})
    assert tiktok.creator_limits(tiktok.refresh(tokens), {}).max_duration_seconds == 600


def test_429_is_rate_limited_with_retry_after(
    fake: FakeTikTok, tiktok: TikTokPlatform, tokens: PlatformTokens
) -> None:
    fake.fail_next("init", "429")
    with pytest.raises(PlatformRateLimitedError, match="rate limit") as caught:
        _publish(tiktok, tokens, video_bytes(1000), Checkpoints())
    assert caught.value.retry_after_seconds == 3


def test_the_per_token_rate_limit_of_init_is_enforced(
    fake: FakeTikTok, tiktok: TikTokPlatform, tokens: PlatformTokens
) -> None:
    for _ in range(6):
        _publish(tiktok, tokens, video_bytes(100), Checkpoints())
    with pytest.raises(PlatformRateLimitedError) as caught:
        _publish(tiktok, tokens, video_bytes(100), Checkpoints())
    assert caught.value.retry_after_seconds == 60


def test_a_5xx_is_retryable(
    fake: FakeTikTok, tiktok: TikTokPlatform, tokens: PlatformTokens
) -> None:
    fake.fail_next("user_info", "500")
    with pytest.raises(PlatformError, match="try again later") as caught:
        tiktok.profile(tokens)
    assert caught.value.retryable is True


def test_a_privacy_level_the_creator_cannot_use_is_refused(
    fake: FakeTikTok, tiktok: TikTokPlatform, tokens: PlatformTokens
) -> None:
    fake.state.creator.privacy_options = ["SELF_ONLY"]
    with pytest.raises(PlatformError, match="privacy_level") as caught:
        _publish(tiktok, tokens, video_bytes(100), Checkpoints())
    assert caught.value.retryable is False
    assert caught.value.params["reason"] == "privacy_level_option_mismatch"


# ---------------------------------------------------------------- limits and stats


def test_creator_limits_come_from_creator_info(
    fake: FakeTikTok, tiktok: TikTokPlatform, tokens: PlatformTokens
) -> None:
    fake.state.creator.comment_disabled = True
    limits = tiktok.creator_limits(tokens, {})
    assert limits.privacy_options[-1] == "SELF_ONLY" and len(limits.privacy_options) == 4
    assert (limits.max_duration_seconds, limits.comment_disabled, limits.duet_disabled) == (
        600,
        True,
        False,
    )


def test_a_creator_at_todays_cap_cannot_post_now(
    fake: FakeTikTok, tiktok: TikTokPlatform, tokens: PlatformTokens
) -> None:
    fake.fail_next("creator_info", "spam")
    limits = tiktok.creator_limits(tokens, {})
    assert limits.can_post is False and "post limit" in limits.message


def test_stats_read_the_counters_twenty_ids_a_call(
    fake: FakeTikTok, tiktok: TikTokPlatform, tokens: PlatformTokens
) -> None:
    posted = [
        _publish(tiktok, tokens, video_bytes(100), Checkpoints()).external_id for _ in range(2)
    ]
    ids = [*posted, *(str(10**18 + i) for i in range(30)), "v_pub_file~not-a-post"]
    stats = tiktok.stats(tokens, {}, ids)
    assert set(stats) == set(posted)
    assert all(s.views >= 1 and s.views >= s.likes for s in stats.values())
    assert fake.requests_of("video_query") == 2


def test_the_fake_runs_on_its_own_for_the_sandbox() -> None:
    with standalone_fake("tests.fakes.tiktok_server") as base_url:
        platform = TikTokPlatform(Settings(**standalone_overrides(base_url)), sandbox=True)
        assert platform.profile(_connect(platform)).display_name.startswith("Sandbox")
