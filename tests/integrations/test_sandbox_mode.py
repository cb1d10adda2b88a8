"""``./dev run --sandbox`` offline: "Sign in with Google" signs in through the YouTube fake, and
Billing talks to the fake Stripe, whose signed events reach the webhook URL it was given."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.testclient import TestClient

from tests.fakes.sandbox import Sandbox, running_sandbox
from tests.integrations.auth_support import auth_services
from tests.integrations.platform_support import click_allow
from viralshorts.db import session_scope
from viralshorts.domain import accounts
from viralshorts.integrations.services import build_billing, use_services
from viralshorts.settings import get_settings
from viralshorts.web.routes import build_api


class WebhookInbox:
    """Where the fake Stripe POSTs its events (the web app's route in the real sandbox)."""

    def __init__(self) -> None:
        self.events: list[tuple[bytes, str]] = []
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                inbox.events.append((body, self.headers.get("Stripe-Signature", "")))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}/api/webhooks/stripe"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture()
def inbox() -> Iterator[WebhookInbox]:
    box = WebhookInbox()
    yield box
    box.close()


@pytest.fixture()
def sandbox(inbox, monkeypatch) -> Iterator[Sandbox]:
    with running_sandbox(stripe_webhook_url=inbox.url) as running:
        for name, value in {**running.env, "PUBLIC_BASE_URL": "http://testserver"}.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        yield running
    monkeypatch.undo()
    get_settings.cache_clear()


def test_sign_in_with_google_works_against_the_sandboxs_youtube_fake(
    sandbox, use_database, use_redis
) -> None:
    use_services(auth_services(get_settings()))
    try:
        with TestClient(build_api(), base_url="http://testserver") as client:
            start = client.get("/api/auth/oauth/google/start", follow_redirects=False)
            assert start.status_code == 303
            consent = start.headers["location"]
            assert consent.startswith(sandbox.fakes["youtube"].base_url)
            page = httpx.get(consent).text
            assert "Sign in as <strong>sandbox.creator@example.com</strong>" in page
            answer = click_allow(consent)
            callback = f"/api/auth/oauth/google/callback?code={answer['code']}"
            finished = client.get(f"{callback}&state={answer['state']}", follow_redirects=False)
            assert finished.status_code == 303, finished.headers
            assert urlsplit(finished.headers["location"]).path.startswith("/app")
            with session_scope() as session:
                user = accounts.user_for_token(session, client.cookies["vs_session"])
                assert (user.email, user.display_name) == (
                    "sandbox.creator@example.com",
                    "Sandbox Creator",
                )
    finally:
        use_services(None)


def test_billing_works_offline_against_the_sandboxs_fake_stripe(sandbox, inbox) -> None:
    settings = get_settings()
    assert settings.stripe_enabled and settings.stripe_api_base == sandbox.fakes["stripe"].base_url
    billing = build_billing(settings)
    customer = billing.create_customer(email="olga@example.com", workspace_id=7)
    url = billing.checkout_url(
        customer_id=customer,
        price_id="price_creator_monthly",  # the Creator plan's price in plans.toml
        workspace_id=7,
        success_url="http://testserver/app/billing?paid=1",
        cancel_url="http://testserver/app/billing",
    )
    assert url.startswith(sandbox.fakes["stripe"].base_url)
    checkout = httpx.get(url)
    assert "Subscribe to Creator" in checkout.text
    paid = httpx.post(f"{url.rstrip('/')}/pay", follow_redirects=False)
    assert paid.status_code in (302, 303)
    kinds = [billing.verify_event(body, signature)["type"] for body, signature in inbox.events]
    assert "checkout.session.completed" in kinds  # signed with the secret the app checks
