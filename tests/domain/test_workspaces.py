"""The permission table cell by cell, the actor, and personal workspaces, on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from tests.factories import new_user
from viralshorts.domain import accounts
from viralshorts.domain.workspaces import (
    Action,
    Actor,
    actor_for,
    can,
    personal_workspace_id,
    require,
)
from viralshorts.errors import NotFoundError, PermissionDeniedError
from viralshorts.models import Membership, Workspace, WorkspaceRole

OWN, ADM, EDI, VIE = (
    WorkspaceRole.OWNER,
    WorkspaceRole.ADMIN,
    WorkspaceRole.EDITOR,
    WorkspaceRole.VIEWER,
)
# Written out by hand from the issue, so a change to the table has to change this too.
EXPECTED: dict[Action, set[WorkspaceRole]] = {
    Action.VIEW: {OWN, ADM, EDI, VIE},
    Action.MANAGE_CAMPAIGNS: {OWN, ADM, EDI},
    Action.MANAGE_VIDEOS: {OWN, ADM, EDI},
    Action.MANAGE_MEDIA: {OWN, ADM, EDI},
    Action.MANAGE_POSTS: {OWN, ADM, EDI},
    Action.APPROVE_POSTS: {OWN, ADM},
    Action.MANAGE_ACCOUNTS: {OWN, ADM},
    Action.MANAGE_MEMBERS: {OWN, ADM},
    Action.MANAGE_SETTINGS: {OWN, ADM},
    Action.MANAGE_BILLING: {OWN},
    Action.DELETE_WORKSPACE: {OWN},
    Action.TRANSFER_OWNERSHIP: {OWN},
}
CELLS = [(role, action) for role in WorkspaceRole for action in Action]


def _team(session: Session) -> dict[WorkspaceRole, int]:
    """A shared workspace with one member of each role; returns user ids by role."""
    workspace = Workspace(name="Team")
    session.add(workspace)
    session.flush()
    users = {}
    for role in WorkspaceRole:
        user = new_user(session, f"{role.value}@example.com")
        session.add(Membership(workspace_id=workspace.id, user_id=user.id, role=role))
        users[role] = user.id
    session.commit()
    return {"workspace": workspace.id, **users}


def test_the_table_names_every_action() -> None:
    assert set(EXPECTED) == set(Action)


@pytest.mark.parametrize(("role", "action"), CELLS, ids=[f"{r}-{a}" for r, a in CELLS])
def test_each_role_and_action(session: Session, role: WorkspaceRole, action: Action) -> None:
    team = _team(session)
    actor = actor_for(session, user_id=team[role], workspace_id=team["workspace"])
    assert actor.role == role
    allowed = role in EXPECTED[action]
    assert can(actor, action) is allowed
    if allowed:
        require(actor, action)
        return
    with pytest.raises(PermissionDeniedError) as refused:
        require(actor, action)
    assert refused.value.code == "permission_denied"
    assert refused.value.params["action"] == action.value
    assert role.value in refused.value.message


def test_a_non_member_is_told_the_workspace_does_not_exist(session: Session) -> None:
    team = _team(session)
    outsider = new_user(session, "outsider@example.com")
    with pytest.raises(NotFoundError, match=r"^Workspace not found\.$"):
        actor_for(session, user_id=outsider.id, workspace_id=team["workspace"])
    with pytest.raises(NotFoundError, match=r"^Workspace not found\.$"):
        actor_for(session, user_id=outsider.id, workspace_id=team["workspace"] + 1000)


def test_the_site_admin_role_grants_nothing_in_a_workspace(session: Session) -> None:
    team = _team(session)
    site_admin = new_user(session, "root@example.com", role="admin")
    with pytest.raises(NotFoundError):
        actor_for(session, user_id=site_admin.id, workspace_id=team["workspace"])


def test_sign_up_makes_a_personal_workspace_owned_by_the_new_user(session: Session) -> None:
    user = accounts.sign_up(
        session, email="ada@example.com", password="correct horse battery", display_name="Ada"
    )
    session.commit()
    workspace = session.get(Workspace, personal_workspace_id(session, user.id))
    assert (workspace.name, workspace.personal, workspace.created_by_user_id) == (
        "Ada's workspace",
        True,
        user.id,
    )
    actor = actor_for(session, user_id=user.id, workspace_id=workspace.id)
    assert actor == Actor(user_id=user.id, workspace_id=workspace.id, role=WorkspaceRole.OWNER)


def test_create_admin_names_the_workspace_after_the_email(session: Session) -> None:
    user = accounts.create_admin(
        session, email="boss@example.com", password="correct horse battery"
    )
    session.commit()
    names = session.exec(
        select(Workspace.name).where(Workspace.id == personal_workspace_id(session, user.id))
    ).all()
    assert names == ["boss's workspace"]
