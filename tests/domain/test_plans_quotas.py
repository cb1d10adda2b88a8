"""Plans from configuration, usage per billing period, quotas under 20 concurrent requests on
PostgreSQL and SQLite, seats and batch size, paid render priority, and plans assigned by hand."""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, func, select

from tests.factories import make_creator, new_user
from viralshorts import db as db_module
from viralshorts.domain import billing, plans, quotas, render_queue, videos
from viralshorts.domain import workspace_members as wm
from viralshorts.domain.videos import VideoRequest
from viralshorts.domain.workspaces import personal_actor, personal_workspace_id
from viralshorts.errors import (
    ConfigurationError,
    PermissionDeniedError,
    QuotaExceededError,
    ValidationError,
)
from viralshorts.integrations.services import build_services
from viralshorts.models import (
    AuditLog,
    Platform,
    Role,
    SocialAccount,
    Subscription,
    SubscriptionStatus,
    Usage,
    User,
    Video,
    VideoStatus,
)
from viralshorts.settings import Settings, get_settings

CONCURRENT = 20


def _paid(session: Session, workspace_id: int, plan: str = "pro", **fields) -> Subscription:
    owner = quotas.payer_user_id(session, workspace_id)
    sub = Subscription(
        workspace_id=workspace_id, user_id=owner, plan=plan, status=SubscriptionStatus.ACTIVE
    )
    for name, value in fields.items():
        setattr(sub, name, value)
    session.add(sub)
    session.commit()
    return sub


def _workspace(session: Session, email: str = "q@example.com") -> tuple[int, int]:
    user = new_user(session, email)
    return user.id, personal_workspace_id(session, user.id)


# ---------------------------------------------------------------- plans in configuration


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plans.toml"
    path.write_text(text)
    return path


FILE = """
[plans.basic]
label = "Basic"
videos_per_month = 3
max_seconds = 30
connected_accounts = 1
scheduled_posts = 2
[plans.gold]
stripe_price = "price_gold"
videos_per_month = 50
max_seconds = 90
connected_accounts = 4
scheduled_posts = 40
team_seats = 9
render_priority = 3
"""


def test_plans_come_from_the_file_with_prices_overridden_by_settings(tmp_path) -> None:
    found = plans.load_plans(_write(tmp_path, FILE), {"gold": "price_from_env"})
    assert found.free.name == "basic" and found.free.videos_per_month == 3
    gold = found.get("gold")
    assert (gold.label, gold.stripe_price, gold.team_seats, gold.render_priority) == (
        "Gold",
        "price_from_env",
        9,
        3,
    )
    assert found.by_price("price_from_env") is gold and found.by_price("price_gold") is None
    assert found.get("removed-plan") is found.free


def test_the_bundled_plans_file_has_free_and_two_paid_plans() -> None:
    bundled = plans.load_plans(plans.DEFAULT_PLANS_FILE, {})
    assert bundled.free.name == "free" and not bundled.free.paid
    assert [p.name for p in bundled.paid_plans()] == ["creator", "pro"]


def test_the_plans_file_setting_and_price_ids_are_used(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PLANS_FILE", str(_write(tmp_path, FILE)))
    monkeypatch.setenv("STRIPE_PRICE_IDS", "gold=price_live_gold")
    get_settings.cache_clear()
    try:
        assert plans.catalogue().get("gold").stripe_price == "price_live_gold"
        assert plans.catalogue().free.name == "basic"
    finally:
        monkeypatch.delenv("PLANS_FILE")
        monkeypatch.delenv("STRIPE_PRICE_IDS")
        get_settings.cache_clear()
    assert plans.catalogue().free.name == "free"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (FILE.replace('stripe_price = "price_gold"', ""), "exactly one plan without a price"),
        (FILE.replace("videos_per_month = 3", "videos_per_month = -1"), "whole number"),
        (FILE + "colour = 'red'\n", "unknown settings"),
        ("[plans", "cannot be read"),
    ],
)
def test_a_broken_plans_file_is_refused_with_the_reason(tmp_path, text, words) -> None:
    with pytest.raises(ConfigurationError, match=words):
        plans.load_plans(_write(tmp_path, text), {})


# ---------------------------------------------------------------- billing periods


def test_free_usage_rolls_over_with_the_calendar_month(session) -> None:
    _, workspace_id = _workspace(session)
    now = datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    period = quotas.billing_period(session, workspace_id=workspace_id, now=now)
    assert (period.key, period.start.day, period.end) == (
        "2026-12",
        1,
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    later = quotas.billing_period(session, workspace_id=workspace_id, now=now + timedelta(hours=2))
    assert later.key == "2027-01"


def test_paid_usage_rolls_over_at_the_stripe_period(session) -> None:
    user_id, workspace_id = _workspace(session)
    start = datetime.now(UTC) - timedelta(days=3)
    sub = _paid(
        session,
        workspace_id,
        current_period_start=start,
        current_period_end=start + timedelta(days=30),
    )
    key = quotas.reserve_videos(session, workspace_id=workspace_id, user_id=user_id, count=5)
    session.commit()
    assert key == start.strftime("%Y-%m-%d")
    row = session.exec(select(Usage).where(Usage.period == key)).one()
    assert row.period_start == start and row.period_end == start + timedelta(days=30)
    sub.current_period_start = start + timedelta(days=30)  # Stripe renewed it
    sub.current_period_end = start + timedelta(days=60)
    session.add(sub)
    session.commit()
    renewed = quotas.billing_period(
        session, workspace_id=workspace_id, now=start + timedelta(days=31)
    )
    assert renewed.key == (start + timedelta(days=30)).strftime("%Y-%m-%d") != key
    fresh = quotas.usage_summary(session, workspace_id=workspace_id, period=renewed.key)
    assert fresh.videos_reserved == 0 and fresh.videos_remaining == 300
    old = quotas.usage_summary(session, workspace_id=workspace_id, period=key)
    assert old.videos_reserved == 5


def test_a_period_key_is_the_day_its_stripe_period_starts(session) -> None:
    _, workspace_id = _workspace(session)
    start = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    sub = _paid(
        session,
        workspace_id,
        current_period_start=start,
        current_period_end=datetime(2026, 12, 20, 8, 0, tzinfo=UTC),
    )
    in_december = datetime(2026, 12, 10, tzinfo=UTC)
    assert quotas.billing_period(session, workspace_id=workspace_id, now=in_december).key == (
        "2026-11-20"
    )
    sub.current_period_start, sub.current_period_end = (
        sub.current_period_end,
        datetime(2027, 1, 20, 8, 0, tzinfo=UTC),
    )
    session.add(sub)
    session.commit()
    after_renewal = datetime(2026, 12, 21, tzinfo=UTC)
    assert quotas.billing_period(session, workspace_id=workspace_id, now=after_renewal).key == (
        "2026-12-20"
    )


def test_two_stripe_periods_starting_in_one_month_count_apart(session) -> None:
    """A trial that ends mid-month, then the first paid period: with month keys the second
    counted on top of the first (the roll-over itself: the test above)."""
    _, workspace_id = _workspace(session)
    trial_end = datetime(2026, 12, 15, 9, 0, tzinfo=UTC)
    sub = _paid(session, workspace_id, current_period_start=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
                current_period_end=trial_end)  # fmt: skip
    in_trial = quotas.billing_period(
        session, workspace_id=workspace_id, now=datetime(2026, 12, 10, tzinfo=UTC)
    )
    sub.current_period_start = trial_end
    sub.current_period_end = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)
    session.add(sub)
    session.commit()
    paid = quotas.billing_period(
        session, workspace_id=workspace_id, now=datetime(2026, 12, 20, tzinfo=UTC)
    )
    assert (in_trial.key, paid.key) == ("2026-12-01", "2026-12-15")


def test_a_lapsed_or_long_past_due_subscription_gets_free_limits(session) -> None:
    _, workspace_id = _workspace(session)
    sub = _paid(session, workspace_id, plan="creator")
    assert quotas.plan_for(session, workspace_id=workspace_id).name == "creator"
    sub.status, sub.past_due_since = SubscriptionStatus.PAST_DUE, datetime.now(UTC)
    session.add(sub)
    session.commit()
    assert quotas.plan_for(session, workspace_id=workspace_id).name == "creator"
    grace = get_settings().billing_grace_days
    later = datetime.now(UTC) + timedelta(days=grace, minutes=1)
    assert quotas.plan_for(session, workspace_id=workspace_id, now=later).name == "free"


# ---------------------------------------------------------------- 20 at once, PostgreSQL and SQLite


@pytest.fixture(params=["postgresql", "sqlite"])
def engine(request, tmp_path) -> Iterator[Engine]:
    if request.param == "postgresql":
        request.getfixturevalue("use_database")
        yield db_module.get_engine()
        return
    engine = db_module.make_engine(f"sqlite:///{tmp_path / 'race.db'}")
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


def _race(engine: Engine, attempt: Callable[[Session], None]) -> list[str]:
    """Run ``attempt`` in CONCURRENT threads at once, each with its own session; outcomes."""
    barrier, outcomes = threading.Barrier(CONCURRENT), []

    def run() -> None:
        with Session(engine) as own:
            barrier.wait()
            try:
                attempt(own)
                own.commit()
                outcomes.append("ok")
            except QuotaExceededError:
                own.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=run) for _ in range(CONCURRENT)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(outcomes)


def test_twenty_concurrent_video_requests_never_overshoot(engine) -> None:
    with Session(engine) as session:
        user_id, workspace_id = _workspace(session)
    outcomes = _race(
        engine,
        lambda s: quotas.reserve_videos(s, workspace_id=workspace_id, user_id=user_id, count=1),
    )
    assert outcomes == ["ok"] * 10 + ["refused"] * 10
    with Session(engine) as session:
        assert quotas.usage_summary(session, workspace_id=workspace_id).videos_reserved == 10


def test_twenty_concurrent_scheduled_posts_never_overshoot(engine) -> None:
    with Session(engine) as session:
        _, workspace_id = _workspace(session)
    outcomes = _race(engine, lambda s: quotas.reserve_post(s, workspace_id))
    assert outcomes == ["ok"] * 10 + ["refused"] * 10
    with Session(engine) as session:
        assert quotas.usage_summary(session, workspace_id=workspace_id).posts == 10
        quotas.release_post(session, workspace_id)
        session.commit()
        quotas.reserve_post(session, workspace_id)  # the released one is free again
        session.commit()
        with pytest.raises(QuotaExceededError) as refused:
            quotas.reserve_post(session, workspace_id)
    assert refused.value.params == {"plan": "free", "limit": "scheduled_posts", "allowed": 10}
    assert "10 scheduled posts" in refused.value.message and "/app/billing" in refused.value.message


def test_twenty_concurrent_account_connections_take_one_free_slot(engine) -> None:
    with Session(engine) as session:
        user_id, workspace_id = _workspace(session)
    counter = iter(range(CONCURRENT))
    lock = threading.Lock()

    def connect(own: Session) -> None:
        quotas.require_account_slot(own, workspace_id)
        with lock:
            number = next(counter)
        own.add(
            SocialAccount(
                workspace_id=workspace_id,
                user_id=user_id,
                platform=Platform.YOUTUBE,
                external_id=f"channel-{number}",
                display_name=f"Channel {number}",
            )
        )

    assert _race(engine, connect) == ["ok"] + ["refused"] * (CONCURRENT - 1)
    with Session(engine) as session:
        count = session.exec(
            select(func.count()).where(SocialAccount.workspace_id == workspace_id)
        ).one()
        assert count == 1
        with pytest.raises(QuotaExceededError, match="connects 1 social account"):
            quotas.require_account_slot(session, workspace_id)


# ---------------------------------------------------------------- seats and batch size


def test_team_seats_limit_invitations_and_joining(session) -> None:
    owner_id, workspace_id = _workspace(session, "boss@example.com")
    owner = personal_actor(session, owner_id)
    for number in range(4):  # the owner + 4 pending = the free plan's 5 seats
        wm.invite(session, None, actor=owner, email=f"p{number}@example.com", role="editor")
    with pytest.raises(QuotaExceededError) as refused:
        wm.invite(session, None, actor=owner, email="late@example.com", role="editor")
    assert refused.value.params["limit"] == "team_seats"
    assert "5 team seats" in refused.value.message
    wm.invite(session, None, actor=owner, email="p0@example.com", role="viewer")  # a resend
    _paid(session, workspace_id, plan="creator")
    wm.invite(session, None, actor=owner, email="late@example.com", role="editor")


def test_a_request_larger_than_the_plans_batch_is_refused(use_database, use_redis, session) -> None:
    user_id, campaign_id = make_creator(session, "batch@example.com")
    services = build_services()
    request = VideoRequest(campaign_id=campaign_id, topic="Black holes", count=11)
    with pytest.raises(ValidationError) as refused:
        videos.request_videos(
            session, services, actor=personal_actor(session, user_id), request=request
        )
    assert refused.value.field_codes["count"] == "batch_too_large_for_plan"
    assert "up to 10 videos in one request" in refused.value.field_errors["count"]
    assert session.exec(select(func.count()).select_from(Video)).one() == 0


# ---------------------------------------------------------------- render priority


@dataclasses.dataclass
class RecordingQueue:
    """The render queue as a FIFO list of video ids (what RQ would run, in order)."""

    order: list[int] = dataclasses.field(default_factory=list)

    def enqueue_render(self, video_id: int, user_id: int, *, attempt: int = 1) -> str:
        self.order.append(video_id)
        return f"render-{video_id}-{attempt}"

    def cancel(self, job_id: str) -> None: ...

    def is_alive(self, job_id: str) -> bool:
        return True


def _ids(made: list[Video]) -> list[int]:
    return [video.id for video in made]


def _waiting_videos(session: Session, services, user_id: int, campaign_id: int, count: int):
    """Videos as ``request_videos`` leaves them: QUEUED, waiting for the dispatcher."""
    workspace_id = personal_workspace_id(session, user_id)
    made = [
        Video(workspace_id=workspace_id, user_id=user_id, campaign_id=campaign_id, topic="t")
        for _ in range(count)
    ]
    session.add_all(made)
    session.commit()
    render_queue.promote_waiting(session, services, workspace_id=workspace_id)
    return [video.id for video in made]


def test_a_paid_workspace_starts_before_a_free_one_queued_earlier_without_starving_it(
    use_database, use_redis, session
) -> None:
    current = get_settings().model_dump(include=set(Settings.model_fields))
    settings = Settings(**{**current, "render_per_user_concurrency": 1})
    queue = RecordingQueue()
    services = dataclasses.replace(build_services(settings), queue=queue)
    free_user, free_campaign = make_creator(session, "free@example.com")
    paid_user, paid_campaign = make_creator(session, "paid@example.com")
    _paid(session, personal_workspace_id(session, paid_user), plan="creator")

    free_first, free_second = _waiting_videos(session, services, free_user, free_campaign, 2)
    paid_first, paid_second = _waiting_videos(session, services, paid_user, paid_campaign, 2)
    assert queue.order == [free_first, paid_first, paid_second]  # free_second waits its turn
    video = session.get(Video, free_first)
    video.status = VideoStatus.READY  # the free workspace's first render finished
    session.add(video)
    session.commit()
    (more_paid,) = _waiting_videos(
        session, services, paid_user, paid_campaign, 1
    )  # paid keeps asking
    render_queue.tick(session, services)
    assert queue.order == [free_first, paid_first, paid_second, free_second]  # not starved
    assert more_paid not in queue.order  # the paid one waits for its own slots


def test_the_tick_promotes_higher_priority_workspaces_first(
    use_database, use_redis, session
) -> None:
    current = get_settings().model_dump(include=set(Settings.model_fields))
    services = dataclasses.replace(
        build_services(Settings(**{**current, "render_per_user_concurrency": 1})),
        queue=RecordingQueue(),
    )
    made = {}
    for email, plan in (("a@example.com", None), ("b@example.com", "pro")):
        user_id, campaign_id = make_creator(session, email)
        if plan:
            _paid(session, personal_workspace_id(session, user_id), plan=plan)
        workspace_id = personal_workspace_id(session, user_id)
        video = Video(
            workspace_id=workspace_id, user_id=user_id, campaign_id=campaign_id, topic="t"
        )
        session.add(video)
        session.commit()
        made[email] = video.id
    render_queue.promote_all(session, services)
    assert services.queue.order == [made["b@example.com"], made["a@example.com"]]


# ---------------------------------------------------------------- plans by hand (site admins)


def test_a_site_admin_assigns_a_plan_with_a_reason_and_it_is_audited(session) -> None:
    owner_id, workspace_id = _workspace(session, "creator@example.com")
    admin = new_user(session, "admin@example.com", role=Role.ADMIN)
    with pytest.raises(PermissionDeniedError):
        billing.assign_plan(
            session, actor_user_id=owner_id, workspace_id=workspace_id, plan="pro", reason="me"
        )
    with pytest.raises(ValidationError) as refused:
        billing.assign_plan(
            session, actor_user_id=admin.id, workspace_id=workspace_id, plan="gold", reason=""
        )
    assert set(refused.value.field_errors) == {"plan", "reason"}
    billing.assign_plan(
        session,
        actor_user_id=admin.id,
        workspace_id=workspace_id,
        plan="pro",
        reason="Partner programme",
    )
    assert quotas.plan_for(session, workspace_id=workspace_id).name == "pro"
    assert quotas.billing_period(session, workspace_id=workspace_id).key == quotas.current_period()
    entry = session.exec(select(AuditLog).where(AuditLog.action == "billing.plan_assigned")).one()
    assert (entry.user_id, entry.workspace_id) == (admin.id, workspace_id)
    assert entry.details == {"before": "free", "plan": "pro", "reason": "Partner programme"}
    assert session.get(User, owner_id).role == Role.CREATOR
    assert os.environ.get("STRIPE_SECRET_KEY", "") == ""  # no Stripe was needed
