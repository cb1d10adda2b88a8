"""The admin page's first section (site admins only): find users and workspaces.

Searching by an email or a workspace name lists both: the users it matches (by their email or
a workspace they belong to) and the workspaces (by name or a member's email). Each row opens
its detail page, where the changes are made.
"""

from __future__ import annotations

from typing import TypedDict

import reflex as rx

from viralshorts.domain import admin_users, admin_workspaces
from viralshorts.errors import ViralShortsError
from viralshorts.models import User, Workspace
from viralshorts.ui import guards
from viralshorts.ui.admin_nav import USERS_ROUTE, admin_nav
from viralshorts.ui.admin_support import Reply, refusal, run, turn_page, when
from viralshorts.ui.layout import app_shell, card, error_callout

ROUTE = USERS_ROUTE
USER_ROUTE = "/app/admin/users/[user_id]"
WORKSPACE_ROUTE = "/app/admin/workspaces/[workspace_id]"


def user_link(user_id: int | rx.Var[int]) -> str | rx.Var[str]:
    """The admin detail page of one user."""
    return f"/app/admin/users/{user_id}"


def workspace_link(workspace_id: int | rx.Var[int]) -> str | rx.Var[str]:
    """The admin detail page of one workspace."""
    return f"/app/admin/workspaces/{workspace_id}"


class UserRow(TypedDict):
    id: int
    email: str
    role: str
    disabled: bool
    created: str
    last_sign_in: str


class WorkspaceRow(TypedDict):
    id: int
    name: str
    personal: bool
    created: str


def _user_row(user: User) -> UserRow:
    return UserRow(
        id=user.id or 0,
        email=user.email,
        role=str(user.role),
        disabled=user.disabled,
        created=when(user.created_at),
        last_sign_in=when(user.last_login_at),
    )


def _workspace_row(workspace: Workspace) -> WorkspaceRow:
    return WorkspaceRow(
        id=workspace.id or 0,
        name=workspace.name,
        personal=workspace.personal,
        created=when(workspace.created_at),
    )


class AdminState(rx.State):
    """The search and its two result lists, a page of each."""

    query: str = ""
    users: list[UserRow] = []
    users_page: int = 0
    users_more: bool = False
    workspaces: list[WorkspaceRow] = []
    workspaces_page: int = 0
    workspaces_more: bool = False
    error: str = ""

    async def _read(self, admin_id: int) -> None:
        self.error = ""
        try:
            users, self.users_more = await run(
                admin_users.search_users,
                actor_user_id=admin_id,
                query=self.query,
                page=self.users_page,
            )
            spaces, self.workspaces_more = await run(
                admin_workspaces.search_workspaces,
                actor_user_id=admin_id,
                query=self.query,
                page=self.workspaces_page,
            )
        except ViralShortsError as exc:
            self.error = refusal(exc)
            return
        self.users = [_user_row(u) for u in users]
        self.workspaces = [_workspace_row(w) for w in spaces]

    @rx.event
    async def load(self):
        """Check the admin, then list the newest users and workspaces."""
        self.users, self.workspaces, self.query = [], [], ""
        admin_id, leave = await guards.session_admin(self)
        if admin_id is None:
            return leave
        self.users_page = self.workspaces_page = 0
        await self._read(admin_id)
        return None

    @rx.event
    async def search(self, form: dict):
        """List what matches the typed email or workspace name."""
        admin_id, leave = await guards.session_admin(self)
        if admin_id is None:
            return leave
        query = guards.text(form.get("query") if isinstance(form, dict) else None, max_length=200)
        if query is None:
            self.error = guards.BAD_REQUEST
            return None
        self.query, self.users_page, self.workspaces_page = query.strip(), 0, 0
        await self._read(admin_id)
        return None

    @rx.event
    async def show_users_page(self, page: int):
        """Show another page of users."""
        return await self._turn("users_page", page)

    @rx.event
    async def show_workspaces_page(self, page: int):
        """Show another page of workspaces."""
        return await self._turn("workspaces_page", page)

    async def _turn(self, which: str, page: object) -> Reply:
        return await turn_page(self, f"show_{which}", page, which, self._read)


def _search_form() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.input(
                name="query",
                placeholder="Email or workspace name",
                max_length=200,
                aria_label="Search users and workspaces",
                width="100%",
            ),
            rx.button("Search", type="submit"),
            width="100%",
        ),
        on_submit=AdminState.search,
        width="100%",
    )


def _pager(
    label: str, page: rx.Var[int], more: rx.Var[bool], turn: rx.EventHandler
) -> rx.Component:
    return rx.hstack(
        rx.button(
            "Newer",
            on_click=turn(page - 1),
            disabled=page == 0,
            variant="soft",
            size="1",
            aria_label=f"Newer {label}",
        ),
        rx.text("Page ", page + 1, size="1", color_scheme="gray"),
        rx.button(
            "Older",
            on_click=turn(page + 1),
            disabled=~more,
            variant="soft",
            size="1",
            aria_label=f"Older {label}",
        ),
        align="center",
    )


def _table(headers: list[str], rows: rx.Component, label: str) -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
            rx.table.body(rows),
            width="100%",
            aria_label=label,
        ),
        overflow_x="auto",
        width="100%",
    )


def _user(row: rx.Var[UserRow]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.link(row["email"], href=user_link(row["id"]))),
        rx.table.cell(rx.badge(row["role"], variant="soft")),
        rx.table.cell(rx.cond(row["disabled"], rx.badge("Disabled", color_scheme="red"), "No")),
        rx.table.cell(row["created"]),
        rx.table.cell(row["last_sign_in"]),
    )


def _workspace(row: rx.Var[WorkspaceRow]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.link(row["name"], href=workspace_link(row["id"]))),
        rx.table.cell(rx.cond(row["personal"], "Personal", "Team")),
        rx.table.cell(row["created"]),
    )


def admin_page() -> rx.Component:
    s = AdminState
    return app_shell(
        "Admin",
        admin_nav(ROUTE),
        _search_form(),
        error_callout(s.error),
        card(
            rx.heading("Users", size="4", as_="h2"),
            _table(
                ["Email", "Site role", "Disabled", "Created", "Last sign-in"],
                rx.foreach(s.users, _user),
                "Users",
            ),
            _pager("users", s.users_page, s.users_more, s.show_users_page),
        ),
        card(
            rx.heading("Workspaces", size="4", as_="h2"),
            _table(["Name", "Kind", "Created"], rx.foreach(s.workspaces, _workspace), "Workspaces"),
            _pager("workspaces", s.workspaces_page, s.workspaces_more, s.show_workspaces_page),
        ),
    )
