"""What the billing tests share: the fake Stripe wired to the app's webhook route in-process,
and a Services bundle whose billing port is the real Stripe adapter pointed at the fake."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlmodel import Session, select
from starlette.testclient import TestClient

from tests.factories import services_with
from tests.fakes.stripe_server import API_KEY, WEBHOOK_SECRET, FakeStripe
from viralshorts.integrations.ports import Services
from viralshorts.integrations.services import use_services
from viralshorts.integrations.stripe_billing import StripeBilling
from viralshorts.models import Subscription
from viralshorts.settings import Settings, get_settings
from viralshorts.web.routes import build_api

WEBHOOK_PATH = "/api/webhooks/stripe"


def stripe_settings(base_url: str, **overrides: object) -> Settings:
    current = get_settings().model_dump(include=set(Settings.model_fields))
    return Settings(
        **{
            **current,
            "stripe_secret_key": API_KEY,
            "stripe_webhook_secret": WEBHOOK_SECRET,
            "stripe_api_base": base_url,
            **overrides,
        }
    )


def post_webhook(payload: str | bytes, signature: str | None) -> tuple[int, dict]:
    """POST one delivery to the app's webhook route (its own client: safe from any thread)."""
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    response = TestClient(build_api()).post(WEBHOOK_PATH, content=payload, headers=headers)
    return response.status_code, response.json()


@contextmanager
def stripe_world() -> Iterator[tuple[FakeStripe, Services]]:
    """The fake Stripe delivering to the app's route; the app's services talk to the fake."""
    with FakeStripe() as fake:
        fake.state.webhook_sender = lambda payload, header: post_webhook(payload, header)[0]
        settings = stripe_settings(fake.base_url)
        # the webhook route needs no other port
        services = services_with(settings, billing=StripeBilling(settings))
        use_services(services)
        try:
            yield fake, services
        finally:
            use_services(None)


def subscribe(fake: FakeStripe, workspace_id: int, price: str = "price_pro_monthly") -> str:
    """What the Billing page (a checkout naming the workspace, as StripeBilling sends it) and
    the hosted page's button do; returns the new subscription id."""
    customer = fake.create_customer({"email": "owner@example.com"})["id"]
    checkout = fake.create_checkout(
        {
            "mode": "subscription",
            "customer": customer,
            "client_reference_id": str(workspace_id),
            "line_items": [{"price": price, "quantity": "1"}],
            "subscription_data": {"metadata": {"workspace_id": str(workspace_id)}},
            "success_url": "http://app/app/billing",
        }
    )
    return fake.complete_checkout(checkout["id"])["subscription"]


def workspace_subscription(session: Session, workspace_id: int) -> Subscription | None:
    query = select(Subscription).where(Subscription.workspace_id == workspace_id)
    return session.exec(query.execution_options(populate_existing=True)).first()
