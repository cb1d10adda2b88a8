"""/api/auth/finish and /api/auth/sign-out via Starlette's TestClient (PostgreSQL + Redis)."""

from __future__ import annotations

from http.cookies import SimpleCookie

import pytest
from sqlmodel import select
from starlette.requests import Request
from starlette.testclient import TestClient

from tests.integrations.auth_support import auth_services
from viralshorts.db import session_scope
from viralshorts.domain import accounts
from viralshorts.integrations.services import use_services
from viralshorts.models import LoginSession, User
from viralshorts.settings import get_settings
from viralshorts.web.auth import client_ip, user_from_request
from viralshorts.web.routes import build_api


@pytest.fixture()
def configure(use_database, use_redis, monkeypatch):
    """Set environment variables, rebuild settings and services; undone afterwards."""

    def apply(**env: str) -> None:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        use_services(auth_services(get_settings()))

    apply(PUBLIC_BASE_URL="http://testserver")
    yield apply
    use_services(None)
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture()
def client(configure) -> TestClient:
    with TestClient(build_api(), base_url="http://testserver") as test_client:
        yield test_client


@pytest.fixture()
def user(use_database) -> User:
    with session_scope() as session:
        return accounts.sign_up(session, email="ada@example.com", password="correct horse battery")


def _ticket(user: User) -> str:
    return accounts.issue_sign_in_ticket(auth_services(get_settings()).tickets, user=user)


def _set_cookie(response) -> SimpleCookie:
    cookie: SimpleCookie = SimpleCookie()
    cookie.load(response.headers["set-cookie"])
    return cookie


def test_finish_sets_an_httponly_session_cookie(client: TestClient, user: User) -> None:
    response = client.get(
        "/api/auth/finish",
        params={"ticket": _ticket(user), "next": "/app/campaigns?tab=2"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/app/campaigns?tab=2"
    morsel = _set_cookie(response)["vs_session"]
    assert morsel["httponly"] is True
    assert morsel["samesite"].lower() == "lax"
    assert morsel["path"] == "/"
    assert morsel["secure"] == ""  # plain http base URL
    assert int(morsel["max-age"]) == get_settings().session_max_days * 86400
    with session_scope() as session:
        assert accounts.user_for_token(session, morsel.value).id == user.id
        row = session.exec(select(LoginSession)).one()
        assert row.user_agent == "testclient"


def test_cookie_is_secure_behind_https(configure, user: User) -> None:
    configure(PUBLIC_BASE_URL="https://shorts.example")
    with TestClient(build_api(), base_url="https://shorts.example") as https_client:
        response = https_client.get(
            "/api/auth/finish", params={"ticket": _ticket(user)}, follow_redirects=False
        )
    assert response.headers["location"] == "/app"
    assert _set_cookie(response)["vs_session"]["secure"] is True


def test_a_ticket_works_once(client: TestClient, user: User) -> None:
    ticket = _ticket(user)
    assert (
        client.get(f"/api/auth/finish?ticket={ticket}", follow_redirects=False).status_code == 303
    )
    client.cookies.clear()
    again = client.get(f"/api/auth/finish?ticket={ticket}", follow_redirects=False)
    assert again.status_code == 400
    assert "set-cookie" not in again.headers
    assert "expired or was already used" in again.text


def test_an_expired_ticket_is_refused(client: TestClient, user: User, use_redis) -> None:
    ticket = _ticket(user)
    for key in use_redis.keys("vs:once:signin:*"):
        use_redis.delete(key)  # what Redis does when the 60 s TTL runs out
    response = client.get(f"/api/auth/finish?ticket={ticket}", follow_redirects=False)
    assert response.status_code == 400
    assert "set-cookie" not in response.headers


def test_a_disabled_user_ticket_is_refused(client: TestClient, user: User) -> None:
    ticket = _ticket(user)
    with session_scope() as session:
        session.get(User, user.id).disabled = True
    assert (
        client.get(f"/api/auth/finish?ticket={ticket}", follow_redirects=False).status_code == 400
    )


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/app",
        "//evil.example/app",
        "/\\evil.example",
        "javascript:alert(1)",
        "app",
    ],
)
def test_finish_never_redirects_off_site(client: TestClient, user: User, next_url: str) -> None:
    response = client.get(
        "/api/auth/finish",
        params={"ticket": _ticket(user), "next": next_url},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/app"


SAME_ORIGIN = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}


def test_sign_out_ends_the_session_and_clears_the_cookie(client: TestClient, user: User) -> None:
    client.get(f"/api/auth/finish?ticket={_ticket(user)}", follow_redirects=False)
    raw = client.cookies["vs_session"]
    response = client.post("/api/auth/sign-out", headers=SAME_ORIGIN, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in"
    cleared = _set_cookie(response)["vs_session"]
    assert cleared.value == "" and cleared["max-age"] == "0"
    with session_scope() as session:
        assert accounts.user_for_token(session, raw) is None


def test_user_from_request_reads_the_cookie(client: TestClient, user: User) -> None:
    client.get(f"/api/auth/finish?ticket={_ticket(user)}", follow_redirects=False)
    raw = client.cookies["vs_session"]

    def request_with(cookie: str) -> Request:
        return Request({"type": "http", "headers": [(b"cookie", cookie.encode())]})

    assert user_from_request(request_with(f"vs_session={raw}")).id == user.id
    assert user_from_request(request_with("vs_session=forged")) is None
    assert user_from_request(request_with("")) is None


def test_unconfigured_oauth_provider_is_404(client: TestClient) -> None:
    for path in ("/api/auth/oauth/google/start", "/api/auth/oauth/github/callback"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 404
        assert "not configured" in response.text
    assert client.get("/api/auth/oauth/myspace/start").status_code == 404


@pytest.mark.parametrize(
    "headers",
    [
        {},  # no Origin at all
        {"Origin": "https://evil.example"},
        {"Origin": "http://testserver", "Sec-Fetch-Site": "cross-site"},
        {"Origin": "null"},
    ],
)
def test_sign_out_from_another_site_changes_nothing(
    client: TestClient, user: User, headers: dict[str, str]
) -> None:
    client.get(f"/api/auth/finish?ticket={_ticket(user)}", follow_redirects=False)
    raw = client.cookies["vs_session"]
    response = client.post("/api/auth/sign-out", headers=headers, follow_redirects=False)
    assert response.status_code == 403
    assert "set-cookie" not in response.headers
    with session_scope() as session:
        assert accounts.user_for_token(session, raw).id == user.id


def test_a_plain_get_no_longer_signs_out(client: TestClient, user: User) -> None:
    client.get(f"/api/auth/finish?ticket={_ticket(user)}", follow_redirects=False)
    raw = client.cookies["vs_session"]
    for path in ("/api/auth/sign-out", "/api/auth/signed-out"):
        assert client.get(path, follow_redirects=False).status_code in (404, 405)
    with session_scope() as session:
        assert accounts.user_for_token(session, raw).id == user.id


def _peer(forwarded: str) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "headers": headers, "client": ("10.0.0.9", 5000)})


@pytest.mark.parametrize(
    ("hops", "forwarded", "expected"),
    [
        ("0", "1.2.3.4", "10.0.0.9"),  # no trusted proxy: the header is the client's to forge
        ("1", "6.6.6.6, 1.2.3.4", "1.2.3.4"),  # what our one proxy saw, not what was sent
        ("2", "6.6.6.6, 1.2.3.4, 10.0.0.2", "1.2.3.4"),
        ("2", "1.2.3.4", "10.0.0.9"),  # fewer addresses than proxies: do not guess
        ("1", "", "10.0.0.9"),
    ],
)
def test_client_ip_believes_only_trusted_proxies(
    configure, hops: str, forwarded: str, expected: str
) -> None:
    configure(TRUSTED_PROXY_HOPS=hops)
    assert client_ip(_peer(forwarded)) == expected


def test_sign_in_cookie_and_flow_survive_the_proxy_hops_setting(configure, user: User) -> None:
    configure(TRUSTED_PROXY_HOPS="1")
    with TestClient(build_api(), base_url="http://testserver") as proxied:
        response = proxied.get(
            "/api/auth/finish",
            params={"ticket": _ticket(user)},
            headers={"X-Forwarded-For": "203.0.113.7"},
            follow_redirects=False,
        )
    assert response.status_code == 303
    with session_scope() as session:
        assert session.exec(select(LoginSession)).one().ip == "203.0.113.7"
