"""The Accounts page and the bell through Reflex's event processor: no token ever reaches a
state var, every handler re-checks the session, the role and its arguments."""

from __future__ import annotations

import dataclasses
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import Session

from tests.fakes.platform_double import PlatformDouble
from tests.ui.tabs import Tab, open_tab, signed_in_cookie
from viralshorts.db import session_scope
from viralshorts.domain import connected_accounts as ca
from viralshorts.domain import notifications as nt
from viralshorts.domain.workspaces import Actor, actor_for, personal_workspace_id
from viralshorts.integrations.services import build_services, get_services, use_services
from viralshorts.models import AccountHealth, Membership, SocialAccount, WorkspaceRole
from viralshorts.settings import get_settings
from viralshorts.ui import accounts, layout
from viralshorts.ui.accounts import AccountsState
from viralshorts.ui.guards import BAD_REQUEST
from viralshorts.ui.notifications import EmailChoicesState, NotificationState
from viralshorts.ui.state import AuthState
from viralshorts.ui.workspace_switcher import WorkspaceSwitcherState

ROUTE = accounts.ROUTE
FORGED = ("²", "x", "1.5", 2**40, -3, True, None, [1], {"id": 1})


@pytest.fixture()
def tiktok(use_database, use_redis) -> PlatformDouble:
    double = PlatformDouble()
    use_services(dataclasses.replace(build_services(get_settings()), platforms={"tiktok": double}))
    return double


def _owner(session: Session, email: str = "olga@example.com") -> tuple[Actor, str]:
    user_id, cookie = signed_in_cookie(session, email)
    workspace_id = personal_workspace_id(session, user_id)
    return actor_for(session, user_id=user_id, workspace_id=workspace_id), cookie


def _connect(actor: Actor, platform: PlatformDouble) -> SocialAccount:
    with session_scope() as session:
        url = ca.start_connect(
            session, get_services(), actor=actor, platform="tiktok", browser_session="b"
        )
        query = parse_qs(urlsplit(platform.consent(url)).query)
        return ca.finish_connect(
            session,
            get_services(),
            user_id=actor.user_id,
            platform="tiktok",
            state=query["state"][0],
            code=query["code"][0],
            browser_session="b",
        )


async def _every_var(tab: Tab) -> str:
    """Everything the tab's states hold (backend-only vars too), as text."""
    root = await tab.state(AuthState)
    parts = []
    for state in (
        root,
        await root.get_state(AccountsState),
        await root.get_state(NotificationState),
    ):
        parts.append(repr(vars(state)))
    return "\n".join(parts)


async def test_the_page_lists_accounts_with_health_and_never_a_token(session, tiktok) -> None:
    owner, cookie = _owner(session)
    account = _connect(owner, tiktok)
    tokens = ca.tokens_for(session, get_services(), session.get(SocialAccount, account.id))
    async with open_tab(cookie) as tab:
        await tab.send(AccountsState, "load", f"{ROUTE}?connected={account.id}")
        state = await tab.state(AccountsState)
        [row] = state.accounts
        assert (row["name"], row["health_label"], row["sandbox"]) == (
            "Ada Creates",
            "Healthy",
            True,
        )
        assert row["abilities"] == "read the profile, publish videos, upload drafts"
        assert state.notice == "Connected Ada Creates."
        assert [p["configured"] for p in state.platforms] == [False, True, False]
        assert "GOOGLE_CLIENT_ID" in state.platforms[0]["help"]
        held = await _every_var(tab)
        assert "Ada Creates" in held and "olga@example.com" in held
        for secret in (tokens.access_token, tokens.refresh_token):
            assert secret not in held
        for encrypted in (account.access_token_enc, account.refresh_token_enc):
            assert encrypted not in held


async def test_connect_leaves_for_the_start_route_only_for_managers(session, tiktok) -> None:
    owner, cookie = _owner(session)
    async with open_tab(cookie) as tab:
        await tab.send(AccountsState, "load", ROUTE)
        sent = await tab.send(AccountsState, "connect", ROUTE, platform="tiktok")
        assert "/api/connect/tiktok/start" in sent
        for forged in ("myspace", "tiktok'); alert(1); ('", 3, None):
            sent = await tab.send(AccountsState, "connect", ROUTE, platform=forged)
            assert "/api/connect" not in sent
            assert (await tab.state(AccountsState)).error == BAD_REQUEST
    viewer_id, viewer_cookie = signed_in_cookie(session, "vic@example.com")
    session.add(
        Membership(workspace_id=owner.workspace_id, user_id=viewer_id, role=WorkspaceRole.VIEWER)
    )
    session.commit()
    _connect(owner, tiktok)
    async with open_tab(viewer_cookie) as tab:
        await tab.send(WorkspaceSwitcherState, "switch", "/app", workspace_id=owner.workspace_id)
        await tab.send(AuthState, "require_user", "/app")
        await tab.send(AccountsState, "load", ROUTE)
        state = await tab.state(AccountsState)
        assert len(state.accounts) == 1 and not state.can_manage
        sent = await tab.send(AccountsState, "connect", ROUTE, platform="tiktok")
        assert "/api/connect" not in sent
        assert "owner or admin" in (await tab.state(AccountsState)).error


async def test_disconnect_checks_its_argument_and_the_role(session, tiktok) -> None:
    owner, cookie = _owner(session)
    account = _connect(owner, tiktok)
    async with open_tab(cookie) as tab:
        await tab.send(AccountsState, "load", ROUTE)
        for forged in FORGED:
            await tab.send(AccountsState, "disconnect", ROUTE, account_id=forged)
            assert (await tab.state(AccountsState)).error == BAD_REQUEST, forged
        _other, other_cookie = _owner(session, "mallory@example.com")
    async with open_tab(other_cookie) as tab:
        await tab.send(AccountsState, "disconnect", ROUTE, account_id=account.id)
        assert "not connected" in (await tab.state(AccountsState)).error
    session.expire_all()
    assert session.get(SocialAccount, account.id).health == AccountHealth.OK
    async with open_tab(cookie) as tab:
        await tab.send(AccountsState, "load", ROUTE)
        await tab.send(AccountsState, "ask_disconnect", ROUTE, account_id=account.id)
        assert (await tab.state(AccountsState)).confirm_disconnect_id == account.id
        await tab.send(AccountsState, "disconnect", ROUTE, account_id=account.id)
        state = await tab.state(AccountsState)
        assert state.accounts == [] and "paused" in state.notice
    session.expire_all()
    assert session.get(SocialAccount, account.id).health == AccountHealth.DISCONNECTED


async def test_a_connect_error_comes_back_as_a_message(session, tiktok) -> None:
    _owner_actor, cookie = _owner(session)
    async with open_tab(cookie) as tab:
        await tab.send(AccountsState, "load", f"{ROUTE}?error=connect_state_invalid")
        assert "not started here" in (await tab.state(AccountsState)).error
        await tab.send(AccountsState, "load", f"{ROUTE}?error=<script>")
        assert "did not accept" in (await tab.state(AccountsState)).error


async def test_the_bell_counts_lists_and_marks_read_only_your_own(session, tiktok) -> None:
    owner, cookie = _owner(session)
    with session_scope() as s:
        for title in ("one", "two"):
            nt.notify(s, None, workspace_id=owner.workspace_id, kind="video_ready", title=title)
        s.commit()
    async with open_tab(cookie) as tab:
        await tab.send(NotificationState, "refresh", "/app")
        bell = await tab.state(NotificationState)
        assert bell.unread == 2 and [i["title"] for i in bell.items] == ["two", "one"]
        for forged in FORGED:
            await tab.send(NotificationState, "mark_read", "/app", notification_id=forged)
            assert (await tab.state(NotificationState)).unread == 2
        first = bell.items[0]["id"]
        await tab.send(NotificationState, "mark_read", "/app", notification_id=first)
        assert (await tab.state(NotificationState)).unread == 1
        await tab.send(NotificationState, "mark_all_read", "/app")
        assert (await tab.state(NotificationState)).unread == 0
    items = nt.recent(session, user_id=owner.user_id, workspace_id=owner.workspace_id)
    assert all(item.read for item in items)


def test_the_accounts_page_builds_and_is_no_longer_marked_later() -> None:
    assert str(accounts.accounts_page())
    assert "/app/accounts" not in layout.LATER


async def test_profile_email_switches_change_only_the_signed_in_persons_choice(
    session, tiktok
) -> None:
    owner, cookie = _owner(session)
    other, _ = _owner(session, "other@example.com")
    async with open_tab(cookie) as tab:
        await tab.send(EmailChoicesState, "load", "/app/profile")
        choices = (await tab.state(EmailChoicesState)).choices
        assert [c["kind"] for c in choices] == list(nt.KINDS)
        assert all(c["wanted"] for c in choices)
        await tab.send(
            EmailChoicesState, "choose", "/app/profile", kind="video_ready", wanted=False
        )
        state = await tab.state(EmailChoicesState)
        assert [c["kind"] for c in state.choices if not c["wanted"]] == ["video_ready"]
        for kind, wanted in (("spam", False), ("video_failed", "no"), (["video_ready"], True)):
            await tab.send(EmailChoicesState, "choose", "/app/profile", kind=kind, wanted=wanted)
            assert (await tab.state(EmailChoicesState)).error == BAD_REQUEST
    assert nt.email_muted_kinds(session, owner.user_id) == {"video_ready"}
    assert nt.email_muted_kinds(session, other.user_id) == set()
