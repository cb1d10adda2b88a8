"""One workspace, for site admins: plan, subscription, this period's meters, members with roles
and overridden limits; put it on another plan or override (or clear) one limit, with a reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypedDict

import reflex as rx

from viralshorts.domain import admin_workspaces, billing
from viralshorts.domain import quota_overrides as qo
from viralshorts.domain.plans import catalogue
from viralshorts.errors import ViralShortsError
from viralshorts.ui import guards
from viralshorts.ui.admin import WORKSPACE_ROUTE, user_link
from viralshorts.ui.admin_nav import USERS_ROUTE, admin_nav
from viralshorts.ui.admin_support import (
    Reply,
    form_text,
    id_from_path,
    labeled_select,
    messages,
    reason_input,
    refusal,
    refuse_forged,
    run,
    session_admin_for,
    when,
)
from viralshorts.ui.layout import app_shell, card

ROUTE = WORKSPACE_ROUTE
NOTHING_TO_CLEAR = "That limit had no override; nothing changed."
LIMIT_CHOICES = [(limit.name, limit.label) for limit in qo.LIMITS.values()]


class MeterRow(TypedDict):
    label: str
    used: int
    limit: int


class MemberRow(TypedDict):
    user_id: int
    email: str
    role: str
    disabled: bool


class OverrideRow(TypedDict):
    label: str
    value: int
    plan_value: int
    reason: str
    set_by: str
    updated: str


def _plan_choices() -> list[tuple[str, str]]:
    return [(plan.name, plan.label) for plan in catalogue().plans.values()]


class AdminWorkspaceState(rx.State):
    """The workspace shown, and what the admin changed."""

    found: bool = False
    name: str = ""
    kind: str = ""
    created: str = ""
    plan_label: str = ""
    plan_name: str = ""
    subscription: str = ""
    period: str = ""
    render_minutes: float = 0.0
    meters: list[MeterRow] = []
    members: list[MemberRow] = []
    overrides: list[OverrideRow] = []
    error: str = ""
    notice: str = ""
    _workspace_id: int = 0

    def _show(self, found: admin_workspaces.WorkspaceDetail) -> None:
        ws = found.workspace
        self.found, self.name, self.created = True, ws.name, when(ws.created_at)
        self.kind = "Personal" if ws.personal else "Team"
        overridden = " (some limits overridden, see below)" if found.overrides else ""
        self.plan_label, self.plan_name = f"{found.plan.label}{overridden}", found.plan.name
        cancels = " (cancels at period end)" if found.cancel_at_period_end else ""
        self.subscription = f"{found.subscription_status}{cancels}"
        self.period = billing.period_label(found.period.start, found.period.end)
        self.render_minutes = found.render_minutes
        self.meters = [MeterRow(label=m.label, used=m.used, limit=m.limit) for m in found.meters]
        self.members = [
            MemberRow(user_id=m.user_id, email=m.email, role=str(m.role), disabled=m.disabled)
            for m in found.members
        ]
        self.overrides = [
            OverrideRow(
                label=o.label,
                value=o.value,
                plan_value=o.plan_value,
                reason=o.reason,
                set_by=o.set_by,
                updated=when(o.updated_at),
            )
            for o in found.overrides
        ]

    async def _reload(self, admin_id: int) -> None:
        try:
            found = await run(
                admin_workspaces.workspace_detail,
                actor_user_id=admin_id,
                workspace_id=self._workspace_id,
            )
        except ViralShortsError as exc:
            self.found, self.error = False, refusal(exc)
            return
        self._show(found)

    @rx.event
    async def load(self):
        """Check the admin, then read the workspace named in the URL."""
        self.found, self.error, self.notice = False, "", ""
        admin_id, leave = await guards.session_admin(self)
        if admin_id is None:
            return leave
        workspace_id = id_from_path(self.router.url.path)
        if workspace_id is None:
            self.error = admin_workspaces.WORKSPACE_NOT_FOUND
            return None
        self._workspace_id = workspace_id
        await self._reload(admin_id)
        return None

    async def _change(
        self, handler: str, function: Callable[..., object], done: str, **kwargs: object
    ) -> Reply:
        self.error = self.notice = ""
        admin_id, leave = await session_admin_for(self, handler)
        if admin_id is None:
            return leave
        if not self.found or any(value is None for value in kwargs.values()):
            self.error = guards.BAD_REQUEST
            return None
        try:
            result = await run(
                function, actor_user_id=admin_id, workspace_id=self._workspace_id, **kwargs
            )
        except ViralShortsError as exc:
            self.error = refusal(exc)
        else:
            self.notice = NOTHING_TO_CLEAR if result is False else done
        await self._reload(admin_id)
        return None

    @rx.event
    async def assign_plan(self, form: dict):
        """Put the workspace on a plan by hand (no Stripe)."""
        plan, reason = form_text(form, "plan", max_length=32), form_text(form, "reason")
        return await self._change(
            "assign_plan", billing.assign_plan, "Plan changed.", plan=plan, reason=reason
        )

    @rx.event
    async def set_override(self, form: dict):
        """Give the workspace its own value for one limit."""
        value = form_text(form, "value", max_length=12)
        number = guards.whole_number(value.strip()) if value is not None else None
        if value is not None and number is None:
            return await refuse_forged(
                self, "set_override", "Give the new limit as a whole number."
            )
        return await self._change(
            "set_override",
            qo.set_override,
            "Limit overridden.",
            limit_name=form_text(form, "limit", max_length=32),
            value=number,
            reason=form_text(form, "reason"),
        )

    @rx.event
    async def clear_override(self, form: dict):
        """Give the workspace its plan's value for one limit again."""
        return await self._change(
            "clear_override",
            qo.clear_override,
            "Override cleared; the plan's limit applies.",
            limit_name=form_text(form, "limit", max_length=32),
            reason=form_text(form, "reason"),
        )


def _facts() -> rx.Component:
    s = AdminWorkspaceState

    def item(label: str, value: rx.Var) -> rx.Component:
        return rx.data_list.item(rx.data_list.label(label), rx.data_list.value(value))

    return card(
        rx.heading(s.name, size="5", as_="h2"),
        rx.data_list.root(
            item("Kind", s.kind),
            item("Created", s.created),
            item("Plan", s.plan_label),
            item("Subscription", s.subscription),
            item("This period", s.period),
            item("Render minutes this period", s.render_minutes),
        ),
    )


def _meter(row: rx.Var[MeterRow]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row["label"]),
        rx.table.cell(row["used"]),
        rx.table.cell(row["limit"]),
    )


def _member(row: rx.Var[MemberRow]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.link(row["email"], href=user_link(row["user_id"]))),
        rx.table.cell(rx.badge(row["role"], variant="soft")),
        rx.table.cell(rx.cond(row["disabled"], rx.badge("Disabled", color_scheme="red"), "")),
    )


def _override(row: rx.Var[OverrideRow]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row["label"]),
        rx.table.cell(row["value"]),
        rx.table.cell(row["plan_value"]),
        rx.table.cell(row["reason"]),
        rx.table.cell(row["set_by"]),
        rx.table.cell(row["updated"]),
    )


def _table(title: str, headers: list[str], body: rx.Component) -> rx.Component:
    return card(
        rx.heading(title, size="4", as_="h2"),
        rx.box(
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
                rx.table.body(body),
                width="100%",
                aria_label=title,
            ),
            overflow_x="auto",
            width="100%",
        ),
    )


def _form(title: str, handler: rx.EventHandler, button: str, *fields: rx.Component) -> rx.Component:
    return card(
        rx.form(
            rx.vstack(
                rx.heading(title, size="4", as_="h2"),
                *fields,
                rx.button(button, type="submit"),
                spacing="2",
                width="100%",
            ),
            on_submit=handler,
            reset_on_submit=True,
        )
    )


def _value_input() -> rx.Component:
    return rx.vstack(
        rx.el.label("New limit", html_for="override-value", font_weight="500", font_size="0.9rem"),
        rx.input(id="override-value", name="value", input_mode="numeric", required=True),
        spacing="1",
    )


def _changes() -> rx.Component:
    s = AdminWorkspaceState
    return rx.grid(
        _form(
            "Plan",
            s.assign_plan,
            "Change plan",
            labeled_select("assign-plan", "New plan", "plan", _plan_choices(), s.plan_name),
            reason_input("plan-reason"),
        ),
        _form(
            "Override a limit",
            s.set_override,
            "Override limit",
            labeled_select("override-limit", "Limit", "limit", LIMIT_CHOICES),
            _value_input(),
            reason_input("override-reason"),
        ),
        _form(
            "Clear an override",
            s.clear_override,
            "Clear override",
            labeled_select("clear-limit", "Limit", "limit", LIMIT_CHOICES),
            reason_input("clear-reason"),
        ),
        columns=rx.breakpoints(initial="1", md="3"),
        gap="4",
        width="100%",
    )


def admin_workspace_page() -> rx.Component:
    s = AdminWorkspaceState
    details = rx.vstack(
        _facts(),
        _table("Usage this period", ["Meter", "Used", "Limit"], rx.foreach(s.meters, _meter)),
        _changes(),
        _table(
            "Overridden limits",
            ["Limit", "Value", "Plan's value", "Reason", "Set by", "Updated"],
            rx.foreach(s.overrides, _override),
        ),
        _table("Members", ["Email", "Role", ""], rx.foreach(s.members, _member)),
        width="100%",
        spacing="4",
    )
    return app_shell(
        "Admin · Workspace",
        admin_nav(USERS_ROUTE),
        rx.link("← Users and workspaces", href=USERS_ROUTE),
        messages(s.error, s.notice),
        rx.cond(s.found, details),
    )
