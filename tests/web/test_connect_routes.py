"""The connect routes over HTTP (Starlette's TestClient, real PostgreSQL and Redis): the session,
the role, state and PKCE are checked; every refusal comes back to the Accounts page."""

from __future__ import annotations

import dataclasses
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import Session, select
from starlette.testclient import TestClient

from tests.factories import new_user
from tests.fakes.platform_double import PlatformDouble
from viralshorts.domain.accounts import SESSION_COOKIE, create_login_session
from viralshorts.domain.workspaces import personal_workspace_id
from viralshorts.integrations.ports import PlatformProfile
from viralshorts.integrations.services import build_services, use_services
from viralshorts.models import (
    AccountHealth,
    LoginSession,
    Membership,
    SocialAccount,
    WorkspaceRole,
)
from viralshorts.settings import get_settings
from viralshorts.web.routes import build_api


@pytest.fixture()
def tiktok() -> PlatformDouble:
    return PlatformDouble()


@pytest.fixture()
def client(use_database, use_redis, tiktok):
    services = dataclasses.replace(build_services(get_settings()), platforms={"tiktok": tiktok})
    use_services(services)
    with TestClient(build_api(), base_url="http://testserver") as test_client:
        yield test_client
    use_services(None)


def _signed_in(session: Session, client: TestClient, email: str) -> int:
    user = new_user(session, email)
    raw = create_login_session(session, user=user, user_agent="test", ip="127.0.0.1")
    session.commit()
    client.cookies.set(SESSION_COOKIE, raw)
    return user.id


def _start(client: TestClient, platform: str = "tiktok") -> str:
    response = client.get(f"/api/connect/{platform}/start", follow_redirects=False)
    assert response.status_code == 303
    return response.headers["location"]


def _path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _callback(client: TestClient, callback_url: str) -> str:
    response = client.get(_path_and_query(callback_url), follow_redirects=False)
    assert response.status_code == 303
    return response.headers["location"]


def test_connecting_lands_on_the_accounts_page_with_the_new_account(session, client, tiktok):
    user_id = _signed_in(session, client, "olga@example.com")
    authorize = _start(client)
    assert authorize.startswith("https://tiktok.example/authorize?")
    landed = _callback(client, tiktok.consent(authorize))
    account = session.exec(select(SocialAccount)).one()
    assert landed == f"/app/accounts?connected={account.id}"
    assert account.workspace_id == personal_workspace_id(session, user_id)
    assert account.health == AccountHealth.OK


def test_forged_replayed_or_foreign_callbacks_are_refused(session, client, tiktok):
    _signed_in(session, client, "olga@example.com")
    callback = tiktok.consent(_start(client))
    code = parse_qs(urlsplit(callback).query)["code"][0]
    forged = f"/api/connect/tiktok/callback?code={code}&state=made-up"
    assert _callback(client, forged) == "/app/accounts?error=connect_state_invalid"
    # Another browser of someone else (the attacker's own session) cannot use the victim's flow.
    own_cookie = client.cookies[SESSION_COOKIE]
    _signed_in(session, client, "mallory@example.com")
    assert _callback(client, callback) == "/app/accounts?error=connect_state_invalid"
    client.cookies.set(SESSION_COOKIE, own_cookie)
    # That attempt spent the state: even the right browser cannot replay it.
    assert _callback(client, callback) == "/app/accounts?error=connect_state_invalid"
    assert session.exec(select(SocialAccount)).all() == []


def test_a_code_from_another_flow_fails_the_pkce_check(session, client, tiktok):
    _signed_in(session, client, "olga@example.com")
    first = parse_qs(urlsplit(tiktok.consent(_start(client))).query)
    second = parse_qs(urlsplit(tiktok.consent(_start(client))).query)
    swapped = f"/api/connect/tiktok/callback?code={second['code'][0]}&state={first['state'][0]}"
    assert _callback(client, swapped) == "/app/accounts?error=connect_refused"
    assert session.exec(select(SocialAccount)).all() == []


def test_signed_out_editors_unconfigured_and_cancelled_come_back_with_a_reason(
    session, client, tiktok
):
    assert _start(client) == "/app/accounts?error=signed_out"
    owner_id = _signed_in(session, client, "olga@example.com")
    assert _start(client, "youtube") == "/app/accounts?error=platform_not_configured"
    assert _start(client, "myspace") == "/app/accounts?error=platform_not_configured"
    cancelled = "/api/connect/tiktok/callback?error=access_denied&state=x"
    assert _callback(client, cancelled) == "/app/accounts?error=connect_cancelled"
    editor_id = _signed_in(session, client, "eve@example.com")
    workspace_id = personal_workspace_id(session, owner_id)
    session.add(Membership(workspace_id=workspace_id, user_id=editor_id, role=WorkspaceRole.EDITOR))
    session.commit()
    # The editor's session still acts in their own workspace, where they own it: switch it.
    login = session.exec(select(LoginSession).where(LoginSession.user_id == editor_id)).one()
    login.workspace_id = workspace_id
    session.add(login)
    session.commit()
    assert _start(client) == "/app/accounts?error=permission_denied"


def test_an_account_beyond_the_plan_comes_back_as_account_limit(session, client, tiktok):
    _signed_in(session, client, "olga@example.com")  # the free plan: one account
    _callback(client, tiktok.consent(_start(client)))
    tiktok.person = PlatformProfile("open-2", "Second Channel")
    assert _callback(client, tiktok.consent(_start(client))) == "/app/accounts?error=account_limit"
    assert len(session.exec(select(SocialAccount)).all()) == 1


def test_with_every_slot_taken_start_comes_back_before_the_consent_page(session, client, tiktok):
    _signed_in(session, client, "frida@example.com")  # the free plan: one account
    _callback(client, tiktok.consent(_start(client)))
    youtube = PlatformDouble(name="youtube")
    services = build_services(get_settings())
    use_services(dataclasses.replace(services, platforms={"tiktok": tiktok, "youtube": youtube}))
    assert _start(client, "youtube") == "/app/accounts?error=account_limit"
