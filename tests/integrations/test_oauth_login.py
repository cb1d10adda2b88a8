"""Sign in with Google and GitHub end to end, against the local fake provider in tests/fakes."""

from __future__ import annotations

import socket
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from tests.fakes.oauth_provider import CLIENTS, FakeOAuthProvider, FakeUser, s256
from tests.integrations.auth_support import auth_services
from viralshorts.db import session_scope
from viralshorts.domain import accounts
from viralshorts.integrations.services import use_services
from viralshorts.models import AuditLog, OAuthAccount, User
from viralshorts.settings import get_settings
from viralshorts.web.routes import build_api


@pytest.fixture(scope="module")
def fake():
    with FakeOAuthProvider() as provider:
        yield provider


@pytest.fixture()
def client(fake, use_database, use_redis, monkeypatch):
    base = fake.base_url
    env = {
        "PUBLIC_BASE_URL": "http://testserver",
        "GOOGLE_CLIENT_ID": CLIENTS["google"][0],
        "GOOGLE_CLIENT_SECRET": CLIENTS["google"][1],
        "GOOGLE_AUTH_BASE": base,
        "GOOGLE_TOKEN_URL": f"{base}/token",
        "GOOGLE_USERINFO_URL": f"{base}/v1/userinfo",
        "GITHUB_CLIENT_ID": CLIENTS["github"][0],
        "GITHUB_CLIENT_SECRET": CLIENTS["github"][1],
        "GITHUB_AUTH_BASE": base,
        "GITHUB_API_BASE": base,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    use_services(auth_services(get_settings()))
    fake.data.users = {
        "google": FakeUser("g-1001", "Ada@Example.com", "Ada Lovelace"),
        "github": FakeUser("5001", "grace@example.com", "Grace Hopper"),
    }
    fake.data.deny = False
    with TestClient(build_api(), base_url="http://testserver") as test_client:
        yield test_client
    use_services(None)
    monkeypatch.undo()
    get_settings.cache_clear()


def _start(client: TestClient, provider: str, next_path: str = "/app/videos") -> str:
    response = client.get(
        f"/api/auth/oauth/{provider}/start", params={"next": next_path}, follow_redirects=False
    )
    assert response.status_code == 303
    return response.headers["location"]


def _consent(authorize_url: str) -> str:
    """What the browser does at the provider: follow to our callback URL."""
    response = httpx.get(authorize_url, follow_redirects=False)
    assert response.status_code == 302, response.text
    return response.headers["location"]


def _sign_in(client: TestClient, provider: str, next_path: str = "/app/videos"):
    callback = _consent(_start(client, provider, next_path))
    return client.get(callback, follow_redirects=False)


def _signed_in_user(client: TestClient) -> User:
    with session_scope() as session:
        return accounts.user_for_token(session, client.cookies["vs_session"])


@pytest.mark.parametrize("provider", ["google", "github"])
def test_start_sends_state_and_s256_challenge(client: TestClient, fake, provider: str) -> None:
    url = urlsplit(_start(client, provider))
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}" == fake.base_url
    assert query["client_id"] == CLIENTS[provider][0]
    assert query["code_challenge_method"] == "S256"
    assert len(query["state"]) >= 20
    assert query["redirect_uri"] == f"http://testserver/api/auth/oauth/{provider}/callback"


def test_google_round_trip_creates_a_user(client: TestClient, fake) -> None:
    response = _sign_in(client, "google", "/app/campaigns")
    assert response.status_code == 303
    assert response.headers["location"] == "/app/campaigns"
    assert "httponly" in response.headers["set-cookie"].lower()
    user = _signed_in_user(client)
    assert (user.email, user.display_name, user.password_hash) == (
        "ada@example.com",
        "Ada Lovelace",
        None,
    )
    request = fake.data.token_requests[-1]
    assert request["grant_type"] == "authorization_code"
    with session_scope() as session:
        audit = session.exec(select(AuditLog).where(AuditLog.action == "sign_in")).one()
    assert (audit.user_id, audit.ip, audit.details) == (user.id, "testclient", {"method": "google"})
    assert len(request["code_verifier"]) >= 43


def test_github_round_trip_uses_the_primary_verified_email(client: TestClient) -> None:
    response = _sign_in(client, "github")
    assert response.status_code == 303
    assert response.headers["location"] == "/app/videos"
    user = _signed_in_user(client)
    assert (user.email, user.display_name) == ("grace@example.com", "Grace Hopper")
    with session_scope() as session:
        link = session.exec(select(OAuthAccount)).one()
    assert (link.provider, link.provider_account_id, link.user_id) == ("github", "5001", user.id)


def test_oauth_links_to_an_existing_password_account(client: TestClient) -> None:
    with session_scope() as session:
        existing = accounts.sign_up(session, email="ada@example.com", password="my password 1")
    _sign_in(client, "google")
    assert _signed_in_user(client).id == existing.id


def test_unverified_email_is_refused(client: TestClient, fake) -> None:
    fake.data.users["google"] = FakeUser("g-2", "mallory@example.com", "M", email_verified=False)
    response = _sign_in(client, "google")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in?error=oauth_no_email")
    assert "vs_session" not in client.cookies


@pytest.mark.parametrize("provider", ["google", "github"])
def test_a_wrong_code_verifier_goes_back_to_sign_in(client: TestClient, fake, provider) -> None:
    callback = _consent(_start(client, provider))
    flow = fake.data.codes[parse_qs(urlsplit(callback).query)["code"][0]]
    flow["challenge"] = s256("not-the-verifier-" + "x" * 30)  # the verifier we send is wrong
    response = client.get(callback, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in?error=oauth_failed")
    assert "vs_session" not in client.cookies
    assert fake.data.token_requests[-1]["code_verifier"]  # our code really asked for a token


def test_github_says_no_with_http_200_as_github_does(fake) -> None:
    """The fake answers the way GitHub does, JSON only when asked for (what authlib asks)."""
    form = {"grant_type": "authorization_code", "code": "nope", "client_id": CLIENTS["github"][0]}
    form["client_secret"] = CLIENTS["github"][1]
    url = f"{fake.base_url}/login/oauth/access_token"
    plain = httpx.post(url, data=form)
    assert plain.status_code == 200
    assert parse_qs(plain.text)["error"] == ["bad_verification_code"]
    asked = httpx.post(url, data=form, headers={"Accept": "application/json"})
    assert (asked.status_code, asked.json()["error"]) == (200, "bad_verification_code")


def test_a_github_token_refusal_goes_back_to_sign_in(client: TestClient, fake) -> None:
    callback = _consent(_start(client, "github"))
    fake.data.codes.clear()  # the code expired at GitHub: it answers 200 error=...
    response = client.get(callback, follow_redirects=False)
    assert response.headers["location"].startswith("/sign-in?error=oauth_failed")
    assert fake.data.token_requests[-1]["code"]  # our code did ask
    assert "vs_session" not in client.cookies


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


def test_an_unreachable_token_url_goes_back_to_sign_in(client: TestClient, monkeypatch) -> None:
    callback = _consent(_start(client, "google"))
    monkeypatch.setenv("GOOGLE_TOKEN_URL", f"http://127.0.0.1:{_closed_port()}/token")
    get_settings.cache_clear()
    response = client.get(callback, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in?error=oauth_unreachable")
    assert "next=%2Fapp%2Fvideos" in response.headers["location"]
    assert "vs_session" not in client.cookies


def test_the_oauth_error_codes_have_messages_on_the_sign_in_page() -> None:
    from viralshorts.ui.auth_pages import OAUTH_ERRORS

    for reason in ("oauth_cancelled", "oauth_failed", "oauth_unreachable", "oauth_no_email"):
        assert OAUTH_ERRORS[reason]


def test_callback_without_our_flow_cookie_is_refused(client: TestClient) -> None:
    callback = _consent(_start(client, "github"))
    client.cookies.clear()  # another browser replays the callback URL
    response = client.get(callback, follow_redirects=False)
    assert response.headers["location"].startswith("/sign-in?error=oauth_cancelled")
    assert "vs_session" not in client.cookies


def test_tampered_state_is_refused(client: TestClient) -> None:
    callback = _consent(_start(client, "google"))
    response = client.get(callback.replace("state=", "state=x"), follow_redirects=False)
    assert response.headers["location"].startswith("/sign-in?error=oauth_cancelled")


def test_a_code_works_once(client: TestClient) -> None:
    start = _start(client, "google")
    callback = _consent(start)
    assert client.get(callback, follow_redirects=False).headers["location"] == "/app/videos"
    client.cookies.clear()
    _start(client, "google")  # a fresh flow cookie, but the old code and state
    replay = client.get(callback, follow_redirects=False)
    assert replay.headers["location"].startswith("/sign-in?error=")
    assert "vs_session" not in client.cookies


def test_denied_consent_goes_back_to_sign_in(client: TestClient, fake) -> None:
    fake.data.deny = True
    response = _sign_in(client, "github", "/app/billing")
    location = response.headers["location"]
    assert location.startswith("/sign-in?error=oauth_cancelled")
    assert "next=%2Fapp%2Fbilling" in location


def test_off_site_next_is_dropped(client: TestClient) -> None:
    response = _sign_in(client, "google", "https://evil.example/")
    assert response.headers["location"] == "/app"
