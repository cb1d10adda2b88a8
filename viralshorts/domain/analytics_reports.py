"""Reading the numbers back: a workspace's analytics over a date range (page, CSV, overview).

Each VideoAnalytics row holds a post's lifetime numbers as the platform reported them that day.
A post's value on a day is its latest row on or before that day, so a day the collector missed
repeats the day before; what a post gained in a range is its value on the last day minus its
value the day before the first (0 before its first row). Everything is read through the posts'
accounts, so a workspace only ever sees its own posts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from viralshorts.domain.workspaces import Action, Actor, require
from viralshorts.errors import NotFoundError, ValidationError
from viralshorts.models import Campaign, Post, SocialAccount, Video, VideoAnalytics

MAX_RANGE_DAYS = 366
DEFAULT_RANGE_DAYS = 28
METRICS = ("views", "likes", "comments", "shares", "saves")
VIDEO_NOT_FOUND = "Video not found."


@dataclass(frozen=True)
class DateRange:
    start: date
    end: date

    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]


@dataclass(frozen=True)
class Totals:
    views: int = 0
    likes: int = 0
    comments: int = 0
    shares: int = 0
    saves: int = 0

    def __add__(self, other: Totals) -> Totals:
        return Totals(*(getattr(self, m) + getattr(other, m) for m in METRICS))

    def __sub__(self, other: Totals) -> Totals:
        return Totals(*(getattr(self, m) - getattr(other, m) for m in METRICS))


@dataclass(frozen=True)
class VideoLine:
    video_id: int
    title: str
    campaign: str
    platforms: tuple[str, ...]
    gained: Totals


@dataclass(frozen=True)
class CampaignLine:
    campaign_id: int
    name: str
    videos: int
    gained: Totals


@dataclass(frozen=True)
class PostLine:
    post_id: int
    platform: str
    account: str
    url: str
    lifetime: Totals  # as of the range's last day
    sandbox: bool = False  # the account talks to a local fake (the UI's "sandbox" badge)


@dataclass(frozen=True)
class AnalyticsReport:
    """Views gained per day per platform, and what each video and campaign gained."""

    date_range: DateRange
    gained: Totals
    views_by_day: list[dict[str, int | str]]  # {"day": "2026-12-01", "instagram": 120, ...}
    platforms: list[str]
    top_videos: list[VideoLine]
    campaigns: list[CampaignLine]


@dataclass(frozen=True)
class VideoPanel:
    video_id: int
    title: str
    gained: Totals
    views_by_day: list[dict[str, int | str]]
    posts: list[PostLine] = field(default_factory=list)


@dataclass(frozen=True)
class _Post:
    post_id: int
    video_id: int
    title: str
    campaign_id: int
    campaign: str
    platform: str
    account: str
    url: str
    sandbox: bool = False


def parse_range(start: str, end: str, *, today: date) -> DateRange:
    """The range from two ``YYYY-MM-DD`` texts; empty ones mean the last 28 days to today.

    Raises:
        ValidationError: a date that is not one, an end before the start, or over a year.
    """
    errors: dict[str, str] = {}
    first = _parsed(start, "start", errors) or today - timedelta(days=DEFAULT_RANGE_DAYS - 1)
    last = _parsed(end, "end", errors) or today
    if not errors and last < first:
        errors["end"] = "The end date is before the start date."
    if not errors and (last - first).days >= MAX_RANGE_DAYS:
        errors["end"] = f"Choose at most {MAX_RANGE_DAYS} days."
    if errors:
        raise ValidationError(errors)
    return DateRange(first, last)


def _parsed(text: str, name: str, errors: dict[str, str]) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        errors[name] = "Enter a date as YYYY-MM-DD."
        return None


def _posts(session: Session, actor: Actor, video_id: int | None = None) -> dict[int, _Post]:
    query = (
        select(Post, SocialAccount, Video, Campaign)
        .join(SocialAccount, col(SocialAccount.id) == col(Post.social_account_id))
        .join(Video, col(Video.id) == col(Post.video_id))
        .join(Campaign, col(Campaign.id) == col(Video.campaign_id))
        .where(col(SocialAccount.workspace_id) == actor.workspace_id)
    )
    if video_id is not None:
        query = query.where(col(Post.video_id) == video_id)
    found = {}
    for post, account, video, campaign in session.exec(query).all():
        found[post.id or 0] = _Post(
            post.id or 0, video.id or 0, video.title or video.topic, campaign.id or 0,
            campaign.name, str(account.platform), account.display_name, post.external_url,
            account.sandbox,
        )  # fmt: skip
    return found


def _snapshots(
    session: Session, post_ids: Iterable[int], date_range: DateRange
) -> dict[int, list[tuple[date, Totals]]]:
    """Each post's rows in the range, oldest first, after its last row before the range."""
    ids = list(post_ids)
    if not ids:
        return {}
    metrics = [col(getattr(VideoAnalytics, m)) for m in METRICS]
    before = (
        select(col(VideoAnalytics.post_id), func.max(col(VideoAnalytics.date)).label("day"))
        .where(col(VideoAnalytics.post_id).in_(ids), col(VideoAnalytics.date) < date_range.start)
        .group_by(col(VideoAnalytics.post_id))
        .subquery()
    )
    in_range = col(VideoAnalytics.date).between(date_range.start, date_range.end)
    baseline = sa.and_(
        col(VideoAnalytics.post_id) == before.c.post_id, col(VideoAnalytics.date) == before.c.day
    )
    rows = session.exec(
        select(col(VideoAnalytics.post_id), col(VideoAnalytics.date), *metrics)
        .outerjoin(before, baseline)
        .where(col(VideoAnalytics.post_id).in_(ids), sa.or_(in_range, before.c.day.is_not(None)))
        .order_by(col(VideoAnalytics.post_id), col(VideoAnalytics.date))
    ).all()
    found: dict[int, list[tuple[date, Totals]]] = defaultdict(list)
    for post_id, day, *values in rows:
        found[post_id].append((day, Totals(*values)))
    return found


def _daily_values(snapshots: list[tuple[date, Totals]], days: list[date]) -> list[Totals]:
    """The post's value on each day (carried forward), starting with the day before."""
    values, current, index = [], Totals(), 0
    for day in [days[0] - timedelta(days=1), *days]:
        while index < len(snapshots) and snapshots[index][0] <= day:
            current = snapshots[index][1]
            index += 1
        values.append(current)
    return values


def _views_by_day(
    posts: dict[int, _Post], values: dict[int, list[Totals]], date_range: DateRange
) -> tuple[list[dict[str, int | str]], list[str]]:
    platforms = sorted({posts[p].platform for p in values})
    days = date_range.days()
    series: list[dict[str, int | str]] = [
        {"day": day.isoformat(), **dict.fromkeys(platforms, 0)} for day in days
    ]
    for post_id, daily in values.items():
        platform = posts[post_id].platform
        for n in range(len(days)):
            point = series[n]
            point[platform] = int(point[platform]) + daily[n + 1].views - daily[n].views
    return series, platforms


def _lines(posts: dict[int, _Post], gained: dict[int, Totals]) -> tuple[list, list]:
    by_video: dict[int, Totals] = defaultdict(Totals)
    platforms: dict[int, set[str]] = defaultdict(set)
    by_campaign: dict[int, Totals] = defaultdict(Totals)
    campaign_videos: dict[int, set[int]] = defaultdict(set)
    for post_id, totals in gained.items():
        post = posts[post_id]
        by_video[post.video_id] += totals
        platforms[post.video_id].add(post.platform)
        by_campaign[post.campaign_id] += totals
        campaign_videos[post.campaign_id].add(post.video_id)
    first = {p.video_id: p for p in posts.values()}
    campaigns = {p.campaign_id: p.campaign for p in posts.values()}
    videos = [
        VideoLine(vid, first[vid].title, first[vid].campaign, tuple(sorted(platforms[vid])), t)
        for vid, t in by_video.items()
    ]
    lines = [
        CampaignLine(cid, campaigns[cid], len(campaign_videos[cid]), t)
        for cid, t in by_campaign.items()
    ]
    videos.sort(key=lambda v: (-v.gained.views, v.video_id))
    lines.sort(key=lambda c: (-c.gained.views, c.campaign_id))
    return videos, lines


def _gained(values: dict[int, list[Totals]]) -> dict[int, Totals]:
    return {post_id: daily[-1] - daily[0] for post_id, daily in values.items()}


def analytics_report(
    session: Session, *, actor: Actor, date_range: DateRange, top: int = 10
) -> AnalyticsReport:
    """The workspace's numbers over ``date_range`` (any member may read them)."""
    require(actor, Action.VIEW)
    posts = _posts(session, actor)
    days = date_range.days()
    snapshots = _snapshots(session, posts, date_range)
    values = {p: _daily_values(rows, days) for p, rows in snapshots.items()}
    series, platforms = _views_by_day(posts, values, date_range)
    gained = _gained(values)
    videos, campaigns = _lines(posts, gained)
    return AnalyticsReport(
        date_range, sum(gained.values(), Totals()), series, platforms, videos[:top], campaigns
    )


def video_panel(
    session: Session, *, actor: Actor, video_id: int, date_range: DateRange
) -> VideoPanel:
    """One video's numbers over ``date_range``: per day per platform, and per post.

    Raises:
        NotFoundError: the video is not in the actor's workspace.
    """
    require(actor, Action.VIEW)
    video = session.get(Video, video_id)
    if video is None or video.workspace_id != actor.workspace_id:
        raise NotFoundError(VIDEO_NOT_FOUND, code="video_not_found")
    posts = _posts(session, actor, video_id)
    days = date_range.days()
    values = {p: _daily_values(r, days) for p, r in _snapshots(session, posts, date_range).items()}
    series, _platforms = _views_by_day(posts, values, date_range)
    lines = [
        PostLine(p.post_id, p.platform, p.account, p.url, _latest(values, p.post_id), p.sandbox)
        for p in posts.values()
    ]
    gained = sum(_gained(values).values(), Totals())
    return VideoPanel(video_id, video.title or video.topic, gained, series, lines)


def _latest(values: dict[int, list[Totals]], post_id: int) -> Totals:
    return values.get(post_id, [Totals()])[-1]


def workspace_totals(session: Session, *, actor: Actor) -> Totals:
    """Lifetime numbers of every post in the workspace (each post's latest row)."""
    require(actor, Action.VIEW)
    latest = (
        select(col(VideoAnalytics.post_id), func.max(col(VideoAnalytics.date)).label("day"))
        .join(Post, col(Post.id) == col(VideoAnalytics.post_id))
        .join(SocialAccount, col(SocialAccount.id) == col(Post.social_account_id))
        .where(col(SocialAccount.workspace_id) == actor.workspace_id)
        .group_by(col(VideoAnalytics.post_id))
        .subquery()
    )
    sums = [func.coalesce(func.sum(col(getattr(VideoAnalytics, m))), 0) for m in METRICS]
    row = session.exec(
        select(*sums).join(
            latest,
            sa.and_(
                col(VideoAnalytics.post_id) == latest.c.post_id,
                col(VideoAnalytics.date) == latest.c.day,
            ),
        )
    ).one()
    return Totals(*(int(v) for v in row))


CSV_HEADER = (
    "date", "platform", "account", "video_id", "video", "campaign", "post_url",
    "views", "likes", "comments", "shares", "saves",
)  # fmt: skip


def export_rows(session: Session, *, actor: Actor, date_range: DateRange) -> list[list[str]]:
    """Every stored row in the range, one per post per day (lifetime numbers on that day)."""
    require(actor, Action.VIEW)
    posts = _posts(session, actor)
    out = []
    for post_id, rows in sorted(_snapshots(session, posts, date_range).items()):
        post = posts[post_id]
        for day, totals in rows:
            if day < date_range.start:
                continue
            numbers = [str(getattr(totals, m)) for m in METRICS]
            described = [post.platform, post.account, str(post.video_id), post.title]
            out.append([day.isoformat(), *described, post.campaign, post.url, *numbers])
    out.sort(key=lambda line: (line[0], line[1], line[3]))
    return out
