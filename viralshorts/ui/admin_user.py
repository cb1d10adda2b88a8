"""One user, for site admins: site role, disabled, dates, workspaces with roles; disable or
enable them (their sessions end at once) and change their site role, each with a reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypedDict

import reflex as rx

from viralshorts.domain import admin_users
from viralshorts.errors import ViralShortsError
from viralshorts.integrations.services import get_services
from viralshorts.models import Role
from viralshorts.ui import guards
from viralshorts.ui.admin import USER_ROUTE, workspace_link
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

ROUTE = USER_ROUTE
ROLE_CHOICES = [(Role.CREATOR.value, "Creator"), (Role.ADMIN.value, "Site admin")]


class MembershipRow(TypedDict):
    workspace_id: int
    name: str
    kind: str
    role: str


class AdminUserState(rx.State):
    """The user shown, and what the admin did to them."""

    found: bool = False
    email: str = ""
    role: str = ""
    disabled: bool = False
    created: str = ""
    last_sign_in: str = ""
    open_sessions: int = 0
    is_self: bool = False
    memberships: list[MembershipRow] = []
    error: str = ""
    notice: str = ""
    _user_id: int = 0

    def _show(self, detail: admin_users.UserDetail, admin_id: int) -> None:
        user = detail.user
        self.found, self.email, self.role = True, user.email, str(user.role)
        self.disabled, self.open_sessions = user.disabled, detail.open_sessions
        self.created, self.last_sign_in = when(user.created_at), when(user.last_login_at)
        self.is_self = user.id == admin_id
        self.memberships = [
            MembershipRow(
                workspace_id=m.workspace_id,
                name=m.workspace_name,
                kind="Personal" if m.personal else "Team",
                role=str(m.role),
            )
            for m in detail.memberships
        ]

    async def _reload(self, admin_id: int) -> None:
        try:
            detail = await run(
                admin_users.user_detail, actor_user_id=admin_id, user_id=self._user_id
            )
        except ViralShortsError as exc:
            self.found, self.error = False, refusal(exc)
            return
        self._show(detail, admin_id)

    @rx.event
    async def load(self):
        """Check the admin, then read the user named in the URL."""
        self.found, self.error, self.notice, self.memberships = False, "", "", []
        admin_id, leave = await guards.session_admin(self)
        if admin_id is None:
            return leave
        user_id = id_from_path(self.router.url.path)
        if user_id is None:
            self.error = admin_users.USER_NOT_FOUND
            return None
        self._user_id = user_id
        await self._reload(admin_id)
        return None

    async def _change(
        self, handler: str, function: Callable[..., object], done: str, **kwargs: object
    ) -> Reply:
        self.error = self.notice = ""
        admin_id, leave = await session_admin_for(self, handler)
        if admin_id is None:
            return leave
        if not self.found:
            self.error = guards.BAD_REQUEST
            return None
        try:
            await run(
                function,
                actor_user_id=admin_id,
                user_id=self._user_id,
                sessions=get_services().sessions,
                **kwargs,
            )
        except ViralShortsError as exc:
            self.error = refusal(exc)
        else:
            self.notice = done
        await self._reload(admin_id)
        return None

    @rx.event
    async def set_disabled(self, form: dict):
        """Disable the user (ending every session of theirs) or enable them again."""
        reason, wanted = form_text(form, "reason"), form_text(form, "disabled", max_length=5)
        if reason is None or wanted not in {"true", "false"}:
            return await refuse_forged(self, "set_disabled")
        disabled = wanted == "true"
        done = "Disabled; every session of theirs has ended." if disabled else "Enabled again."
        return await self._change(
            "set_disabled", admin_users.set_disabled, done, disabled=disabled, reason=reason
        )

    @rx.event
    async def set_role(self, form: dict):
        """Make the user a site admin or a creator."""
        reason, role = form_text(form, "reason"), form_text(form, "role", max_length=20)
        if reason is None or role is None:
            return await refuse_forged(self, "set_role")
        return await self._change(
            "set_role", admin_users.set_site_role, "Site role changed.", role=role, reason=reason
        )


def _facts() -> rx.Component:
    s = AdminUserState
    return card(
        rx.heading(s.email, size="5", as_="h2"),
        rx.data_list.root(
            rx.data_list.item(rx.data_list.label("Site role"), rx.data_list.value(s.role)),
            rx.data_list.item(
                rx.data_list.label("Status"),
                rx.data_list.value(
                    rx.cond(s.disabled, rx.badge("Disabled", color_scheme="red"), "Active")
                ),
            ),
            rx.data_list.item(rx.data_list.label("Created"), rx.data_list.value(s.created)),
            rx.data_list.item(
                rx.data_list.label("Last sign-in"), rx.data_list.value(s.last_sign_in)
            ),
            rx.data_list.item(
                rx.data_list.label("Open sessions"), rx.data_list.value(s.open_sessions)
            ),
        ),
    )


def _membership(row: rx.Var[MembershipRow]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.link(row["name"], href=workspace_link(row["workspace_id"]))),
        rx.table.cell(row["kind"]),
        rx.table.cell(rx.badge(row["role"], variant="soft")),
    )


def _workspaces() -> rx.Component:
    return card(
        rx.heading("Workspaces", size="4", as_="h2"),
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("Workspace"),
                    rx.table.column_header_cell("Kind"),
                    rx.table.column_header_cell("Role"),
                )
            ),
            rx.table.body(rx.foreach(AdminUserState.memberships, _membership)),
            width="100%",
            aria_label="Their workspaces",
        ),
    )


def _disable_form() -> rx.Component:
    s = AdminUserState
    return rx.form(
        rx.vstack(
            rx.heading(rx.cond(s.disabled, "Enable", "Disable"), size="4", as_="h2"),
            rx.el.input(type="hidden", name="disabled", value=rx.cond(s.disabled, "false", "true")),
            reason_input("disable-reason"),
            rx.button(
                rx.cond(s.disabled, "Enable user", "Disable user"),
                type="submit",
                color_scheme=rx.cond(s.disabled, "green", "red"),
            ),
            spacing="2",
            width="100%",
        ),
        on_submit=s.set_disabled,
        reset_on_submit=True,
    )


def _role_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("Site role", size="4", as_="h2"),
            labeled_select("site-role", "New site role", "role", ROLE_CHOICES),
            reason_input("role-reason"),
            rx.button("Change site role", type="submit"),
            spacing="2",
            width="100%",
        ),
        on_submit=AdminUserState.set_role,
        reset_on_submit=True,
    )


def _changes() -> rx.Component:
    return rx.cond(
        AdminUserState.is_self,
        card(rx.text("This is you: another site admin can disable or demote you.")),
        rx.grid(
            card(_disable_form()),
            card(_role_form()),
            columns=rx.breakpoints(initial="1", md="2"),
            gap="4",
            width="100%",
        ),
    )


def admin_user_page() -> rx.Component:
    s = AdminUserState
    return app_shell(
        "Admin · User",
        admin_nav(USERS_ROUTE),
        rx.link("← Users and workspaces", href=USERS_ROUTE),
        messages(s.error, s.notice),
        rx.cond(s.found, rx.vstack(_facts(), _changes(), _workspaces(), width="100%", spacing="4")),
    )
