"""Admin: the Stripe webhook log (filter by type and outcome, payload, replay one)."""

from __future__ import annotations

import asyncio
import json
from typing import TypedDict

import reflex as rx

from viralshorts.db import session_scope
from viralshorts.domain import billing
from viralshorts.errors import ViralShortsError
from viralshorts.integrations.services import get_services
from viralshorts.models import WebhookEvent
from viralshorts.models.billing import WebhookOutcome
from viralshorts.ui import guards
from viralshorts.ui.admin_nav import WEBHOOKS_ROUTE, admin_nav
from viralshorts.ui.fields import options, select_control
from viralshorts.ui.layout import app_shell, card, error_callout

ROUTE = WEBHOOKS_ROUTE
SHOWN = 100
ANY = ""
OUTCOMES = [o.value for o in WebhookOutcome]
PRE_STYLE = {
    "white_space": "pre-wrap",
    "font_size": "12px",
    "max_height": "28rem",
    "overflow": "auto",
    "background": "var(--gray-3)",
    "padding": "0.5rem",
}
OUTCOME_COLORS = {"processed": "green", "ignored": "gray", "failed": "red", "processing": "blue"}


class EventRow(TypedDict):
    id: int
    event_id: str
    type: str
    received: str
    outcome: str
    color: str
    attempts: int
    error: str


class EventDetail(TypedDict):
    id: int
    event_id: str
    type: str
    outcome: str
    error: str
    payload: str


def _row(event: WebhookEvent) -> EventRow:
    return EventRow(
        id=event.id or 0, event_id=event.event_id, type=event.type,
        received=f"{event.received_at:%Y-%m-%d %H:%M:%S} UTC", outcome=str(event.outcome),
        color=OUTCOME_COLORS.get(str(event.outcome), "gray"), attempts=event.attempts,
        error=event.error[:300],
    )  # fmt: skip


def _detail(event: WebhookEvent) -> EventDetail:
    return EventDetail(
        id=event.id or 0, event_id=event.event_id, type=event.type, outcome=str(event.outcome),
        error=event.error, payload=json.dumps(event.payload, indent=2, sort_keys=True),
    )  # fmt: skip


def _read(user_id: int, event_type: str, outcome: str) -> tuple[list[str], list[EventRow]]:
    with session_scope() as session:
        types = billing.webhook_event_types(session, actor_user_id=user_id)
        events = billing.list_webhook_events(
            session, actor_user_id=user_id, outcome=outcome, event_type=event_type, limit=SHOWN
        )
        return types, [_row(e) for e in events]


def _shown(user_id: int, row_id: int) -> EventDetail:
    with session_scope() as session:
        event = billing.webhook_event(session, actor_user_id=user_id, webhook_event_id=row_id)
        return _detail(event)


def _replay(user_id: int, row_id: int) -> str:
    with session_scope() as session:
        receipt = billing.replay_webhook_event(
            session, get_services(), actor_user_id=user_id, webhook_event_id=row_id
        )
    said = f": {receipt.message}" if receipt.message else ""
    return f"Replayed: {receipt.outcome} (HTTP {receipt.status_code}){said}"


class AdminWebhooksState(rx.State):
    """The webhook log as filtered, and the open event's payload."""

    events: list[EventRow] = []
    types: list[str] = []
    event_type: str = ANY
    outcome: str = ANY
    detail: EventDetail = EventDetail(id=0, event_id="", type="", outcome="", error="", payload="")
    detail_open: bool = False
    notice: str = ""
    error: str = ""
    busy: bool = False

    @rx.var
    def type_options(self) -> list[dict[str, str]]:
        """The filter's types: any, then every type in the log."""
        return options({ANY: "Any type", **{t: t for t in self.types}})

    async def _reload(self, user_id: int) -> None:
        try:
            self.types, self.events = await asyncio.to_thread(
                _read, user_id, self.event_type, self.outcome
            )
        except ViralShortsError as exc:
            self.error = str(exc)

    @rx.event
    async def load(self):
        """Read the log when the page opens."""
        self.notice, self.error, self.detail_open, self.busy = "", "", False, False
        self.event_type = self.outcome = ANY
        user_id, leave = await guards.session_admin(self)
        if user_id is None:
            return leave
        await self._reload(user_id)
        return None

    @rx.event
    async def filter_type(self, value: str):
        """Show only events of one type ("" for any)."""
        wanted = guards.text(value, max_length=100)
        valid = wanted is not None and wanted in {ANY, *self.types}
        return await self._filter(wanted, self.outcome, valid=valid)

    @rx.event
    async def filter_outcome(self, value: str):
        """Show only events with one outcome ("" for any)."""
        wanted = guards.text(value, max_length=100)
        return await self._filter(self.event_type, wanted, valid=wanted in {ANY, *OUTCOMES})

    async def _filter(
        self, event_type: str | None, outcome: str | None, *, valid: bool
    ) -> rx.event.EventSpec | list[rx.event.EventSpec] | None:
        self.notice, self.error = "", ""
        user_id, leave = await guards.session_admin(self, f"AdminWebhooksState.filter {ROUTE}")
        if user_id is None:
            return leave
        if not valid or event_type is None or outcome is None:
            self.error = guards.BAD_REQUEST
            return None
        self.event_type, self.outcome = event_type, outcome
        await self._reload(user_id)
        return None

    @rx.event
    async def view(self, row_id: int):
        """Open one event's payload and outcome message."""
        self.notice, self.error = "", ""
        user_id, leave = await guards.session_admin(self)
        if user_id is None:
            return leave
        wanted = guards.record_id(row_id)
        if wanted is None:
            self.error = guards.BAD_REQUEST
            return None
        try:
            self.detail = await asyncio.to_thread(_shown, user_id, wanted)
            self.detail_open = True
        except ViralShortsError as exc:
            self.error = str(exc)
        return None

    @rx.event
    def close_detail(self):
        """Close the payload."""
        self.detail_open = False

    @rx.event
    async def replay(self, row_id: int):
        """Process one stored event again from Stripe's current state; show the result."""
        self.notice, self.error = "", ""
        user_id, leave = await guards.session_admin(self)
        if user_id is None:
            return leave
        wanted = guards.record_id(row_id)
        if wanted is None:
            self.error = guards.BAD_REQUEST
            return None
        self.busy = True
        try:
            self.notice = await asyncio.to_thread(_replay, user_id, wanted)
            self.detail_open = False
        except ViralShortsError as exc:
            self.error = str(exc)
        self.busy = False
        await self._reload(user_id)
        return None


S = AdminWebhooksState


def _filters() -> rx.Component:
    outcome_choices = options({ANY: "Any outcome", **{o: o for o in OUTCOMES}})
    return rx.hstack(
        rx.vstack(
            rx.el.label("Type", html_for="webhook-type", font_size="0.9rem"),
            select_control("webhook-type", "type", S.type_options, S.event_type, S.filter_type),
            spacing="1",
        ),
        rx.vstack(
            rx.el.label("Outcome", html_for="webhook-outcome", font_size="0.9rem"),
            select_control(
                "webhook-outcome", "outcome", outcome_choices, S.outcome, S.filter_outcome
            ),
            spacing="1",
        ),
        spacing="4",
        wrap="wrap",
    )


def _event_row(row: rx.Var[EventRow]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.code(row["event_id"])),
        rx.table.cell(row["type"]),
        rx.table.cell(row["received"]),
        rx.table.cell(rx.badge(row["outcome"], color_scheme=row["color"], variant="soft")),
        rx.table.cell(row["attempts"]),
        rx.table.cell(
            rx.hstack(
                rx.button(
                    "View", size="1", variant="soft", on_click=S.view(row["id"]),
                    aria_label="View " + row["event_id"],
                ),
                rx.button(
                    "Replay", size="1", on_click=S.replay(row["id"]), disabled=S.busy,
                    aria_label="Replay " + row["event_id"],
                ),
                spacing="2",
            )
        ),
        aria_label=row["event_id"],
    )  # fmt: skip


def _events_table() -> rx.Component:
    header = ("Event", "Type", "Received", "Outcome", "Attempts", "Actions")
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in header])),
            rx.table.body(rx.foreach(S.events, _event_row)),
            width="100%",
        ),
        role="region",  # Radix's table root puts its props on a wrapper: the region names it
        aria_label="Webhook events",
        overflow_x="auto",
        width="100%",
    )


def _detail_dialog() -> rx.Component:
    d = S.detail
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(d["type"], " ", d["event_id"]),
            rx.dialog.description("Outcome: ", d["outcome"]),
            rx.vstack(
                rx.cond(d["error"] != "", rx.text(d["error"], color_scheme="red", size="2")),
                rx.el.pre(d["payload"], aria_label="Payload", style=PRE_STYLE),
                rx.dialog.close(rx.button("Close", variant="soft", on_click=S.close_detail)),
                spacing="2",
                width="100%",
            ),
            max_width="52rem",
        ),
        open=S.detail_open,
        on_open_change=lambda _open: AdminWebhooksState.close_detail(),
    )


def admin_webhooks_page() -> rx.Component:
    return app_shell(
        "Admin",
        admin_nav(ROUTE),
        error_callout(S.error),
        rx.cond(S.notice != "", rx.callout(S.notice, color_scheme="green", role="status")),
        card(
            rx.heading("Webhook events", size="4", as_="h2"),
            _filters(),
            rx.cond(
                S.events.length() > 0,
                _events_table(),
                rx.text("No webhook events match.", data_testid="no-webhook-events"),
            ),
        ),
        _detail_dialog(),
    )
