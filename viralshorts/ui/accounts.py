"""The Accounts page: connect YouTube, TikTok and Instagram accounts, see their health, reconnect
or disconnect them. Tokens never reach this state: the rows carry names, health and abilities.

Connecting leaves the page for ``/api/connect/{platform}/start`` (a full load, the OAuth flow
runs in HTTP routes) and comes back here with ``?connected=<id>`` or ``?error=<code>``.
"""

from __future__ import annotations

import asyncio
from typing import TypedDict

import reflex as rx

from viralshorts.db import session_scope
from viralshorts.domain import connected_accounts as ca
from viralshorts.domain.account_words import CONNECT_ERRORS, PLATFORM_LABELS, how_to_configure
from viralshorts.domain.workspaces import Action, Actor, can
from viralshorts.errors import ViralShortsError
from viralshorts.integrations.services import get_services
from viralshorts.ui import guards
from viralshorts.ui.layout import app_shell, card, error_callout

ROUTE = "/app/accounts"
HEALTH_LABELS = {
    "ok": "Healthy",
    "unhealthy": "Having trouble",
    "needs_reconnect": "Needs reconnect",
    "disconnected": "Disconnected",
}


class PlatformRow(TypedDict):
    name: str
    label: str
    configured: bool
    help: str


class AccountRow(TypedDict):
    id: int
    platform: str
    platform_label: str
    name: str
    avatar: str
    initial: str
    health: str
    health_label: str
    health_message: str
    abilities: str
    sandbox: bool
    needs_reconnect: bool


def _platform_rows() -> list[PlatformRow]:
    services = get_services()
    return [
        PlatformRow(
            name=name,
            label=label,
            configured=name in services.platforms,
            help=how_to_configure(services.settings, name),
        )
        for name, label in PLATFORM_LABELS.items()
    ]


def _account_rows(actor: Actor) -> list[AccountRow]:
    with session_scope() as session:
        found = ca.list_accounts(session, get_services(), actor=actor)
    return [
        AccountRow(
            id=a.id,
            platform=a.platform,
            platform_label=a.platform_label,
            name=a.display_name,
            avatar=a.avatar_url,
            initial=(a.display_name[:1] or "?").upper(),
            health=a.health,
            health_label=HEALTH_LABELS.get(a.health, a.health),
            health_message=a.health_message,
            abilities=", ".join(a.abilities) or "nothing yet",
            sandbox=a.sandbox,
            needs_reconnect=a.health != "ok",
        )
        for a in found
    ]


def _disconnect(actor: Actor, account_id: int) -> None:
    with session_scope() as session:
        ca.disconnect(session, get_services(), actor=actor, account_id=account_id)


class AccountsState(rx.State):
    """The workspace's connected accounts and the platforms one can connect."""

    platforms: list[PlatformRow] = []
    accounts: list[AccountRow] = []
    can_manage: bool = False
    loaded: bool = False
    error: str = ""
    notice: str = ""
    confirm_disconnect_id: int = 0

    async def _reload(self, actor: Actor) -> None:
        self.platforms = await asyncio.to_thread(_platform_rows)
        self.accounts = await asyncio.to_thread(_account_rows, actor)
        self.can_manage = can(actor, Action.MANAGE_ACCOUNTS)
        self.loaded = True

    def _read_outcome(self) -> None:
        query = self.router.url.query_parameters
        code = str(query.get("error", ""))
        self.error = CONNECT_ERRORS.get(code, CONNECT_ERRORS["connect_refused"]) if code else ""
        connected = guards.record_id(query.get("connected"))
        names = [a["name"] for a in self.accounts if a["id"] == connected]
        self.notice = f"Connected {names[0]}." if names else ""

    @rx.event
    async def load(self):
        """Read the accounts and the platforms, and what the connect flow came back with."""
        self.error = self.notice = ""
        self.confirm_disconnect_id = 0
        actor, leave = await guards.session_actor(self)
        if actor is None:
            return leave
        await self._reload(actor)
        self._read_outcome()
        return None

    @rx.event
    async def connect(self, platform: str):
        """Leave for the platform's consent page (owners and admins)."""
        self.error = self.notice = ""
        actor, leave = await guards.session_actor(self)
        if actor is None:
            return leave
        if guards.text(platform, max_length=20) not in PLATFORM_LABELS:
            self.error = guards.BAD_REQUEST
            return None
        if not can(actor, Action.MANAGE_ACCOUNTS):
            self.error = CONNECT_ERRORS["permission_denied"]
            return None
        return rx.call_script(f"window.location.assign('/api/connect/{platform}/start')")

    @rx.event
    def ask_disconnect(self, account_id: int):
        """Ask to confirm disconnecting this account."""
        self.confirm_disconnect_id = guards.record_id(account_id) or 0

    @rx.event
    def keep(self):
        """Keep the account connected."""
        self.confirm_disconnect_id = 0

    @rx.event
    async def disconnect(self, account_id: int):
        """Revoke and forget the account's tokens; its posts pause until it is connected again."""
        self.error = self.notice = ""
        self.confirm_disconnect_id = 0
        actor, leave = await guards.session_actor(self)
        if actor is None:
            return leave
        chosen = guards.record_id(account_id)
        if chosen is None:
            self.error = guards.BAD_REQUEST
            return None
        try:
            await asyncio.to_thread(_disconnect, actor, chosen)
        except ViralShortsError as exc:
            self.error = str(exc)
            return None
        self.notice = "Account disconnected. Its scheduled posts are paused."
        await self._reload(actor)
        return None


S = AccountsState


def sandbox_badge(sandbox: rx.Var[bool]) -> rx.Component:
    """The "sandbox" label of an account that talks to the local fakes, wherever it shows."""
    return rx.cond(
        sandbox,
        rx.badge("sandbox", color_scheme="amber", variant="soft", aria_label="sandbox account"),
    )


def _health_badge(row: rx.Var[AccountRow]) -> rx.Component:
    return rx.badge(
        row["health_label"],
        color_scheme=rx.cond(row["health"] == "ok", "green", "red"),
        variant="soft",
    )


def _account_actions(row: rx.Var[AccountRow]) -> rx.Component:
    name = row["platform_label"] + " account " + row["name"]
    reconnect = rx.cond(
        row["needs_reconnect"],
        rx.button("Reconnect", aria_label="Reconnect " + name, on_click=S.connect(row["platform"])),
    )
    disconnect = rx.cond(
        S.confirm_disconnect_id == row["id"],
        rx.hstack(
            rx.text("Disconnect " + row["name"] + "? Its posts pause.", size="2"),
            rx.button("Disconnect", color_scheme="red", on_click=S.disconnect(row["id"])),
            rx.button("Keep it", variant="soft", color_scheme="gray", on_click=S.keep),
            align="center",
            wrap="wrap",
            role="group",
        ),
        rx.button(
            "Disconnect",
            variant="soft",
            color_scheme="red",
            aria_label="Disconnect " + name,
            on_click=S.ask_disconnect(row["id"]),
        ),
    )
    return rx.cond(S.can_manage, rx.hstack(reconnect, disconnect, align="center", wrap="wrap"))


def _account(row: rx.Var[AccountRow]) -> rx.Component:
    return rx.flex(
        rx.hstack(
            rx.avatar(src=row["avatar"], fallback=row["initial"], size="3", radius="full"),
            rx.vstack(
                rx.hstack(
                    rx.text(row["name"], weight="medium"),
                    rx.badge(row["platform_label"], variant="outline"),
                    _health_badge(row),
                    sandbox_badge(row["sandbox"]),
                    align="center",
                    wrap="wrap",
                ),
                rx.text("May ", row["abilities"], size="1", color_scheme="gray"),
                rx.cond(
                    row["health"] != "ok",
                    rx.text(row["health_message"], size="1", color_scheme="red"),
                ),
                spacing="1",
            ),
            align="center",
            spacing="3",
        ),
        _account_actions(row),
        justify="between",
        align="center",
        wrap="wrap",
        gap="3",
        width="100%",
        data_testid="account-row",
    )


def _platform(row: rx.Var[PlatformRow]) -> rx.Component:
    connect = rx.button(
        "Connect " + row["label"],
        on_click=S.connect(row["name"]),
        disabled=~S.can_manage,
    )
    return rx.vstack(
        rx.hstack(rx.text(row["label"], weight="bold"), align="center"),
        rx.cond(
            row["configured"],
            connect,
            rx.vstack(
                rx.badge("not configured", color_scheme="gray", variant="soft"),
                rx.text(row["help"], size="1", color_scheme="gray"),
                spacing="1",
            ),
        ),
        spacing="2",
        align="start",
        flex="1",
        min_width="14rem",
    )


def _accounts_card() -> rx.Component:
    return card(
        rx.heading("Connected accounts", size="4", as_="h2"),
        rx.cond(
            S.accounts.length() > 0,
            rx.vstack(rx.foreach(S.accounts, _account), spacing="4", width="100%"),
            rx.text("No account is connected yet.", color_scheme="gray"),
        ),
    )


def _connect_card() -> rx.Component:
    return card(
        rx.heading("Connect an account", size="4", as_="h2"),
        rx.cond(
            ~S.can_manage,
            rx.text("Only an owner or admin of the workspace can connect accounts.", size="2"),
        ),
        rx.flex(rx.foreach(S.platforms, _platform), gap="5", wrap="wrap", width="100%"),
    )


def accounts_page() -> rx.Component:
    return app_shell(
        "Accounts",
        error_callout(S.error),
        rx.cond(S.notice != "", rx.callout(S.notice, color_scheme="green", role="status")),
        rx.cond(
            S.loaded,
            rx.vstack(_accounts_card(), _connect_card(), spacing="5", width="100%"),
            rx.spinner(aria_label="Loading"),
        ),
    )
