"""Stripe webhooks: verify, store each event once, apply it from the subscription's state now.

The insert of the event id into ``webhook_events`` (unique per provider) is the claim: a
duplicate, sequential or concurrent, finds the row and changes nothing. A FAILED row, or a claim
older than ``CLAIM_LEASE`` (its process died), may be claimed again, so a redelivery or an
admin's replay processes it. State never comes from event order: every handled event re-fetches
its subscription from Stripe and writes what Stripe says now. Side effects and the PROCESSED
mark commit together.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from viralshorts.domain import quotas
from viralshorts.domain.plans import catalogue
from viralshorts.errors import IntegrationError, WebhookSignatureError
from viralshorts.integrations.ports import BillingGateway, BillingSubscription, Services
from viralshorts.models import Subscription, SubscriptionStatus, WebhookEvent, Workspace, utcnow
from viralshorts.models.billing import WebhookOutcome

log = logging.getLogger(__name__)

PROVIDER = "stripe"
CLAIM_LEASE = timedelta(seconds=60)
SUBSCRIPTION_EVENTS = frozenset(
    {
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    }
)
INVOICE_EVENTS = frozenset({"invoice.paid", "invoice.payment_failed"})
_LIVE = (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING, SubscriptionStatus.PAST_DUE)
_STATUSES = {s.value: s for s in SubscriptionStatus} | {
    "incomplete_expired": SubscriptionStatus.CANCELED,
    "paused": SubscriptionStatus.UNPAID,
}


@dataclass(frozen=True)
class WebhookReceipt:
    """What the route answers: the HTTP status and the event's outcome."""

    status_code: int
    outcome: str
    message: str = ""


def receive(
    session: Session, services: Services, *, payload: bytes, signature: str
) -> WebhookReceipt:
    """Verify one delivery and process its event once (the route's whole job)."""
    gateway = services.billing
    if gateway is None:
        return WebhookReceipt(503, "not_configured", "Billing is not configured.")
    try:
        event = gateway.verify_event(payload, signature)
    except WebhookSignatureError as exc:
        return WebhookReceipt(400, "bad_signature", exc.message)
    if not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
        return WebhookReceipt(400, "malformed", "The event has no id or type.")
    row = _claim(session, event)
    if row is None:
        return WebhookReceipt(200, "duplicate")
    return process_claimed(session, gateway, row)


def _claim(session: Session, event: dict[str, Any]) -> WebhookEvent | None:
    """Insert the event (the claim), or take over a failed or abandoned one; None: not ours."""
    now = utcnow()
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    inserted = session.exec(
        dialect.insert(WebhookEvent)
        .values(
            provider=PROVIDER, event_id=event["id"], type=event["type"][:100], payload=event,
            received_at=now, error="", outcome=WebhookOutcome.PROCESSING, attempts=1,
            claimed_at=now,
        )
        .on_conflict_do_nothing(index_elements=["provider", "event_id"])
        .returning(WebhookEvent.id)
    )  # fmt: skip
    claimed = inserted.first() is not None or _take_over(session, event["id"], now)
    session.commit()
    return _row(session, event["id"]) if claimed else None


def _take_over(session: Session, event_id: str, now: datetime) -> bool:
    retryable = sa.or_(
        WebhookEvent.outcome == WebhookOutcome.FAILED,
        sa.and_(
            WebhookEvent.outcome == WebhookOutcome.PROCESSING,
            col(WebhookEvent.claimed_at) < now - CLAIM_LEASE,
        ),
    )
    result = session.exec(
        sa.update(WebhookEvent)
        .where(WebhookEvent.provider == PROVIDER, WebhookEvent.event_id == event_id, retryable)
        .values(
            outcome=WebhookOutcome.PROCESSING,
            claimed_at=now,
            attempts=WebhookEvent.attempts + 1,
        )
    )
    return result.rowcount == 1


def _row(session: Session, event_id: str) -> WebhookEvent:
    query = select(WebhookEvent).where(
        WebhookEvent.provider == PROVIDER, WebhookEvent.event_id == event_id
    )
    return session.exec(query.execution_options(populate_existing=True)).one()


def process_claimed(session: Session, gateway: BillingGateway, row: WebhookEvent) -> WebhookReceipt:
    """Apply a claimed event and record its outcome; a Stripe failure leaves it FAILED
    (retryable: the non-2xx answer makes Stripe deliver it again)."""
    try:
        outcome, note = _apply(session, gateway, row.payload)
    except IntegrationError as exc:
        return _failed(session, row, exc.message, 503)
    except Exception as exc:
        log.exception("stripe event %s failed", row.event_id)
        return _failed(session, row, f"{type(exc).__name__}: {exc}", 500)
    row.outcome, row.error, row.processed_at = outcome, note, utcnow()
    session.add(row)
    session.commit()
    return WebhookReceipt(200, outcome.value, note)


def _failed(session: Session, row: WebhookEvent, error: str, status: int) -> WebhookReceipt:
    session.rollback()
    session.exec(
        sa.update(WebhookEvent)
        .where(col(WebhookEvent.id) == row.id)
        .values(outcome=WebhookOutcome.FAILED, error=error[:2000])
    )
    session.commit()
    return WebhookReceipt(status, WebhookOutcome.FAILED.value, error)


def _apply(
    session: Session, gateway: BillingGateway, event: dict[str, Any]
) -> tuple[WebhookOutcome, str]:
    kind = event.get("type", "")
    obj = (event.get("data") or {}).get("object") or {}
    created = int(event.get("created") or 0)
    if kind == "checkout.session.completed":
        return _checkout_completed(session, gateway, obj, created)
    if kind in SUBSCRIPTION_EVENTS:
        return _sync(session, gateway, str(obj.get("id") or ""), created)
    if kind in INVOICE_EVENTS:
        return _sync(session, gateway, invoice_subscription_id(obj), created)
    return WebhookOutcome.IGNORED, f"{kind} is recorded, not acted on."


def invoice_subscription_id(invoice: dict[str, Any]) -> str:
    """Where an invoice names its subscription (``parent.subscription_details`` since 2025)."""
    details = ((invoice.get("parent") or {}).get("subscription_details")) or {}
    found = details.get("subscription") or invoice.get("subscription") or ""
    return found if isinstance(found, str) else str(found.get("id", ""))


def _checkout_completed(
    session: Session, gateway: BillingGateway, checkout: dict[str, Any], created: int
) -> tuple[WebhookOutcome, str]:
    if checkout.get("mode") != "subscription" or not checkout.get("subscription"):
        return WebhookOutcome.IGNORED, "Not a subscription checkout."
    reference = str(checkout.get("client_reference_id") or "")
    workspace_id = int(reference) if reference.isdigit() else None
    return _sync(session, gateway, str(checkout["subscription"]), created, workspace_id)


def _sync(
    session: Session,
    gateway: BillingGateway,
    subscription_id: str,
    created: int,
    workspace_id: int | None = None,
) -> tuple[WebhookOutcome, str]:
    """Write the subscription as Stripe has it now onto its workspace's row."""
    if not subscription_id:
        return WebhookOutcome.IGNORED, "The event names no subscription."
    current = gateway.subscription(subscription_id)
    workspace_id = _workspace_of(session, current, workspace_id)
    if workspace_id is None:
        return WebhookOutcome.IGNORED, f"No workspace has subscription {subscription_id}."
    quotas.lock_workspace(session, workspace_id)
    row = session.exec(
        select(Subscription).where(Subscription.workspace_id == workspace_id)
    ).first()
    if row is None:
        row = Subscription(
            workspace_id=workspace_id, user_id=quotas.payer_user_id(session, workspace_id)
        )
    if _would_replace_live(row, current):
        return WebhookOutcome.IGNORED, f"{subscription_id} ended; the workspace has another."
    _write(row, current, created)
    session.add(row)
    return WebhookOutcome.PROCESSED, f"{row.plan} {row.status}"


def _workspace_of(session: Session, current: BillingSubscription, hinted: int | None) -> int | None:
    by_ids = session.exec(
        select(Subscription.workspace_id).where(
            sa.or_(
                Subscription.stripe_subscription_id == current.id,
                sa.and_(
                    Subscription.stripe_customer_id == current.customer_id,
                    Subscription.stripe_customer_id != "",
                ),
            )
        )
    ).first()
    candidate = by_ids or hinted or _metadata_workspace(current)
    if candidate is None or session.get(Workspace, candidate) is None:
        return None
    return candidate


def _metadata_workspace(current: BillingSubscription) -> int | None:
    value = current.metadata.get("workspace_id", "")
    return int(value) if value.isdigit() else None


def _would_replace_live(row: Subscription, current: BillingSubscription) -> bool:
    """A late event of an old subscription must not end the newer one the workspace has."""
    other = row.stripe_subscription_id and row.stripe_subscription_id != current.id
    return bool(other) and row.status in _LIVE and _STATUSES.get(current.status) not in _LIVE


def _write(row: Subscription, current: BillingSubscription, created: int) -> None:
    status = _STATUSES.get(current.status, SubscriptionStatus.INCOMPLETE)
    plan = catalogue().by_price(current.price_id)
    row.plan = plan.name if plan else catalogue().free.name
    if status == SubscriptionStatus.PAST_DUE and row.status != SubscriptionStatus.PAST_DUE:
        row.past_due_since = utcnow()
    elif status != SubscriptionStatus.PAST_DUE:
        row.past_due_since = None
    row.status = status
    row.stripe_subscription_id = current.id
    row.stripe_customer_id = current.customer_id or row.stripe_customer_id
    row.stripe_price_id = current.price_id
    row.current_period_start = current.current_period_start
    row.current_period_end = current.current_period_end
    row.cancel_at_period_end = current.cancel_at_period_end
    row.stripe_event_created = max(row.stripe_event_created or 0, created)
    row.updated_at = utcnow()
