"""A site admin's quota overrides: the limits every quota check reads, on any plan, audited,
and refused to anyone else or with bad arguments."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from tests.factories import new_user
from viralshorts.domain import billing, plans, quotas
from viralshorts.domain import quota_overrides as qo
from viralshorts.domain.workspaces import personal_workspace_id
from viralshorts.errors import (
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    ValidationError,
)
from viralshorts.models import AuditLog, Invitation, Role, utcnow


def _world(session: Session) -> tuple[int, int, int]:
    """(admin id, creator id, the creator's workspace id)."""
    admin = new_user(session, "admin@example.com", role=Role.ADMIN)
    creator = new_user(session, "creator@example.com")
    assert admin.id is not None and creator.id is not None
    return admin.id, creator.id, personal_workspace_id(session, creator.id)


def _set(session: Session, admin_id: int, workspace_id: int, limit: str, value: int) -> None:
    qo.set_override(
        session,
        actor_user_id=admin_id,
        workspace_id=workspace_id,
        limit_name=limit,
        value=value,
        reason="Support ticket 42",
    )
    session.commit()


def test_every_plan_limit_can_be_overridden() -> None:
    assert tuple(qo.LIMITS) == plans.LIMIT_NAMES


def test_a_video_override_is_the_limit_reservations_check(session: Session) -> None:
    admin_id, creator_id, workspace_id = _world(session)
    _set(session, admin_id, workspace_id, "videos_per_month", 2)
    assert quotas.plan_for(session, workspace_id=workspace_id).videos_per_month == 2
    quotas.reserve_videos(session, workspace_id=workspace_id, user_id=creator_id, count=2)
    with pytest.raises(QuotaExceededError) as refused:
        quotas.reserve_videos(session, workspace_id=workspace_id, user_id=creator_id, count=1)
    assert refused.value.params["allowed"] == 2
    summary = quotas.usage_summary(session, workspace_id=workspace_id)
    assert (summary.plan.videos_per_month, summary.videos_remaining) == (2, 0)


def test_seat_and_account_overrides_are_checked(session: Session) -> None:
    admin_id, _, workspace_id = _world(session)
    _set(session, admin_id, workspace_id, "connected_accounts", 0)
    with pytest.raises(QuotaExceededError):
        quotas.require_account_slot(session, workspace_id)
    session.rollback()
    _set(session, admin_id, workspace_id, "team_seats", 2)
    quotas.require_seat(session, workspace_id)  # the owner plus one more fits
    session.add(
        Invitation(workspace_id=workspace_id, email="a@example.com", role="editor",
                   token_hash="x" * 64, expires_at=utcnow().replace(year=2099))
    )  # fmt: skip
    session.commit()
    with pytest.raises(QuotaExceededError):
        quotas.require_seat(session, workspace_id)


def test_an_override_holds_on_another_plan_until_it_is_cleared(session: Session) -> None:
    admin_id, _, workspace_id = _world(session)
    _set(session, admin_id, workspace_id, "max_seconds", 30)
    billing.assign_plan(
        session, actor_user_id=admin_id, workspace_id=workspace_id, plan="pro", reason="Partner"
    )
    session.commit()
    plan = quotas.plan_for(session, workspace_id=workspace_id)
    assert (plan.name, plan.max_seconds, plan.videos_per_month) == ("pro", 30, 300)
    cleared = qo.clear_override(
        session, actor_user_id=admin_id, workspace_id=workspace_id, limit_name="max_seconds",
        reason="Ticket closed",
    )  # fmt: skip
    session.commit()
    assert cleared is True
    assert quotas.plan_for(session, workspace_id=workspace_id).max_seconds == 90
    assert qo.overrides_of(session, workspace_id) == []


def test_setting_and_clearing_leave_audit_rows(session: Session) -> None:
    admin_id, _, workspace_id = _world(session)
    _set(session, admin_id, workspace_id, "scheduled_posts", 50)
    _set(session, admin_id, workspace_id, "scheduled_posts", 70)
    qo.clear_override(
        session, actor_user_id=admin_id, workspace_id=workspace_id,
        limit_name="scheduled_posts", reason="  Back to the plan  ",
    )  # fmt: skip
    session.commit()
    rows = session.exec(select(AuditLog).order_by(AuditLog.id)).all()
    admin_rows = [r for r in rows if r.action.startswith("admin.quota_override")]
    assert [(r.action, r.details.get("before"), r.details.get("after")) for r in admin_rows] == [
        ("admin.quota_override_set", None, 50),
        ("admin.quota_override_set", 50, 70),
        ("admin.quota_override_cleared", 70, None),
    ]
    last = admin_rows[-1]
    assert (last.user_id, last.workspace_id, last.target_type, last.target_id) == (
        admin_id, workspace_id, "workspace", str(workspace_id)
    )  # fmt: skip
    assert last.details["reason"] == "Back to the plan"


def test_only_an_enabled_site_admin_overrides(session: Session) -> None:
    _, creator_id, workspace_id = _world(session)
    with pytest.raises(PermissionDeniedError):
        _set(session, creator_id, workspace_id, "videos_per_month", 1000)
    session.rollback()
    disabled = new_user(session, "off@example.com", role=Role.ADMIN, disabled=True)
    assert disabled.id is not None
    with pytest.raises(PermissionDeniedError):
        _set(session, disabled.id, workspace_id, "videos_per_month", 1000)
    session.rollback()
    assert qo.overrides_of(session, workspace_id) == []
    assert quotas.plan_for(session, workspace_id=workspace_id).videos_per_month == 10


@pytest.mark.parametrize(
    ("limit", "value", "reason", "fields"),
    [
        ("gold_stars", 5, "why", {"limit"}),
        ("label", 5, "why", {"limit"}),
        ("videos_per_month", -1, "why", {"value"}),
        ("max_seconds", 91, "why", {"value"}),
        ("batch_size", 21, "why", {"value"}),
        ("team_seats", 5, "   ", {"reason"}),
        ("team_seats", 5, "x" * 501, {"reason"}),
        ("nope", 10**9, "", {"limit", "reason"}),
    ],
)
def test_bad_arguments_are_refused_with_field_messages(
    session: Session, limit: str, value: int, reason: str, fields: set[str]
) -> None:
    admin_id, _, workspace_id = _world(session)
    with pytest.raises(ValidationError) as refused:
        qo.set_override(
            session, actor_user_id=admin_id, workspace_id=workspace_id, limit_name=limit,
            value=value, reason=reason,
        )  # fmt: skip
    assert set(refused.value.field_errors) == fields
    session.rollback()
    assert qo.overrides_of(session, workspace_id) == []


def test_an_unknown_workspace_is_not_found(session: Session) -> None:
    admin_id, _, _ = _world(session)
    with pytest.raises(NotFoundError):
        _set(session, admin_id, 999_999, "team_seats", 3)
    with pytest.raises(NotFoundError):
        qo.clear_override(
            session, actor_user_id=admin_id, workspace_id=999_999, limit_name="team_seats",
            reason="why",
        )  # fmt: skip
