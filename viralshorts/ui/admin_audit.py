"""The audit log (site admins): every security-relevant and admin action the app records,
newest first, filtered by action, a user's email, a workspace and whole UTC days, 50 a page."""

from __future__ import annotations

import json
from typing import TypedDict

import reflex as rx

from viralshorts.domain import audit
from viralshorts.errors import ValidationError, ViralShortsError
from viralshorts.ui import guards
from viralshorts.ui.admin_nav import AUDIT_ROUTE, admin_nav
from viralshorts.ui.admin_support import Reply, form_text, refusal, run, turn_page, when
from viralshorts.ui.layout import app_shell, card, error_callout

ROUTE = AUDIT_ROUTE
FILTER_FIELDS = ("action", "email", "workspace", "since", "until")
ALL_ACTIONS = ""


class EntryRow(TypedDict):
    id: int
    when: str
    action: str
    actor: str
    workspace: str
    target: str
    details: str
    ip: str


def _entry_row(entry: audit.AuditEntry) -> EntryRow:
    row = entry.row
    target = f"{row.target_type} {row.target_id}".strip()
    return EntryRow(
        id=row.id or 0,
        when=when(row.created_at),
        action=row.action,
        actor=entry.actor_email or ("" if row.user_id is None else f"user {row.user_id}"),
        workspace=entry.workspace_name,
        target=target,
        details=json.dumps(row.details, ensure_ascii=False, sort_keys=True)[:500],
        ip=row.ip,
    )


def _filter_from(form: object) -> audit.AuditFilter | None:
    """The filter a submitted form asks for; None when the form was forged.

    Raises:
        ValidationError: a day is not ``YYYY-MM-DD``.
    """
    texts = {name: form_text(form, name, max_length=audit.MAX_FILTER) for name in FILTER_FIELDS}
    if any(value is None for value in texts.values()):
        return None
    values = {name: value or "" for name, value in texts.items()}
    return audit.AuditFilter(
        action=values["action"].strip(),
        email=values["email"].strip(),
        workspace=values["workspace"].strip(),
        since=audit.parse_day(values["since"], "since"),
        until=audit.parse_day(values["until"], "until"),
    )


class AdminAuditState(rx.State):
    """One page of the audit log under the chosen filter."""

    entries: list[EntryRow] = []
    actions: list[str] = []
    page: int = 0
    more: bool = False
    error: str = ""
    _filter: audit.AuditFilter = audit.AuditFilter()

    async def _read(self, admin_id: int) -> None:
        self.error = ""
        try:
            found, self.more = await run(
                audit.list_entries, actor_user_id=admin_id, filters=self._filter, page=self.page
            )
            self.actions = await run(audit.known_actions, actor_user_id=admin_id)
        except ViralShortsError as exc:
            self.entries, self.error = [], refusal(exc)
            return
        self.entries = [_entry_row(e) for e in found]

    @rx.event
    async def load(self):
        """Check the admin, then show the newest entries, unfiltered."""
        self.entries = []
        admin_id, leave = await guards.session_admin(self)
        if admin_id is None:
            return leave
        self._filter, self.page = audit.AuditFilter(), 0
        await self._read(admin_id)
        return None

    @rx.event
    async def apply_filter(self, form: dict):
        """Show the entries the filter form asks for, from the newest."""
        admin_id, leave = await guards.session_admin(self)
        if admin_id is None:
            return leave
        try:
            chosen = _filter_from(form)
        except ValidationError as exc:
            self.error = refusal(exc)
            return None
        if chosen is None:
            self.error = guards.BAD_REQUEST
            return None
        self._filter, self.page = chosen, 0
        await self._read(admin_id)
        return None

    @rx.event
    async def show_page(self, page: int):
        """Show another page under the same filter."""
        return await self._turn(page)

    async def _turn(self, page: object) -> Reply:
        return await turn_page(self, "show_page", page, "page", self._read)


def _text_filter(field_id: str, label: str, name: str, input_type: str = "text") -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=field_id, font_weight="500", font_size="0.9rem"),
        rx.input(id=field_id, name=name, type=input_type, max_length=audit.MAX_FILTER),
        spacing="1",
    )


def _action_filter() -> rx.Component:
    return rx.vstack(
        rx.el.label("Action", html_for="audit-action", font_weight="500", font_size="0.9rem"),
        rx.el.select(
            rx.el.option("Any action", value=ALL_ACTIONS),
            rx.foreach(AdminAuditState.actions, lambda a: rx.el.option(a, value=a)),
            id="audit-action",
            name="action",
            style={"padding": "0.4rem"},
        ),
        spacing="1",
    )


def _filters() -> rx.Component:
    return card(
        rx.form(
            rx.flex(
                _action_filter(),
                _text_filter("audit-email", "User email", "email"),
                _text_filter("audit-workspace", "Workspace (name or id)", "workspace"),
                _text_filter("audit-since", "From day (UTC)", "since", "date"),
                _text_filter("audit-until", "To day (UTC)", "until", "date"),
                rx.button("Filter", type="submit"),
                gap="3",
                align="end",
                wrap="wrap",
            ),
            on_submit=AdminAuditState.apply_filter,
        )
    )


def _entry(row: rx.Var[EntryRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["when"], white_space="nowrap"),
        rx.table.row_header_cell(rx.code(row["action"])),
        rx.table.cell(row["actor"]),
        rx.table.cell(row["workspace"]),
        rx.table.cell(row["target"]),
        rx.table.cell(rx.text(row["details"], size="1", font_family="monospace")),
        rx.table.cell(row["ip"]),
    )


def _pager() -> rx.Component:
    s = AdminAuditState
    return rx.hstack(
        rx.button(
            "Newer",
            on_click=s.show_page(s.page - 1),
            disabled=s.page == 0,
            variant="soft",
            size="1",
            aria_label="Newer entries",
        ),
        rx.text("Page ", s.page + 1, size="1", color_scheme="gray"),
        rx.button(
            "Older",
            on_click=s.show_page(s.page + 1),
            disabled=~s.more,
            variant="soft",
            size="1",
            aria_label="Older entries",
        ),
        align="center",
    )


def _log() -> rx.Component:
    headers = ["When", "Action", "By", "Workspace", "Target", "Details", "IP"]
    return card(
        rx.box(
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
                rx.table.body(rx.foreach(AdminAuditState.entries, _entry)),
                width="100%",
                aria_label="Audit log",
            ),
            overflow_x="auto",
            width="100%",
        ),
        rx.cond(AdminAuditState.entries.length() == 0, rx.text("No entries match.")),
        _pager(),
    )


def admin_audit_page() -> rx.Component:
    return app_shell(
        "Admin · Audit log",
        admin_nav(ROUTE),
        _filters(),
        error_callout(AdminAuditState.error),
        _log(),
    )
