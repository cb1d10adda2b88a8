"""The workspace pages' handlers as a forger and as each role call them, through Reflex's real
event processor with a real session cookie, on real PostgreSQL.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlmodel import Session, select

from tests.ui.tabs import Tab, open_tab, signed_in_cookie
from viralshorts.domain.workspaces import personal_workspace_id
from viralshorts.models import Campaign, Membership, WorkspaceRole
from viralshorts.ui.campaign_form import CampaignFormState
from viralshorts.ui.guards import BAD_REQUEST
from viralshorts.ui.state import AuthState
from viralshorts.ui.workspace_pages import ROUTE, InviteState, WorkspaceState
from viralshorts.ui.workspace_switcher import WorkspaceSwitcherState

FORGED_IDS = ("²", "x", "1.5", 2**40, -3, 0, True, None, [1], {"id": 1})
NEW = "/app/campaigns/new"


def _member(session: Session, owner_id: int, email: str, role: WorkspaceRole) -> tuple[int, str]:
    """A user who is also a member of the owner's personal workspace; ``(id, cookie)``."""
    user_id, cookie = signed_in_cookie(session, email)
    workspace_id = personal_workspace_id(session, owner_id)
    session.add(Membership(workspace_id=workspace_id, user_id=user_id, role=role))
    session.commit()
    return user_id, cookie


async def _switch_to(tab: Tab, workspace_id: int) -> str:
    sent = await tab.send(WorkspaceSwitcherState, "switch", "/app", workspace_id=workspace_id)
    await tab.send(AuthState, "require_user", "/app")  # the full page load that follows
    return sent


def _members_of(session: Session, workspace_id: int) -> dict[int, str]:
    session.expire_all()
    rows = session.exec(select(Membership).where(Membership.workspace_id == workspace_id)).all()
    return {m.user_id: str(m.role) for m in rows}


@pytest.mark.parametrize(
    ("handler", "argument", "extra"),
    [
        ("change_role", "user_id", {"role": "viewer"}),
        ("remove", "user_id", {}),
        ("transfer", "user_id", {}),
        ("revoke", "invitation_id", {}),
    ],
)
async def test_forged_ids_are_refused_with_a_message(session, handler, argument, extra) -> None:
    owner_id, cookie = signed_in_cookie(session, "owner@example.com")
    editor_id, _ = _member(session, owner_id, "ed@example.com", WorkspaceRole.EDITOR)
    workspace_id = personal_workspace_id(session, owner_id)
    before = _members_of(session, workspace_id)
    async with open_tab(cookie) as tab:
        await tab.send(WorkspaceState, "load", ROUTE)
        for forged in FORGED_IDS:
            await tab.send(WorkspaceState, handler, ROUTE, **{argument: forged}, **extra)
            assert (await tab.state(WorkspaceState)).error == BAD_REQUEST, forged
    assert _members_of(session, workspace_id) == before
    assert before[editor_id] == "editor"


@pytest.mark.parametrize("role", ["superuser", "", 3, None, ["owner"], "OWNER"])
async def test_a_forged_role_is_refused_in_role_changes_and_invitations(session, role) -> None:
    owner_id, cookie = signed_in_cookie(session, "owner@example.com")
    editor_id, _ = _member(session, owner_id, "ed@example.com", WorkspaceRole.EDITOR)
    async with open_tab(cookie) as tab:
        await tab.send(WorkspaceState, "load", ROUTE)
        await tab.send(WorkspaceState, "change_role", ROUTE, user_id=editor_id, role=role)
        assert (await tab.state(WorkspaceState)).error == BAD_REQUEST
        form = {"email": "new@example.com", "role": role}
        await tab.send(WorkspaceState, "invite", ROUTE, form=form)
        state = await tab.state(WorkspaceState)
        assert state.error == BAD_REQUEST
        assert state.invite_link == ""
    assert _members_of(session, personal_workspace_id(session, owner_id))[editor_id] == "editor"


@pytest.mark.parametrize("forged", FORGED_IDS)
async def test_a_forged_switch_is_refused(session, forged) -> None:
    _, cookie = signed_in_cookie(session, "owner@example.com")
    async with open_tab(cookie) as tab:
        sent = await tab.send(WorkspaceSwitcherState, "switch", "/app", workspace_id=forged)
    assert BAD_REQUEST in sent
    assert "location.assign" not in sent


async def test_switching_to_a_workspace_one_is_not_a_member_of_is_refused(session) -> None:
    stranger_id, _ = signed_in_cookie(session, "stranger@example.com")
    _, cookie = signed_in_cookie(session, "owner@example.com")
    async with open_tab(cookie) as tab:
        sent = await _switch_to(tab, personal_workspace_id(session, stranger_id))
        auth = await tab.state(AuthState)
    assert "location.assign" not in sent
    assert auth.workspace_name == "owner's workspace"


async def test_a_viewer_sees_no_member_controls_and_a_forged_removal_is_refused(session) -> None:
    owner_id, owner_cookie = signed_in_cookie(session, "owner@example.com")
    viewer_id, cookie = _member(session, owner_id, "vi@example.com", WorkspaceRole.VIEWER)
    workspace_id = personal_workspace_id(session, owner_id)
    async with open_tab(cookie) as tab:
        assert "location.assign('/app')" in await _switch_to(tab, workspace_id)
        auth = await tab.state(AuthState)
        assert (auth._workspace_id, auth._workspace_role) == (workspace_id, "viewer")
        assert auth.can_edit is False
        await tab.send(WorkspaceState, "load", ROUTE)
        state = await tab.state(WorkspaceState)
        assert not (state.can_manage_members or state.can_manage_settings or state.can_transfer)
        assert not any(row["editable"] for row in state.members)
        assert state.invitations == []
        await tab.send(WorkspaceState, "remove", ROUTE, user_id=owner_id)
        assert "does not allow" in (await tab.state(WorkspaceState)).error
    assert _members_of(session, workspace_id) == {owner_id: "owner", viewer_id: "viewer"}
    async with open_tab(owner_cookie) as tab:
        assert (await tab.state(AuthState)).can_edit is True
        await tab.send(WorkspaceState, "load", ROUTE)
        state = await tab.state(WorkspaceState)
        assert state.can_manage_members and state.can_transfer
        editable = {row["user_id"]: row["editable"] for row in state.members}
        assert editable == {owner_id: False, viewer_id: True}


async def test_a_viewers_forged_campaign_save_is_refused(session) -> None:
    owner_id, _ = signed_in_cookie(session, "owner@example.com")
    _, cookie = _member(session, owner_id, "vi@example.com", WorkspaceRole.VIEWER)
    async with open_tab(cookie) as tab:
        await _switch_to(tab, personal_workspace_id(session, owner_id))
        await tab.send(CampaignFormState, "load_new", NEW)
        await tab.send(CampaignFormState, "set_field", NEW, field="name", value="Owl facts")
        await tab.send(CampaignFormState, "set_field", NEW, field="niche", value="owls at night")
        sent = await tab.send(CampaignFormState, "save", NEW, _form={})
    assert "does not allow" in sent
    assert session.exec(select(Campaign)).all() == []


async def test_an_invitation_is_shown_joined_and_opens_the_workspace(session) -> None:
    owner_id, owner_cookie = signed_in_cookie(session, "owner@example.com")
    workspace_id = personal_workspace_id(session, owner_id)
    async with open_tab(owner_cookie) as tab:
        await tab.send(WorkspaceState, "load", ROUTE)
        form = {"email": "ed@example.com", "role": "editor"}
        await tab.send(WorkspaceState, "invite", ROUTE, form=form)
        state = await tab.state(WorkspaceState)
        assert state.error == "" and state.email_error == ""
        link = state.invite_link
        assert [row["email"] for row in state.invitations] == ["ed@example.com"]
    path = urlsplit(link).path + "?" + urlsplit(link).query
    async with open_tab("") as visitor:
        await visitor.send(InviteState, "load", path)
        preview = await visitor.state(InviteState)
        assert (preview.status, preview.role, preview.problem) == ("pending", "editor", "")
        assert preview.workspace_name == "owner's workspace"
        assert preview.here.startswith("%2Finvite%3Ftoken%3D")
        assert (await visitor.state(AuthState)).signed_in is False
    editor_id, cookie = signed_in_cookie(session, "ed@example.com")
    async with open_tab(cookie) as tab:
        await tab.send(InviteState, "load", path)
        assert "location.assign('/app')" in await tab.send(InviteState, "join", path)
        await tab.send(AuthState, "require_user", "/app")
        auth = await tab.state(AuthState)
        assert (auth._workspace_id, auth._workspace_role) == (workspace_id, "editor")
        await tab.send(InviteState, "load", path)
        assert (await tab.state(InviteState)).problem != ""  # single use
    assert _members_of(session, workspace_id)[editor_id] == "editor"


async def test_a_removed_members_tab_is_sent_out_of_the_workspace_at_its_next_event(
    session,
) -> None:
    owner_id, owner_cookie = signed_in_cookie(session, "owner@example.com")
    editor_id, cookie = _member(session, owner_id, "ed@example.com", WorkspaceRole.EDITOR)
    workspace_id = personal_workspace_id(session, owner_id)
    async with open_tab(cookie) as editor, open_tab(owner_cookie) as owner:
        await _switch_to(editor, workspace_id)
        await editor.send(CampaignFormState, "load_new", NEW)
        await editor.send(CampaignFormState, "set_field", NEW, field="name", value="Owl facts")
        await editor.send(CampaignFormState, "set_field", NEW, field="niche", value="owls")
        await owner.send(WorkspaceState, "load", ROUTE)
        await owner.send(WorkspaceState, "ask_remove", ROUTE, user_id=editor_id)
        assert (await owner.state(WorkspaceState)).confirm_remove_id == editor_id
        await owner.send(WorkspaceState, "remove", ROUTE, user_id=editor_id)
        assert (await owner.state(WorkspaceState)).notice == "Member removed."
        sent = await editor.send(CampaignFormState, "save", NEW, _form={})
    assert "location.assign('/app')" in sent
    assert session.exec(select(Campaign)).all() == []
    assert editor_id not in _members_of(session, workspace_id)


async def test_after_transferring_ownership_the_former_owner_sees_an_admins_controls(
    session,
) -> None:
    owner_id, cookie = signed_in_cookie(session, "owner@example.com")
    heir_id, _ = signed_in_cookie(session, "heir@example.com")
    async with open_tab(cookie) as tab:
        workspace_id = await _new_workspace(tab)  # a personal workspace stays its creator's
        role = WorkspaceRole.EDITOR
        session.add(Membership(workspace_id=workspace_id, user_id=heir_id, role=role))
        session.commit()
        await tab.send(WorkspaceState, "load", ROUTE)
        await tab.send(WorkspaceState, "transfer", ROUTE, user_id=heir_id)
        state = await tab.state(WorkspaceState)
        assert (state.error, state.notice) == ("", "Ownership transferred.")
        assert state.can_transfer is False and state.can_manage_members is True
        assert "owner" not in [choice["value"] for choice in state.role_choices]
    assert _members_of(session, workspace_id) == {owner_id: "admin", heir_id: "owner"}


async def _new_workspace(tab: Tab) -> int:
    """Creates "Team" through the switcher's form; returns its id."""
    sent = await tab.send(WorkspaceSwitcherState, "create", "/app", form={"name": "Team"})
    assert "location.assign('/app')" in sent
    await tab.send(AuthState, "require_user", "/app")
    auth = await tab.state(AuthState)
    assert auth.workspace_name == "Team"
    assert auth._workspace_id is not None
    return auth._workspace_id
