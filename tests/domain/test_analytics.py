"""Analytics collection: the real Instagram client against its local fake, on PostgreSQL and
SQLite; one row per post per day, however often it runs; rate limits respected."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from alembic import command
from tests.conftest import _alembic_config
from tests.factories import make_creator
from tests.fakes.instagram_server import FakeInstagram, InstagramState
from tests.integrations.platform_support import Clock
from viralshorts.db import make_engine
from viralshorts.domain.analytics import collect_analytics, collect_if_due
from viralshorts.domain.analytics_reports import (
    DateRange,
    analytics_report,
    export_rows,
    parse_range,
    video_panel,
    workspace_totals,
)
from viralshorts.domain.dashboard import overview_counts
from viralshorts.domain.workspaces import Actor, actor_for
from viralshorts.errors import NotFoundError, PlatformRateLimitedError, ValidationError
from viralshorts.integrations.instagram import InstagramPlatform
from viralshorts.integrations.ports import PlatformTokens, PostStats, Services
from viralshorts.integrations.services import build_services
from viralshorts.models import (
    AccountHealth,
    Campaign,
    Platform,
    Post,
    PostStatus,
    SocialAccount,
    Video,
    VideoAnalytics,
)
from viralshorts.settings import Settings, get_settings

DAY = date(2026, 12, 2)


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def fake(clock: Clock) -> Iterator[FakeInstagram]:
    with FakeInstagram(state=InstagramState(clock=clock)) as server:
        yield server


def _services(fake: FakeInstagram, **settings_fields: object) -> Services:
    current = get_settings().model_dump(include=set(Settings.model_fields))
    settings = Settings(
        **{
            **current,
            **fake.settings_overrides(),
            **settings_fields,
        }
    )
    services = build_services(settings)
    return dataclasses.replace(services, platforms={"instagram": InstagramPlatform(settings)})


@pytest.fixture()
def services(use_database: str, use_redis: object, fake: FakeInstagram) -> Services:
    return _services(fake)


def _account(
    session: Session,
    services: Services,
    fake: FakeInstagram,
    workspace_id: int,
    user_id: int,
    platform: Platform = Platform.INSTAGRAM,
) -> SocialAccount:
    assert services.token_cipher is not None
    account = SocialAccount(
        workspace_id=workspace_id,
        user_id=user_id,
        platform=platform,
        external_id=fake.state.ig_user_id,
        display_name="sandbox_reels",
        access_token_enc=services.token_cipher.encrypt(fake.long_lived_token()),
        profile_extra={"ig_user_id": fake.state.ig_user_id, "page_id": fake.state.page_id},
    )
    session.add(account)
    session.commit()
    return account


def _published(
    session: Session, fake: FakeInstagram, account: SocialAccount, campaign_id: int, count: int
) -> list[Post]:
    posts = []
    for index in range(count):
        video = Video(
            workspace_id=account.workspace_id,
            user_id=account.user_id,
            campaign_id=campaign_id,
            topic=f"owls {index}",
            title=f"Owls {index}",
        )
        session.add(video)
        session.flush()
        post = Post(
            video_id=video.id,
            social_account_id=account.id,
            status=PostStatus.PUBLISHED,
            external_id=fake.add_reel(f"owls {index}", age_seconds=100 * (index + 1)),
            idempotency_key=secrets.token_hex(16),
        )
        session.add(post)
        posts.append(post)
    session.commit()
    return posts


def _setup(session: Session, services: Services, fake: FakeInstagram, count: int = 3):
    user_id, campaign_id = make_creator(session, f"a{secrets.token_hex(3)}@example.com")
    workspace_id = session.get(Campaign, campaign_id).workspace_id
    account = _account(session, services, fake, workspace_id, user_id)
    return account, _published(session, fake, account, campaign_id, count)


def _rows(session: Session) -> list[VideoAnalytics]:
    session.expire_all()
    return list(session.exec(select(VideoAnalytics).order_by(VideoAnalytics.post_id)).all())


def test_collection_writes_one_row_per_post_per_day_with_the_platforms_numbers(
    session: Session, services: Services, fake: FakeInstagram
) -> None:
    _account_row, posts = _setup(session, services, fake)
    report = collect_analytics(session, services, today=DAY)
    assert report.rows == {"instagram": 3} and not report.rate_limited
    rows = _rows(session)
    assert [(r.post_id, r.date) for r in rows] == [(p.id, DAY) for p in posts]
    first = rows[0]
    assert first.video_id == posts[0].video_id
    assert (first.views, first.likes, first.saves) == (500, 50, 16)  # 100 s at 5 views/s


def test_a_second_run_the_same_day_updates_the_rows_and_adds_none(
    session: Session, services: Services, fake: FakeInstagram, clock: Clock
) -> None:
    _setup(session, services, fake)
    collect_analytics(session, services, today=DAY)
    clock.now += 100
    collect_analytics(session, services, today=DAY)
    rows = _rows(session)
    assert len(rows) == 3
    assert rows[0].views == 1000
    collect_analytics(session, services, today=date(2026, 12, 3))
    assert len(_rows(session)) == 6


def test_a_rate_limit_stops_that_platform_for_the_run(
    session: Session, services: Services, fake: FakeInstagram
) -> None:
    _setup(session, services, fake)
    fake.fault("rate_limit")
    report = collect_analytics(session, services, today=DAY)
    assert report.rate_limited == {"instagram": 60.0} and report.rows == {"instagram": 0}
    assert fake.count("GET", "/insights") == 1  # nothing more was asked after the refusal
    assert _rows(session) == []


def test_a_run_reads_at_most_the_configured_posts_in_batches_and_the_next_continues(
    session: Session, use_database: str, use_redis: object, fake: FakeInstagram
) -> None:
    services = _services(fake, analytics_max_posts_per_run=3, analytics_batch_size=2)
    calls: list[int] = []
    instagram = services.platforms["instagram"]

    class Counting:
        name, scopes, sandbox = instagram.name, instagram.scopes, False

        def stats(self, tokens: PlatformTokens, extra: dict, ids: list[str]) -> dict:
            calls.append(len(ids))
            return instagram.stats(tokens, extra, ids)

    services = dataclasses.replace(services, platforms={"instagram": Counting()})  # type: ignore[dict-item]
    _setup(session, services, fake, count=5)
    assert collect_analytics(session, services, today=DAY).rows == {"instagram": 3}
    assert calls == [2, 1]
    assert collect_analytics(session, services, today=DAY).rows == {"instagram": 3}
    assert len({r.post_id for r in _rows(session)}) == 5  # the two left over came first


def test_an_expired_token_is_refreshed_once_and_the_run_goes_on(
    session: Session, services: Services, fake: FakeInstagram
) -> None:
    account, _posts = _setup(session, services, fake)
    before = account.access_token_enc
    fake.fault("expired_token")
    assert collect_analytics(session, services, today=DAY).rows == {"instagram": 3}
    session.refresh(account)
    assert account.access_token_enc != before


def test_an_account_that_needs_reconnecting_is_left_out(
    session: Session, services: Services, fake: FakeInstagram
) -> None:
    account, _posts = _setup(session, services, fake)
    account.health = AccountHealth.NEEDS_RECONNECT
    session.add(account)
    session.commit()
    assert collect_analytics(session, services, today=DAY).rows == {"instagram": 0}
    assert fake.count("GET", "/insights") == 0


def test_unpublished_posts_are_not_asked_about(
    session: Session, services: Services, fake: FakeInstagram
) -> None:
    _account_row, posts = _setup(session, services, fake)
    posts[0].status = PostStatus.FAILED
    session.add(posts[0])
    session.commit()
    assert collect_analytics(session, services, today=DAY).rows == {"instagram": 2}


def test_the_ticker_gate_runs_once_per_interval(
    session: Session, services: Services, fake: FakeInstagram
) -> None:
    _setup(session, services, fake)
    assert collect_if_due(session, services) is not None
    assert collect_if_due(session, services) is None  # another machine ran it a moment ago
    off = dataclasses.replace(
        services, settings=services.settings.model_copy(update={"analytics_interval_seconds": 0})
    )
    assert collect_if_due(session, off) is None


def test_collection_on_sqlite_upserts_too(
    tmp_path: Path, use_redis: object, fake: FakeInstagram
) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    command.upgrade(_alembic_config(url), "head")
    engine = make_engine(url)
    services = _services(fake, database_url=url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            _setup(session, services, fake)
            collect_analytics(session, services, today=DAY)
            collect_analytics(session, services, today=DAY)
            assert len(_rows(session)) == 3
    finally:
        engine.dispose()


def test_a_platform_that_is_rate_limited_does_not_stop_another(
    session: Session, services: Services, fake: FakeInstagram
) -> None:
    class Limited:
        name, scopes, sandbox = "youtube", (), False

        def stats(self, *_args: object) -> dict[str, PostStats]:
            raise PlatformRateLimitedError("quota", retry_after_seconds=30)

    both = dataclasses.replace(
        services,
        platforms={"youtube": Limited(), **services.platforms},  # type: ignore[dict-item]
    )
    instagram, posts = _setup(session, both, fake)
    campaign_id = session.get(Video, posts[0].video_id).campaign_id
    youtube = _account(
        session, both, fake, instagram.workspace_id, instagram.user_id, Platform.YOUTUBE
    )
    _published(session, fake, youtube, campaign_id, 1)
    report = collect_analytics(session, both, today=DAY)
    assert report.rate_limited == {"youtube": 30}
    assert report.rows == {"youtube": 0, "instagram": 3}


# ---------------------------------------------------------------- reading the numbers back


def _row(session: Session, post: Post, day: date, views: int, likes: int = 0) -> None:
    session.add(
        VideoAnalytics(video_id=post.video_id, post_id=post.id, date=day, views=views, likes=likes)
    )
    session.commit()


def _actor(session: Session, account: SocialAccount) -> Actor:
    return actor_for(session, user_id=account.user_id, workspace_id=account.workspace_id)


def test_the_report_counts_views_gained_per_day_carrying_a_missed_day_forward(
    session: Session, services: Services, fake: FakeInstagram
) -> None:
    account, (first, second, _third) = _setup(session, services, fake)
    _row(session, first, date(2026, 11, 30), 100)  # before the range: the baseline
    _row(session, first, date(2026, 12, 1), 150, likes=5)
    _row(session, first, date(2026, 12, 3), 300, likes=9)  # 12-02 was missed
    _row(session, second, date(2026, 12, 2), 40)
    report = analytics_report(
        session,
        actor=_actor(session, account),
        date_range=DateRange(date(2026, 12, 1), DAY + timedelta(days=1)),
    )
    assert report.platforms == ["instagram"]
    assert [p["instagram"] for p in report.views_by_day] == [50, 40, 150]
    assert report.gained.views == 240 and report.gained.likes == 9
    assert [(v.video_id, v.gained.views) for v in report.top_videos] == [
        (first.video_id, 200),
        (second.video_id, 40),
    ]  # the third has no numbers yet
    (campaign,) = report.campaigns
    assert campaign.videos == 2 and campaign.gained.views == 240


def test_a_workspace_never_sees_another_workspaces_numbers(
    session: Session, services: Services, fake: FakeInstagram
) -> None:
    mine, (post, *_rest) = _setup(session, services, fake, count=1)
    _theirs, (other,) = _setup(session, services, fake, count=1)
    _row(session, post, DAY, 10)
    _row(session, other, DAY, 999)
    actor = _actor(session, mine)
    report = analytics_report(session, actor=actor, date_range=DateRange(DAY, DAY))
    assert report.gained.views == 10
    assert workspace_totals(session, actor=actor).views == 10
    assert [
        line[7] for line in export_rows(session, actor=actor, date_range=DateRange(DAY, DAY))
    ] == ["10"]
    with pytest.raises(NotFoundError):
        video_panel(session, actor=actor, video_id=other.video_id, date_range=DateRange(DAY, DAY))


def test_totals_are_each_posts_latest_numbers(
    session: Session, services: Services, fake: FakeInstagram
) -> None:
    account, (first, second, _third) = _setup(session, services, fake)
    _row(session, first, date(2026, 12, 1), 100, likes=1)
    _row(session, first, DAY, 180, likes=3)
    _row(session, second, date(2026, 12, 1), 20)
    totals = workspace_totals(session, actor=_actor(session, account))
    assert (totals.views, totals.likes) == (200, 3)


def test_the_video_panel_has_each_post_with_its_link_and_numbers(
    session: Session, services: Services, fake: FakeInstagram
) -> None:
    account, (post, *_rest) = _setup(session, services, fake, count=1)
    post.external_url = "https://www.instagram.com/reel/abc/"
    session.add(post)
    session.commit()
    _row(session, post, DAY, 70)
    panel = video_panel(
        session,
        actor=_actor(session, account),
        video_id=post.video_id,
        date_range=DateRange(DAY, DAY),
    )
    assert panel.gained.views == 70 and panel.views_by_day == [
        {"day": "2026-12-02", "instagram": 70}
    ]
    (line,) = panel.posts
    assert line.url == post.external_url and line.lifetime.views == 70


def test_csv_rows_are_one_per_post_per_day_in_the_range(
    session: Session, services: Services, fake: FakeInstagram
) -> None:
    account, (post, *_rest) = _setup(session, services, fake, count=1)
    for offset, views in enumerate((5, 9, 14)):
        _row(session, post, date(2026, 12, 1) + timedelta(days=offset), views)
    rows = export_rows(
        session, actor=_actor(session, account), date_range=DateRange(DAY, DAY + timedelta(days=1))
    )
    assert [(r[0], r[1], r[7]) for r in rows] == [
        ("2026-12-02", "instagram", "9"),
        ("2026-12-03", "instagram", "14"),
    ]


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("2026-13-01", "", "start"),
        ("", "soon", "end"),
        ("2026-12-05", "2026-12-01", "end"),
        ("2025-01-01", "2026-12-01", "end"),
    ],
)
def test_a_bad_range_is_refused_per_field(start: str, end: str, field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_range(start, end, today=DAY)
    assert set(refused.value.field_errors) == {field}


def test_an_empty_range_is_the_last_four_weeks() -> None:
    assert parse_range("", "", today=DAY) == DateRange(date(2026, 11, 5), DAY)


def test_the_overview_shows_the_workspaces_lifetime_numbers(
    session: Session, services: Services, fake: FakeInstagram
) -> None:
    account, (first, second, _third) = _setup(session, services, fake)
    _row(session, first, DAY, 180, likes=3)
    _row(session, second, DAY, 20)
    counts = overview_counts(session, actor=_actor(session, account))
    assert (counts.post_totals.views, counts.post_totals.likes) == (200, 3)
