"""Billing in a real browser against the fake Stripe: an owner upgrades through the hosted
checkout, the signed webhook lands and the page shows the new plan's limits; cancelled in the
Billing Portal, the plan holds until the period ends, then the Free plan's limits show."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, text

from tests.e2e.conftest import E2EEnvironment, sign_up
from tests.fakes.stripe_server import FakeStripe

pytestmark = pytest.mark.e2e
OUTCOMES = "SELECT type, outcome FROM webhook_events ORDER BY id"
SUBSCRIPTION = (
    "SELECT s.stripe_subscription_id FROM subscriptions s JOIN memberships m "
    "ON m.workspace_id = s.workspace_id JOIN users u ON u.id = m.user_id WHERE u.email = :email"
)


def _query(env: E2EEnvironment, sql: str, **params: str) -> list[tuple]:
    engine = create_engine(env.env["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def _upgrade_to_pro(page: Page, app_url: str, fake: FakeStripe) -> None:
    page.goto(f"{app_url}/app/billing")
    expect(page.get_by_test_id("current-plan")).to_have_text("Free")
    expect(page.get_by_test_id("meter-videos_per_month")).to_have_text("0 of 10")
    page.get_by_role("button", name="Upgrade to Pro").click()
    page.wait_for_url(f"{fake.base_url}/checkout/**")
    expect(page.get_by_role("heading", name="Subscribe to Pro")).to_be_visible()
    page.get_by_role("button", name="Subscribe").click()
    page.wait_for_url(re.compile(r"/app/billing/?\?checkout=done"))


def test_an_owner_upgrades_through_checkout_and_sees_the_new_limits(
    page: Page, app_url: str, e2e_environment: E2EEnvironment, fake_stripe: FakeStripe
) -> None:
    sign_up(page, app_url)
    _upgrade_to_pro(page, app_url, fake_stripe)
    expect(page.get_by_text("Thank you! Your new plan is shown")).to_be_visible()
    expect(page.get_by_test_id("current-plan")).to_have_text("Pro")
    expect(page.get_by_test_id("meter-videos_per_month")).to_have_text("0 of 300")
    expect(page.get_by_test_id("meter-connected_accounts")).to_have_text("0 of 10")
    expect(page.get_by_role("cell", name="49.00 USD")).to_be_visible()  # the paid invoice
    landed = _query(e2e_environment, OUTCOMES)
    assert ("checkout.session.completed", "processed") in landed
    assert ("customer.subscription.created", "processed") in landed
    assert ("invoice.paid", "processed") in landed


def test_cancelling_in_the_portal_keeps_the_plan_until_the_period_ends_then_free(
    page: Page, app_url: str, e2e_environment: E2EEnvironment, fake_stripe: FakeStripe
) -> None:
    account = sign_up(page, app_url)
    _upgrade_to_pro(page, app_url, fake_stripe)
    expect(page.get_by_test_id("current-plan")).to_have_text("Pro")
    page.get_by_role("button", name="Manage billing").click()
    page.wait_for_url(f"{fake_stripe.base_url}/portal/**")
    page.get_by_role("button", name="Cancel plan").click()
    expect(page.get_by_text("Cancels at the end of the period.")).to_be_visible()
    page.get_by_role("link", name="Return to the site").click()
    page.wait_for_url(re.compile(r"/app/billing/?$"))
    expect(page.get_by_test_id("cancel-note")).to_be_visible()
    expect(page.get_by_test_id("current-plan")).to_have_text("Pro")
    ((subscription_id,),) = _query(e2e_environment, SUBSCRIPTION, email=account.email)
    ended = httpx.post(f"{fake_stripe.base_url}/_fake/subscriptions/{subscription_id}/end_period")
    assert ended.json()["status"] == "canceled"
    page.reload()
    expect(page.get_by_test_id("current-plan")).to_have_text("Free")
    expect(page.get_by_test_id("meter-videos_per_month")).to_have_text("0 of 10")
    expect(page.get_by_role("button", name="Upgrade to Pro")).to_be_visible()
