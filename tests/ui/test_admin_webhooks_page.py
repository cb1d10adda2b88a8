"""The admin Webhooks page's handlers through Reflex's real event processor with a real session
cookie on real PostgreSQL: filters, the payload, replay against the fake Stripe (and without
Stripe keys), forged arguments, and non-admins refused and logged."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session, select

from tests.billing_support import stripe_world, subscribe
from tests.fakes.stripe_server import FakeStripe
from tests.ui.tabs import open_tab, signed_in_cookie
from viralshorts.domain.audit import ADMIN_DENIED
from viralshorts.domain.billing import NOT_CONFIGURED
from viralshorts.domain.workspaces import personal_workspace_id
from viralshorts.models import AuditLog, WebhookEvent
from viralshorts.models.billing import WebhookOutcome
from viralshorts.ui.admin_webhooks import ROUTE, AdminWebhooksState
from viralshorts.ui.guards import BAD_REQUEST

FORGED_FILTERS = ("nope", 3, None, True, ["invoice.paid"], {"type": "x"}, "x" * 300)
FORGED_IDS = (-1, 0, "x", 2**40, None, True, [1], 1.5)


def _event(session: Session, event_id: str, kind: str, outcome: WebhookOutcome, error: str = ""):
    row = WebhookEvent(
        provider="stripe",
        event_id=event_id,
        type=kind,
        payload={"id": event_id, "type": kind, "data": {"object": {"id": "sub_1"}}},
        outcome=outcome,
        error=error,
    )
    session.add(row)
    session.commit()
    return row


@pytest.fixture()
def logged(session: Session) -> list[WebhookEvent]:
    return [
        _event(session, "evt_paid", "invoice.paid", WebhookOutcome.PROCESSED),
        _event(session, "evt_late", "customer.subscription.updated", WebhookOutcome.FAILED, "503"),
    ]


async def test_an_admin_filters_the_log_and_reads_a_payload(session, use_redis, logged) -> None:
    _, cookie = signed_in_cookie(session, "root@example.com", admin=True)
    async with open_tab(cookie) as tab:
        await tab.send(AdminWebhooksState, "load", ROUTE)
        state = await tab.state(AdminWebhooksState)
        assert [e["event_id"] for e in state.events] == ["evt_late", "evt_paid"]
        assert state.types == ["customer.subscription.updated", "invoice.paid"]
        await tab.send(AdminWebhooksState, "filter_type", ROUTE, value="invoice.paid")
        assert [e["event_id"] for e in (await tab.state(AdminWebhooksState)).events] == ["evt_paid"]
        await tab.send(AdminWebhooksState, "filter_outcome", ROUTE, value="failed")
        assert (await tab.state(AdminWebhooksState)).events == []
        await tab.send(AdminWebhooksState, "filter_type", ROUTE, value="")
        [late] = (await tab.state(AdminWebhooksState)).events
        assert (late["event_id"], late["attempts"], late["error"]) == ("evt_late", 1, "503")
        await tab.send(AdminWebhooksState, "view", ROUTE, row_id=late["id"])
        state = await tab.state(AdminWebhooksState)
        assert state.detail_open and state.detail["error"] == "503"
        assert '\n  "id": "evt_late",\n' in state.detail["payload"]


async def test_forged_filters_and_ids_get_a_message(session, use_redis, logged) -> None:
    _, cookie = signed_in_cookie(session, "root@example.com", admin=True)
    async with open_tab(cookie) as tab:
        await tab.send(AdminWebhooksState, "load", ROUTE)
        for forged in FORGED_FILTERS:
            for handler in ("filter_type", "filter_outcome"):
                await tab.send(AdminWebhooksState, handler, ROUTE, value=forged)
                state = await tab.state(AdminWebhooksState)
                assert state.error == BAD_REQUEST, (handler, forged)
                assert len(state.events) == 2
        for forged in FORGED_IDS:
            for handler in ("view", "replay"):
                await tab.send(AdminWebhooksState, handler, ROUTE, row_id=forged)
                assert (await tab.state(AdminWebhooksState)).error == BAD_REQUEST, (handler, forged)
        await tab.send(AdminWebhooksState, "view", ROUTE, row_id=999)
        assert (await tab.state(AdminWebhooksState)).error == "Webhook event not found."
    assert [e.attempts for e in session.exec(select(WebhookEvent)).all()] == [1, 1]


async def test_replay_without_stripe_keys_says_billing_is_not_configured(
    session, use_redis, logged
) -> None:
    _, cookie = signed_in_cookie(session, "root@example.com", admin=True)
    async with open_tab(cookie) as tab:
        await tab.send(AdminWebhooksState, "load", ROUTE)
        await tab.send(AdminWebhooksState, "replay", ROUTE, row_id=logged[1].id)
        assert (await tab.state(AdminWebhooksState)).error == NOT_CONFIGURED


@pytest.fixture()
def fake(use_database) -> Iterator[FakeStripe]:
    with stripe_world() as (fake, _):
        yield fake


async def test_an_admin_replays_a_delivered_event_and_sees_the_result(
    session, fake: FakeStripe
) -> None:
    owner_id, _ = signed_in_cookie(session, "owner@example.com")
    subscribe(fake, personal_workspace_id(session, owner_id))
    admin_id, cookie = signed_in_cookie(session, "root@example.com", admin=True)
    async with open_tab(cookie) as tab:
        await tab.send(AdminWebhooksState, "load", ROUTE)
        await tab.send(
            AdminWebhooksState, "filter_type", ROUTE, value="customer.subscription.created"
        )
        [created] = (await tab.state(AdminWebhooksState)).events
        await tab.send(AdminWebhooksState, "replay", ROUTE, row_id=created["id"])
        state = await tab.state(AdminWebhooksState)
        assert state.error == "" and state.notice.startswith("Replayed: processed (HTTP 200)")
        assert state.events[0]["attempts"] == 2
    [audited] = session.exec(
        select(AuditLog).where(AuditLog.action == "billing.webhook_replayed")
    ).all()
    assert (audited.user_id, audited.target_id) == (admin_id, created["event_id"])


async def test_a_creator_is_refused_and_logged(session, use_redis, logged) -> None:
    creator_id, cookie = signed_in_cookie(session, "maker@example.com")
    async with open_tab(cookie) as tab:
        for handler, payload in (
            ("load", {}),
            ("filter_type", {"value": "invoice.paid"}),
            ("view", {"row_id": logged[0].id}),
            ("replay", {"row_id": logged[0].id}),
        ):
            sent = await tab.send(AdminWebhooksState, handler, ROUTE, **payload)
            assert "/app" in sent, handler
        state = await tab.state(AdminWebhooksState)
        assert state.events == [] and not state.detail_open
    denied = session.exec(
        select(AuditLog).where(AuditLog.action == ADMIN_DENIED, AuditLog.user_id == creator_id)
    ).all()
    assert len(denied) == 4
    assert [e.attempts for e in session.exec(select(WebhookEvent)).all()] == [1, 1]
