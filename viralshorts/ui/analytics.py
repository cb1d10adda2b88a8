"""The Analytics page: views over time per platform, top videos, campaigns, one video's panel.

Every member may read it (viewers too). The numbers come from the collector's daily rows
(``domain/analytics_reports.py``); the CSV button downloads the same range from
``/api/analytics/export.csv``, authorised by the session cookie.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TypedDict
from urllib.parse import urlencode

import reflex as rx

from viralshorts.db import session_scope
from viralshorts.domain.account_words import PLATFORM_LABELS
from viralshorts.domain.analytics_reports import (
    AnalyticsReport,
    DateRange,
    Totals,
    VideoPanel,
    analytics_report,
    parse_range,
    video_panel,
)
from viralshorts.domain.workspaces import Actor
from viralshorts.errors import NotFoundError, ValidationError
from viralshorts.ui import guards
from viralshorts.ui.accounts import sandbox_badge
from viralshorts.ui.layout import app_shell, card, empty_state
from viralshorts.web.analytics_export import EXPORT_PATH

ROUTE = "/app/analytics"
PLATFORM_COLOURS = {"youtube": "#e5484d", "tiktok": "#0090ff", "instagram": "#d6409f"}
DATE_TEXT_MAX = 10
# Read by screen readers and browser tests, not drawn (the card's heading says it visibly).
VISUALLY_HIDDEN = {
    "position": "absolute",
    "width": "1px",
    "height": "1px",
    "overflow": "hidden",
    "clip": "rect(0 0 0 0)",
    "white_space": "nowrap",
}


class StatCard(TypedDict):
    label: str
    value: int


class VideoRow(TypedDict):
    video_id: int
    title: str
    campaign: str
    platforms: str
    views: int
    likes: int
    comments: int
    shares: int
    saves: int


class CampaignRow(TypedDict):
    name: str
    videos: int
    views: int
    likes: int
    comments: int


class PostRow(TypedDict):
    platform: str
    account: str
    sandbox: bool
    url: str
    views: int
    likes: int
    comments: int
    shares: int
    saves: int


def _cards(totals: Totals) -> list[StatCard]:
    names = ("Views", "Likes", "Comments", "Shares", "Saves")
    values = (totals.views, totals.likes, totals.comments, totals.shares, totals.saves)
    return [StatCard(label=n, value=v) for n, v in zip(names, values, strict=True)]


def _platforms(names: tuple[str, ...]) -> str:
    return ", ".join(PLATFORM_LABELS.get(n, n) for n in names)


def _report(actor: Actor, date_range: DateRange) -> AnalyticsReport:
    with session_scope() as s:
        return analytics_report(s, actor=actor, date_range=date_range)


def _panel(actor: Actor, video_id: int, date_range: DateRange) -> VideoPanel:
    with session_scope() as s:
        return video_panel(s, actor=actor, video_id=video_id, date_range=date_range)


def _today() -> datetime:
    return datetime.now(UTC)


class AnalyticsState(rx.State):
    """The range shown and what the workspace's posts did in it."""

    loaded: bool = False
    start: str = ""
    end: str = ""
    start_error: str = ""
    end_error: str = ""
    cards: list[StatCard] = []
    views_by_day: list[dict[str, int | str]] = []
    platforms: list[str] = []
    top_videos: list[VideoRow] = []
    campaigns: list[CampaignRow] = []
    panel_open: bool = False
    panel_title: str = ""
    panel_cards: list[StatCard] = []
    panel_by_day: list[dict[str, int | str]] = []
    panel_posts: list[PostRow] = []

    @rx.var
    def export_href(self) -> str:
        """The CSV download of the range shown."""
        return f"{EXPORT_PATH}?{urlencode({'start': self.start, 'end': self.end})}"

    def _range(self) -> DateRange:
        return parse_range(self.start, self.end, today=_today().date())

    def _show(self, report: AnalyticsReport) -> None:
        self.start = report.date_range.start.isoformat()
        self.end = report.date_range.end.isoformat()
        self.cards = _cards(report.gained)
        self.views_by_day = report.views_by_day
        self.platforms = report.platforms
        self.top_videos = [
            VideoRow(
                video_id=v.video_id, title=v.title, campaign=v.campaign,
                platforms=_platforms(v.platforms), views=v.gained.views, likes=v.gained.likes,
                comments=v.gained.comments, shares=v.gained.shares, saves=v.gained.saves,
            )
            for v in report.top_videos
        ]  # fmt: skip
        self.campaigns = [
            CampaignRow(
                name=c.name, videos=c.videos, views=c.gained.views, likes=c.gained.likes,
                comments=c.gained.comments,
            )
            for c in report.campaigns
        ]  # fmt: skip
        self.loaded = True

    async def _reload(self) -> rx.event.EventSpec | None:
        actor, leave = await guards.session_actor(self)
        if actor is None:
            return leave
        try:
            date_range = self._range()
        except ValidationError as exc:
            self.start_error = exc.field_errors.get("start", "")
            self.end_error = exc.field_errors.get("end", "")
            return None
        self.start_error = self.end_error = ""
        self._show(await asyncio.to_thread(_report, actor, date_range))
        return None

    @rx.event
    async def load(self):
        """Open the page on the last four weeks."""
        self.start = self.end = ""
        self.panel_open = False
        return await self._reload()

    @rx.event
    async def apply_range(self, form: dict):
        """Show the range typed in the form (``YYYY-MM-DD`` dates)."""
        if not isinstance(form, dict):
            return rx.toast.error(guards.BAD_REQUEST)
        start = guards.text(form.get("start", ""), max_length=DATE_TEXT_MAX)
        end = guards.text(form.get("end", ""), max_length=DATE_TEXT_MAX)
        if start is None or end is None:
            return rx.toast.error(guards.BAD_REQUEST)
        self.start, self.end = start, end
        self.panel_open = False
        return await self._reload()

    @rx.event
    async def open_video(self, video_id: int):
        """Show one video's numbers in the panel."""
        wanted = guards.record_id(video_id)
        if wanted is None:
            return rx.toast.error(guards.BAD_REQUEST)
        actor, leave = await guards.session_actor(self)
        if actor is None:
            return leave
        try:
            panel = await asyncio.to_thread(_panel, actor, wanted, self._range())
        except (NotFoundError, ValidationError) as exc:
            return rx.toast.error(exc.message)
        self._show_panel(panel)
        return None

    def _show_panel(self, panel: VideoPanel) -> None:
        self.panel_title = panel.title
        self.panel_cards = _cards(panel.gained)
        self.panel_by_day = panel.views_by_day
        self.panel_posts = [
            PostRow(
                platform=PLATFORM_LABELS.get(p.platform, p.platform), account=p.account,
                sandbox=p.sandbox, url=p.url, views=p.lifetime.views, likes=p.lifetime.likes,
                comments=p.lifetime.comments, shares=p.lifetime.shares, saves=p.lifetime.saves,
            )
            for p in panel.posts
        ]  # fmt: skip
        self.panel_open = True

    @rx.event
    def close_video(self):
        """Hide the video panel."""
        self.panel_open = False


# ---------------------------------------------------------------- components


def _stat(item: rx.Var[StatCard]) -> rx.Component:
    return card(
        rx.text(item["label"], size="2", color_scheme="gray"),
        rx.heading(item["value"].to(str), size="6", as_="p", aria_label=item["label"]),
    )


def _stats(items: rx.Var[list[StatCard]]) -> rx.Component:
    return rx.grid(
        rx.foreach(items, _stat), columns={"initial": "2", "sm": "5"}, spacing="3", width="100%"
    )


def views_chart(data: rx.Var[list[dict[str, int | str]]], label: str) -> rx.Component:
    """Views gained per day, one line per platform."""
    lines = [
        rx.recharts.line(
            data_key=name, name=PLATFORM_LABELS[name], stroke=colour, type_="monotone", dot=False
        )
        for name, colour in PLATFORM_COLOURS.items()
    ]
    return rx.box(
        rx.recharts.line_chart(
            *lines,
            rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
            rx.recharts.x_axis(data_key="day"),
            rx.recharts.y_axis(allow_decimals=False),
            rx.recharts.tooltip(),
            rx.recharts.legend(),
            data=data,
            width="100%",
            height=280,
        ),
        role="img",
        aria_label=label,
        width="100%",
    )


def _date_field(name: str, label: str, value: rx.Var[str], error: rx.Var[str]) -> rx.Component:
    field_id = f"analytics-{name}"
    return rx.vstack(
        rx.el.label(label, html_for=field_id, font_weight="500", font_size="0.9rem"),
        rx.input(
            id=field_id,
            name=name,
            type="date",
            default_value=value,
            key=value,
            aria_invalid=rx.cond(error != "", "true", "false"),
            aria_describedby=f"{field_id}-error",
        ),
        rx.cond(error != "", rx.text(error, id=f"{field_id}-error", color_scheme="red", size="2")),
        spacing="1",
    )


def _range_form() -> rx.Component:
    state = AnalyticsState
    return rx.form(
        rx.hstack(
            _date_field("start", "From", state.start, state.start_error),
            _date_field("end", "To", state.end, state.end_error),
            rx.button("Show", type="submit"),
            # A plain <a download>: rx.link and rx.el.a are React Router links, which navigate the
            # single-page app to the CSV's URL instead of downloading it.
            rx.button(
                rx.el.elements.a("Download CSV", href=state.export_href, download=True),
                as_child=True,
                variant="soft",
            ),
            align="end",
            spacing="3",
            wrap="wrap",
        ),
        on_submit=AnalyticsState.apply_range,
        aria_label="Date range",
    )


def _number_cells(row: rx.Var, names: tuple[str, ...]) -> list[rx.Component]:
    return [rx.table.cell(row[n].to(str)) for n in names]


def _video_row(row: rx.Var[VideoRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.button(
                row["title"],
                variant="ghost",
                on_click=AnalyticsState.open_video(row["video_id"]),
                aria_label="Show the numbers of " + row["title"],
            )
        ),
        rx.table.cell(row["campaign"]),
        rx.table.cell(row["platforms"]),
        *_number_cells(row, ("views", "likes", "comments", "shares", "saves")),
    )


def _table(caption: str, headers: tuple[str, ...], body: rx.Component) -> rx.Component:
    # Radix puts the root's props on a wrapping <div>; a <caption> names the <table> itself.
    return rx.table.root(
        rx.el.caption(caption, style=VISUALLY_HIDDEN),
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
        rx.table.body(body),
        width="100%",
    )


def _top_videos() -> rx.Component:
    headers = ("Video", "Campaign", "Platforms", "Views", "Likes", "Comments", "Shares", "Saves")
    return card(
        rx.heading("Top videos", size="4", as_="h2"),
        _table("Top videos", headers, rx.foreach(AnalyticsState.top_videos, _video_row)),
    )


def _campaign_row(row: rx.Var[CampaignRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["name"]), *_number_cells(row, ("videos", "views", "likes", "comments"))
    )


def _campaigns() -> rx.Component:
    headers = ("Campaign", "Videos", "Views", "Likes", "Comments")
    return card(
        rx.heading("Campaigns", size="4", as_="h2"),
        _table("Campaigns", headers, rx.foreach(AnalyticsState.campaigns, _campaign_row)),
    )


def _post_row(row: rx.Var[PostRow]) -> rx.Component:
    link = rx.cond(
        row["url"] != "",
        rx.link("Open", href=row["url"], is_external=True, aria_label="Open the post"),
        rx.text("—"),
    )
    return rx.table.row(
        rx.table.cell(row["platform"]),
        rx.table.cell(rx.hstack(rx.text(row["account"]), sandbox_badge(row["sandbox"]))),
        rx.table.cell(link),
        *_number_cells(row, ("views", "likes", "comments", "shares", "saves")),
    )


def _video_panel() -> rx.Component:
    state = AnalyticsState
    headers = ("Platform", "Account", "Post", "Views", "Likes", "Comments", "Shares", "Saves")
    return card(
        rx.hstack(
            rx.heading(state.panel_title, size="4", as_="h2"),
            rx.spacer(),
            rx.button("Close", variant="soft", color_scheme="gray", on_click=state.close_video),
            width="100%",
        ),
        _stats(state.panel_cards),
        views_chart(state.panel_by_day, "Views per day of this video"),
        rx.text("Lifetime numbers on the last day of the range", size="1", color_scheme="gray"),
        _table("Posts of this video", headers, rx.foreach(state.panel_posts, _post_row)),
        role="region",
        aria_label="Video numbers",
    )


def _numbers() -> rx.Component:
    return rx.vstack(
        _stats(AnalyticsState.cards),
        card(
            rx.heading("Views per day by platform", size="4", as_="h2"),
            views_chart(AnalyticsState.views_by_day, "Views per day by platform"),
        ),
        rx.cond(AnalyticsState.panel_open, _video_panel()),
        _top_videos(),
        _campaigns(),
        spacing="4",
        width="100%",
    )


def _nothing_yet() -> rx.Component:
    return empty_state(
        "chart_line",
        "No numbers in this range yet",
        "Views, likes, comments, shares and saves of published posts are read from the "
        "platforms every hour. Publish a video from its page, or pick another range.",
        rx.link("Go to your videos", href="/app/videos"),
    )


def analytics_page() -> rx.Component:
    return app_shell(
        "Analytics",
        rx.cond(
            AnalyticsState.loaded,
            rx.vstack(
                _range_form(),
                rx.cond(AnalyticsState.platforms.length() > 0, _numbers(), _nothing_yet()),
                spacing="4",
                width="100%",
            ),
            rx.spinner(),
        ),
    )
