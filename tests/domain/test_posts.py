"""Posts on real PostgreSQL: pre-flight refusals, approval, reschedule/cancel, timezones."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from tests.factories import new_user
from tests.publishing_support import MemoryPlatform, add_account, add_ready_video, options_of
from viralshorts.domain import post_preflight, post_times, posts
from viralshorts.domain.post_limits import LIMITS, caption_text
from viralshorts.domain.posts import PostRequest
from viralshorts.domain.workspaces import actor_for, personal_workspace_id
from viralshorts.errors import PermissionDeniedError, QuotaExceededError, ValidationError
from viralshorts.integrations.ports import CreatorLimits, Services
from viralshorts.integrations.services import build_services
from viralshorts.models import (
    AccountHealth,
    Membership,
    Notification,
    Platform,
    Post,
    PostStatus,
    Workspace,
    WorkspaceRole,
    utcnow,
)
from viralshorts.settings import get_settings


@pytest.fixture()
def platforms():
    return {name: MemoryPlatform(name=name) for name in ("youtube", "tiktok", "instagram")}


@pytest.fixture()
def services(use_redis, platforms) -> Services:
    return dataclasses.replace(build_services(get_settings()), platforms=platforms, email=None)


@pytest.fixture()
def owner(session: Session):
    user = new_user(session, "olga@example.com", display_name="Olga")
    return actor_for(session, user_id=user.id, workspace_id=personal_workspace_id(session, user.id))


@pytest.fixture()
def video(session, services, owner, tmp_path):
    return add_ready_video(
        session, services, workspace_id=owner.workspace_id, user_id=owner.user_id, tmp_path=tmp_path
    )


def _account(session, services, actor, platform="youtube", **kw):
    return add_account(
        session,
        services,
        workspace_id=actor.workspace_id,
        user_id=actor.user_id,
        platform=platform,
        **kw,
    )


def _member(session, owner, email, role):
    user = new_user(session, email)
    session.add(Membership(workspace_id=owner.workspace_id, user_id=user.id, role=role))
    session.commit()
    return actor_for(session, user_id=user.id, workspace_id=owner.workspace_id)


def _publish(session, services, actor, video, account, when="", **fields):
    request = PostRequest(social_account_id=account.id, fields=options_of(**fields))
    return posts.publish_video(
        session, services, actor=actor, video_id=video.id, requests=[request], when_local=when
    )


def _refusal(call) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.field_errors


def _future_local(hours: int = 2, tz: str = "UTC") -> str:
    return post_times.local_text(utcnow() + timedelta(hours=hours), tz)


# ---------------------------------------------------------------- publishing and scheduling


def test_one_video_goes_to_several_accounts_in_one_step(session, services, owner, video):
    accounts = [_account(session, services, owner, p) for p in ("youtube", "tiktok", "instagram")]
    requests = [
        PostRequest(accounts[0].id, options_of(privacy="unlisted", made_for_kids=True)),
        PostRequest(accounts[1].id, options_of(privacy="SELF_ONLY", disable_duet="on")),
        PostRequest(accounts[2].id, options_of(share_to_feed=False, hashtags="#sea reels")),
    ]
    made = posts.publish_video(
        session,
        services,
        actor=owner,
        video_id=video.id,
        requests=requests,
        when_local=_future_local(),
    )
    assert [p.status for p in made] == [PostStatus.SCHEDULED] * 3
    assert made[0].options["privacy"] == "unlisted" and made[0].options["made_for_kids"] is True
    assert made[1].options["disable_duet"] is True
    assert made[2].options["share_to_feed"] is False
    assert made[2].options["hashtags"] == ["sea", "reels"]
    assert len({p.idempotency_key for p in made}) == 3


def test_a_time_is_read_in_the_workspaces_timezone(session, services, owner, video):
    workspace = session.get(Workspace, owner.workspace_id)
    post_times.set_publishing_settings(
        session, actor=owner, timezone="America/New_York", require_approval=False
    )
    assert workspace.timezone == "America/New_York"
    account = _account(session, services, owner)
    year = utcnow().year + 1
    [post] = _publish(session, services, owner, video, account, when=f"{year}-07-01T09:30")
    assert post.scheduled_at == datetime(year, 7, 1, 13, 30, tzinfo=UTC)  # EDT is UTC-4
    assert posts.scheduled_local(post, "America/New_York") == f"{year}-07-01T09:30"


def test_a_local_time_the_clocks_skip_is_refused(session, services, owner, video):
    post_times.set_publishing_settings(
        session, actor=owner, timezone="Europe/Paris", require_approval=False
    )
    account = _account(session, services, owner)
    # The last Sunday of March 2030 (31st) clocks go from 02:00 to 03:00 in Paris.
    errors = _refusal(
        lambda: _publish(session, services, owner, video, account, when="2030-03-31T02:30")
    )
    assert "does not exist in Europe/Paris" in errors["when"]


def test_an_unknown_timezone_is_refused(session, owner):
    errors = _refusal(
        lambda: post_times.set_publishing_settings(
            session, actor=owner, timezone="Mars/Olympus", require_approval=False
        )
    )
    assert "timezone" in errors


def test_a_time_in_the_past_is_refused(session, services, owner, video):
    account = _account(session, services, owner)
    errors = _refusal(
        lambda: _publish(session, services, owner, video, account, when=_future_local(hours=-3))
    )
    assert errors == {"when": "That time has passed. Pick a time from now on."}


def test_viewers_cannot_post(session, services, owner, video):
    account = _account(session, services, owner)
    viewer = _member(session, owner, "vic@example.com", WorkspaceRole.VIEWER)
    with pytest.raises(PermissionDeniedError):
        _publish(session, services, viewer, video, account)


def test_the_plans_scheduled_posts_are_counted(session, services, owner, video):
    account = _account(session, services, owner, "instagram")
    for _ in range(10):  # the free plan's scheduled posts
        _publish(session, services, owner, video, account, when=_future_local())
    with pytest.raises(QuotaExceededError):
        _publish(session, services, owner, video, account, when=_future_local())


# ---------------------------------------------------------------- pre-flight


def test_text_limits_are_checked_per_platform(session, services, owner, video):
    youtube = _account(session, services, owner, "youtube")
    tiktok = _account(session, services, owner, "tiktok")
    instagram = _account(session, services, owner, "instagram")
    requests = [
        PostRequest(youtube.id, options_of(title="x" * 101, description="é" * 2501)),
        PostRequest(tiktok.id, options_of(description="😀" * 1101, privacy="SELF_ONLY")),
        PostRequest(instagram.id, options_of(hashtags=" ".join(f"t{i}" for i in range(31)))),
    ]
    errors = _refusal(
        lambda: posts.publish_video(
            session, services, actor=owner, video_id=video.id, requests=requests
        )
    )
    assert (
        errors[f"{youtube.id}.title"] == "The title is 101 characters; YouTube Shorts allows 100."
    )
    assert "5002 bytes" in errors[f"{youtube.id}.description"]  # é is two bytes
    assert "2202 characters" in errors[f"{tiktok.id}.description"]  # 😀 is two UTF-16 units
    assert errors[f"{instagram.id}.hashtags"] == "31 hashtags; Instagram Reels allows 30."
    assert session.exec(select(Post)).all() == []


def test_the_counted_caption_is_the_one_posted_with_its_hashtags():
    assert caption_text("Hi", ("a", "#b")) == "Hi\n\n#a #b"
    assert LIMITS[Platform.INSTAGRAM].caption_max == 2200


def test_privacy_must_be_one_the_platform_offers(session, services, owner, video, platforms):
    platforms["tiktok"].creator = CreatorLimits(
        privacy_options=("FOLLOWER_OF_CREATOR", "SELF_ONLY"),
        max_duration_seconds=600,
        comment_disabled=True,
    )
    tiktok = _account(session, services, owner, "tiktok")
    youtube = _account(session, services, owner, "youtube")
    requests = [
        PostRequest(tiktok.id, options_of(privacy="PUBLIC_TO_EVERYONE")),
        PostRequest(youtube.id, options_of(privacy="friends")),
    ]
    errors = _refusal(
        lambda: posts.publish_video(
            session, services, actor=owner, video_id=video.id, requests=requests
        )
    )
    assert errors[f"{tiktok.id}.privacy"] == (
        "TikTok offers FOLLOWER_OF_CREATOR, SELF_ONLY for this account."
    )
    assert "Comments are turned off" in errors[f"{tiktok.id}.disable_comment"]
    assert errors[f"{youtube.id}.privacy"].startswith("YouTube Shorts offers public")


def test_the_creators_max_duration_and_posting_ban_are_respected(
    session, services, owner, tmp_path, platforms
):
    long_video = add_ready_video(
        session,
        services,
        workspace_id=owner.workspace_id,
        user_id=owner.user_id,
        tmp_path=tmp_path,
        seconds=75,
    )
    platforms["tiktok"].creator = CreatorLimits(
        privacy_options=("SELF_ONLY",), max_duration_seconds=60
    )
    tiktok = _account(session, services, owner, "tiktok")
    errors = _refusal(
        lambda: _publish(session, services, owner, long_video, tiktok, privacy="SELF_ONLY")
    )
    assert errors[f"{tiktok.id}.video"] == (
        "TikTok would refuse this video: it lasts 75.0 s (at most 60 s)."
    )
    platforms["tiktok"].creator = CreatorLimits(
        privacy_options=("SELF_ONLY",),
        max_duration_seconds=600,
        can_post=False,
        message="You have posted too much today.",
    )
    errors = _refusal(
        lambda: _publish(session, services, owner, long_video, tiktok, privacy="SELF_ONLY")
    )
    assert errors[f"{tiktok.id}.account"] == "You have posted too much today."


def test_duration_size_aspect_and_codec_are_checked():
    limits = LIMITS[Platform.YOUTUBE]
    good = post_preflight.VideoFacts(30, 5_000_000, 1080, 1920, "h264", "aac")
    assert post_preflight.check_video(limits, good, None) == {}
    bad = dataclasses.replace(
        good, duration_seconds=200, width=1920, height=1080, video_codec="mpeg2video"
    )
    message = post_preflight.check_video(limits, bad, None)["video"]
    assert "lasts 200.0 s (at most 180 s)" in message
    assert "1920x1080, not vertical" in message
    assert "codecs are mpeg2video/aac" in message
    big = dataclasses.replace(good, size_bytes=400 * 1024**2)
    assert "400.0 MB" in post_preflight.check_video(LIMITS[Platform.INSTAGRAM], big, None)["video"]


def test_an_unhealthy_account_or_missing_scope_or_platform_is_refused(
    session, services, owner, video, platforms
):
    sick = _account(session, services, owner, health=AccountHealth.NEEDS_RECONNECT, name="Sick")
    narrow = _account(session, services, owner, "tiktok", scopes=("user.info.basic",), name="N")
    gone = _account(session, services, owner, "instagram", name="Insta")
    del platforms["instagram"]
    requests = [PostRequest(a.id, options_of(privacy="SELF_ONLY")) for a in (sick, narrow, gone)]
    errors = _refusal(
        lambda: posts.publish_video(
            session, services, actor=owner, video_id=video.id, requests=requests
        )
    )
    assert errors[f"{sick.id}.account"].startswith("Sick needs reconnecting")
    assert errors[f"{narrow.id}.account"].startswith("N did not grant video.publish, video.upload")
    assert errors[f"{gone.id}.account"] == "Instagram Reels is not configured on this server."


def test_the_daily_cap_counts_posts_within_24_hours(session, services, owner, video):
    services = dataclasses.replace(
        services, settings=services.settings.model_copy(update={"instagram_daily_posts": 2})
    )
    account = _account(session, services, owner, "instagram")
    when = _future_local(hours=5)
    _publish(session, services, owner, video, account, when=when)
    _publish(session, services, owner, video, account, when=when)
    errors = _refusal(
        lambda: _publish(session, services, owner, video, account, when=_future_local(hours=20))
    )
    assert errors[f"{account.id}.when"].startswith("Instagram Reels allows 2 posts a day")
    [later] = _publish(session, services, owner, video, account, when=_future_local(hours=30))
    assert later.status == PostStatus.SCHEDULED


def test_youtubes_cap_is_the_projects_quota_in_units(session, services, owner, video):
    settings = services.settings.model_copy(
        update={"youtube_daily_quota_units": 3200, "youtube_upload_quota_units": 1600}
    )
    services = dataclasses.replace(services, settings=settings)
    one, two, three = (_account(session, services, owner, "youtube") for _ in range(3))
    requests = [PostRequest(a.id, options_of(privacy="public")) for a in (one, two, three)]
    errors = _refusal(
        lambda: posts.publish_video(
            session, services, actor=owner, video_id=video.id, requests=requests[:3]
        )
    )
    assert "allows 2 posts a day for this server's API quota" in errors[f"{one.id}.when"]
    made = posts.publish_video(
        session, services, actor=owner, video_id=video.id, requests=requests[:2]
    )
    assert len(made) == 2


# ---------------------------------------------------------------- approval


def test_an_editors_post_waits_for_an_admins_approval(session, services, owner, video):
    post_times.set_publishing_settings(session, actor=owner, timezone="UTC", require_approval=True)
    editor = _member(session, owner, "eddie@example.com", WorkspaceRole.EDITOR)
    account = _account(session, services, owner)
    [post] = _publish(session, services, editor, video, account, when=_future_local())
    assert post.status == PostStatus.PENDING_APPROVAL
    asked = session.exec(select(Notification).where(Notification.kind == "approval_requested"))
    assert [n.user_id for n in asked] == [owner.user_id]  # owners/admins, not the editor
    with pytest.raises(PermissionDeniedError):
        posts.decide(session, services, actor=editor, post_id=post.id, approve=True)
    approved = posts.decide(session, services, actor=owner, post_id=post.id, approve=True)
    assert approved.status == PostStatus.SCHEDULED
    assert approved.decided_by_user_id == owner.user_id
    errors = _refusal(
        lambda: posts.decide(session, services, actor=owner, post_id=post.id, approve=False)
    )
    assert errors == {"post": "This post is scheduled; it can no longer be approved or rejected."}


def test_a_rejected_post_never_goes_out_and_an_owners_post_needs_no_approval(
    session, services, owner, video
):
    post_times.set_publishing_settings(session, actor=owner, timezone="UTC", require_approval=True)
    editor = _member(session, owner, "eddie@example.com", WorkspaceRole.EDITOR)
    account = _account(session, services, owner)
    [waiting] = _publish(session, services, editor, video, account, when=_future_local())
    rejected = posts.decide(
        session, services, actor=owner, post_id=waiting.id, approve=False, note="Wrong video"
    )
    assert (rejected.status, rejected.decision_note) == (PostStatus.REJECTED, "Wrong video")
    [own] = _publish(session, services, owner, video, account, when=_future_local())
    assert own.status == PostStatus.SCHEDULED


# ---------------------------------------------------------------- cancel and reschedule


def test_reschedule_moves_a_scheduled_post_and_cancel_stops_it(session, services, owner, video):
    account = _account(session, services, owner)
    [post] = _publish(session, services, owner, video, account, when=_future_local(2))
    new_time = _future_local(26)
    moved = posts.reschedule(session, services, actor=owner, post_id=post.id, when_local=new_time)
    assert post_times.local_text(moved.scheduled_at, "UTC") == new_time
    canceled = posts.cancel(session, services, actor=owner, post_id=post.id)
    assert canceled.status == PostStatus.CANCELED
    errors = _refusal(
        lambda: posts.reschedule(
            session, services, actor=owner, post_id=post.id, when_local=new_time
        )
    )
    assert errors == {"post": "This post is canceled; it can no longer be moved."}


def test_a_published_post_cannot_be_cancelled_and_others_posts_are_not_found(
    session, services, owner, video
):
    account = _account(session, services, owner)
    [post] = _publish(session, services, owner, video, account, when=_future_local())
    post.status = PostStatus.PUBLISHED
    session.add(post)
    session.commit()
    errors = _refusal(lambda: posts.cancel(session, services, actor=owner, post_id=post.id))
    assert errors == {"post": "This post is published; it can no longer be cancelled."}
    stranger = new_user(session, "sam@example.com")
    other = actor_for(
        session, user_id=stranger.id, workspace_id=personal_workspace_id(session, stranger.id)
    )
    from viralshorts.errors import NotFoundError

    with pytest.raises(NotFoundError):
        posts.cancel(session, services, actor=other, post_id=post.id)
