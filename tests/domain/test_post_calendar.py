"""A campaign schedule's auto-fill on real PostgreSQL: a week of posting times, each given the
campaign's next ready, unposted video, previewed first, then scheduled in one go."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from tests.factories import new_user
from tests.publishing_support import MemoryPlatform, add_account, add_ready_video
from viralshorts.domain import post_calendar, post_times
from viralshorts.domain.post_calendar import MAX_FILL, PlannedPost
from viralshorts.domain.workspaces import Actor, actor_for, personal_workspace_id
from viralshorts.errors import ValidationError
from viralshorts.integrations.ports import Services
from viralshorts.integrations.services import build_services
from viralshorts.models import Post, Schedule, Subscription, Video, VideoStatus, Workspace
from viralshorts.settings import get_settings

TZ = "America/New_York"
# Monday 10:00 in New York; the clocks go forward on Sunday 9 March 2031, inside the week.
NOW = datetime(2031, 3, 3, 15, 0, tzinfo=UTC)
WEEK = [
    "2031-03-03T18:00",
    "2031-03-05T09:00",
    "2031-03-05T18:00",
    "2031-03-07T09:00",
    "2031-03-07T18:00",
    "2031-03-10T09:00",  # the next Monday morning, before the week ends at 10:00
]


@pytest.fixture()
def services(use_redis) -> Services:
    platforms = {name: MemoryPlatform(name=name) for name in ("youtube", "tiktok")}
    return dataclasses.replace(build_services(get_settings()), platforms=platforms, email=None)


@pytest.fixture()
def owner(session: Session) -> Actor:
    user = new_user(session, "olga@example.com", display_name="Olga")
    workspace = session.get(Workspace, personal_workspace_id(session, user.id))
    workspace.timezone = TZ
    session.add(workspace)
    session.commit()
    return actor_for(session, user_id=user.id, workspace_id=workspace.id)


def _videos(session, services, owner, tmp_path, count: int) -> list[Video]:
    """``count`` ready videos of one campaign, oldest first."""
    first = add_ready_video(
        session,
        services,
        workspace_id=owner.workspace_id,
        user_id=owner.user_id,
        tmp_path=tmp_path,
        title="Video 0",
    )
    made = [first]
    for number in range(1, count):
        video = Video(
            workspace_id=owner.workspace_id,
            user_id=owner.user_id,
            campaign_id=first.campaign_id,
            topic=f"Video {number}",
            title=f"Video {number}",
            status=VideoStatus.READY,
            duration_seconds=first.duration_seconds,
            size_bytes=first.size_bytes,
            video_key=first.video_key,
            created_at=first.created_at + timedelta(minutes=number),
        )
        session.add(video)
        made.append(video)
    session.commit()
    return made


def _schedule(session: Session, campaign_id: int) -> None:
    session.add(
        Schedule(
            campaign_id=campaign_id,
            days=[0, 2, 4],  # Monday, Wednesday, Friday
            times=["18:00", "09:00"],
            timezone=TZ,
            platforms=["youtube", "tiktok"],
        )
    )
    session.commit()


@pytest.fixture()
def campaign(session, services, owner, tmp_path) -> tuple[int, list[Video]]:
    videos = _videos(session, services, owner, tmp_path, 9)
    videos[7].status = VideoStatus.FAILED  # not ready: never planned
    session.add(videos[7])
    session.commit()
    for platform in ("youtube", "tiktok"):
        account = add_account(
            session,
            services,
            workspace_id=owner.workspace_id,
            user_id=owner.user_id,
            platform=platform,
            name=f"My {platform}",
        )
        account.sandbox = platform == "youtube"  # connected to the sandbox's fake
        session.add(account)
    session.commit()
    _schedule(session, videos[0].campaign_id)
    return videos[0].campaign_id, videos


def _preview(session, owner, campaign_id) -> list[PlannedPost]:
    return post_calendar.fill_preview(session, actor=owner, campaign_id=campaign_id, now=NOW)


def test_auto_fill_plans_a_week_of_slots_with_the_oldest_ready_unposted_videos(
    session, services, owner, campaign
):
    campaign_id, videos = campaign
    planned = _preview(session, owner, campaign_id)
    assert [(p.when_local, p.video_id) for p in planned[::2]] == [
        (when, video.id) for when, video in zip(WEEK, videos[:6], strict=True)
    ]
    assert [p.platform for p in planned] == ["youtube", "tiktok"] * 6
    assert [p.sandbox for p in planned] == [True, False] * 6  # for the "sandbox" badge
    assert session.exec(select(Post)).all() == []  # a preview changes nothing


def test_a_week_beyond_the_plans_posts_is_refused_whole_then_fits_after_upgrading(
    session, services, owner, campaign
):
    campaign_id, videos = campaign
    planned = _preview(session, owner, campaign_id)
    with pytest.raises(ValidationError) as refused:  # Free: 10 scheduled posts a period
        post_calendar.confirm_fill(session, services, actor=owner, planned=planned)
    assert refused.value.field_errors["schedule"].startswith(
        "These are 12 posts and your Free plan has 10 scheduled post(s) left"
    )
    assert session.exec(select(Post)).all() == []  # nothing half-scheduled
    session.add(Subscription(workspace_id=owner.workspace_id, user_id=owner.user_id, plan="pro"))
    session.commit()
    made = post_calendar.confirm_fill(session, services, actor=owner, planned=planned)
    assert made == 12
    scheduled = session.exec(select(Post).order_by(col(Post.scheduled_at), col(Post.id))).all()
    local = [post_times.local_text(p.scheduled_at, TZ) for p in scheduled[::2]]
    assert local == WEEK
    assert [p.scheduled_at.hour for p in scheduled[6::2]] == [14, 23, 13]  # EST, then EDT
    tiktok = [p for p in scheduled if p.options["privacy"] == "SELF_ONLY"]
    assert len(tiktok) == 6  # TikTok posts start as only-me
    assert {p.video_id for p in scheduled} == {v.id for v in videos[:6]}
    rest = _preview(session, owner, campaign_id)  # the next fill takes the videos left over
    assert {p.video_id for p in rest} == {videos[6].id, videos[8].id}


def test_the_fill_stops_at_the_plans_limit_of_slots():
    schedule = Schedule(campaign_id=1, days=list(range(7)), times=["08:00", "12:00", "20:00"])
    slots = post_calendar.slots_between(schedule, "UTC", NOW, NOW + timedelta(days=7), MAX_FILL)
    assert len(slots) == MAX_FILL == 14
    assert slots[0] == "2031-03-03T20:00" and slots == sorted(slots)
