"""The bell in the app shell: the unread count and the newest messages of this workspace.

The count is read when a page's bell mounts (every page load and navigation) and whenever the
live-progress loop re-reads its rows (``bell_snapshot`` + ``NotificationState.apply``), so there
is no polling loop of its own.
"""

from __future__ import annotations

import asyncio
from typing import Any, TypedDict

import reflex as rx

from viralshorts.db import session_scope
from viralshorts.domain import notifications as nt
from viralshorts.domain.workspaces import Actor
from viralshorts.ui import guards

SHOWN = 10


class NotificationRow(TypedDict):
    id: int
    title: str
    body: str
    link: str
    when: str
    read: bool


BellSnapshot = tuple[int, list[NotificationRow]]


def bell_snapshot(actor: Actor) -> BellSnapshot:
    """The unread count and the newest messages of the actor in their workspace."""
    with session_scope() as session:
        unread = nt.unread_count(session, user_id=actor.user_id, workspace_id=actor.workspace_id)
        items = nt.recent(
            session, user_id=actor.user_id, workspace_id=actor.workspace_id, limit=SHOWN
        )
    rows = [
        NotificationRow(
            id=item.id,
            title=item.title,
            body=item.body,
            link=item.link,
            when=item.created_at.strftime("%b %d, %H:%M UTC"),
            read=item.read,
        )
        for item in items
    ]
    return unread, rows


def _mark_read(actor: Actor, notification_id: int | None) -> None:
    with session_scope() as session:
        nt.mark_read(
            session,
            user_id=actor.user_id,
            workspace_id=actor.workspace_id,
            notification_id=notification_id,
        )


class NotificationState(rx.State):
    """What the bell shows."""

    unread: int = 0
    items: list[NotificationRow] = []

    def apply(self, snapshot: BellSnapshot) -> None:
        """Show a snapshot read elsewhere (the live-progress loop)."""
        self.unread, self.items = snapshot

    async def _reload(self) -> rx.event.EventSpec | None:
        actor, leave = await guards.session_actor(self)
        if actor is None:
            return leave
        self.apply(await asyncio.to_thread(bell_snapshot, actor))
        return None

    @rx.event
    async def refresh(self):
        """Read the count and the newest messages."""
        return await self._reload()

    @rx.event
    async def mark_read(self, notification_id: int):
        """Mark one message read."""
        chosen = guards.record_id(notification_id)
        actor, leave = await guards.session_actor(self)
        if actor is None:
            return leave
        if chosen is not None:
            await asyncio.to_thread(_mark_read, actor, chosen)
        return await self._reload()

    @rx.event
    async def mark_all_read(self):
        """Mark every message of this workspace read."""
        actor, leave = await guards.session_actor(self)
        if actor is None:
            return leave
        await asyncio.to_thread(_mark_read, actor, None)
        return await self._reload()


S = NotificationState


def _item(row: rx.Var[NotificationRow]) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.cond(
                row["link"] != "",
                rx.link(row["title"], href=row["link"], weight="medium", size="2"),
                rx.text(row["title"], weight="medium", size="2"),
            ),
            rx.cond(row["body"] != "", rx.text(row["body"], size="1", color_scheme="gray")),
            rx.text(row["when"], size="1", color_scheme="gray"),
            spacing="1",
            flex="1",
        ),
        rx.cond(
            row["read"],
            rx.fragment(),
            rx.button(
                "Mark read",
                size="1",
                variant="ghost",
                aria_label="Mark read: " + row["title"],
                on_click=S.mark_read(row["id"]),
            ),
        ),
        align="start",
        width="100%",
        padding_y="0.4rem",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        data_testid="notification",
    )


def bell(*, reads: bool = True) -> rx.Component:
    """The bell button with its unread count; opens the newest messages.

    The shell shows two (sidebar and phone bar, one hidden by CSS but both mounted): only the
    one with ``reads`` asks for the count when it mounts.
    """
    unread = S.unread.to_string()
    label = rx.cond(S.unread > 0, "Notifications, " + unread + " unread", "Notifications")
    return rx.popover.root(
        rx.popover.trigger(
            rx.box(
                rx.icon_button(rx.icon("bell", size=18), variant="soft", aria_label=label),
                rx.cond(
                    S.unread > 0,
                    rx.badge(
                        S.unread,
                        color_scheme="red",
                        variant="solid",
                        radius="full",
                        size="1",
                        position="absolute",
                        top="-6px",
                        right="-8px",
                        aria_hidden="true",
                    ),
                ),
                position="relative",
                on_mount=S.refresh if reads else None,
            ),
        ),
        rx.popover.content(
            rx.vstack(
                rx.hstack(
                    rx.text("Notifications", weight="bold"),
                    rx.cond(
                        S.unread > 0,
                        rx.button(
                            "Mark all read", size="1", variant="soft", on_click=S.mark_all_read
                        ),
                    ),
                    justify="between",
                    width="100%",
                ),
                rx.cond(
                    S.items.length() > 0,
                    rx.foreach(S.items, _item),
                    rx.text("Nothing yet.", size="2", color_scheme="gray"),
                ),
                spacing="2",
                width="20rem",
                max_height="24rem",
                overflow_y="auto",
            ),
            aria_label="Notifications",
        ),
    )


# ---------------------------------------------------------------- the profile's email choices


class EmailChoiceRow(TypedDict):
    kind: str
    label: str
    wanted: bool


def _email_choices(user_id: int) -> list[EmailChoiceRow]:
    with session_scope() as session:
        muted = nt.email_muted_kinds(session, user_id)
    return [
        EmailChoiceRow(kind=kind, label=label, wanted=kind not in muted)
        for kind, (label, _audience) in nt.KINDS.items()
    ]


def _set_wanted(user_id: int, kind: str, wanted: bool) -> None:
    with session_scope() as session:
        nt.set_email_wanted(session, user_id=user_id, kind=kind, wanted=wanted)


class EmailChoicesState(rx.State):
    """Which notifications the signed-in person also gets by email."""

    choices: list[EmailChoiceRow] = []
    error: str = ""

    @rx.event
    async def load(self):
        """Read the person's choices."""
        self.error = ""
        user_id, leave = await guards.session_user(self)
        if user_id is None:
            return leave
        self.choices = await asyncio.to_thread(_email_choices, user_id)
        return None

    @rx.event
    async def choose(self, kind: str, wanted: bool):
        """Turn email for one kind on or off."""
        self.error = ""
        user_id, leave = await guards.session_user(self)
        if user_id is None:
            return leave
        chosen, value = guards.text(kind, max_length=40), guards.flag(wanted)
        if chosen not in nt.KINDS or value is None:
            self.error = guards.BAD_REQUEST
            return None
        await asyncio.to_thread(_set_wanted, user_id, chosen, value)
        self.choices = await asyncio.to_thread(_email_choices, user_id)
        return None


def _choice(row: rx.Var[EmailChoiceRow]) -> rx.Component:
    switch_id = "email-" + row["kind"]
    return rx.hstack(
        rx.switch(
            id=switch_id,
            checked=row["wanted"],
            on_change=lambda value: EmailChoicesState.choose(row["kind"], value),
        ),
        rx.el.label(row["label"], html_for=switch_id, font_size="0.9rem"),
        align="center",
        spacing="2",
    )


def email_choices_card(card: Any) -> rx.Component:
    """The profile page's card of email switches (``card`` is the layout's card maker)."""
    return card(
        rx.heading("Email notifications", size="4", as_="h2"),
        rx.text(
            "The bell always shows them; choose which ones also come by email.",
            size="2",
            color_scheme="gray",
        ),
        rx.cond(
            EmailChoicesState.error != "",
            rx.callout(EmailChoicesState.error, color_scheme="red", role="alert"),
        ),
        rx.vstack(rx.foreach(EmailChoicesState.choices, _choice), spacing="2"),
        max_width="32rem",
        on_mount=EmailChoicesState.load,
    )
