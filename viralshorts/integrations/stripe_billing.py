"""BillingGateway on the stripe library, pointed at ``STRIPE_API_BASE`` (Stripe or the local fake).

Two clients: one for the Billing page (``STRIPE_TIMEOUT_SECONDS``, the SDK's retries) and one
for re-fetching a subscription while a webhook waits for its answer
(``STRIPE_WEBHOOK_FETCH_TIMEOUT_SECONDS``, no retries: Stripe redelivers instead).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import stripe

from viralshorts.errors import ConfigurationError, IntegrationError, WebhookSignatureError
from viralshorts.integrations.ports import BillingInvoice, BillingSubscription
from viralshorts.settings import Settings

_RETRYABLE = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)


@contextmanager
def _stripe_errors(what: str) -> Iterator[None]:
    """Stripe's errors as IntegrationError (timeouts, 429 and 5xx may work when retried)."""
    try:
        yield
    except stripe.StripeError as exc:
        detail = getattr(exc, "user_message", None) or str(exc) or type(exc).__name__
        raise IntegrationError(
            f"Stripe did not {what}: {detail}",
            retryable=isinstance(exc, _RETRYABLE),
            code="stripe_failed",
        ) from exc


def _when(seconds: Any) -> datetime | None:
    return datetime.fromtimestamp(int(seconds), tz=UTC) if seconds else None


def _subscription(data: dict[str, Any]) -> BillingSubscription:
    """Read the current shape (period dates on the items, since API version 2025-03-31)."""
    items = (data.get("items") or {}).get("data") or [{}]
    first = items[0]
    start = first.get("current_period_start") or data.get("current_period_start")
    end = first.get("current_period_end") or data.get("current_period_end")
    customer = data.get("customer") or ""
    return BillingSubscription(
        id=str(data.get("id") or ""),
        customer_id=customer if isinstance(customer, str) else str(customer.get("id", "")),
        status=str(data.get("status") or ""),
        price_id=str((first.get("price") or {}).get("id") or ""),
        current_period_start=_when(start),
        current_period_end=_when(end),
        cancel_at_period_end=bool(data.get("cancel_at_period_end")),
        metadata={str(k): str(v) for k, v in (data.get("metadata") or {}).items()},
    )


def _invoice(data: dict[str, Any]) -> BillingInvoice:
    return BillingInvoice(
        id=str(data.get("id") or ""),
        number=str(data.get("number") or ""),
        status=str(data.get("status") or ""),
        amount_due=int(data.get("amount_due") or 0),
        amount_paid=int(data.get("amount_paid") or 0),
        currency=str(data.get("currency") or "usd"),
        created=_when(data.get("created")),
        hosted_url=str(data.get("hosted_invoice_url") or ""),
    )


class StripeBilling:
    """Checkout, the Billing Portal, subscriptions, invoices and webhook verification."""

    def __init__(self, settings: Settings) -> None:
        key = settings.stripe_secret_key.get_secret_value()
        if not key:
            raise ConfigurationError("Billing needs STRIPE_SECRET_KEY.")
        self._secret = settings.stripe_webhook_secret.get_secret_value()
        self._client = self._build(key, settings, settings.stripe_timeout_seconds, retries=2)
        self._webhook_client = self._build(
            key, settings, settings.stripe_webhook_fetch_timeout_seconds, retries=0
        )

    @staticmethod
    def _build(key: str, settings: Settings, timeout: float, *, retries: int) -> Any:
        return stripe.StripeClient(
            key,
            base_addresses={"api": settings.stripe_api_base.rstrip("/")},
            max_network_retries=retries,
            http_client=stripe.RequestsClient(timeout=timeout),
        )

    def verify_event(self, payload: bytes, signature: str) -> dict[str, Any]:
        """The event, once ``Stripe-Signature`` matches the raw ``payload`` within 300 s."""
        try:
            event = stripe.Webhook.construct_event(payload, signature or None, self._secret)
        except (stripe.SignatureVerificationError, ValueError) as exc:
            raise WebhookSignatureError(f"The webhook signature is not valid: {exc}") from exc
        return event.to_dict()

    def _call(self, what: str, call: Callable[[], Any]) -> dict[str, Any]:
        with _stripe_errors(what):
            return call().to_dict()

    def create_customer(self, *, email: str, workspace_id: int) -> str:
        params = {"email": email, "metadata": {"workspace_id": str(workspace_id)}}
        customer = self._call(
            "create the customer", lambda: self._client.v1.customers.create(params=params)
        )
        return str(customer["id"])

    def checkout_url(
        self,
        *,
        customer_id: str,
        price_id: str,
        workspace_id: int,
        success_url: str,
        cancel_url: str,
    ) -> str:
        params = {
            "mode": "subscription",
            "customer": customer_id,
            "client_reference_id": str(workspace_id),
            "line_items": [{"price": price_id, "quantity": 1}],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "metadata": {"workspace_id": str(workspace_id)},
            "subscription_data": {"metadata": {"workspace_id": str(workspace_id)}},
        }
        sessions = self._client.v1.checkout.sessions
        created = self._call("start the checkout", lambda: sessions.create(params=params))
        return str(created["url"])

    def portal_url(self, *, customer_id: str, return_url: str) -> str:
        params = {"customer": customer_id, "return_url": return_url}
        sessions = self._client.v1.billing_portal.sessions
        created = self._call("open the billing portal", lambda: sessions.create(params=params))
        return str(created["url"])

    def subscription(self, subscription_id: str) -> BillingSubscription:
        subscriptions = self._webhook_client.v1.subscriptions
        data = self._call(
            "return the subscription", lambda: subscriptions.retrieve(subscription_id)
        )
        return _subscription(data)

    def invoices(self, customer_id: str, *, limit: int = 12) -> list[BillingInvoice]:
        params = {"customer": customer_id, "limit": limit}
        listed = self._call("list the invoices", lambda: self._client.v1.invoices.list(params))
        return [_invoice(item) for item in listed.get("data", [])]
