"""The workspace page (name, members, invitations) and the invitation accept page.

Controls an actor's role may not use are not shown; every handler still checks the session,
the actor and each argument, and the domain refuses what the role does not allow.
"""

from __future__ import annotations

import asyncio
from typing import TypedDict
from urllib.parse import quote

import reflex as rx

from viralshorts.db import session_scope
from viralshorts.domain import workspace_members as members
from viralshorts.domain.workspaces import Action, Actor, can
from viralshorts.errors import ValidationError, ViralShortsError
from viralshorts.integrations.services import get_services
from viralshorts.models import WorkspaceRole
from viralshorts.ui import guards
from viralshorts.ui.fields import labeled_input, options, select_control
from viralshorts.ui.layout import app_shell, card, error_callout
from viralshorts.ui.publishing_settings import publishing_settings_card
from viralshorts.ui.state import AuthState
from viralshorts.ui.workspace_switcher import full_load, switch_to

ROUTE = "/app/workspace"
INVITE_ROUTE = "/invite"
ROLE_LABELS = {"owner": "Owner", "admin": "Admin", "editor": "Editor", "viewer": "Viewer"}
MAX_EMAIL = 320
MAX_TOKEN = 200


class MemberRow(TypedDict):
    user_id: int
    email: str
    name: str
    role: str
    joined: str
    is_me: bool
    editable: bool


class InvitationRow(TypedDict):
    id: int
    email: str
    role: str
    expires: str
    invited_by: str


def _may_edit(actor: Actor, role: str, user_id: int) -> bool:
    """Whether the actor sees role and remove controls on this member's row."""
    if user_id == actor.user_id or not can(actor, Action.MANAGE_MEMBERS):
        return False
    return role != WorkspaceRole.OWNER or actor.role == WorkspaceRole.OWNER


def _member_rows(actor: Actor) -> list[MemberRow]:
    with session_scope() as session:
        found = members.list_members(session, actor=actor)
    return [
        MemberRow(
            user_id=m.user_id,
            email=m.email,
            name=m.name or m.email.split("@")[0],
            role=str(m.role),
            joined=f"{m.joined_at:%Y-%m-%d}",
            is_me=m.user_id == actor.user_id,
            editable=_may_edit(actor, str(m.role), m.user_id),
        )
        for m in found
    ]


def _invitation_rows(actor: Actor) -> list[InvitationRow]:
    if not can(actor, Action.MANAGE_MEMBERS):
        return []
    with session_scope() as session:
        found = members.list_invitations(session, actor=actor)
    return [
        InvitationRow(
            id=i.id,
            email=i.email,
            role=str(i.role),
            expires=f"{i.expires_at:%Y-%m-%d %H:%M} UTC",
            invited_by=i.invited_by_email,
        )
        for i in found
    ]


# The use cases that end someone's access (or send email) take the services too.
_WITH_SERVICES = {"invite", "change_role", "remove_member", "leave_workspace", "transfer_ownership"}


def _run(action: str, actor: Actor, **kwargs: object) -> object:
    """One membership use case, by name, in its own transaction."""
    function = getattr(members, action)
    with session_scope() as session:
        if action in _WITH_SERVICES:
            return function(session, get_services(), actor=actor, **kwargs)
        return function(session, actor=actor, **kwargs)


def _role_choice(value: object) -> str | None:
    role = guards.text(value, max_length=20)
    return role if role in ROLE_LABELS else None


class WorkspaceState(rx.State):
    """The workspace page: its members and invitations, what the actor may do, and messages."""

    members: list[MemberRow] = []
    invitations: list[InvitationRow] = []
    loaded: bool = False
    can_manage_members: bool = False
    can_manage_settings: bool = False
    can_transfer: bool = False
    role_choices: list[dict[str, str]] = []
    name_error: str = ""
    email_error: str = ""
    error: str = ""
    notice: str = ""
    invite_link: str = ""
    invite_role: str = "editor"
    invite_emailed: bool = False
    confirm_remove_id: int = 0
    confirm_transfer_id: int = 0
    confirm_leave: bool = False

    async def _reload(self, actor: Actor) -> None:
        self.members = await asyncio.to_thread(_member_rows, actor)
        self.invitations = await asyncio.to_thread(_invitation_rows, actor)
        self.can_manage_members = can(actor, Action.MANAGE_MEMBERS)
        self.can_manage_settings = can(actor, Action.MANAGE_SETTINGS)
        self.can_transfer = can(actor, Action.TRANSFER_OWNERSHIP)
        grantable = dict(ROLE_LABELS)
        if actor.role != WorkspaceRole.OWNER:
            grantable.pop("owner")
        self.role_choices = options(grantable)
        self.loaded = True

    def _clear_messages(self) -> None:
        self.name_error = self.email_error = self.error = self.notice = ""

    async def _act(self, action: str, done: str, **kwargs: object) -> rx.event.EventSpec | None:
        """Run a use case for the session's actor; show ``done`` or why it was refused."""
        self._clear_messages()
        actor, leave = await guards.session_actor(self)
        if actor is None:
            return leave
        try:
            await asyncio.to_thread(_run, action, actor, **kwargs)
        except ValidationError as exc:
            self.name_error = exc.field_errors.get("name", "")
            self.error = "" if self.name_error else " ".join(exc.field_errors.values())
            return None
        except ViralShortsError as exc:
            self.error = str(exc)
            return None
        finally:
            self.confirm_remove_id = self.confirm_transfer_id = 0
            self.confirm_leave = False
        self.notice = done
        # The use case may have changed the actor's own role (a transfer): read it again.
        actor, leave = await guards.session_actor(self)
        if actor is None:
            return leave
        await self._reload(actor)
        return None

    @rx.event
    async def load(self):
        """Read the members and invitations when the page opens."""
        self._clear_messages()
        self.invite_link, self.invite_emailed = "", False
        self.confirm_remove_id = self.confirm_transfer_id = 0
        self.confirm_leave = False
        actor, leave = await guards.session_actor(self)
        if actor is None:
            return leave
        await self._reload(actor)
        return None

    @rx.event
    async def rename(self, form: dict):
        """Rename the workspace (owners and admins)."""
        name = guards.text(form.get("name") if isinstance(form, dict) else None, max_length=1000)
        if name is None:
            self.error = guards.BAD_REQUEST
            return None
        leave = await self._act("rename_workspace", "Workspace renamed.", name=name)
        auth = await self.get_state(AuthState)
        await auth._load_user()
        return leave

    @rx.event
    async def change_role(self, user_id: int, role: str):
        """Give a member another role."""
        member, wanted = guards.record_id(user_id), _role_choice(role)
        if member is None or wanted is None:
            self.error = guards.BAD_REQUEST
            return None
        return await self._act("change_role", "Role changed.", user_id=member, role=wanted)

    @rx.event
    def ask_remove(self, user_id: int):
        """Ask to confirm removing this member."""
        self.confirm_remove_id = guards.record_id(user_id) or 0

    @rx.event
    def ask_transfer(self, user_id: int):
        """Ask to confirm giving this member the ownership."""
        self.confirm_transfer_id = guards.record_id(user_id) or 0

    @rx.event
    def ask_leave(self, value: bool):
        """Ask to confirm leaving the workspace (or take the question back)."""
        self.confirm_leave = guards.flag(value) is True

    @rx.event
    def cancel_confirm(self):
        """Keep things as they are."""
        self.confirm_remove_id = self.confirm_transfer_id = 0
        self.confirm_leave = False

    @rx.event
    async def remove(self, user_id: int):
        """Remove a member (their open tabs lose access at their next event)."""
        member = guards.record_id(user_id)
        if member is None:
            self.error = guards.BAD_REQUEST
            return None
        return await self._act("remove_member", "Member removed.", user_id=member)

    @rx.event
    async def transfer(self, user_id: int):
        """Make a member the owner; the actor becomes an admin."""
        member = guards.record_id(user_id)
        if member is None:
            self.error = guards.BAD_REQUEST
            return None
        leave = await self._act("transfer_ownership", "Ownership transferred.", user_id=member)
        auth = await self.get_state(AuthState)
        await auth._load_user()
        return leave

    @rx.event
    async def leave(self):
        """Leave this workspace and go back to one the user still belongs to."""
        leave = await self._act("leave_workspace", "")
        if leave is not None or self.error:
            return leave
        return full_load()

    @rx.event
    def set_invite_role(self, value: str):
        """The role picked for the next invitation."""
        self.invite_role = _role_choice(value) or "editor"

    @rx.event
    async def invite(self, form: dict):
        """Invite someone by email with a role; show the link (and whether it was emailed)."""
        self._clear_messages()
        self.invite_link, self.invite_emailed = "", False
        data = form if isinstance(form, dict) else {}
        email = guards.text(data.get("email"), max_length=MAX_EMAIL)
        role = _role_choice(data.get("role"))
        if email is None or role is None:
            self.error = guards.BAD_REQUEST
            return None
        actor, leave = await guards.session_actor(self)
        if actor is None:
            return leave
        try:
            link = await asyncio.to_thread(_run, "invite", actor, email=email, role=role)
        except ValidationError as exc:
            self.email_error = exc.field_errors.get("email", "")
            self.error = "" if self.email_error else " ".join(exc.field_errors.values())
            return None
        except ViralShortsError as exc:
            self.error = str(exc)
            return None
        assert isinstance(link, members.InvitationLink)
        self.invite_link, self.invite_emailed = link.url, link.emailed
        await self._reload(actor)
        return None

    @rx.event
    async def revoke(self, invitation_id: int):
        """Revoke a pending invitation: its link stops working."""
        wanted = guards.record_id(invitation_id)
        if wanted is None:
            self.error = guards.BAD_REQUEST
            return None
        return await self._act("revoke_invitation", "Invitation revoked.", invitation_id=wanted)


S = WorkspaceState


def _messages() -> rx.Component:
    return rx.vstack(
        error_callout(S.error),
        rx.cond(S.notice != "", rx.callout(S.notice, color_scheme="green", role="status")),
        width="100%",
    )


def _rename_card() -> rx.Component:
    return card(
        rx.heading("Name", size="4", as_="h2"),
        rx.cond(
            S.can_manage_settings,
            rx.form(
                rx.vstack(
                    labeled_input(
                        "workspace-name",
                        "Workspace name",
                        "name",
                        input_type="text",
                        error=S.name_error,
                        autocomplete="off",
                    ),
                    rx.button("Rename", type="submit"),
                    spacing="2",
                    width="100%",
                ),
                on_submit=S.rename,
                reset_on_submit=True,
            ),
            rx.text(AuthState.workspace_name),
        ),
    )


def _confirm(question: str, yes: str, on_yes: rx.event.EventType) -> rx.Component:
    return rx.hstack(
        rx.text(question, size="2"),
        rx.button(yes, color_scheme="red", on_click=on_yes),
        rx.button("Keep it", variant="soft", color_scheme="gray", on_click=S.cancel_confirm),
        align="center",
        wrap="wrap",
        role="group",
    )


def _member_controls(row: rx.Var[MemberRow]) -> rx.Component:
    label = "Role of " + row["email"]
    select = select_control(
        "role-" + row["user_id"].to(str),
        "role",
        S.role_choices,
        row["role"],
        lambda value: S.change_role(row["user_id"], value),
        aria_label=label,
        style={"width": "auto"},
    )
    remove = rx.cond(
        S.confirm_remove_id == row["user_id"],
        _confirm("Remove " + row["email"] + "?", "Remove", S.remove(row["user_id"])),
        rx.button(
            "Remove",
            variant="soft",
            color_scheme="red",
            aria_label="Remove " + row["email"],
            on_click=S.ask_remove(row["user_id"]),
        ),
    )
    return rx.cond(row["editable"], rx.hstack(select, remove, align="center", wrap="wrap"))


def _transfer_control(row: rx.Var[MemberRow]) -> rx.Component:
    return rx.cond(
        S.can_transfer & ~row["is_me"],
        rx.cond(
            S.confirm_transfer_id == row["user_id"],
            _confirm(
                "Make " + row["email"] + " the owner? You become an admin.",
                "Transfer ownership",
                S.transfer(row["user_id"]),
            ),
            rx.button(
                "Make owner",
                variant="ghost",
                aria_label="Make " + row["email"] + " the owner",
                on_click=S.ask_transfer(row["user_id"]),
            ),
        ),
    )


def _member(row: rx.Var[MemberRow]) -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.hstack(
                rx.text(row["name"], weight="medium"),
                rx.cond(row["is_me"], rx.badge("You", variant="soft")),
                rx.badge(row["role"], variant="soft", color_scheme="gray"),
                align="center",
            ),
            rx.text(row["email"], " · joined ", row["joined"], size="1", color_scheme="gray"),
            spacing="1",
        ),
        rx.hstack(_member_controls(row), _transfer_control(row), align="center", wrap="wrap"),
        justify="between",
        align="center",
        wrap="wrap",
        gap="2",
        width="100%",
        padding_y="0.5rem",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        custom_attrs={"data-testid": "member"},
    )


def _leave_control() -> rx.Component:
    return rx.cond(
        S.confirm_leave,
        _confirm("Leave this workspace? You lose access to it.", "Leave", S.leave),
        rx.button(
            "Leave workspace", variant="soft", color_scheme="gray", on_click=S.ask_leave(True)
        ),
    )


def _members_card() -> rx.Component:
    return card(
        rx.heading("Members", size="4", as_="h2"),
        rx.foreach(S.members, _member),
        _leave_control(),
    )


def _invite_form() -> rx.Component:
    return rx.form(
        rx.flex(
            rx.box(
                labeled_input(
                    "invite-email",
                    "Email",
                    "email",
                    input_type="email",
                    error=S.email_error,
                    autocomplete="off",
                ),
                flex="1",
                min_width="14rem",
            ),
            rx.vstack(
                rx.el.label("Role", html_for="invite-role", font_weight="500", font_size="0.9rem"),
                select_control(
                    "invite-role", "role", S.role_choices, S.invite_role, S.set_invite_role
                ),
                spacing="1",
            ),
            rx.button("Invite", type="submit"),
            gap="3",
            align="end",
            wrap="wrap",
            width="100%",
        ),
        on_submit=S.invite,
        reset_on_submit=True,
    )


def _invite_link() -> rx.Component:
    return rx.cond(
        S.invite_link != "",
        rx.callout(
            rx.vstack(
                rx.text(
                    rx.cond(
                        S.invite_emailed,
                        "Invitation sent by email. You can also copy the link:",
                        "Email is not set up here: copy this link and send it yourself.",
                    )
                ),
                rx.code(S.invite_link, id="invite-link", word_break="break-all"),
                rx.button(
                    "Copy link",
                    size="1",
                    variant="soft",
                    on_click=[rx.set_clipboard(S.invite_link), rx.toast("Link copied")],
                ),
                spacing="2",
            ),
            color_scheme="green",
            role="status",
        ),
    )


def _invitation(row: rx.Var[InvitationRow]) -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.text(row["email"], " · ", row["role"], weight="medium"),
            rx.text(
                "Invited by ",
                row["invited_by"],
                " · expires ",
                row["expires"],
                size="1",
                color_scheme="gray",
            ),
            spacing="1",
        ),
        rx.button(
            "Revoke",
            variant="soft",
            color_scheme="red",
            aria_label="Revoke the invitation of " + row["email"],
            on_click=S.revoke(row["id"]),
        ),
        justify="between",
        align="center",
        wrap="wrap",
        width="100%",
        custom_attrs={"data-testid": "invitation"},
    )


def _invitations_card() -> rx.Component:
    return rx.cond(
        S.can_manage_members,
        card(
            rx.heading("Invite people", size="4", as_="h2"),
            _invite_form(),
            _invite_link(),
            rx.heading("Pending invitations", size="3", as_="h3"),
            rx.cond(
                S.invitations.length() > 0,
                rx.foreach(S.invitations, _invitation),
                rx.text("No pending invitations.", color_scheme="gray", size="2"),
            ),
        ),
    )


def workspace_page() -> rx.Component:
    return app_shell(
        "Workspace",
        rx.cond(
            ~S.loaded,
            rx.spinner(),
            rx.vstack(
                _messages(),
                _rename_card(),
                publishing_settings_card(),
                _members_card(),
                _invitations_card(),
                spacing="4",
                width="100%",
            ),
        ),
    )


# ---------------------------------------------------------------- the invitation accept page

ROLE_HELP_TEXT = (
    "Owners and admins manage members; editors make campaigns, videos and media; viewers read."
)


NO_LONGER = {
    "expired": "This invitation has expired. Ask for a new one.",
    "used": "This invitation has already been used.",
    "revoked": "This invitation was revoked.",
    "unknown": "This invitation link is not valid. Check that you copied all of it.",
}


def _preview(token: str) -> members.InvitationPreview:
    with session_scope() as session:
        return members.invitation_preview(session, token=token)


def _accept(user_id: int, session_token: str, token: str) -> None:
    with session_scope() as session:
        joined = members.accept_invitation(session, user_id=user_id, token=token)
    switch_to(user_id, session_token, joined.id)


class InviteState(rx.State):
    """Which workspace an invitation is for, and joining it."""

    _token: str = ""
    status: str = ""
    workspace_name: str = ""
    role: str = ""
    email: str = ""
    problem: str = ""
    error: str = ""
    here: str = ""

    @rx.event
    async def load(self):
        """Read the invitation from ``?token=`` and whether someone is signed in."""
        self.error = ""
        token = guards.text(self.router.url.query_parameters.get("token", ""), max_length=MAX_TOKEN)
        self._token = token or ""
        self.here = quote(f"{INVITE_ROUTE}?token={quote(self._token, safe='')}", safe="")
        preview = await asyncio.to_thread(_preview, self._token) if self._token else None
        self.status = preview.status if preview else "unknown"
        self.workspace_name = preview.workspace_name if preview else ""
        self.role = str(preview.role) if preview else ""
        self.email = preview.email if preview else ""
        self.problem = NO_LONGER.get(self.status, "")
        auth = await self.get_state(AuthState)
        await auth._load_user()

    @rx.event
    async def join(self):
        """Accept the invitation as the signed-in user, then open the workspace."""
        self.error = ""
        user_id, leave = await guards.session_user(self)
        if user_id is None:
            return leave
        auth = await self.get_state(AuthState)
        try:
            await asyncio.to_thread(_accept, user_id, auth._session_token(), self._token)
        except ValidationError as exc:
            self.error = " ".join(exc.field_errors.values())
            return None
        except ViralShortsError as exc:
            self.error = str(exc)
            return None
        return full_load()


def _signed_out_actions() -> rx.Component:
    return rx.vstack(
        rx.text(
            "Sign in or create an account with ", rx.text.strong(InviteState.email), " to join."
        ),
        rx.hstack(
            rx.link(
                rx.button("Create an account", tab_index=-1),
                href="/sign-up?next=" + InviteState.here,
            ),
            rx.link(
                rx.button("Sign in", variant="soft", tab_index=-1),
                href="/sign-in?next=" + InviteState.here,
            ),
            wrap="wrap",
        ),
        spacing="3",
    )


def _signed_in_actions() -> rx.Component:
    return rx.vstack(
        rx.text("Signed in as ", rx.text.strong(AuthState.user_email), "."),
        rx.button("Join " + InviteState.workspace_name, on_click=InviteState.join, size="3"),
        spacing="3",
    )


def _invitation_card() -> rx.Component:
    return rx.vstack(
        rx.heading("Join ", InviteState.workspace_name, size="6", as_="h1"),
        rx.text(
            "You are invited as ",
            rx.text.strong(InviteState.role),
            ". ",
            ROLE_HELP_TEXT,
            color_scheme="gray",
        ),
        error_callout(InviteState.error),
        rx.cond(AuthState.signed_in, _signed_in_actions(), _signed_out_actions()),
        spacing="4",
    )


def invite_page() -> rx.Component:
    return rx.center(
        rx.card(
            rx.cond(
                InviteState.status == "",
                rx.spinner(),
                rx.cond(
                    InviteState.problem != "",
                    rx.vstack(
                        rx.heading("Invitation", size="6", as_="h1"),
                        rx.callout(InviteState.problem, color_scheme="amber", role="alert"),
                        rx.link("Go to the app", href="/app"),
                        spacing="4",
                    ),
                    _invitation_card(),
                ),
            ),
            width="100%",
            max_width="32rem",
            padding="1.5rem",
        ),
        min_height="100vh",
        padding="1rem",
    )
