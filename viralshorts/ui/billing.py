"""The Billing page (owner only): the plan, its period and meters, invoices, and the way to
upgrade (Stripe Checkout) or change and cancel (the Billing Portal).

The plan only changes when Stripe's webhook says so; coming back from Checkout the page reads
it again. Without Stripe keys it says billing is not configured (a site admin can assign plans).
"""

from __future__ import annotations

import asyncio
from typing import TypedDict

import reflex as rx

from viralshorts.db import session_scope
from viralshorts.domain import billing
from viralshorts.domain.workspaces import Action, Actor, can
from viralshorts.errors import ValidationError, ViralShortsError
from viralshorts.integrations.services import get_services
from viralshorts.ui import guards
from viralshorts.ui.layout import app_shell, card, error_callout

ROUTE = "/app/billing"
OWNER_ONLY = "Only the workspace owner manages its plan and billing."
CHECKOUT_DONE = "Thank you! Your new plan is shown as soon as Stripe confirms the payment."


class MeterRow(TypedDict):
    key: str
    label: str
    used: int
    limit: int
    percent: int
    full: bool


class PlanRow(TypedDict):
    name: str
    label: str
    price: str
    summary: str
    current: bool


class InvoiceRow(TypedDict):
    id: str
    number: str
    date: str
    amount: str
    status: str
    url: str


def _plan_summary(plan: billing.Plan) -> str:
    return (
        f"{plan.videos_per_month} videos a month up to {plan.max_seconds} s, "
        f"{plan.batch_size} per request, {plan.connected_accounts} accounts, "
        f"{plan.scheduled_posts} scheduled posts, {plan.team_seats} seats"
    )


def _money(cents: int, currency: str) -> str:
    return f"{cents / 100:.2f} {currency.upper()}"


def _read(actor: Actor) -> tuple[billing.BillingOverview, list[InvoiceRow]]:
    services = get_services()
    with session_scope() as session:
        found = billing.overview(session, services, actor=actor)
        invoices = billing.invoices(session, services, actor=actor)
    rows = [
        InvoiceRow(
            id=i.id,
            number=i.number or i.id,
            date=f"{i.created:%Y-%m-%d}" if i.created else "",
            amount=_money(i.amount_due, i.currency),
            status=i.status,
            url=i.hosted_url,
        )
        for i in invoices
    ]
    return found, rows


def _return_url() -> str:
    return f"{get_services().settings.public_base_url.rstrip('/')}{ROUTE}"


def _checkout(actor: Actor, plan_name: str) -> str:
    with session_scope() as session:
        return billing.start_checkout(
            session, get_services(), actor=actor, plan_name=plan_name, return_url=_return_url()
        )


def _portal(actor: Actor) -> str:
    with session_scope() as session:
        return billing.open_portal(session, get_services(), actor=actor, return_url=_return_url())


class BillingState(rx.State):
    """What the Billing page shows, and its messages."""

    loaded: bool = False
    is_owner: bool = False
    configured: bool = False
    plan_label: str = ""
    plan_name: str = ""
    status: str = ""
    period: str = ""
    cancel_at_period_end: bool = False
    past_due: bool = False
    has_customer: bool = False
    render_minutes: float = 0.0
    meters: list[MeterRow] = []
    plans: list[PlanRow] = []
    invoices: list[InvoiceRow] = []
    notice: str = ""
    error: str = ""
    busy: bool = False

    def _show(self, found: billing.BillingOverview, invoices: list[InvoiceRow]) -> None:
        self.plan_label, self.plan_name = found.plan.label, found.plan.name
        self.status, self.configured = found.status, found.configured
        self.period = billing.period_label(found.period.start, found.period.end)
        self.cancel_at_period_end, self.past_due = found.cancel_at_period_end, found.past_due
        self.has_customer, self.render_minutes = found.has_customer, found.render_minutes
        self.meters = [
            MeterRow(key=m.key, label=m.label, used=m.used, limit=m.limit, percent=m.percent,
                     full=m.full)
            for m in found.meters
        ]  # fmt: skip
        self.plans = [
            PlanRow(name=p.name, label=p.label, price=p.price_label, summary=_plan_summary(p),
                    current=p.name == found.plan.name)
            for p in found.paid_plans
        ]  # fmt: skip
        self.invoices = invoices

    @rx.event
    async def load(self):
        """Read the plan, meters and invoices when the page opens."""
        self.error, self.busy = "", False
        returned = self.router.url.query_parameters.get("checkout", "")
        self.notice = CHECKOUT_DONE if returned == "done" else ""
        actor, leave = await guards.session_actor(self)
        if actor is None:
            return leave
        self.is_owner = can(actor, Action.MANAGE_BILLING)
        if not self.is_owner:
            self.loaded = True
            return None
        try:
            self._show(*await asyncio.to_thread(_read, actor))
        except ViralShortsError as exc:
            self.error = str(exc)
        self.loaded = True
        return None

    @rx.event
    async def upgrade(self, plan_name: str):
        """Go to Stripe Checkout for a paid plan."""
        wanted = guards.text(plan_name, max_length=32)
        if wanted is None or wanted not in {p["name"] for p in self.plans}:
            self.error = guards.BAD_REQUEST
            return None
        return await self._leave_for(_checkout, wanted)

    @rx.event
    async def manage(self):
        """Go to the Stripe Billing Portal (change plan, cancel, payment method)."""
        return await self._leave_for(_portal)

    async def _leave_for(self, make_url, *args: str) -> rx.event.EventSpec | None:  # noqa: ANN001
        self.error, self.notice = "", ""
        actor, leave = await guards.session_actor(self)
        if actor is None:
            return leave
        self.busy = True
        try:
            url = await asyncio.to_thread(make_url, actor, *args)
        except ValidationError as exc:
            self.error, self.busy = " ".join(exc.field_errors.values()), False
            return None
        except ViralShortsError as exc:
            self.error, self.busy = str(exc), False
            return None
        return rx.redirect(url)  # another host: the browser leaves for Stripe in this tab


def _meter(row: rx.Var[MeterRow]) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(row["label"], weight="medium"),
            rx.spacer(),
            rx.text(
                f"{row['used']} of {row['limit']}",
                data_testid=f"meter-{row['key']}",
                color_scheme=rx.cond(row["full"], "red", "gray"),
            ),
            width="100%",
        ),
        rx.progress(value=row["percent"], aria_label=row["label"], width="100%"),
        spacing="1",
        width="100%",
    )


def _current_plan() -> rx.Component:
    return card(
        rx.hstack(
            rx.heading(BillingState.plan_label, size="5", as_="h2", data_testid="current-plan"),
            rx.badge(BillingState.status, data_testid="plan-status"),
            align="center",
        ),
        rx.text("This billing period: ", BillingState.period, color_scheme="gray"),
        rx.cond(
            BillingState.cancel_at_period_end,
            rx.callout(
                "Cancelled: the plan ends with this period, then the Free plan's limits apply.",
                data_testid="cancel-note",
            ),
        ),
        rx.cond(
            BillingState.past_due,
            rx.callout(
                "The last payment failed. Update the payment method in Manage billing; the "
                "plan's limits hold for a grace period, then the Free plan's apply.",
                color_scheme="orange",
            ),
        ),
        rx.foreach(BillingState.meters, _meter),
        rx.text(
            "Rendered this period: ",
            BillingState.render_minutes,
            " minutes",
            color_scheme="gray",
            size="2",
        ),
    )


def _plan_card(row: rx.Var[PlanRow]) -> rx.Component:
    return card(
        rx.heading(row["label"], size="4", as_="h3"),
        rx.text(row["price"], weight="bold"),
        rx.text(row["summary"], size="2", color_scheme="gray"),
        rx.cond(
            row["current"],
            rx.badge("Your plan"),
            rx.cond(
                BillingState.has_customer & (BillingState.plan_name != "free"),
                rx.text("Change plans in Manage billing.", size="2"),
                rx.button(
                    "Upgrade to " + row["label"],
                    on_click=BillingState.upgrade(row["name"]),
                    loading=BillingState.busy,
                ),
            ),
        ),
    )


def _invoices() -> rx.Component:
    return card(
        rx.heading("Invoices", size="4", as_="h2"),
        rx.cond(
            BillingState.invoices.length() > 0,
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *(
                            rx.table.column_header_cell(h)
                            for h in ("Number", "Date", "Amount", "Status")
                        )
                    )
                ),
                rx.table.body(
                    rx.foreach(
                        BillingState.invoices,
                        lambda i: rx.table.row(
                            rx.table.cell(rx.link(i["number"], href=i["url"], is_external=True)),
                            rx.table.cell(i["date"]),
                            rx.table.cell(i["amount"]),
                            rx.table.cell(i["status"]),
                        ),
                    )
                ),
                width="100%",
            ),
            rx.text("No invoices yet.", color_scheme="gray"),
        ),
    )


def _owner_view() -> rx.Component:
    return rx.vstack(
        rx.cond(BillingState.notice != "", rx.callout(BillingState.notice, role="status")),
        error_callout(BillingState.error, width="100%"),
        _current_plan(),
        rx.cond(
            BillingState.configured,
            rx.vstack(
                rx.cond(
                    BillingState.has_customer,
                    rx.button(
                        "Manage billing",
                        on_click=BillingState.manage,
                        variant="outline",
                        loading=BillingState.busy,
                    ),
                ),
                rx.grid(
                    rx.foreach(BillingState.plans, _plan_card),
                    columns=rx.breakpoints(initial="1", md="2"),
                    spacing="4",
                    width="100%",
                ),
                _invoices(),
                spacing="4",
                width="100%",
            ),
            rx.callout(billing.NOT_CONFIGURED, data_testid="billing-not-configured"),
        ),
        spacing="4",
        width="100%",
    )


def billing_page() -> rx.Component:
    return app_shell(
        "Billing",
        rx.cond(
            BillingState.loaded,
            rx.cond(BillingState.is_owner, _owner_view(), rx.callout(OWNER_ONLY)),
            rx.spinner(aria_label="Loading"),
        ),
    )
