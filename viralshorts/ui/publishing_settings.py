"""The workspace page's "Publishing" block: the workspace's timezone (the calendar's and the
Publish panel's times) and whether editors' posts wait for an owner's or admin's approval."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import reflex as rx

from viralshorts.db import session_scope
from viralshorts.domain import post_times
from viralshorts.domain.workspaces import Action, Actor, can
from viralshorts.errors import ValidationError, ViralShortsError
from viralshorts.ui.guards import BAD_REQUEST, flag, session_actor, text
from viralshorts.ui.layout import card, error_callout


def _load(actor: Actor) -> tuple[str, bool]:
    with session_scope() as session:
        workspace = post_times.workspace_of(session, actor)
        return workspace.timezone, workspace.require_approval


def _save(actor: Actor, timezone: str, require_approval: bool) -> None:
    with session_scope() as session:
        post_times.set_publishing_settings(
            session, actor=actor, timezone=timezone, require_approval=require_approval
        )


class PublishingSettingsState(rx.State):
    """Timezone and approval of the current workspace."""

    timezone: str = "UTC"
    require_approval: bool = False
    can_change: bool = False
    error: str = ""
    notice: str = ""

    @rx.event
    async def load(self):
        """Read the workspace's publishing settings."""
        actor, leave = await session_actor(self)
        if actor is None:
            return leave
        self.timezone, self.require_approval = await asyncio.to_thread(_load, actor)
        self.can_change = can(actor, Action.MANAGE_SETTINGS)
        self.error, self.notice = "", ""
        return None

    @rx.event
    def set_timezone(self, value: Any):
        """Remember the typed timezone name."""
        self.timezone = text(value, max_length=64) or ""

    @rx.event
    def set_require_approval(self, value: Any):
        """Flip the approval switch."""
        checked = flag(value)
        if checked is None:
            self.error = BAD_REQUEST
            return
        self.require_approval = checked

    @rx.event
    async def save(self):
        """Save both (owners and admins)."""
        self.error, self.notice = "", ""
        actor, leave = await session_actor(self)
        if actor is None:
            return leave
        call = functools.partial(_save, actor, self.timezone, self.require_approval)
        try:
            await asyncio.to_thread(call)
        except ValidationError as exc:
            self.error = " ".join(exc.field_errors.values())
            return None
        except ViralShortsError as exc:
            self.error = str(exc)
            return None
        self.notice = "Publishing settings saved."
        return None


def publishing_settings_card() -> rx.Component:
    """The block (it loads itself when shown)."""
    state = PublishingSettingsState
    form = rx.vstack(
        rx.el.label("Timezone (for the calendar and scheduled posts)", html_for="ws-timezone"),
        rx.input(
            id="ws-timezone",
            value=state.timezone,
            on_change=state.set_timezone,
            placeholder="Europe/Paris",
            width="100%",
        ),
        rx.hstack(
            rx.switch(
                id="ws-require-approval",
                checked=state.require_approval,
                on_change=state.set_require_approval,
            ),
            rx.el.label(
                "Editors' posts wait for an owner's or admin's approval",
                html_for="ws-require-approval",
            ),
            align="center",
        ),
        error_callout(state.error),
        rx.hstack(
            rx.button("Save publishing settings", on_click=state.save),
            rx.text(state.notice, role="status", color_scheme="green"),
            align="center",
        ),
        spacing="2",
        width="100%",
    )
    summary = rx.text(
        "Times are in ",
        state.timezone,
        ". ",
        rx.cond(
            state.require_approval, "Editors' posts wait for approval.", "Posts need no approval."
        ),
        size="2",
    )
    return card(
        rx.heading("Publishing", size="4", as_="h2"),
        rx.cond(state.can_change, form, summary),
        on_mount=state.load,
    )
