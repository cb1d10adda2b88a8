"""``POST /api/webhooks/stripe`` with the real stripe verification, against the fake Stripe.

Signatures: missing, wrong secret, tampered body, older than the tolerance → 400 and nothing
stored. Events: stored once (sequential and concurrent duplicates), applied from the
subscription as Stripe has it now (shuffled, reversed, late deliveries), unknown types recorded,
a Stripe failure answered non-2xx and processed on redelivery.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
from sqlmodel import Session, func, select

from tests.billing_support import (
    post_webhook,
    stripe_world,
    subscribe,
    workspace_subscription,
)
from tests.factories import new_user
from tests.fakes.stripe_server import WEBHOOK_SECRET, sign
from viralshorts.domain import quotas
from viralshorts.domain.workspaces import personal_workspace_id
from viralshorts.models import SubscriptionStatus, WebhookEvent, utcnow
from viralshorts.models.billing import WebhookOutcome


@pytest.fixture()
def world(use_database):
    with stripe_world() as pair:
        yield pair


@pytest.fixture()
def workspace_id(session: Session) -> int:
    user = new_user(session, "owner@example.com")
    return personal_workspace_id(session, user.id)


def _events(session: Session) -> list[WebhookEvent]:
    query = select(WebhookEvent).order_by(WebhookEvent.id)
    return list(session.exec(query.execution_options(populate_existing=True)).all())


def _unknown_event(fake) -> dict:
    return fake.event("customer.tax_id.created", {"id": "txi_1", "object": "tax_id"})


def _plan(session: Session, workspace_id: int, **kwargs) -> str:
    return quotas.plan_for(session, workspace_id=workspace_id, **kwargs).name


# ---------------------------------------------------------------- signatures


def test_a_missing_signature_is_refused_and_nothing_is_stored(world, session) -> None:
    fake, _ = world
    status, body = post_webhook(json.dumps(_unknown_event(fake)), None)
    assert (status, body["outcome"]) == (400, "bad_signature")
    assert _events(session) == []


def test_a_signature_with_another_secret_is_refused(world, session) -> None:
    fake, _ = world
    payload = json.dumps(_unknown_event(fake))
    status, _ = post_webhook(payload, sign(payload, "whsec_someone_else"))
    assert status == 400
    assert _events(session) == []


def test_a_tampered_body_is_refused(world, session, workspace_id) -> None:
    fake, _ = world
    payload = json.dumps(_unknown_event(fake))
    header = sign(payload, WEBHOOK_SECRET)
    status, _ = post_webhook(payload.replace("txi_1", "txi_2"), header)
    assert status == 400
    reserialised = json.dumps(json.loads(payload), indent=2)  # same JSON, other bytes
    assert post_webhook(reserialised, header)[0] == 400
    assert _events(session) == []


def test_a_signature_older_than_the_tolerance_is_refused(world, session) -> None:
    fake, _ = world
    payload = json.dumps(_unknown_event(fake))
    old = int(time.time()) - 301
    assert post_webhook(payload, sign(payload, WEBHOOK_SECRET, old))[0] == 400
    assert post_webhook(payload, sign(payload, WEBHOOK_SECRET, old + 60))[0] == 200


def test_a_replayed_delivery_of_a_signed_subscription_event_changes_nothing(
    world, session, workspace_id
) -> None:
    fake, _ = world
    sub_id = subscribe(fake, workspace_id)
    before = workspace_subscription(session, workspace_id)
    event = next(e for e in fake.state.events if e["type"] == "customer.subscription.created")
    payload = json.dumps(event)
    status, body = post_webhook(payload, sign(payload, WEBHOOK_SECRET))
    assert (status, body["outcome"]) == (200, "duplicate")
    after = workspace_subscription(session, workspace_id)
    assert after.updated_at == before.updated_at and after.stripe_subscription_id == sub_id
    row = next(r for r in _events(session) if r.event_id == event["id"])
    assert row.attempts == 1


# ---------------------------------------------------------------- applying events


def test_checkout_puts_the_workspace_on_the_paid_plan_and_logs_every_event(
    world, session, workspace_id
) -> None:
    fake, _ = world
    assert _plan(session, workspace_id) == "free"
    sub_id = subscribe(fake, workspace_id)
    sub = workspace_subscription(session, workspace_id)
    assert (sub.plan, sub.status, sub.stripe_subscription_id) == ("pro", "active", sub_id)
    assert sub.current_period_end - sub.current_period_start == timedelta(days=30)
    assert _plan(session, workspace_id) == "pro"
    rows = _events(session)
    assert sorted(r.type for r in rows) == [
        "checkout.session.completed",
        "customer.subscription.created",
        "invoice.paid",
    ]
    assert {r.outcome for r in rows} == {WebhookOutcome.PROCESSED}
    assert all(r.processed_at is not None for r in rows)
    assert {status for _, _, status in fake.state.deliveries} == {200}


@pytest.mark.parametrize("delivery", ["shuffled", "reversed", "duplicated"])
def test_any_order_and_repetition_of_the_checkout_events_ends_the_same(
    world, session, workspace_id, delivery
) -> None:
    fake, _ = world
    fake.state.delivery = delivery
    subscribe(fake, workspace_id)
    assert workspace_subscription(session, workspace_id).plan == "pro"
    rows = _events(session)
    assert len(rows) == 3  # a duplicate delivery stores nothing new
    assert all(r.outcome == WebhookOutcome.PROCESSED and r.attempts == 1 for r in rows)


def test_a_late_older_event_does_not_undo_a_newer_change(world, session, workspace_id) -> None:
    fake, _ = world
    fake.state.webhook_sender = None  # hold every event back
    sub_id = subscribe(fake, workspace_id)
    held = list(fake.state.events)
    fake.update_subscription(sub_id, {"cancel_at_period_end": "true"})
    cancel = fake.state.events[-1]
    for event in [cancel, *held]:  # the newest first, the oldest last
        payload = json.dumps(event)
        assert post_webhook(payload, sign(payload, WEBHOOK_SECRET))[0] == 200
    sub = workspace_subscription(session, workspace_id)
    assert sub.plan == "pro" and sub.cancel_at_period_end is True


def test_an_unknown_event_type_is_recorded_as_ignored(world, session) -> None:
    fake, _ = world
    event = _unknown_event(fake)
    assert fake.send_event(event) == 200
    (row,) = _events(session)
    assert (row.event_id, row.type, row.outcome) == (
        event["id"],
        "customer.tax_id.created",
        WebhookOutcome.IGNORED,
    )
    assert row.payload["data"]["object"]["id"] == "txi_1"


def test_concurrent_deliveries_of_one_event_apply_it_once(world, session, workspace_id) -> None:
    fake, _ = world
    fake.state.webhook_sender = None  # deliver by hand below
    subscribe(fake, workspace_id)
    created = next(e for e in fake.state.events if e["type"] == "customer.subscription.created")
    payload = json.dumps(created)
    barrier, outcomes = threading.Barrier(8), []

    def deliver() -> None:
        barrier.wait()
        outcomes.append(post_webhook(payload, sign(payload, WEBHOOK_SECRET)))

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(body["outcome"] for _, body in outcomes) == ["duplicate"] * 7 + ["processed"]
    assert {status for status, _ in outcomes} == {200}
    count = session.exec(select(func.count()).select_from(WebhookEvent)).one()
    assert count == 1
    assert workspace_subscription(session, workspace_id).plan == "pro"


def test_a_stripe_failure_is_answered_non_2xx_and_the_redelivery_processes_it(
    world, session, workspace_id
) -> None:
    fake, _ = world
    fake.state.webhook_sender = None  # deliver by hand below
    subscribe(fake, workspace_id)
    created = next(e for e in fake.state.events if e["type"] == "customer.subscription.created")
    payload = json.dumps(created)
    fake.state.fail_next = [500]  # the re-fetch of the subscription fails
    status, body = post_webhook(payload, sign(payload, WEBHOOK_SECRET))
    assert (status, body["outcome"]) == (503, "failed")
    (row,) = _events(session)
    assert row.outcome == WebhookOutcome.FAILED and "Stripe" in row.error
    assert workspace_subscription(session, workspace_id) is None  # nothing half-applied
    status, body = post_webhook(payload, sign(payload, WEBHOOK_SECRET))  # Stripe redelivers
    assert (status, body["outcome"]) == (200, "processed")
    (row,) = _events(session)
    assert (row.outcome, row.attempts, row.error) == (WebhookOutcome.PROCESSED, 2, "pro active")
    assert workspace_subscription(session, workspace_id).plan == "pro"


def test_an_abandoned_claim_is_taken_over_after_its_lease(world, session, workspace_id) -> None:
    fake, _ = world
    event = _unknown_event(fake)
    payload = json.dumps(event)
    assert post_webhook(payload, sign(payload, WEBHOOK_SECRET))[0] == 200
    (row,) = _events(session)
    row.outcome, row.claimed_at = WebhookOutcome.PROCESSING, utcnow()  # a process died here
    session.add(row)
    session.commit()
    assert post_webhook(payload, sign(payload, WEBHOOK_SECRET))[1]["outcome"] == "duplicate"
    row.claimed_at = utcnow() - timedelta(minutes=2)
    session.add(row)
    session.commit()
    assert post_webhook(payload, sign(payload, WEBHOOK_SECRET))[1]["outcome"] == "ignored"


# ---------------------------------------------------------------- plan changes through the fake


def test_a_failed_renewal_keeps_the_plan_for_the_grace_period_then_free(
    world, session, workspace_id
) -> None:
    fake, _ = world
    sub_id = subscribe(fake, workspace_id)
    fake.fail_payment(sub_id)
    sub = workspace_subscription(session, workspace_id)
    assert sub.status == SubscriptionStatus.PAST_DUE and sub.past_due_since is not None
    assert _plan(session, workspace_id) == "pro"
    assert _plan(session, workspace_id, now=utcnow() + timedelta(days=8)) == "free"
    fake.end_period(sub_id)  # the next renewal is paid
    sub = workspace_subscription(session, workspace_id)
    assert sub.status == SubscriptionStatus.ACTIVE and sub.past_due_since is None


def test_changing_plan_in_the_portal_and_cancelling_reaches_free_at_period_end(
    world, session, workspace_id
) -> None:
    fake, _ = world
    sub_id = subscribe(fake, workspace_id)
    fake.update_subscription(sub_id, {"items": [{"price": "price_creator_monthly"}]})
    assert _plan(session, workspace_id) == "creator"
    fake.update_subscription(sub_id, {"cancel_at_period_end": "true"})
    sub = workspace_subscription(session, workspace_id)
    assert sub.cancel_at_period_end and _plan(session, workspace_id) == "creator"
    assert _plan(session, workspace_id, now=sub.current_period_end) == "free"  # even if late
    fake.end_period(sub_id)
    sub = workspace_subscription(session, workspace_id)
    assert sub.status == SubscriptionStatus.CANCELED and _plan(session, workspace_id) == "free"
