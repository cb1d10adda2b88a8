"""Connecting each platform for real: the HTTP routes, the real adapters built by the composition
root from the sandbox's settings, and the local fakes of Google, TikTok and Meta (tests/fakes).

The browser's part (consent page, Allow) is played with httpx; everything else is production
code: start route → the platform's consent page → our callback → tokens stored encrypted.
"""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from tests.factories import new_user
from tests.fakes.sandbox import running_sandbox
from tests.integrations.platform_support import click_allow
from viralshorts.domain import connected_accounts as ca
from viralshorts.domain.accounts import SESSION_COOKIE, create_login_session
from viralshorts.domain.workspaces import actor_for
from viralshorts.integrations.services import build_services, use_services
from viralshorts.models import AccountHealth, SocialAccount
from viralshorts.settings import get_settings
from viralshorts.web.routes import build_api


@pytest.fixture(scope="module")
def sandbox():
    with running_sandbox() as running:
        yield running


@pytest.fixture()
def client(sandbox, use_database, use_redis, monkeypatch):
    for name, value in {**sandbox.env, "PUBLIC_BASE_URL": "http://testserver"}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    services = build_services(get_settings())
    use_services(services)
    with TestClient(build_api(), base_url="http://testserver") as test_client:
        yield test_client
    use_services(None)
    monkeypatch.undo()
    get_settings.cache_clear()


def _sign_in(session, client: TestClient) -> None:
    user = new_user(session, "olga@example.com")
    client.cookies.set(
        SESSION_COOKIE, create_login_session(session, user=user, user_agent="t", ip="127.0.0.1")
    )
    session.commit()


def _consent(platform: str, authorize_url: str) -> dict[str, str]:
    """What the person does on the platform's page: press Allow."""
    if platform != "instagram":
        return click_allow(authorize_url)
    page = httpx.get(authorize_url).text
    allow = re.search(r"href='([^']+)'", page)
    assert allow is not None, page
    link = unescape(allow.group(1)).removesuffix("#_")
    return {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}


@pytest.mark.parametrize("platform", ["youtube", "tiktok", "instagram"])
def test_each_platform_connects_through_its_oauth_flow(session, client, platform) -> None:
    _sign_in(session, client)
    start = client.get(f"/api/connect/{platform}/start", follow_redirects=False)
    assert start.status_code == 303, start.headers.get("location")
    answer = _consent(platform, start.headers["location"])
    callback = client.get(
        f"/api/connect/{platform}/callback",
        params={"code": answer["code"], "state": answer["state"]},
        follow_redirects=False,
    )
    account = session.exec(select(SocialAccount)).one()
    assert callback.headers["location"] == f"/app/accounts?connected={account.id}"
    assert account.platform == platform and account.sandbox is True
    assert account.health == AccountHealth.OK and account.display_name
    services = build_services(get_settings())
    tokens = ca.tokens_for(session, services, account)
    assert tokens.access_token and tokens.access_token not in account.access_token_enc
    if platform != "instagram":  # Instagram's long-lived token is renewed otherwise
        fresh = ca.refreshed_tokens(session, services, account)
        assert fresh.access_token != tokens.access_token
    ca.disconnect(session, services, actor=_actor(session, account), account_id=account.id)
    assert session.get(SocialAccount, account.id).health == AccountHealth.DISCONNECTED


def _actor(session, account: SocialAccount):
    return actor_for(session, user_id=account.user_id, workspace_id=account.workspace_id)


def test_a_rotated_tiktok_refresh_token_is_the_one_kept(session, client, sandbox) -> None:
    _sign_in(session, client)
    start = client.get("/api/connect/tiktok/start", follow_redirects=False)
    answer = _consent("tiktok", start.headers["location"])
    client.get(
        "/api/connect/tiktok/callback",
        params={"code": answer["code"], "state": answer["state"]},
        follow_redirects=False,
    )
    account = session.exec(select(SocialAccount)).one()
    services = build_services(get_settings())
    first = ca.tokens_for(session, services, account)
    second = ca.refreshed_tokens(session, services, account)
    third = ca.refreshed_tokens(session, services, account)  # spends the second one
    assert len({first.refresh_token, second.refresh_token, third.refresh_token}) == 3
    assert session.get(SocialAccount, account.id).health == AccountHealth.OK
