"""The Billing page's handlers through Reflex's real event processor with a real session
cookie, on real PostgreSQL, against the fake Stripe: forged plans, roles, customer reuse, and
the page without Stripe keys."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session

from tests.billing_support import stripe_world, workspace_subscription
from tests.fakes.stripe_server import FakeStripe
from tests.ui.tabs import open_tab, signed_in_cookie
from viralshorts.domain.billing import NOT_CONFIGURED
from viralshorts.domain.workspaces import personal_workspace_id
from viralshorts.models import Membership, WorkspaceRole
from viralshorts.ui.billing import ROUTE, BillingState
from viralshorts.ui.guards import BAD_REQUEST
from viralshorts.ui.state import AuthState
from viralshorts.ui.workspace_switcher import WorkspaceSwitcherState

FORGED_PLANS = ("free", "gold", "", "x" * 40, 3, None, True, ["pro"], {"plan": "pro"})


@pytest.fixture()
def fake(use_database) -> Iterator[FakeStripe]:
    with stripe_world() as (fake, _):
        yield fake


def _calls(fake: FakeStripe, path: str) -> int:
    return sum(1 for _, called, _ in fake.state.requests if called == path)


async def test_an_owner_sees_the_plan_and_upgrading_goes_to_checkout_once_per_customer(
    session: Session, fake: FakeStripe
) -> None:
    owner_id, cookie = signed_in_cookie(session, "owner@example.com")
    async with open_tab(cookie) as tab:
        await tab.send(BillingState, "load", ROUTE)
        state = await tab.state(BillingState)
        assert (state.is_owner, state.configured, state.plan_label) == (True, True, "Free")
        assert {m["key"]: (m["used"], m["limit"]) for m in state.meters}["videos_per_month"] == (
            0,
            10,
        )
        assert [p["name"] for p in state.plans] == ["creator", "pro"]
        sent = await tab.send(BillingState, "upgrade", ROUTE, plan_name="pro")
        assert f"{fake.base_url}/checkout/cs_test_" in sent
        await tab.send(BillingState, "upgrade", ROUTE, plan_name="creator")
    assert _calls(fake, "/v1/customers") == 1  # the customer is reused
    assert _calls(fake, "/v1/checkout/sessions") == 2
    sub = workspace_subscription(session, personal_workspace_id(session, owner_id))
    assert sub.stripe_customer_id.startswith("cus_") and sub.plan == "free"


async def test_forged_plans_are_refused_and_reach_no_stripe(
    session: Session, fake: FakeStripe
) -> None:
    _, cookie = signed_in_cookie(session, "owner@example.com")
    async with open_tab(cookie) as tab:
        await tab.send(BillingState, "load", ROUTE)
        for forged in FORGED_PLANS:
            await tab.send(BillingState, "upgrade", ROUTE, plan_name=forged)
            assert (await tab.state(BillingState)).error == BAD_REQUEST, forged
    assert fake.state.requests == []


@pytest.mark.parametrize("role", [WorkspaceRole.ADMIN, WorkspaceRole.EDITOR, WorkspaceRole.VIEWER])
async def test_only_the_owner_manages_billing(session: Session, fake: FakeStripe, role) -> None:
    owner_id, _ = signed_in_cookie(session, "owner@example.com")
    member_id, cookie = signed_in_cookie(session, f"{role}@example.com")
    workspace_id = personal_workspace_id(session, owner_id)
    session.add(Membership(workspace_id=workspace_id, user_id=member_id, role=role))
    session.commit()
    async with open_tab(cookie) as tab:
        await tab.send(WorkspaceSwitcherState, "switch", "/app", workspace_id=workspace_id)
        await tab.send(AuthState, "require_user", "/app")  # the full page load that follows
        await tab.send(BillingState, "load", ROUTE)
        state = await tab.state(BillingState)
        assert state.is_owner is False and state.meters == []
        await tab.send(BillingState, "upgrade", ROUTE, plan_name="pro")
        assert (await tab.state(BillingState)).error == BAD_REQUEST
        await tab.send(BillingState, "manage", ROUTE)
        assert "does not allow" in (await tab.state(BillingState)).error
    assert fake.state.requests == []


async def test_without_stripe_keys_the_page_says_billing_is_not_configured(
    session: Session, use_redis
) -> None:
    _, cookie = signed_in_cookie(session, "owner@example.com")
    async with open_tab(cookie) as tab:
        await tab.send(BillingState, "load", ROUTE)
        state = await tab.state(BillingState)
        assert (state.configured, state.plan_label, state.error) == (False, "Free", "")
        await tab.send(BillingState, "manage", ROUTE)
        assert (await tab.state(BillingState)).error == NOT_CONFIGURED
