"""/app/calendar: the workspace's posts by week or month in its timezone, or as a list; move,
cancel, approve or reject a post; fill a week of a campaign's schedule with its ready videos."""

from __future__ import annotations

import asyncio
import functools
from datetime import date, timedelta
from typing import Any, TypedDict

import reflex as rx

from viralshorts.db import session_scope
from viralshorts.domain import campaigns as campaign_domain
from viralshorts.domain import post_calendar, posts
from viralshorts.domain.post_times import workspace_of, zone
from viralshorts.domain.workspaces import Action, Actor, can
from viralshorts.errors import ValidationError, ViralShortsError
from viralshorts.integrations.services import get_services
from viralshorts.models import utcnow
from viralshorts.ui.accounts import sandbox_badge
from viralshorts.ui.guards import BAD_REQUEST, record_id, session_actor, text
from viralshorts.ui.layout import app_shell, card, error_callout
from viralshorts.ui.publish_panel import PostRow, post_badge, post_row

ROUTE = "/app/calendar"
VIEWS = ("week", "month", "list")
LIST_DAYS_BACK, LIST_DAYS_AHEAD = 7, 60


class DayCell(TypedDict):
    date: str
    label: str
    in_month: bool
    today: bool
    posts: list[PostRow]


class Planned(TypedDict):
    video_id: int
    video_title: str
    account_id: int
    account_name: str
    platform: str
    when_local: str
    sandbox: bool


def first_day(view: str, anchor: date) -> tuple[date, int]:
    """The first local day and the number of days a view shows around ``anchor``."""
    if view == "week":
        return anchor - timedelta(days=anchor.weekday()), 7
    if view == "month":
        first = anchor.replace(day=1)
        return first - timedelta(days=first.weekday()), 42
    return anchor - timedelta(days=LIST_DAYS_BACK), LIST_DAYS_BACK + LIST_DAYS_AHEAD


def _cells(start: date, days: int, anchor: date, today: date, rows: list[PostRow]) -> list[DayCell]:
    by_day: dict[str, list[PostRow]] = {}
    for row in rows:
        by_day.setdefault(row["when_local"][:10], []).append(row)
    cells = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        key = day.isoformat()
        cells.append(
            DayCell(
                date=key,
                label=f"{day:%a %-d %b}",
                in_month=day.month == anchor.month,
                today=day == today,
                posts=by_day.get(key, []),
            )
        )
    return cells


def _load(actor: Actor, view: str, anchor_text: str) -> dict[str, Any]:
    with session_scope() as session:
        tz = workspace_of(session, actor).timezone
        today = utcnow().astimezone(zone(tz)).date()
        try:
            anchor = date.fromisoformat(anchor_text) if anchor_text else today
        except ValueError:
            anchor = today
        start, days = first_day(view, anchor)
        low, high = post_calendar.local_range(tz, start, days)
        views = post_calendar.posts_between(session, actor=actor, start=low, end=high)
        campaigns = [(c.id, c.name) for c in campaign_domain.list_campaigns(session, actor=actor)]
        rows = [post_row(v) for v in views]
        return {
            "timezone": tz,
            "anchor": anchor.isoformat(),
            "rows": rows,
            "days": _cells(start, days, anchor, today, rows),
            "title": range_title(start, start + timedelta(days=days - 1)),
            "campaigns": [{"value": str(i), "label": n} for i, n in campaigns],
            "can_post": can(actor, Action.MANAGE_POSTS),
        }


def range_title(first: date, last: date) -> str:
    """The range as a person says it: 1 to 7 Dec 2026, 30 Nov to 6 Dec 2026,
    28 Dec 2026 to 3 Jan 2027."""
    if first.year != last.year:
        return f"{first:%-d %b %Y} to {last:%-d %b %Y}"
    if first.month != last.month:
        return f"{first:%-d %b} to {last:%-d %b %Y}"
    return f"{first:%-d} to {last:%-d %b %Y}"


def _act(actor: Actor, action: str, post_id: int, when: str = "") -> None:
    services = get_services()
    with session_scope() as session:
        if action == "move":
            posts.reschedule(session, services, actor=actor, post_id=post_id, when_local=when)
        elif action == "cancel":
            posts.cancel(session, services, actor=actor, post_id=post_id)
        else:
            posts.decide(
                session, services, actor=actor, post_id=post_id, approve=action == "approve"
            )


def _preview(actor: Actor, campaign_id: int) -> list[Planned]:
    with session_scope() as session:
        planned = post_calendar.fill_preview(session, actor=actor, campaign_id=campaign_id)
        return [Planned(**vars(p)) for p in planned]


def _confirm(actor: Actor, planned: list[Planned]) -> int:
    items = [post_calendar.PlannedPost(**p) for p in planned]
    with session_scope() as session:
        return post_calendar.confirm_fill(session, get_services(), actor=actor, planned=items)


def _message(exc: ViralShortsError) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.field_errors.values())
    return str(exc)


class CalendarState(rx.State):
    """The calendar of the current workspace."""

    view: str = "week"
    anchor: str = ""
    title: str = ""
    timezone: str = "UTC"
    days: list[DayCell] = []
    rows: list[PostRow] = []
    selected: PostRow | None = None
    move_when: str = ""
    campaigns: list[dict[str, str]] = []
    fill_campaign: str = ""
    preview: list[Planned] = []
    can_post: bool = False
    error: str = ""
    notice: str = ""

    async def _reload(self) -> Any:
        actor, leave = await session_actor(self)
        if actor is None:
            return leave
        loaded = await asyncio.to_thread(_load, actor, self.view, self.anchor)
        self.timezone, self.anchor, self.rows = loaded["timezone"], loaded["anchor"], loaded["rows"]
        self.days, self.title = loaded["days"], loaded["title"]
        self.campaigns, self.can_post = loaded["campaigns"], loaded["can_post"]
        if self.selected is not None:
            fresh = [r for r in self.rows if r["id"] == self.selected["id"]]
            self.selected = fresh[0] if fresh else None
        return None

    @rx.event
    async def load_page(self):
        """Show this week's posts."""
        self.anchor, self.selected, self.error, self.notice, self.preview = "", None, "", "", []
        return await self._reload()

    @rx.event
    async def set_view(self, view: Any):
        """Week, month or list."""
        self.view = view if view in VIEWS else "week"
        return await self._reload()

    @rx.event
    async def step(self, direction: Any):
        """The previous or next week/month (``-1``/``1``), or today (``0``)."""
        if direction not in (-1, 0, 1):
            self.error = BAD_REQUEST
            return None
        anchor = date.fromisoformat(self.anchor) if self.anchor else date.today()
        days = 7 if self.view == "week" else 30
        self.anchor = (
            "" if direction == 0 else (anchor + timedelta(days=days * direction)).isoformat()
        )
        return await self._reload()

    @rx.event
    def select(self, post_id: Any):
        """Open one post's actions."""
        number = record_id(post_id)
        found = [r for r in self.rows if r["id"] == number]
        self.selected = found[0] if found else None
        self.move_when = found[0]["when_local"] if found else ""
        self.error = "" if found else BAD_REQUEST

    @rx.event
    def set_move_when(self, value: Any):
        """The new local time for the selected post."""
        self.move_when = text(value, max_length=32) or ""

    async def _post_action(self, action: str) -> Any:
        self.error, self.notice = "", ""
        actor, leave = await session_actor(self)
        if actor is None:
            return leave
        if self.selected is None:
            self.error = BAD_REQUEST
            return None
        call = functools.partial(_act, actor, action, self.selected["id"], self.move_when)
        try:
            await asyncio.to_thread(call)
        except ViralShortsError as exc:
            self.error = _message(exc)
            return None
        self.notice = {
            "move": "Moved.",
            "cancel": "Cancelled.",
            "approve": "Approved.",
            "reject": "Rejected.",
        }[action]
        return await self._reload()

    @rx.event
    async def move(self):
        """Reschedule the selected post to ``move_when``."""
        return await self._post_action("move")

    @rx.event
    async def cancel(self):
        """Cancel the selected post."""
        return await self._post_action("cancel")

    @rx.event
    async def approve(self):
        """Approve the selected post (owners and admins)."""
        return await self._post_action("approve")

    @rx.event
    async def reject(self):
        """Reject the selected post (owners and admins)."""
        return await self._post_action("reject")

    @rx.event
    def set_fill_campaign(self, value: Any):
        """Choose the campaign whose schedule to fill."""
        self.fill_campaign = value if isinstance(value, str) and value.isdigit() else ""
        self.preview = []

    @rx.event
    async def preview_fill(self):
        """Show which videos would go into the schedule's next slots."""
        self.error, self.notice, self.preview = "", "", []
        actor, leave = await session_actor(self)
        if actor is None:
            return leave
        campaign_id = record_id(self.fill_campaign)
        if campaign_id is None:
            self.error = "Choose a campaign first."
            return None
        try:
            self.preview = await asyncio.to_thread(_preview, actor, campaign_id)
        except ViralShortsError as exc:
            self.error = _message(exc)
            return None
        if not self.preview:
            self.notice = "This campaign has no ready videos that are not posted yet."
        return None

    @rx.event
    async def confirm_fill(self):
        """Schedule what the preview showed."""
        self.error, self.notice = "", ""
        actor, leave = await session_actor(self)
        if actor is None:
            return leave
        try:
            made = await asyncio.to_thread(_confirm, actor, list(self.preview))
        except ViralShortsError as exc:
            self.error = _message(exc)
            return None
        self.preview, self.notice = [], f"Scheduled {made} post(s)."
        return await self._reload()


# ----------------------------------------------------------------------------- components


def _post_chip(row: rx.Var[PostRow]) -> rx.Component:
    return rx.hstack(
        rx.button(
            rx.text(row["when_text"].to(str)[11:], " ", row["video_title"], size="1"),
            variant="ghost",
            size="1",
            on_click=CalendarState.select(row["id"]),
            aria_label=row["video_title"].to(str) + " on " + row["platform_label"].to(str),
        ),
        post_badge(row),
        sandbox_badge(row["sandbox"]),
        rx.cond(
            row["url"] != "",
            rx.el.elements.a("Live video", href=row["url"], target="_blank", rel="noopener"),
        ),
        wrap="wrap",
        spacing="1",
        align="center",
        data_testid="calendar-post",
        data_status=row["status"],
    )


def _day(cell: rx.Var[DayCell]) -> rx.Component:
    return rx.box(
        rx.text(
            cell["label"],
            size="1",
            weight=rx.cond(cell["today"], "bold", "regular"),
            color_scheme=rx.cond(cell["in_month"], "gray", "gray"),
        ),
        rx.vstack(rx.foreach(cell["posts"].to(list[PostRow]), _post_chip), spacing="1"),
        padding="0.4rem",
        min_height="6rem",
        border="1px solid var(--gray-5)",
        border_radius="var(--radius-2)",
        background=rx.cond(cell["today"], "var(--violet-2)", "transparent"),
        opacity=rx.cond(cell["in_month"], "1", "0.6"),
        data_testid="calendar-day",
    )


def _grid() -> rx.Component:
    return rx.grid(rx.foreach(CalendarState.days, _day), columns="7", spacing="1", width="100%")


def _list() -> rx.Component:
    return rx.vstack(
        rx.cond(CalendarState.rows.length() == 0, rx.text("No posts in these weeks.")),
        rx.foreach(
            CalendarState.rows,
            lambda row: rx.hstack(
                rx.text(row["when_text"], size="2", min_width="9rem"),
                _post_chip(row),
                rx.text(row["platform_label"], " · ", row["account_name"], size="2"),
                align="center",
                wrap="wrap",
            ),
        ),
        spacing="2",
        width="100%",
    )


def _toolbar() -> rx.Component:
    return rx.hstack(
        rx.button("← Previous", variant="soft", on_click=CalendarState.step(-1)),
        rx.button("Today", variant="soft", on_click=CalendarState.step(0)),
        rx.button("Next →", variant="soft", on_click=CalendarState.step(1)),
        rx.text(CalendarState.title, weight="medium"),
        rx.spacer(),
        rx.segmented_control.root(
            rx.segmented_control.item("Week", value="week"),
            rx.segmented_control.item("Month", value="month"),
            rx.segmented_control.item("List", value="list"),
            value=CalendarState.view,
            on_change=CalendarState.set_view,
            aria_label="View",
        ),
        rx.text("Times in ", CalendarState.timezone, size="2", color_scheme="gray"),
        wrap="wrap",
        align="center",
        width="100%",
    )


def _selected() -> rx.Component:
    row = CalendarState.selected.to(PostRow)
    return card(
        rx.heading(row["video_title"], size="3", as_="h3"),
        rx.hstack(
            post_badge(row),
            rx.text(
                row["platform_label"], " · ", row["account_name"], " · ", row["when_text"], size="2"
            ),
            wrap="wrap",
        ),
        sandbox_badge(row["sandbox"]),
        rx.cond(
            row["url"] != "",
            rx.el.elements.a(
                "Open the live video", href=row["url"], target="_blank", rel="noopener"
            ),
        ),
        rx.cond(row["last_error"] != "", rx.text(row["last_error"], color_scheme="red", size="2")),
        rx.cond(row["paused"] != "", rx.text(row["paused"], color_scheme="amber", size="2")),
        rx.cond(
            row["can_change"],
            rx.hstack(
                rx.el.label("Move to", html_for="calendar-move-when"),
                rx.el.input(
                    type="datetime-local",
                    id="calendar-move-when",
                    value=CalendarState.move_when,
                    on_change=CalendarState.set_move_when,
                ),
                rx.button("Move", on_click=CalendarState.move),
                rx.button(
                    "Cancel post", color_scheme="red", variant="soft", on_click=CalendarState.cancel
                ),
                align="center",
                wrap="wrap",
            ),
        ),
        rx.cond(
            row["can_decide"],
            rx.hstack(
                rx.button("Approve", color_scheme="green", on_click=CalendarState.approve),
                rx.button(
                    "Reject", color_scheme="red", variant="soft", on_click=CalendarState.reject
                ),
            ),
        ),
    )


def _planned(item: rx.Var[Planned]) -> rx.Component:
    return rx.hstack(
        rx.text(
            item["when_local"].to(str).replace("T", " "),
            " · ",
            item["video_title"],
            " → ",
            item["account_name"],
            size="2",
        ),
        sandbox_badge(item["sandbox"]),
        align="center",
        data_testid="calendar-planned",
    )


def _fill() -> rx.Component:
    return card(
        rx.heading("Fill a campaign's schedule", size="3", as_="h3"),
        rx.text(
            "Its ready videos that are not posted yet go into the schedule's posting times "
            "over the next 7 days, oldest first (TikTok posts start as only-me).",
            size="2",
        ),
        rx.hstack(
            rx.el.label("Campaign", html_for="calendar-fill-campaign"),
            rx.el.select(
                rx.el.option("Choose…", value=""),
                rx.foreach(
                    CalendarState.campaigns, lambda c: rx.el.option(c["label"], value=c["value"])
                ),
                id="calendar-fill-campaign",
                value=CalendarState.fill_campaign,
                on_change=CalendarState.set_fill_campaign,
            ),
            rx.button("Preview", variant="soft", on_click=CalendarState.preview_fill),
            align="center",
            wrap="wrap",
        ),
        rx.cond(
            CalendarState.preview.length() > 0,
            rx.vstack(
                rx.foreach(CalendarState.preview, _planned),
                rx.button("Schedule these", on_click=CalendarState.confirm_fill),
                spacing="2",
            ),
        ),
    )


def calendar_page() -> rx.Component:
    """The calendar."""
    return app_shell(
        "Calendar",
        _toolbar(),
        error_callout(CalendarState.error),
        rx.cond(
            CalendarState.notice != "",
            rx.text(CalendarState.notice, role="status", color_scheme="green"),
        ),
        rx.cond(CalendarState.selected, _selected()),
        rx.cond(CalendarState.view == "list", _list(), _grid()),
        rx.cond(CalendarState.can_post, _fill()),
    )
