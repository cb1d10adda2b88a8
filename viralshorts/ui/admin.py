"""The admin page: every user, straight from the database."""

from __future__ import annotations

import asyncio
from typing import TypedDict

import reflex as rx

from viralshorts.db import session_scope
from viralshorts.domain.dashboard import list_users
from viralshorts.errors import PermissionDeniedError
from viralshorts.models import User
from viralshorts.ui import guards
from viralshorts.ui.layout import app_shell, card


class UserRow(TypedDict):
    email: str
    role: str
    created: str
    disabled: bool


def _row(user: User) -> UserRow:
    return UserRow(
        email=user.email,
        role=str(user.role),
        created=user.created_at.strftime("%Y-%m-%d %H:%M UTC"),
        disabled=user.disabled,
    )


def _users(acting_user_id: int) -> list[UserRow]:
    with session_scope() as s:
        return [_row(u) for u in list_users(s, acting_user_id=acting_user_id)]


class AdminState(rx.State):
    """The users table."""

    users: list[UserRow] = []

    @rx.event
    async def load(self):
        """Read every user; the domain checks that the signed-in actor is an admin."""
        self.users = []
        user_id, leave = await guards.session_user(self)
        if user_id is None:
            return leave
        try:
            self.users = await asyncio.to_thread(_users, user_id)
        except PermissionDeniedError:
            return rx.redirect("/app")
        return None


def _user_row(user: rx.Var[UserRow]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(user["email"]),
        rx.table.cell(rx.badge(user["role"], variant="soft")),
        rx.table.cell(user["created"]),
        rx.table.cell(rx.cond(user["disabled"], rx.badge("Disabled", color_scheme="red"), "No")),
    )


def admin_page() -> rx.Component:
    return app_shell(
        "Admin",
        card(
            rx.heading("Users", size="4", as_="h2"),
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("Email"),
                            rx.table.column_header_cell("Role"),
                            rx.table.column_header_cell("Created"),
                            rx.table.column_header_cell("Disabled"),
                        )
                    ),
                    rx.table.body(rx.foreach(AdminState.users, _user_row)),
                    width="100%",
                ),
                overflow_x="auto",
                width="100%",
            ),
        ),
    )
