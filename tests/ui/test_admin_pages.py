"""The admin pages' handlers (users & workspaces, a user, a workspace, the audit log) through
Reflex's real event processor with real session cookies on PostgreSQL and Redis: what an admin
does, what a forged event gets, and a creator refused (and logged) at every handler."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from tests.factories import new_user
from tests.ui.tabs import open_tab, signed_in_cookie
from viralshorts.domain import quotas
from viralshorts.domain.admin_users import NOT_YOURSELF, USER_NOT_FOUND
from viralshorts.domain.audit import ADMIN_DENIED, ADMINS_ONLY
from viralshorts.domain.workspaces import personal_workspace_id
from viralshorts.models import AuditLog, Role, User
from viralshorts.ui.admin import AdminState
from viralshorts.ui.admin_audit import AdminAuditState
from viralshorts.ui.admin_user import AdminUserState
from viralshorts.ui.admin_workspace import NOTHING_TO_CLEAR, AdminWorkspaceState
from viralshorts.ui.guards import BAD_REQUEST
from viralshorts.ui.overview import OverviewState

pytestmark = pytest.mark.usefixtures("use_redis")
FORGED_FORMS = ("reason", None, 3, ["reason"], {"reason": 7}, {"reason": "x" * 2000})


def _user_page(user_id: int | str) -> str:
    return f"/app/admin/users/{user_id}"


def _workspace_page(workspace_id: int | str) -> str:
    return f"/app/admin/workspaces/{workspace_id}"


async def test_an_admin_searches_users_and_workspaces(session: Session) -> None:
    _, cookie = signed_in_cookie(session, "root@example.com", admin=True)
    new_user(session, "ada@example.com")
    async with open_tab(cookie) as tab:
        await tab.send(AdminState, "load", "/app/admin")
        state = await tab.state(AdminState)
        assert [u["email"] for u in state.users] == ["ada@example.com", "root@example.com"]
        assert len(state.workspaces) == 2
        await tab.send(AdminState, "search", "/app/admin", form={"query": " ada@ "})
        state = await tab.state(AdminState)
        assert [u["email"] for u in state.users] == ["ada@example.com"]
        assert [w["name"] for w in state.workspaces] == ["ada's workspace"]
        for forged in ("x", None, {"query": 5}, {"query": "q" * 300}):
            await tab.send(AdminState, "search", "/app/admin", form=forged)
            assert (await tab.state(AdminState)).error == BAD_REQUEST, forged
        for forged in (-1, "2.5", True, None, 10**9):
            await tab.send(AdminState, "show_users_page", "/app/admin", page=forged)
            assert (await tab.state(AdminState)).error == BAD_REQUEST, forged
        await tab.send(AdminState, "show_users_page", "/app/admin", page="1")
        state = await tab.state(AdminState)
        assert (state.error, state.users_page, state.users) == ("", 1, [])


async def test_disabling_signs_the_users_open_tab_out(session: Session) -> None:
    _, root = signed_in_cookie(session, "root@example.com", admin=True)
    creator_id, creator = signed_in_cookie(session, "maker@example.com")
    page = _user_page(creator_id)
    async with open_tab(creator) as theirs, open_tab(root) as mine:
        assert "/sign-in" not in await theirs.send(OverviewState, "load", "/app")
        await mine.send(AdminUserState, "load", page)
        state = await mine.state(AdminUserState)
        assert (state.email, state.disabled, state.open_sessions) == ("maker@example.com", False, 1)
        assert [m["role"] for m in state.memberships] == ["owner"]
        await mine.send(
            AdminUserState, "set_disabled", page, form={"disabled": "true", "reason": "Spam"}
        )
        state = await mine.state(AdminUserState)
        assert (state.notice, state.disabled, state.open_sessions) == (
            "Disabled; every session of theirs has ended.",
            True,
            0,
        )
        assert "/sign-in" in await theirs.send(OverviewState, "load", "/app")
        await mine.send(
            AdminUserState, "set_disabled", page, form={"disabled": "false", "reason": "Appeal"}
        )
        assert (await mine.state(AdminUserState)).disabled is False


async def test_site_roles_and_the_admin_who_may_not_demote_themself(session: Session) -> None:
    root_id, root = signed_in_cookie(session, "root@example.com", admin=True)
    creator_id, _ = signed_in_cookie(session, "maker@example.com")
    async with open_tab(root) as tab:
        await tab.send(AdminUserState, "load", _user_page(creator_id))
        await tab.send(
            AdminUserState,
            "set_role",
            _user_page(creator_id),
            form={"role": "admin", "reason": "Support lead"},
        )
        assert (await tab.state(AdminUserState)).role == "admin"
        await tab.send(
            AdminUserState,
            "set_role",
            _user_page(creator_id),
            form={"role": "owner", "reason": "x"},
        )
        assert "Pick one of" in (await tab.state(AdminUserState)).error
        await tab.send(AdminUserState, "load", _user_page(root_id))
        assert (await tab.state(AdminUserState)).is_self is True
        await tab.send(
            AdminUserState,
            "set_disabled",
            _user_page(root_id),
            form={"disabled": "true", "reason": "oops"},
        )
        assert (await tab.state(AdminUserState)).error == NOT_YOURSELF
    session.expire_all()
    assert session.get(User, creator_id).role == Role.ADMIN
    assert session.get(User, root_id).disabled is False


async def test_forged_user_events_are_refused_with_a_message(session: Session) -> None:
    _, root = signed_in_cookie(session, "root@example.com", admin=True)
    creator_id, _ = signed_in_cookie(session, "maker@example.com")
    async with open_tab(root) as tab:
        for path in (_user_page("abc"), _user_page(0), _user_page(999_999), _user_page("1e3")):
            await tab.send(AdminUserState, "load", path)
            state = await tab.state(AdminUserState)
            assert (state.found, state.error) == (False, USER_NOT_FOUND), path
        # Nothing loaded: a change has no user to act on.
        await tab.send(
            AdminUserState,
            "set_disabled",
            _user_page(creator_id),
            form={"disabled": "true", "reason": "x"},
        )
        assert (await tab.state(AdminUserState)).error == BAD_REQUEST
        await tab.send(AdminUserState, "load", _user_page(creator_id))
        for forged in FORGED_FORMS:
            await tab.send(AdminUserState, "set_role", _user_page(creator_id), form=forged)
            assert (await tab.state(AdminUserState)).error, forged
        for forged in ({"disabled": "maybe", "reason": "x"}, {"disabled": True, "reason": "x"}):
            await tab.send(AdminUserState, "set_disabled", _user_page(creator_id), form=forged)
            assert (await tab.state(AdminUserState)).error == BAD_REQUEST, forged
    session.expire_all()
    assert session.get(User, creator_id).role == Role.CREATOR
    assert session.get(User, creator_id).disabled is False


async def test_an_admin_changes_a_workspaces_plan_and_limits(session: Session) -> None:
    _, root = signed_in_cookie(session, "root@example.com", admin=True)
    creator_id, _ = signed_in_cookie(session, "maker@example.com")
    workspace_id = personal_workspace_id(session, creator_id)
    page = _workspace_page(workspace_id)
    async with open_tab(root) as tab:
        await tab.send(AdminWorkspaceState, "load", page)
        state = await tab.state(AdminWorkspaceState)
        assert (state.plan_label, state.subscription) == ("Free", "none")
        assert [m["email"] for m in state.members] == ["maker@example.com"]
        await tab.send(
            AdminWorkspaceState, "assign_plan", page, form={"plan": "pro", "reason": "Partner"}
        )
        assert (await tab.state(AdminWorkspaceState)).plan_label == "Pro"
        await tab.send(
            AdminWorkspaceState,
            "set_override",
            page,
            form={"limit": "videos_per_month", "value": " 7 ", "reason": "Trial"},
        )
        state = await tab.state(AdminWorkspaceState)
        assert state.notice == "Limit overridden."
        assert state.plan_label == "Pro (some limits overridden, see below)"
        assert [(o["label"], o["value"], o["plan_value"]) for o in state.overrides] == [
            ("Videos a period", 7, 300)
        ]
        assert {m["label"]: m["limit"] for m in state.meters}["Videos this period"] == 7
        assert quotas.plan_for(session, workspace_id=workspace_id).videos_per_month == 7
        await tab.send(
            AdminWorkspaceState,
            "clear_override",
            page,
            form={"limit": "videos_per_month", "reason": "Done"},
        )
        assert (await tab.state(AdminWorkspaceState)).overrides == []
        await tab.send(
            AdminWorkspaceState,
            "clear_override",
            page,
            form={"limit": "videos_per_month", "reason": "Again"},
        )
        assert (await tab.state(AdminWorkspaceState)).notice == NOTHING_TO_CLEAR


@pytest.mark.parametrize(
    ("handler", "form", "expected"),
    [
        ("assign_plan", {"plan": "gold", "reason": "x"}, "Pick one of"),
        ("assign_plan", {"plan": "pro"}, "Say why"),
        ("set_override", {"limit": "team_seats", "value": "abc", "reason": "x"}, "whole number"),
        ("set_override", {"limit": "team_seats", "value": "-5", "reason": "x"}, "whole number"),
        ("set_override", {"limit": "team_seats", "value": "5000", "reason": "x"}, "from 0 to"),
        ("set_override", {"limit": "team_seats", "value": "9" * 40, "reason": "x"}, BAD_REQUEST),
        ("set_override", {"limit": "stars", "value": "5", "reason": "x"}, "Pick one of"),
        ("set_override", ["limit"], BAD_REQUEST),
        ("clear_override", {"limit": 5, "reason": "x"}, BAD_REQUEST),
        ("clear_override", "limit", BAD_REQUEST),
    ],
)
async def test_forged_workspace_events_are_refused_with_a_message(
    session: Session, handler: str, form: object, expected: str
) -> None:
    _, root = signed_in_cookie(session, "root@example.com", admin=True)
    creator_id, _ = signed_in_cookie(session, "maker@example.com")
    workspace_id = personal_workspace_id(session, creator_id)
    async with open_tab(root) as tab:
        await tab.send(AdminWorkspaceState, "load", _workspace_page(workspace_id))
        await tab.send(AdminWorkspaceState, handler, _workspace_page(workspace_id), form=form)
        assert expected in (await tab.state(AdminWorkspaceState)).error
    plan = quotas.plan_for(session, workspace_id=workspace_id)
    assert (plan.name, plan.team_seats) == ("free", 5)


async def test_the_audit_page_filters_and_pages(session: Session) -> None:
    root_id, root = signed_in_cookie(session, "root@example.com", admin=True)
    creator_id, _ = signed_in_cookie(session, "maker@example.com")
    session.add(AuditLog(user_id=creator_id, action="sign_in", ip="10.0.0.1"))
    session.add(
        AuditLog(
            user_id=root_id,
            action="admin.user_disabled",
            target_type="user",
            target_id=str(creator_id),
            details={"reason": "Spam"},
        )
    )
    session.commit()
    blank = {"action": "", "email": "", "workspace": "", "since": "", "until": ""}
    async with open_tab(root) as tab:
        await tab.send(AdminAuditState, "load", "/app/admin/audit")
        state = await tab.state(AdminAuditState)
        assert [e["action"] for e in state.entries] == ["admin.user_disabled", "sign_in"]
        assert state.entries[0]["details"] == '{"reason": "Spam"}'
        assert state.actions == ["admin.user_disabled", "sign_in"]
        await tab.send(
            AdminAuditState, "apply_filter", "/app/admin/audit", form={**blank, "action": "sign_in"}
        )
        entries = (await tab.state(AdminAuditState)).entries
        assert [(e["action"], e["actor"], e["ip"]) for e in entries] == [
            ("sign_in", "maker@example.com", "10.0.0.1")
        ]
        await tab.send(
            AdminAuditState,
            "apply_filter",
            "/app/admin/audit",
            form={**blank, "since": "yesterday"},
        )
        assert (await tab.state(AdminAuditState)).error == "Give a day as YYYY-MM-DD."
        await tab.send(
            AdminAuditState,
            "apply_filter",
            "/app/admin/audit",
            form={**blank, "since": "2026-05-02", "until": "2026-05-01"},
        )
        assert "on or after" in (await tab.state(AdminAuditState)).error
        for forged in ("x", {**blank, "email": 3}, {**blank, "workspace": "w" * 300}):
            await tab.send(AdminAuditState, "apply_filter", "/app/admin/audit", form=forged)
            assert (await tab.state(AdminAuditState)).error == BAD_REQUEST, forged
        await tab.send(AdminAuditState, "show_page", "/app/admin/audit", page=-3)
        assert (await tab.state(AdminAuditState)).error == BAD_REQUEST


CREATOR_EVENTS = [
    (AdminState, "load", {}),
    (AdminState, "search", {"form": {"query": "a"}}),
    (AdminState, "show_users_page", {"page": 1}),
    (AdminState, "show_workspaces_page", {"page": 1}),
    (AdminUserState, "load", {}),
    (AdminUserState, "set_disabled", {"form": {"disabled": "true", "reason": "x"}}),
    (AdminUserState, "set_role", {"form": {"role": "admin", "reason": "x"}}),
    (AdminWorkspaceState, "load", {}),
    (AdminWorkspaceState, "assign_plan", {"form": {"plan": "pro", "reason": "x"}}),
    (
        AdminWorkspaceState,
        "set_override",
        {"form": {"limit": "team_seats", "value": "9", "reason": "x"}},
    ),
    (
        AdminWorkspaceState,
        "set_override",
        {"form": {"limit": "team_seats", "value": "x", "reason": "x"}},
    ),
    (AdminWorkspaceState, "clear_override", {"form": {"limit": "team_seats", "reason": "x"}}),
    (AdminAuditState, "load", {}),
    (AdminAuditState, "apply_filter", {"form": {"action": "sign_in"}}),
    (AdminAuditState, "show_page", {"page": 1}),
]


async def test_a_creator_is_refused_every_admin_event_and_each_is_logged(
    session: Session,
) -> None:
    creator_id, cookie = signed_in_cookie(session, "maker@example.com")
    workspace_id = personal_workspace_id(session, creator_id)
    async with open_tab(cookie) as tab:
        for state, handler, payload in CREATOR_EVENTS:
            path = (
                _user_page(creator_id) if state is AdminUserState else _workspace_page(workspace_id)
            )
            sent = await tab.send(state, handler, path, **payload)
            assert "/app" in sent and ADMINS_ONLY in sent, (state, handler)
        assert (await tab.state(AdminState)).users == []
        assert (await tab.state(AdminAuditState)).entries == []
    denied = session.exec(
        select(AuditLog).where(AuditLog.action == ADMIN_DENIED, AuditLog.user_id == creator_id)
    ).all()
    assert len(denied) == len(CREATOR_EVENTS)
    attempted = {row.details["attempted"].split()[0] for row in denied}
    assert {
        "AdminUserState.set_role",
        "AdminWorkspaceState.set_override",
        "AdminAuditState.show_page",
        "AdminState.load",
    } <= attempted
    session.expire_all()
    user = session.get(User, creator_id)
    assert (user.role, user.disabled) == (Role.CREATOR, False)
    assert quotas.plan_for(session, workspace_id=workspace_id).team_seats == 5
