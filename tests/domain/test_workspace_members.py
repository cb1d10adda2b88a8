"""Teams on real PostgreSQL and Redis: invitations, members and roles, switching, the audit log."""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import unquote

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from tests.factories import RecordingMailer, new_user
from tests.fakes.smtp_server import SmtpServer
from viralshorts.domain import session_checks
from viralshorts.domain import workspace_members as wm
from viralshorts.domain.accounts import create_login_session
from viralshorts.domain.workspaces import Actor, actor_for, current_workspace, personal_actor
from viralshorts.errors import (
    IntegrationError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from viralshorts.integrations.email_smtp import SmtpEmailSender
from viralshorts.integrations.ports import OutgoingEmail, Services
from viralshorts.integrations.redis_sessions import RedisSessionCache
from viralshorts.integrations.services import build_services
from viralshorts.models import (
    AuditLog,
    Invitation,
    LoginSession,
    Membership,
    User,
    WorkspaceRole,
    utcnow,
)
from viralshorts.settings import Settings, get_settings


@pytest.fixture()
def mailer() -> RecordingMailer:
    return RecordingMailer()


@pytest.fixture()
def services(use_redis, mailer: RecordingMailer) -> Services:
    return dataclasses.replace(build_services(get_settings()), email=mailer)


@pytest.fixture()
def owner(session: Session) -> Actor:
    """Olga, owner of the team workspace "Studio"."""
    user = new_user(session, "olga@example.com", display_name="Olga")
    team = wm.create_workspace(session, user_id=user.id, name="  Studio  ")
    return actor_for(session, user_id=user.id, workspace_id=team.id)


def _token(url: str) -> str:
    found = re.search(r"/invite\?token=([^\s]+)", url)
    assert found, url
    return unquote(found.group(1))


def _join(session: Session, services: Services, owner: Actor, email: str, role: str) -> Actor:
    """A new user who accepted an invitation to the owner's workspace with ``role``."""
    user = new_user(session, email)
    link = wm.invite(session, services, actor=owner, email=email, role=role)
    wm.accept_invitation(session, user_id=user.id, token=_token(link.url))
    return actor_for(session, user_id=user.id, workspace_id=owner.workspace_id)


def _audit_actions(session: Session, workspace_id: int) -> list[tuple[int | None, str, str]]:
    rows = session.exec(
        select(AuditLog).where(AuditLog.workspace_id == workspace_id).order_by(AuditLog.id)
    ).all()
    return [(row.user_id, row.action, row.target_id) for row in rows]


# ---------------------------------------------------------------- workspaces


def test_create_rename_and_list_workspaces(session, owner) -> None:
    summaries = wm.list_workspaces(session, user_id=owner.user_id)
    assert [(s.name, s.role, s.personal, s.member_count) for s in summaries] == [
        ("Olga's workspace", "owner", True, 1),
        ("Studio", "owner", False, 1),
    ]
    renamed = wm.rename_workspace(session, actor=owner, name="Big Studio")
    assert renamed.name == "Big Studio"
    actions = _audit_actions(session, owner.workspace_id)
    assert [a[1] for a in actions] == ["workspace.created", "workspace.renamed"]
    assert all(a[0] == owner.user_id for a in actions)


@pytest.mark.parametrize(("name", "code"), [("   ", "required"), ("x" * 81, "too_long")])
def test_workspace_names_are_checked(session, owner, name, code) -> None:
    with pytest.raises(ValidationError) as refused:
        wm.create_workspace(session, user_id=owner.user_id, name=name)
    assert refused.value.field_codes == {"name": code}


def test_rename_needs_settings_rights(session, services, owner) -> None:
    editor = _join(session, services, owner, "ed@example.com", "editor")
    with pytest.raises(PermissionDeniedError):
        wm.rename_workspace(session, actor=editor, name="Mine now")


# ---------------------------------------------------------------- invitations


def test_invitation_is_emailed_and_only_its_hash_stored(session, services, mailer, owner):
    link = wm.invite(session, services, actor=owner, email=" Ed@Example.com ", role="editor")
    assert link.emailed
    [message] = mailer.sent
    assert message.to == "ed@example.com"
    assert link.url in message.body
    assert "Studio" in message.body and "an editor" in message.body
    token = _token(link.url)
    row = session.get(Invitation, link.invitation_id)
    assert row.token_hash == wm.session_token_hash(token) != token
    assert row.expires_at - row.created_at == timedelta(days=7)
    preview = wm.invitation_preview(session, token=token)
    assert preview == wm.InvitationPreview("Studio", "editor", "ed@example.com", "pending")
    [listed] = wm.list_invitations(session, actor=owner)
    assert (listed.email, listed.role, listed.invited_by_email) == (
        "ed@example.com",
        "editor",
        "olga@example.com",
    )


def test_invitation_email_goes_through_a_real_smtp_server(session, use_redis, owner) -> None:
    with SmtpServer() as server:
        settings = Settings(
            _env_file=None, smtp_host=server.host, smtp_port=server.port, smtp_starttls=False
        )
        services = dataclasses.replace(build_services(), email=SmtpEmailSender(settings))
        link = wm.invite(session, services, actor=owner, email="ed@example.com", role="viewer")
        [mail] = server.wait_for(1)
    assert mail.rcpt_tos == ["ed@example.com"]
    token = _token(mail.body)
    assert token == _token(link.url)
    user = new_user(session, "ed@example.com")
    joined = wm.accept_invitation(session, user_id=user.id, token=token)
    assert (joined.id, joined.role, joined.member_count) == (owner.workspace_id, "viewer", 2)


def test_without_email_the_link_is_still_given(session, services, owner) -> None:
    link = wm.invite(
        session,
        dataclasses.replace(services, email=None),
        actor=owner,
        email="a@b.co",
        role="viewer",
    )
    assert not link.emailed
    assert link.url.startswith(get_settings().public_base_url.rstrip("/") + "/invite?token=")


def test_accepting_makes_a_member_once(session, services, owner) -> None:
    ed = new_user(session, "ed@example.com")
    link = wm.invite(session, services, actor=owner, email="ed@example.com", role="editor")
    token = _token(link.url)
    wm.accept_invitation(session, user_id=ed.id, token=token)
    assert actor_for(session, user_id=ed.id, workspace_id=owner.workspace_id).role == "editor"
    assert session.get(Invitation, link.invitation_id).accepted_at is not None
    with pytest.raises(ValidationError) as reused:
        wm.accept_invitation(session, user_id=ed.id, token=token)
    assert reused.value.field_codes == {"token": "invitation_used"}
    assert wm.invitation_preview(session, token=token).status == "used"
    assert wm.list_invitations(session, actor=owner) == []
    assert (ed.id, "invitation.accepted", str(link.invitation_id)) in _audit_actions(
        session, owner.workspace_id
    )


def test_an_expired_invitation_is_refused(session, services, owner) -> None:
    ed = new_user(session, "ed@example.com")
    link = wm.invite(session, services, actor=owner, email="ed@example.com", role="editor")
    row = session.get(Invitation, link.invitation_id)
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()
    token = _token(link.url)
    assert wm.invitation_preview(session, token=token).status == "expired"
    with pytest.raises(ValidationError) as expired:
        wm.accept_invitation(session, user_id=ed.id, token=token)
    assert expired.value.field_codes == {"token": "invitation_expired"}
    with pytest.raises(NotFoundError):
        actor_for(session, user_id=ed.id, workspace_id=owner.workspace_id)


def test_a_revoked_invitation_is_refused(session, services, owner) -> None:
    ed = new_user(session, "ed@example.com")
    link = wm.invite(session, services, actor=owner, email="ed@example.com", role="editor")
    wm.revoke_invitation(session, actor=owner, invitation_id=link.invitation_id)
    token = _token(link.url)
    assert wm.invitation_preview(session, token=token).status == "revoked"
    with pytest.raises(ValidationError) as revoked:
        wm.accept_invitation(session, user_id=ed.id, token=token)
    assert revoked.value.field_codes == {"token": "invitation_revoked"}
    assert (owner.user_id, "invitation.revoked", str(link.invitation_id)) in _audit_actions(
        session, owner.workspace_id
    )
    with pytest.raises(NotFoundError):  # once revoked there is nothing left to revoke
        wm.revoke_invitation(session, actor=owner, invitation_id=link.invitation_id)


def test_another_account_cannot_accept(session, services, owner) -> None:
    mallory = new_user(session, "mallory@example.com")
    link = wm.invite(session, services, actor=owner, email="ed@example.com", role="admin")
    with pytest.raises(ValidationError) as wrong:
        wm.accept_invitation(session, user_id=mallory.id, token=_token(link.url))
    assert wrong.value.field_codes == {"token": "wrong_account"}
    assert "ed@example.com" in wrong.value.field_errors["token"]
    assert wm.invitation_preview(session, token=_token(link.url)).status == "pending"


@pytest.mark.parametrize("forged", ["", "x" * 43, "y" * 5000])
def test_unknown_tokens_are_refused(session, forged) -> None:
    assert wm.invitation_preview(session, token=forged).status == "unknown"
    with pytest.raises(ValidationError):
        wm.accept_invitation(session, user_id=1, token=forged)


def test_an_admin_cannot_invite_an_owner_but_an_owner_can(session, services, owner) -> None:
    admin = _join(session, services, owner, "ann@example.com", "admin")
    with pytest.raises(PermissionDeniedError) as refused:
        wm.invite(session, services, actor=admin, email="x@example.com", role="owner")
    assert refused.value.code == "owner_only"
    wm.invite(session, services, actor=admin, email="x@example.com", role="editor")
    wm.invite(session, services, actor=owner, email="y@example.com", role="owner")


def test_editors_and_viewers_cannot_invite(session, services, owner) -> None:
    for email, role in (("ed@example.com", "editor"), ("vi@example.com", "viewer")):
        member = _join(session, services, owner, email, role)
        with pytest.raises(PermissionDeniedError):
            wm.invite(session, services, actor=member, email="x@example.com", role="viewer")
        with pytest.raises(PermissionDeniedError):
            wm.list_invitations(session, actor=member)


def test_inviting_a_member_or_a_bad_address_or_role_is_refused(session, services, owner) -> None:
    _join(session, services, owner, "ed@example.com", "editor")
    cases = [("ED@example.com", "viewer", "email"), ("nope", "viewer", "email")]
    cases.append(("new@example.com", "boss", "role"))
    for email, role, field in cases:
        with pytest.raises(ValidationError) as refused:
            wm.invite(session, services, actor=owner, email=email, role=role)
        assert list(refused.value.field_errors) == [field]


def test_a_new_invitation_replaces_the_pending_one(session, services, owner) -> None:
    ed = new_user(session, "ed@example.com")
    first = wm.invite(session, services, actor=owner, email="ed@example.com", role="viewer")
    second = wm.invite(session, services, actor=owner, email="ed@example.com", role="editor")
    assert [i.id for i in wm.list_invitations(session, actor=owner)] == [second.invitation_id]
    with pytest.raises(ValidationError):
        wm.accept_invitation(session, user_id=ed.id, token=_token(first.url))
    joined = wm.accept_invitation(session, user_id=ed.id, token=_token(second.url))
    assert joined.role == "editor"


def test_a_member_of_another_workspace_cannot_touch_its_invitations(
    session, services, owner
) -> None:
    link = wm.invite(session, services, actor=owner, email="ed@example.com", role="viewer")
    stranger = personal_actor(session, new_user(session, "bob@example.com").id)
    with pytest.raises(NotFoundError):
        wm.revoke_invitation(session, actor=stranger, invitation_id=link.invitation_id)
    forged = Actor(stranger.user_id, owner.workspace_id, owner.role)  # claims a role it lacks
    with pytest.raises(NotFoundError):
        wm.revoke_invitation(session, actor=forged, invitation_id=link.invitation_id)
    with pytest.raises(NotFoundError):
        wm.list_members(session, actor=forged)


# ---------------------------------------------------------------- members and roles


def test_members_are_listed_owners_first(session, services, owner) -> None:
    _join(session, services, owner, "vi@example.com", "viewer")
    _join(session, services, owner, "ann@example.com", "admin")
    members = wm.list_members(session, actor=owner)
    assert [(m.email, m.role) for m in members] == [
        ("olga@example.com", "owner"),
        ("ann@example.com", "admin"),
        ("vi@example.com", "viewer"),
    ]


def test_role_changes(session, services, owner) -> None:
    ed = _join(session, services, owner, "ed@example.com", "editor")
    admin = _join(session, services, owner, "ann@example.com", "admin")
    wm.change_role(session, services, actor=admin, user_id=ed.user_id, role="viewer")
    assert actor_for(session, user_id=ed.user_id, workspace_id=owner.workspace_id).role == "viewer"
    with pytest.raises(PermissionDeniedError) as owner_only:
        wm.change_role(session, services, actor=admin, user_id=ed.user_id, role="owner")
    assert owner_only.value.code == "owner_only"
    with pytest.raises(PermissionDeniedError):
        wm.change_role(session, services, actor=admin, user_id=owner.user_id, role="admin")
    wm.change_role(session, services, actor=owner, user_id=ed.user_id, role="owner")
    wm.change_role(session, services, actor=ed, user_id=owner.user_id, role="editor")
    [entry, *_] = [
        row
        for row in session.exec(select(AuditLog).where(AuditLog.action == "member.role_changed"))
        if row.target_id == str(ed.user_id)
    ]
    assert (entry.user_id, entry.details) == (
        admin.user_id,
        {"old_role": "editor", "role": "viewer"},
    )
    assert entry.created_at is not None


def test_the_last_owner_cannot_be_demoted_removed_or_leave(session, services, owner) -> None:
    _join(session, services, owner, "ann@example.com", "admin")
    attempts: list[Callable[[], None]] = [
        lambda: wm.change_role(session, services, actor=owner, user_id=owner.user_id, role="admin"),
        lambda: wm.remove_member(session, services, actor=owner, user_id=owner.user_id),
        lambda: wm.leave_workspace(session, services, actor=owner),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDeniedError) as refused:
            attempt()
        assert refused.value.code == "last_owner"
    assert (
        actor_for(session, user_id=owner.user_id, workspace_id=owner.workspace_id).role == "owner"
    )


def test_a_demoted_actor_is_checked_with_the_role_they_have_now(session, services, owner) -> None:
    admin = _join(session, services, owner, "ann@example.com", "admin")
    ed = _join(session, services, owner, "ed@example.com", "editor")
    wm.change_role(session, services, actor=owner, user_id=admin.user_id, role="viewer")
    with pytest.raises(PermissionDeniedError):  # ``admin`` still says "admin"
        wm.remove_member(session, services, actor=admin, user_id=ed.user_id)


def test_removing_and_leaving(session, services, owner) -> None:
    ed = _join(session, services, owner, "ed@example.com", "editor")
    vi = _join(session, services, owner, "vi@example.com", "viewer")
    admin = _join(session, services, owner, "ann@example.com", "admin")
    with pytest.raises(PermissionDeniedError):
        wm.remove_member(session, services, actor=ed, user_id=vi.user_id)
    with pytest.raises(PermissionDeniedError) as owner_only:
        wm.remove_member(session, services, actor=admin, user_id=owner.user_id)
    assert owner_only.value.code == "owner_only"
    wm.remove_member(session, services, actor=admin, user_id=ed.user_id)
    wm.leave_workspace(session, services, actor=vi)
    for gone in (ed, vi):
        with pytest.raises(NotFoundError):
            actor_for(session, user_id=gone.user_id, workspace_id=owner.workspace_id)
    with pytest.raises(NotFoundError):  # a removed member can no longer act there
        wm.list_members(session, actor=ed)
    actions = _audit_actions(session, owner.workspace_id)
    assert (admin.user_id, "member.removed", str(ed.user_id)) in actions
    assert (vi.user_id, "member.left", str(vi.user_id)) in actions


def test_a_personal_workspace_keeps_its_owner(session, services) -> None:
    mine = personal_actor(session, new_user(session, "pia@example.com").id)
    co = _join(session, services, mine, "co@example.com", "owner")
    with pytest.raises(PermissionDeniedError) as refused:
        wm.leave_workspace(session, services, actor=mine)
    assert refused.value.code == "personal_workspace_owner"
    with pytest.raises(PermissionDeniedError):
        wm.remove_member(session, services, actor=co, user_id=mine.user_id)
    with pytest.raises(PermissionDeniedError):
        wm.change_role(session, services, actor=co, user_id=mine.user_id, role="viewer")
    with pytest.raises(PermissionDeniedError):
        wm.transfer_ownership(session, services, actor=mine, user_id=co.user_id)
    wm.leave_workspace(session, services, actor=co)  # a co-owner may leave it


def test_transfer_ownership(session, services, owner) -> None:
    ed = _join(session, services, owner, "ed@example.com", "editor")
    with pytest.raises(PermissionDeniedError):
        wm.transfer_ownership(session, services, actor=ed, user_id=owner.user_id)
    with pytest.raises(ValidationError):
        wm.transfer_ownership(session, services, actor=owner, user_id=owner.user_id)
    wm.transfer_ownership(session, services, actor=owner, user_id=ed.user_id)
    roles = {m.email: m.role for m in wm.list_members(session, actor=ed)}
    assert roles == {"ed@example.com": "owner", "olga@example.com": "admin"}
    wm.leave_workspace(session, services, actor=owner)  # no longer the last owner
    assert (owner.user_id, "ownership.transferred", str(ed.user_id)) in _audit_actions(
        session, owner.workspace_id
    )


# ---------------------------------------------------------------- switching and sessions


def _browser(session: Session, user_id: int) -> str:
    user = session.get(User, user_id)
    token = create_login_session(session, user=user, user_agent="pytest", ip="127.0.0.1")
    session.commit()
    return token


def test_switching_is_stored_on_the_browser_session(session, services, owner) -> None:
    token = _browser(session, owner.user_id)
    other = _browser(session, owner.user_id)
    summary = wm.switch_workspace(
        session,
        user_id=owner.user_id,
        session_token_hash=wm.session_token_hash(token),
        workspace_id=owner.workspace_id,
    )
    assert summary.name == "Studio"
    assert wm.stored_workspace_id(session, token) == owner.workspace_id
    assert wm.stored_workspace_id(session, other) is None
    stored = wm.stored_workspace_id(session, token)
    assert current_workspace(session, owner.user_id, stored)[:2] == (owner.workspace_id, "Studio")
    assert current_workspace(session, owner.user_id)[1] == "Olga's workspace"


def test_a_non_member_cannot_switch_in(session, owner) -> None:
    bob = new_user(session, "bob@example.com")
    token = _browser(session, bob.id)
    with pytest.raises(NotFoundError):
        wm.switch_workspace(
            session,
            user_id=bob.id,
            session_token_hash=wm.session_token_hash(token),
            workspace_id=owner.workspace_id,
        )
    assert wm.stored_workspace_id(session, token) is None
    with pytest.raises(NotFoundError):  # nor with someone else's session
        wm.switch_workspace(
            session,
            user_id=bob.id,
            session_token_hash=wm.session_token_hash(_browser(session, owner.user_id)),
            workspace_id=current_workspace(session, bob.id)[0],
        )


def _check(cache: RedisSessionCache, token: str, loads: list[str]) -> tuple[int, str, str]:
    """The session check as ``ui/state.py`` makes it: cached, else the database (``loads``)."""

    def load(raw: str) -> tuple[int, str] | None:
        loads.append(raw)
        with Session(session_engine(), expire_on_commit=False) as db:
            row = db.exec(
                select(LoginSession).where(LoginSession.token_hash == wm.session_token_hash(raw))
            ).one()
            found = current_workspace(db, row.user_id, wm.stored_workspace_id(db, raw))
            return row.user_id, "|".join(map(str, found))

    value = session_checks.checked(cache, token, load)
    assert value is not None
    workspace_id, name, role = value.split("|")
    return int(workspace_id), name, role


def session_engine():
    from viralshorts.db import get_engine

    return get_engine()


@pytest.fixture()
def long_cache(monkeypatch) -> None:
    """Entries outlive the test, so "dropped at once" cannot pass by an entry expiring."""
    monkeypatch.setattr(session_checks, "CACHE_MS", 600_000)


@pytest.mark.parametrize("how", ["removed", "demoted", "left"])
def test_losing_access_drops_the_members_cached_session(
    session, services, owner, long_cache, how
) -> None:
    ed = _join(session, services, owner, "ed@example.com", "editor")
    token = _browser(session, ed.user_id)
    wm.switch_workspace(
        session,
        user_id=ed.user_id,
        session_token_hash=wm.session_token_hash(token),
        workspace_id=owner.workspace_id,
    )
    cache = services.sessions
    assert isinstance(cache, RedisSessionCache)
    loads: list[str] = []
    assert _check(cache, token, loads) == (owner.workspace_id, "Studio", "editor")
    assert _check(cache, token, loads) == (owner.workspace_id, "Studio", "editor")
    assert len(loads) == 1  # the second check was answered by the cache
    if how == "removed":
        wm.remove_member(session, services, actor=owner, user_id=ed.user_id)
    elif how == "demoted":
        wm.change_role(session, services, actor=owner, user_id=ed.user_id, role="viewer")
    else:
        wm.leave_workspace(session, services, actor=ed)
    expected = {
        "removed": (current_workspace(session, ed.user_id)[0], "ed's workspace", "owner"),
        "left": (current_workspace(session, ed.user_id)[0], "ed's workspace", "owner"),
        "demoted": (owner.workspace_id, "Studio", "viewer"),
    }[how]
    assert _check(cache, token, loads) == expected


def test_the_page_state_lookup_uses_the_switched_workspace(session, services, owner) -> None:
    from viralshorts.ui import state

    ed = _join(session, services, owner, "ed@example.com", "editor")
    token = _browser(session, ed.user_id)
    assert state._lookup_in_database(token)[1][1] == "ed's workspace"
    wm.switch_workspace(
        session,
        user_id=ed.user_id,
        session_token_hash=wm.session_token_hash(token),
        workspace_id=owner.workspace_id,
    )
    assert state._lookup_in_database(token)[1] == (owner.workspace_id, "Studio", "editor")
    wm.remove_member(session, services, actor=owner, user_id=ed.user_id)
    assert state._lookup_in_database(token)[1][1] == "ed's workspace"
    assert (
        session.exec(select(Membership).where(Membership.workspace_id == owner.workspace_id))
        .all()[0]
        .user_id
        == owner.user_id
    )


def test_switching_drops_the_cached_lookup(session, services, owner, long_cache) -> None:
    token = _browser(session, owner.user_id)
    cache = services.sessions
    assert isinstance(cache, RedisSessionCache)
    loads: list[str] = []
    assert _check(cache, token, loads)[1] == "Olga's workspace"
    wm.switch_workspace(
        session,
        user_id=owner.user_id,
        session_token_hash=wm.session_token_hash(token),
        workspace_id=owner.workspace_id,
        sessions=cache,
    )
    assert _check(cache, token, loads)[1] == "Studio"


def test_current_workspace_falls_back_to_personal_when_no_longer_a_member(
    session, services, owner
) -> None:
    ed = _join(session, services, owner, "ed@example.com", "editor")
    personal = current_workspace(session, ed.user_id)
    assert current_workspace(session, ed.user_id, owner.workspace_id)[0] == owner.workspace_id
    # The membership goes away by another path than remove_member (which also clears the choice).
    session.delete(_membership_row(session, owner.workspace_id, ed.user_id))
    session.commit()
    assert current_workspace(session, ed.user_id, owner.workspace_id) == personal


def test_removal_clears_the_removed_members_stored_choice(session, services, owner) -> None:
    ed = _join(session, services, owner, "ed@example.com", "editor")
    token = _browser(session, ed.user_id)
    wm.switch_workspace(
        session,
        user_id=ed.user_id,
        session_token_hash=wm.session_token_hash(token),
        workspace_id=owner.workspace_id,
    )
    wm.remove_member(session, services, actor=owner, user_id=ed.user_id)
    assert wm.stored_workspace_id(session, token) is None


def _membership_row(session: Session, workspace_id: int, user_id: int) -> Membership:
    return session.exec(
        select(Membership).where(
            Membership.workspace_id == workspace_id, Membership.user_id == user_id
        )
    ).one()


def test_two_owners_demoting_each_other_at_once_leave_one_owner(session, services, owner):
    co = _join(session, services, owner, "co@example.com", "owner")
    engine = session_engine()
    outcome: list[BaseException | None] = []

    def co_demotes_olga() -> None:
        with Session(engine, expire_on_commit=False) as other:
            try:
                wm.change_role(other, services, actor=co, user_id=owner.user_id, role="admin")
                outcome.append(None)
            except PermissionDeniedError as refused:
                outcome.append(refused)

    with Session(engine, expire_on_commit=False) as olga:
        # Olga's demotion of the co-owner is under way (workspace locked, not yet committed)...
        wm._lock_workspace(olga, owner.workspace_id)
        mine = _membership_row(olga, owner.workspace_id, co.user_id)
        mine.role = WorkspaceRole.ADMIN
        olga.add(mine)
        olga.flush()
        # ...when the co-owner demotes Olga: it must wait for her change, then see it.
        worker = threading.Thread(target=co_demotes_olga)
        worker.start()
        _wait_until(lambda: not worker.is_alive() or _lock_waiters(session) > 0)
        olga.commit()
    worker.join(timeout=30)
    assert len(outcome) == 1 and isinstance(outcome[0], PermissionDeniedError)
    session.expire_all()
    owners = [m.email for m in wm.list_members(session, actor=owner) if m.role == "owner"]
    assert owners == ["olga@example.com"]


def _lock_waiters(session: Session) -> int:
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    with Session(session_engine()) as probe:
        return probe.exec(query).one()[0]


def _wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


class BrokenMailer:
    def send(self, message: OutgoingEmail) -> None:
        raise IntegrationError("SMTP server refused the message", code="email_failed")


def test_a_failed_email_still_leaves_the_link_to_copy(session, services, owner) -> None:
    broken = dataclasses.replace(services, email=BrokenMailer())
    link = wm.invite(session, broken, actor=owner, email="ed@example.com", role="viewer")
    assert not link.emailed
    assert wm.invitation_preview(session, token=_token(link.url)).status == "pending"
