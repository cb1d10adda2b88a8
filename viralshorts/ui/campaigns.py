"""The campaigns list: search, show archived, and the way to a new campaign."""

from __future__ import annotations

import asyncio
from typing import TypedDict

import reflex as rx

from viralshorts.db import session_scope
from viralshorts.domain.campaigns import LANGUAGES, PLATFORMS, list_campaigns
from viralshorts.domain.workspaces import Actor
from viralshorts.models import Campaign
from viralshorts.ui import guards
from viralshorts.ui.layout import app_shell, empty_state
from viralshorts.ui.state import AuthState

MAX_SEARCH = 200


class CampaignRow(TypedDict):
    id: int
    name: str
    niche: str
    language: str
    platforms: str
    archived: bool
    href: str


def _row(campaign: Campaign) -> CampaignRow:
    platforms = ", ".join(PLATFORMS[p] for p in campaign.default_platforms if p in PLATFORMS)
    return CampaignRow(
        id=campaign.id or 0,
        name=campaign.name,
        niche=campaign.niche,
        language=LANGUAGES.get(campaign.language, campaign.language),
        platforms=platforms or "No platforms yet",
        archived=campaign.archived_at is not None,
        href=f"/app/campaigns/{campaign.id}",
    )


def _find(actor: Actor, search: str, include_archived: bool) -> tuple[list[CampaignRow], bool]:
    """The rows that match, and whether the workspace has any campaign at all."""
    with session_scope() as s:
        found = list_campaigns(s, actor=actor, search=search, include_archived=include_archived)
        rows = [_row(c) for c in found]
        has_any = bool(rows) or bool(list_campaigns(s, actor=actor, include_archived=True))
    return rows, has_any


class CampaignListState(rx.State):
    """The list of the signed-in user's campaigns."""

    search: str = ""
    show_archived: bool = False
    rows: list[CampaignRow] = []
    loaded: bool = False
    has_any: bool = False

    async def _reload(self) -> rx.event.EventSpec | None:
        actor, leave = await guards.session_actor(self)
        if actor is None:
            return leave
        self.rows, has_any = await asyncio.to_thread(_find, actor, self.search, self.show_archived)
        self.has_any = self.has_any or has_any
        self.loaded = True
        return None

    @rx.event
    async def load(self):
        """Load the list when the page opens (``?archived=1`` shows archived ones)."""
        self.search, self.has_any = "", False
        self.show_archived = self.router.url.query_parameters.get("archived") == "1"
        return await self._reload()

    @rx.event
    async def set_search(self, value: str):
        """Filter by name or niche as the person types."""
        typed = guards.text(value, max_length=MAX_SEARCH)
        if typed is None:
            return rx.toast.error(guards.BAD_REQUEST)
        self.search = typed
        return await self._reload()

    @rx.event
    async def set_show_archived(self, value: bool):
        """Include archived campaigns or not."""
        wanted = guards.flag(value)
        if wanted is None:
            return rx.toast.error(guards.BAD_REQUEST)
        self.show_archived = wanted
        return await self._reload()


def _campaign_card(row: rx.Var[CampaignRow]) -> rx.Component:
    return rx.link(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.heading(row["name"], size="4", as_="h2"),
                    rx.cond(row["archived"], rx.badge("Archived", color_scheme="gray")),
                    align="center",
                    wrap="wrap",
                ),
                rx.text(row["niche"], color_scheme="gray", size="2"),
                rx.text(row["language"], " · ", row["platforms"], size="1", color_scheme="gray"),
                spacing="2",
            ),
            width="100%",
        ),
        href=row["href"],
        underline="none",
        color_scheme="gray",
        high_contrast=True,
        width="100%",
    )


def _toolbar() -> rx.Component:
    return rx.flex(
        rx.input(
            rx.input.slot(rx.icon("search", size=16)),
            placeholder="Search by name or niche",
            value=CampaignListState.search,
            on_change=CampaignListState.set_search.debounce(250),
            aria_label="Search campaigns",
            type="search",
            flex="1",
            min_width="12rem",
        ),
        rx.el.label(
            rx.hstack(
                rx.switch(
                    checked=CampaignListState.show_archived,
                    on_change=CampaignListState.set_show_archived,
                    aria_label="Show archived",
                ),
                rx.text("Show archived", size="2"),
                align="center",
                spacing="2",
            ),
        ),
        rx.cond(
            AuthState.can_edit,
            rx.link(
                rx.button(rx.icon("plus", size=16), "New campaign", tab_index=-1),
                href="/app/campaigns/new",
            ),
        ),
        spacing="3",
        align="center",
        wrap="wrap",
        width="100%",
    )


def _list() -> rx.Component:
    return rx.cond(
        CampaignListState.rows.length() > 0,
        rx.grid(
            rx.foreach(CampaignListState.rows, _campaign_card),
            columns={"initial": "1", "md": "2"},
            spacing="3",
            width="100%",
        ),
        rx.text("No campaigns match.", color_scheme="gray"),
    )


def campaigns_page() -> rx.Component:
    return app_shell(
        "Campaigns",
        rx.cond(
            ~CampaignListState.loaded,
            rx.spinner(),
            rx.cond(
                CampaignListState.has_any,
                rx.vstack(_toolbar(), _list(), spacing="4", width="100%"),
                empty_state(
                    "megaphone",
                    "Create your first campaign",
                    "A campaign holds a channel idea: niche, tone, language, voice, caption style, "
                    "background, platforms and when to post.",
                    rx.cond(
                        AuthState.can_edit,
                        rx.link(rx.button("New campaign", tab_index=-1), href="/app/campaigns/new"),
                    ),
                ),
            ),
        ),
    )
