"""The admin check that logs refusals, the audit log's filters and pages, and the workspace
detail an admin reads, on real PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import Session, select

from tests.factories import new_user
from viralshorts.domain import admin_workspaces as aw
from viralshorts.domain import audit, billing
from viralshorts.domain import quota_overrides as qo
from viralshorts.domain.audit import AuditFilter
from viralshorts.domain.workspaces import personal_workspace_id
from viralshorts.errors import NotFoundError, PermissionDeniedError, ValidationError
from viralshorts.models import AuditLog, Membership, Role, Workspace, utcnow


def _people(session: Session) -> tuple[int, int]:
    admin = new_user(session, "admin@example.com", role=Role.ADMIN)
    creator = new_user(session, "creator@example.com")
    assert admin.id is not None and creator.id is not None
    return admin.id, creator.id


def _row(session: Session, user_id: int | None, action: str, **fields) -> AuditLog:
    row = AuditLog(user_id=user_id, action=action, **fields)
    session.add(row)
    session.commit()
    return row


def _actions(session: Session, admin_id: int, **filters) -> list[str]:
    entries, _ = audit.list_entries(session, actor_user_id=admin_id, filters=AuditFilter(**filters))
    return [e.row.action for e in entries]


def test_a_refused_admin_attempt_is_logged_with_what_was_asked(session: Session) -> None:
    admin_id, creator_id = _people(session)
    assert audit.admit_site_admin(session, user_id=admin_id, attempted="/app/admin") is True
    assert (
        audit.admit_site_admin(
            session, user_id=creator_id, attempted="AdminState.disable_user /app/admin"
        )
        is False
    )
    session.commit()
    rows = session.exec(select(AuditLog).where(AuditLog.action == audit.ADMIN_DENIED)).all()
    assert [(r.user_id, r.details["attempted"]) for r in rows] == [
        (creator_id, "AdminState.disable_user /app/admin")
    ]
    disabled = new_user(session, "gone@example.com", role=Role.ADMIN, disabled=True)
    assert audit.admit_site_admin(session, user_id=disabled.id or 0, attempted="x") is False


def test_the_log_is_newest_first_and_filters_by_action_and_email(session: Session) -> None:
    admin_id, creator_id = _people(session)
    _row(session, creator_id, "sign_in", target_type="user", target_id=str(creator_id))
    _row(session, admin_id, "admin.user_disabled", target_type="user", target_id=str(creator_id))
    _row(session, admin_id, "sign_in", target_type="user", target_id=str(admin_id))
    assert _actions(session, admin_id) == ["sign_in", "admin.user_disabled", "sign_in"]
    assert _actions(session, admin_id, action="sign_in") == ["sign_in", "sign_in"]
    # The creator's rows: what they did and what was done to them.
    assert _actions(session, admin_id, email="CREATOR@") == ["admin.user_disabled", "sign_in"]
    assert _actions(session, admin_id, email="%") == []
    entries, _ = audit.list_entries(session, actor_user_id=admin_id, filters=AuditFilter())
    assert entries[0].actor_email == "admin@example.com"
    assert audit.known_actions(session, actor_user_id=admin_id) == [
        "admin.user_disabled",
        "sign_in",
    ]


def test_the_log_filters_by_workspace_and_days(session: Session) -> None:
    admin_id, creator_id = _people(session)
    workspace_id = personal_workspace_id(session, creator_id)
    now = utcnow()
    _row(session, creator_id, "campaign.create", workspace_id=workspace_id,
         created_at=now - timedelta(days=3))  # fmt: skip
    _row(session, creator_id, "campaign.update", workspace_id=workspace_id)
    _row(session, admin_id, "sign_in")
    assert _actions(session, admin_id, workspace="creator's") == [
        "campaign.update", "campaign.create"
    ]  # fmt: skip
    assert _actions(session, admin_id, workspace=str(workspace_id)) == [
        "campaign.update", "campaign.create"
    ]  # fmt: skip
    today = now.date()
    assert _actions(session, admin_id, since=today) == ["sign_in", "campaign.update"]
    assert _actions(session, admin_id, until=today - timedelta(days=1)) == ["campaign.create"]
    three_days_ago = today - timedelta(days=3)
    assert _actions(session, admin_id, since=three_days_ago, until=three_days_ago) == [
        "campaign.create"
    ]
    entries, _ = audit.list_entries(
        session, actor_user_id=admin_id, filters=AuditFilter(action="campaign.update")
    )
    assert entries[0].workspace_name == "creator's workspace"


def test_the_log_pages(session: Session) -> None:
    admin_id, _ = _people(session)
    for n in range(audit.AUDIT_PAGE_SIZE + 1):
        _row(session, admin_id, f"thing.{n:03d}")
    first, more = audit.list_entries(session, actor_user_id=admin_id, filters=AuditFilter())
    last, more_after = audit.list_entries(
        session, actor_user_id=admin_id, filters=AuditFilter(), page=1
    )
    assert (len(first), more, more_after) == (audit.AUDIT_PAGE_SIZE, True, False)
    assert [e.row.action for e in last] == ["thing.000"]


def test_bad_filters_and_creators_are_refused(session: Session) -> None:
    admin_id, creator_id = _people(session)
    with pytest.raises(PermissionDeniedError):
        audit.list_entries(session, actor_user_id=creator_id, filters=AuditFilter())
    with pytest.raises(PermissionDeniedError):
        audit.known_actions(session, actor_user_id=creator_id)
    with pytest.raises(ValidationError) as refused:
        audit.list_entries(
            session, actor_user_id=admin_id,
            filters=AuditFilter(email="x" * 201, since=date(2026, 5, 2), until=date(2026, 5, 1)),
        )  # fmt: skip
    assert set(refused.value.field_errors) == {"email", "until"}
    for text in ("2026-13-01", "yesterday", "20261202", "2026-W01-1", "2026-12-02T10:00"):
        with pytest.raises(ValidationError):
            audit.parse_day(text, "since")
    assert audit.parse_day(" 2026-12-02 ", "since") == date(2026, 12, 2)
    assert audit.parse_day("", "since") is None


def test_a_workspace_detail_shows_plan_meters_members_and_overrides(session: Session) -> None:
    admin_id, creator_id = _people(session)
    studio = Workspace(name="Rocket Studio")
    session.add(studio)
    session.flush()
    assert studio.id is not None
    session.add(Membership(workspace_id=studio.id, user_id=creator_id, role="owner"))
    session.add(Membership(workspace_id=studio.id, user_id=admin_id, role="viewer"))
    session.commit()
    billing.assign_plan(session, actor_user_id=admin_id, workspace_id=studio.id, plan="creator",
                        reason="Trial")  # fmt: skip
    qo.set_override(session, actor_user_id=admin_id, workspace_id=studio.id,
                    limit_name="team_seats", value=3, reason="Small team")  # fmt: skip
    session.commit()
    detail = aw.workspace_detail(session, actor_user_id=admin_id, workspace_id=studio.id)
    assert (detail.plan.name, detail.plan.team_seats, detail.subscription_status) == (
        "creator", 3, "active"
    )  # fmt: skip
    assert {m.key: (m.used, m.limit) for m in detail.meters}["team_seats"] == (2, 3)
    assert [(m.email, m.role) for m in detail.members] == [
        ("creator@example.com", "owner"), ("admin@example.com", "viewer")
    ]  # fmt: skip
    assert [(o.limit, o.value, o.plan_value, o.set_by) for o in detail.overrides] == [
        ("team_seats", 3, 10, "admin@example.com")
    ]
    found, _ = aw.search_workspaces(session, actor_user_id=admin_id, query="creator@")
    assert sorted(w.name for w in found) == ["Rocket Studio", "creator's workspace"]
    found, _ = aw.search_workspaces(session, actor_user_id=admin_id, query="rocket")
    assert [w.name for w in found] == ["Rocket Studio"]
    with pytest.raises(NotFoundError):
        aw.workspace_detail(session, actor_user_id=admin_id, workspace_id=999_999)
    with pytest.raises(PermissionDeniedError):
        aw.workspace_detail(session, actor_user_id=creator_id, workspace_id=studio.id)
    with pytest.raises(PermissionDeniedError):
        aw.search_workspaces(session, actor_user_id=creator_id)
