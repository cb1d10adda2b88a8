"""Quotas on a real PostgreSQL database, including concurrent reservations from threads."""

import threading

import pytest
from sqlmodel import Session, select

from tests.factories import new_user
from viralshorts import db as db_module
from viralshorts.domain import quotas
from viralshorts.domain.workspaces import personal_workspace_id
from viralshorts.errors import QuotaExceededError
from viralshorts.models import Subscription, SubscriptionStatus


def _user(session: Session, email: str = "q@example.com", plan: str | None = None) -> int:
    user = new_user(session, email)
    if plan:
        workspace_id = personal_workspace_id(session, user.id)
        session.add(
            Subscription(
                workspace_id=workspace_id,
                user_id=user.id,
                plan=plan,
                status=SubscriptionStatus.ACTIVE,
            )
        )
        session.commit()
    return user.id


def test_plan_comes_from_the_subscription_and_defaults_to_free(session):
    free_id = _user(session, "free@example.com")
    pro_id = _user(session, "pro@example.com", plan="pro")
    assert (
        quotas.plan_for(session, workspace_id=personal_workspace_id(session, free_id)).name
        == "free"
    )
    assert (
        quotas.plan_for(
            session, workspace_id=personal_workspace_id(session, pro_id)
        ).videos_per_month
        == 300
    )
    lapsed = session.exec(select(Subscription).where(Subscription.user_id == pro_id)).one()
    lapsed.status = SubscriptionStatus.CANCELED
    session.add(lapsed)
    session.commit()
    assert (
        quotas.plan_for(session, workspace_id=personal_workspace_id(session, pro_id)).name == "free"
    )


def test_reserve_release_commit_and_summary(session):
    user_id = _user(session)
    period = quotas.reserve_videos(
        session, workspace_id=personal_workspace_id(session, user_id), user_id=user_id, count=4
    )
    session.commit()
    quotas.release_reservation(
        session, workspace_id=personal_workspace_id(session, user_id), period=period, count=1
    )
    quotas.commit_reservation(
        session,
        workspace_id=personal_workspace_id(session, user_id),
        period=period,
        render_seconds=31.5,
    )
    session.commit()
    summary = quotas.usage_summary(session, workspace_id=personal_workspace_id(session, user_id))
    assert (summary.videos_reserved, summary.videos_used) == (2, 1)
    assert summary.render_seconds == pytest.approx(31.5)
    assert summary.videos_remaining == 7


def test_reservation_beyond_the_plan_is_refused_with_a_clear_message(session):
    user_id = _user(session)
    quotas.reserve_videos(
        session, workspace_id=personal_workspace_id(session, user_id), user_id=user_id, count=8
    )
    session.commit()
    with pytest.raises(QuotaExceededError, match="2 left this month, so 3 videos cannot"):
        quotas.reserve_videos(
            session, workspace_id=personal_workspace_id(session, user_id), user_id=user_id, count=3
        )
    session.rollback()
    assert (
        quotas.usage_summary(
            session, workspace_id=personal_workspace_id(session, user_id)
        ).videos_reserved
        == 8
    )


def test_release_never_goes_below_zero(session):
    user_id = _user(session)
    period = quotas.reserve_videos(
        session, workspace_id=personal_workspace_id(session, user_id), user_id=user_id, count=1
    )
    quotas.release_reservation(
        session, workspace_id=personal_workspace_id(session, user_id), period=period, count=5
    )
    session.commit()
    assert (
        quotas.usage_summary(
            session, workspace_id=personal_workspace_id(session, user_id)
        ).videos_reserved
        == 0
    )


def test_concurrent_reservations_never_exceed_the_limit(session):
    user_id = _user(session)
    barrier = threading.Barrier(14)
    outcomes: list[str] = []

    def reserve() -> None:
        with Session(db_module.get_engine()) as own:
            barrier.wait()
            try:
                quotas.reserve_videos(
                    own, workspace_id=personal_workspace_id(own, user_id), user_id=user_id, count=1
                )
                own.commit()
                outcomes.append("ok")
            except QuotaExceededError:
                own.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=reserve) for _ in range(14)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert outcomes.count("ok") == 10
    assert outcomes.count("refused") == 4
    assert (
        quotas.usage_summary(
            session, workspace_id=personal_workspace_id(session, user_id)
        ).videos_reserved
        == 10
    )
