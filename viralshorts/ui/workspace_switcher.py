"""The sidebar's workspace switcher: the user's workspaces, switching, and a new workspace.

Switching stores the choice on this browser's login session, then reloads the page in full:
the session check caches the workspace for a second, and a new socket starts clean.
"""

from __future__ import annotations

import asyncio
from typing import TypedDict

import reflex as rx

from viralshorts.db import session_scope
from viralshorts.domain import workspace_members
from viralshorts.errors import NotFoundError, ValidationError
from viralshorts.integrations.services import get_services
from viralshorts.ui import guards
from viralshorts.ui.fields import labeled_input
from viralshorts.ui.state import AuthState

APP_HOME = "/app"
NAME_MAX = 80
NOT_A_MEMBER = "You are not a member of that workspace any more."


class WorkspaceChoice(TypedDict):
    id: int
    name: str
    role: str
    current: bool


def full_load(url: str = APP_HOME) -> rx.event.EventSpec:
    """A full page load, so the socket reconnects and every state reads the new workspace."""
    return rx.call_script(f"window.location.assign('{url}')")


def _choices(user_id: int, current_id: int | None) -> list[WorkspaceChoice]:
    with session_scope() as session:
        found = workspace_members.list_workspaces(session, user_id=user_id)
    return [
        WorkspaceChoice(id=w.id, name=w.name, role=str(w.role), current=w.id == current_id)
        for w in found
    ]


def switch_to(user_id: int, token: str, workspace_id: int) -> None:
    """Make ``workspace_id`` this browser session's workspace and drop the cached check."""
    with session_scope() as session:
        workspace_members.switch_workspace(
            session,
            user_id=user_id,
            session_token_hash=workspace_members.session_token_hash(token),
            workspace_id=workspace_id,
            sessions=get_services().sessions,
        )


def _create_and_switch(user_id: int, token: str, name: str) -> None:
    with session_scope() as session:
        created = workspace_members.create_workspace(session, user_id=user_id, name=name)
    switch_to(user_id, token, created.id)


class WorkspaceSwitcherState(rx.State):
    """The list behind the switcher (loaded when it opens) and the new-workspace form."""

    workspaces: list[WorkspaceChoice] = []
    creating: bool = False
    name_error: str = ""
    error: str = ""

    @rx.event
    async def load(self, is_open: bool = True):
        """Read the user's workspaces when the switcher opens."""
        if guards.flag(is_open) is not True:
            return None
        user_id, leave = await guards.session_user(self)
        if user_id is None:
            return leave
        auth = await self.get_state(AuthState)
        self.workspaces = await asyncio.to_thread(_choices, user_id, auth._workspace_id)
        return None

    @rx.event
    async def switch(self, workspace_id: int):
        """Act in another workspace of this user, then reload into its overview."""
        wanted = guards.record_id(workspace_id)
        if wanted is None:
            return rx.toast.error(guards.BAD_REQUEST)
        user_id, leave = await guards.session_user(self)
        if user_id is None:
            return leave
        auth = await self.get_state(AuthState)
        try:
            await asyncio.to_thread(switch_to, user_id, auth._session_token(), wanted)
        except NotFoundError:
            return rx.toast.error(NOT_A_MEMBER)
        return full_load()

    @rx.event
    def set_creating(self, value: bool):
        """Open or close the new-workspace dialog."""
        self.creating = guards.flag(value) is True
        self.name_error = self.error = ""

    @rx.event
    async def create(self, form: dict):
        """Make a workspace (the user owns it), switch to it and reload."""
        self.name_error = self.error = ""
        name = guards.text(form.get("name") if isinstance(form, dict) else None, max_length=1000)
        if name is None:
            self.error = guards.BAD_REQUEST
            return None
        user_id, leave = await guards.session_user(self)
        if user_id is None:
            return leave
        auth = await self.get_state(AuthState)
        try:
            await asyncio.to_thread(_create_and_switch, user_id, auth._session_token(), name)
        except ValidationError as exc:
            self.name_error = exc.field_errors.get("name", "") or str(exc)
            return None
        self.creating = False
        return full_load()


def _choice_item(choice: rx.Var[WorkspaceChoice]) -> rx.Component:
    return rx.menu.item(
        rx.hstack(
            rx.cond(choice["current"], rx.icon("check", size=14), rx.box(width="14px")),
            rx.text(choice["name"]),
            rx.badge(choice["role"], size="1", variant="soft", color_scheme="gray"),
            align="center",
            spacing="2",
        ),
        on_click=WorkspaceSwitcherState.switch(choice["id"]),
    )


def new_workspace_dialog() -> rx.Component:
    """The new-workspace form (put once on the page; the switcher opens it)."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("New workspace"),
            rx.dialog.description(
                "You will own it and can invite people to it.", size="2", color_scheme="gray"
            ),
            rx.form(
                rx.vstack(
                    labeled_input(
                        "new-workspace-name",
                        "Workspace name",
                        "name",
                        input_type="text",
                        error=WorkspaceSwitcherState.name_error,
                        autocomplete="off",
                    ),
                    rx.cond(
                        WorkspaceSwitcherState.error != "",
                        rx.text(WorkspaceSwitcherState.error, color_scheme="red", role="alert"),
                    ),
                    rx.hstack(
                        rx.dialog.close(
                            rx.button("Cancel", type="button", variant="soft", color_scheme="gray")
                        ),
                        rx.button("Create workspace", type="submit"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=WorkspaceSwitcherState.create,
            ),
        ),
        open=WorkspaceSwitcherState.creating,
        on_open_change=WorkspaceSwitcherState.set_creating,
    )


def workspace_switcher(**props: object) -> rx.Component:
    """The current workspace's name as a menu of the user's workspaces and "New workspace"."""
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                rx.icon("users", size=16),
                rx.text(AuthState.workspace_name, trim="both", truncate=True),
                rx.icon("chevrons_up_down", size=14),
                variant="surface",
                color_scheme="gray",
                aria_label="Workspace: " + AuthState.workspace_name + ". Switch workspace",
                **props,
            ),
        ),
        rx.menu.content(
            rx.text("Workspaces", size="1", color_scheme="gray", padding_x="0.75rem"),
            rx.foreach(WorkspaceSwitcherState.workspaces, _choice_item),
            rx.menu.separator(),
            rx.menu.item(
                rx.hstack(rx.icon("plus", size=14), rx.text("New workspace"), spacing="2"),
                on_click=WorkspaceSwitcherState.set_creating(True),
            ),
        ),
        on_open_change=WorkspaceSwitcherState.load,
    )
