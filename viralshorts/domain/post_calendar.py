"""What the calendar shows: a workspace's posts in a range, in its timezone, and a campaign
schedule's next slots filled with its ready, unposted videos (previewed before confirming)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from viralshorts.domain import posts, quotas
from viralshorts.domain.post_limits import limits_for
from viralshorts.domain.post_times import local_text, workspace_of, zone
from viralshorts.domain.posts import PostRequest
from viralshorts.domain.workspaces import Action, Actor, can, require
from viralshorts.errors import NotFoundError, ValidationError, ViralShortsError
from viralshorts.integrations.ports import Services
from viralshorts.models import (
    AccountHealth,
    Campaign,
    Platform,
    Post,
    PostStatus,
    Schedule,
    SocialAccount,
    Video,
    VideoStatus,
    utcnow,
)

NOT_POSTED = (PostStatus.CANCELED, PostStatus.REJECTED, PostStatus.FAILED)
MAX_FILL = 14
FILL_DAYS = 7  # auto-fill plans a week ahead
TIKTOK_FILL_PRIVACY = "SELF_ONLY"  # TikTok wants the creator to choose; only-me is always offered


@dataclass(frozen=True)
class PostView:
    """One post as the calendar and the Publish panel show it."""

    id: int
    video_id: int
    video_title: str
    platform: str
    platform_label: str
    account_name: str
    sandbox: bool
    status: str
    when_utc: datetime | None
    when_local: str  # "YYYY-MM-DDTHH:MM" in the workspace's timezone
    url: str
    last_error: str
    paused: str  # why it waits for its account ("" when it does not)
    can_change: bool
    can_decide: bool


def _paused(post: Post, account: SocialAccount) -> str:
    if post.status != PostStatus.SCHEDULED:
        return ""
    if account.health != AccountHealth.OK:
        return f"Waiting for {account.display_name} to be reconnected."
    return post.paused_reason


def _view(post: Post, video: Video, account: SocialAccount, actor: Actor, tz: str) -> PostView:
    changeable = post.status in posts.CHANGEABLE and can(actor, Action.MANAGE_POSTS)
    return PostView(
        id=post.id or 0,
        video_id=video.id or 0,
        video_title=video.title or video.topic,
        platform=account.platform,
        platform_label=limits_for(account.platform).label,
        account_name=account.display_name,
        sandbox=account.sandbox,
        status=post.status,
        when_utc=post.published_at or post.scheduled_at,
        when_local=local_text(post.published_at or post.scheduled_at, tz),
        url=post.external_url if post.status == PostStatus.PUBLISHED else "",
        last_error=post.last_error,
        paused=_paused(post, account),
        can_change=changeable,
        can_decide=post.status == PostStatus.PENDING_APPROVAL and can(actor, Action.APPROVE_POSTS),
    )


def _rows(session: Session, actor: Actor):  # noqa: ANN202 - a SQLModel select
    return (
        select(Post, Video, SocialAccount)
        .join(Video, col(Video.id) == Post.video_id)
        .join(SocialAccount, col(SocialAccount.id) == Post.social_account_id)
        .where(Video.workspace_id == actor.workspace_id)
    )


def posts_between(
    session: Session, *, actor: Actor, start: datetime, end: datetime
) -> list[PostView]:
    """The workspace's posts planned or published in ``[start, end)``, in time order."""
    require(actor, Action.VIEW)
    tz = workspace_of(session, actor).timezone
    when = func.coalesce(Post.published_at, Post.scheduled_at)
    query = _rows(session, actor).where(when >= start, when < end).order_by(when, col(Post.id))
    return [_view(p, v, a, actor, tz) for p, v, a in session.exec(query).all()]


def posts_of_video(session: Session, *, actor: Actor, video_id: int) -> list[PostView]:
    """Every post of one video, newest first (the Publish panel's list)."""
    require(actor, Action.VIEW)
    tz = workspace_of(session, actor).timezone
    query = _rows(session, actor).where(Post.video_id == video_id).order_by(col(Post.id).desc())
    return [_view(p, v, a, actor, tz) for p, v, a in session.exec(query).all()]


def local_range(timezone: str, first_day: date, days: int) -> tuple[datetime, datetime]:
    """UTC bounds of ``days`` whole local days from ``first_day`` in ``timezone``."""
    tz = zone(timezone)
    start = datetime.combine(first_day, time(), tzinfo=tz)
    end = datetime.combine(first_day + timedelta(days=days), time(), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


# ---------------------------------------------------------------- a campaign's schedule


@dataclass(frozen=True)
class PlannedPost:
    """One slot of a schedule with the video and account that would fill it."""

    video_id: int
    video_title: str
    account_id: int
    account_name: str
    platform: str
    when_local: str
    sandbox: bool = False


def _schedule(session: Session, actor: Actor, campaign_id: int) -> Schedule:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.workspace_id != actor.workspace_id:
        raise NotFoundError("Campaign not found.", code="campaign_not_found")
    schedule = session.exec(
        select(Schedule).where(Schedule.campaign_id == campaign_id, Schedule.active)
    ).first()
    if schedule is None or not schedule.days or not schedule.times:
        raise ValidationError({"schedule": "This campaign has no posting days and times yet."})
    return schedule


def slots_between(
    schedule: Schedule, workspace_tz: str, start: datetime, end: datetime, limit: int
) -> list[str]:
    """The schedule's local posting times in ``(start, end)``, at most ``limit``, written in
    the workspace's timezone (the schedule's own timezone decides the wall-clock times)."""
    tz = zone(schedule.timezone or workspace_tz)
    day, last_day = start.astimezone(tz).date(), end.astimezone(tz).date()
    slots: list[str] = []
    while day <= last_day and len(slots) < limit:
        if day.weekday() in schedule.days:
            for hhmm in sorted(schedule.times):
                hours, minutes = (int(part) for part in hhmm.split(":"))
                moment = datetime.combine(day, time(hours, minutes), tzinfo=tz)
                if start < moment < end and len(slots) < limit:
                    slots.append(local_text(moment, workspace_tz))
        day += timedelta(days=1)
    return slots


def _unposted_videos(session: Session, actor: Actor, campaign_id: int) -> list[Video]:
    posted = select(Post.video_id).where(col(Post.status).not_in(NOT_POSTED))
    return list(
        session.exec(
            select(Video)
            .where(
                Video.campaign_id == campaign_id,
                Video.workspace_id == actor.workspace_id,
                Video.status == VideoStatus.READY,
                col(Video.id).not_in(posted),
            )
            .order_by(col(Video.created_at))
        ).all()
    )


def _accounts_for(session: Session, actor: Actor, platforms: list[str]) -> list[SocialAccount]:
    found = []
    for platform in platforms:
        account = session.exec(
            select(SocialAccount)
            .where(
                SocialAccount.workspace_id == actor.workspace_id,
                SocialAccount.platform == platform,
                SocialAccount.health == AccountHealth.OK,
            )
            .order_by(col(SocialAccount.id))
        ).first()
        if account is not None:
            found.append(account)
    return found


def fill_preview(
    session: Session,
    *,
    actor: Actor,
    campaign_id: int,
    days: int = FILL_DAYS,
    now: datetime | None = None,
) -> list[PlannedPost]:
    """What auto-fill would plan: the schedule's posting times over the next ``days`` days
    (at most ``MAX_FILL``), each given the campaign's next ready, unposted video (oldest
    first) for the first healthy account of each of the schedule's platforms."""
    require(actor, Action.MANAGE_POSTS)
    schedule = _schedule(session, actor, campaign_id)
    tz = workspace_of(session, actor).timezone
    accounts = _accounts_for(session, actor, schedule.platforms)
    if not accounts:
        raise ValidationError({"schedule": "Connect an account for the schedule's platforms."})
    start = now or utcnow()
    slots = slots_between(schedule, tz, start, start + timedelta(days=days), MAX_FILL)
    videos = _unposted_videos(session, actor, campaign_id)[: len(slots)]
    return [
        PlannedPost(
            video_id=v.id or 0,
            video_title=v.title or v.topic,
            account_id=a.id or 0,
            account_name=a.display_name,
            platform=a.platform,
            when_local=slot,
            sandbox=a.sandbox,
        )
        for v, slot in zip(videos, slots, strict=False)
        for a in accounts
    ]


def _fill_fields(video: Video, item: PlannedPost) -> dict[str, object]:
    fields = posts.default_fields(video, item.platform)
    if item.platform == Platform.TIKTOK:
        fields["privacy"] = TIKTOK_FILL_PRIVACY
    return fields


def _require_post_quota(session: Session, actor: Actor, needed: int) -> None:
    """Refuse the whole fill up front when the plan cannot take every one of its posts."""
    usage = quotas.usage_summary(session, workspace_id=actor.workspace_id)
    left = max(usage.plan.scheduled_posts - usage.posts, 0)
    if needed > left:
        raise ValidationError(
            {
                "schedule": f"These are {needed} posts and your {usage.plan.label} plan has "
                f"{left} scheduled post(s) left this billing period. Fill fewer or upgrade."
            }
        )


def _refusal_text(exc: ViralShortsError) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.field_errors.values())
    return exc.message


def confirm_fill(
    session: Session, services: Services, *, actor: Actor, planned: list[PlannedPost]
) -> int:
    """Schedule what ``fill_preview`` showed (each video with its own default fields).

    Returns:
        How many posts were made.

    Raises:
        ValidationError: the plan has fewer scheduled posts left than the fill needs (nothing
            is scheduled), or a slot was refused after earlier ones were scheduled (the message
            says how many). Otherwise what ``posts.publish_video`` raises.
    """
    require(actor, Action.MANAGE_POSTS)
    _require_post_quota(session, actor, len(planned))
    made = 0
    by_slot: dict[tuple[int, str], list[PlannedPost]] = {}
    for item in planned:
        by_slot.setdefault((item.video_id, item.when_local), []).append(item)
    for items in by_slot.values():
        try:
            made += _schedule_slot(session, services, actor=actor, items=items)
        except ViralShortsError as exc:
            if not made:
                raise
            text = f"Scheduled {made} post(s), then stopped: {_refusal_text(exc)}"
            raise ValidationError({"schedule": text}) from exc
    return made


def _schedule_slot(
    session: Session, services: Services, *, actor: Actor, items: list[PlannedPost]
) -> int:
    """One slot: its video to each planned account at the slot's time."""
    video_id, when_local = items[0].video_id, items[0].when_local
    video = session.get(Video, video_id)
    if video is None or video.workspace_id != actor.workspace_id:
        raise NotFoundError("Video not found.", code="video_not_found")
    requests = [PostRequest(item.account_id, _fill_fields(video, item)) for item in items]
    made = posts.publish_video(
        session, services, actor=actor, video_id=video_id, requests=requests, when_local=when_local
    )
    return len(made)
