"""The Publish panel of a ready video (on /app/videos/[video_id]): pick accounts, publish now
or at a time in the workspace's timezone, fill each platform's fields with live counters, and
see the pre-flight's reasons next to them; below, this video's posts."""

from __future__ import annotations

import asyncio
import functools
from typing import Any, TypedDict

import reflex as rx

from viralshorts.db import session_scope
from viralshorts.domain import post_calendar, posts
from viralshorts.domain.post_limits import LIMITS, caption_text, limits_for, measured_length
from viralshorts.domain.post_preflight import parse_options
from viralshorts.domain.post_times import workspace_of
from viralshorts.domain.workspaces import Action, Actor, can
from viralshorts.errors import ValidationError, ViralShortsError
from viralshorts.integrations.services import get_services
from viralshorts.models import Platform, Video
from viralshorts.ui.accounts import sandbox_badge
from viralshorts.ui.guards import BAD_REQUEST, record_id, session_actor, text
from viralshorts.ui.layout import card, error_callout

TEXT_FIELDS = ("title", "description", "hashtags", "privacy")
SWITCHES = (
    "made_for_kids",
    "synthetic_content",
    "disable_comment",
    "disable_duet",
    "disable_stitch",
    "share_to_feed",
)
STATUS_COLORS = {
    "pending_approval": "amber",
    "rejected": "gray",
    "scheduled": "blue",
    "queued": "cyan",
    "uploading": "cyan",
    "processing": "cyan",
    "published": "green",
    "failed": "red",
    "canceled": "gray",
}


class AccountRow(TypedDict):
    id: int
    platform: str
    label: str
    name: str
    sandbox: bool
    ready: bool
    note: str


class PostRow(TypedDict):
    id: int
    video_id: int
    video_title: str
    platform_label: str
    account_name: str
    sandbox: bool
    status: str
    status_label: str
    color: str
    when_local: str
    when_text: str
    url: str
    last_error: str
    paused: str
    can_change: bool
    can_decide: bool


def post_row(view: post_calendar.PostView) -> PostRow:
    """A post as the pages show it (plain values for the browser)."""
    return PostRow(
        id=view.id,
        video_id=view.video_id,
        video_title=view.video_title,
        platform_label=view.platform_label,
        account_name=view.account_name,
        sandbox=view.sandbox,
        status=view.status,
        status_label=view.status.replace("_", " ").capitalize(),
        color=STATUS_COLORS.get(view.status, "gray"),
        when_local=view.when_local,
        when_text=view.when_local.replace("T", " "),
        url=view.url,
        last_error=view.last_error,
        paused=view.paused,
        can_change=view.can_change,
        can_decide=view.can_decide,
    )


def _load(actor: Actor, video_id: int) -> dict[str, Any] | None:
    services = get_services()
    with session_scope() as session:
        video = session.get(Video, video_id)
        if video is None or video.workspace_id != actor.workspace_id:
            return None
        values = {}
        for platform in Platform:
            for name, value in posts.default_fields(video, platform).items():
                values[f"{platform.value}.{name}"] = value
        return {
            "accounts": [
                AccountRow(**vars(c)) for c in posts.publish_choices(session, services, actor=actor)
            ],
            "values": {k: v for k, v in values.items() if not isinstance(v, bool)},
            "switches": {k: v for k, v in values.items() if isinstance(v, bool)},
            "timezone": workspace_of(session, actor).timezone,
            "tiktok_privacy": posts.tiktok_privacy_options(session, services, actor=actor),
            "posts": [
                post_row(v)
                for v in post_calendar.posts_of_video(session, actor=actor, video_id=video_id)
            ],
            "can_post": can(actor, Action.MANAGE_POSTS),
        }


def _fields_of(values: dict[str, str], switches: dict[str, bool], platform: str) -> dict[str, Any]:
    prefix = f"{platform}."
    fields: dict[str, Any] = {
        k[len(prefix) :]: v for k, v in values.items() if k.startswith(prefix)
    }
    fields.update({k[len(prefix) :]: v for k, v in switches.items() if k.startswith(prefix)})
    return fields


def _publish(actor: Actor, video_id: int, requests: list[posts.PostRequest], when: str) -> int:
    with session_scope() as session:
        made = posts.publish_video(
            session,
            get_services(),
            actor=actor,
            video_id=video_id,
            requests=requests,
            when_local=when,
        )
        return len(made)


def _cancel(actor: Actor, post_id: int) -> None:
    with session_scope() as session:
        posts.cancel(session, get_services(), actor=actor, post_id=post_id)


def _counter(platform: Platform, name: str, values: dict[str, str]) -> tuple[str, bool]:
    limits = LIMITS[platform]
    if name == "title":
        used, limit = len(values.get(f"{platform.value}.title", "").strip()), limits.title_max
    elif name == "hashtags":
        options = parse_options({"hashtags": values.get(f"{platform.value}.hashtags", "")})
        used, limit = len(options.hashtags), limits.hashtags_max
    else:
        options = parse_options(_fields_of(values, {}, platform.value))
        caption = caption_text(options.description, options.hashtags)
        used, limit = measured_length(caption, limits.caption_unit), limits.caption_max
    return (f"{used} / {limit}" if limit else f"{used}"), bool(limit and used > limit)


class PublishState(rx.State):
    """The panel of one video; every handler checks the session and its arguments."""

    accounts: list[AccountRow] = []
    chosen: list[int] = []
    values: dict[str, str] = {}
    switches: dict[str, bool] = {}
    mode: str = "now"
    when: str = ""
    timezone: str = "UTC"
    tiktok_privacy: list[str] = []
    posts: list[PostRow] = []
    messages: list[str] = []
    notice: str = ""
    error: str = ""
    can_post: bool = False
    busy: bool = False
    _video_id: int = 0

    @rx.var
    def counters(self) -> dict[str, str]:
        """``"youtube.title" -> "12 / 100"``, as the platform counts it, while typing."""
        return {
            f"{p.value}.{n}": _counter(p, n, self.values)[0]
            for p in Platform
            for n in ("title", "description", "hashtags")
        }

    @rx.var
    def over_limit(self) -> dict[str, bool]:
        return {
            f"{p.value}.{n}": _counter(p, n, self.values)[1]
            for p in Platform
            for n in ("title", "description", "hashtags")
        }

    @rx.var
    def chosen_platforms(self) -> list[str]:
        ids = set(self.chosen)
        return sorted({a["platform"] for a in self.accounts if a["id"] in ids})

    async def _refresh(self, actor: Actor) -> None:
        snapshot = await asyncio.to_thread(_load, actor, self._video_id) if self._video_id else None
        if snapshot is None:
            return
        self.accounts, self.timezone = snapshot["accounts"], snapshot["timezone"]
        self.tiktok_privacy, self.posts = snapshot["tiktok_privacy"], snapshot["posts"]
        self.can_post = snapshot["can_post"]
        if not self.values:
            self.values, self.switches = snapshot["values"], snapshot["switches"]

    @rx.event
    async def load(self):
        """Load the accounts, the fields' defaults and this video's posts."""
        actor, leave = await session_actor(self)
        if actor is None:
            return leave
        self._video_id = record_id(self.router.url.path.rstrip("/").rsplit("/", 1)[-1]) or 0
        self.values, self.switches, self.chosen = {}, {}, []
        self.messages, self.notice, self.error = [], "", ""
        await self._refresh(actor)
        return None

    @rx.event
    def choose(self, account_id: Any, checked: Any):
        """Pick or drop an account."""
        number = record_id(account_id)
        ready = {a["id"] for a in self.accounts if a["ready"]}
        if number is None or not isinstance(checked, bool) or number not in ready:
            self.error = BAD_REQUEST
            return
        self.chosen = [i for i in self.chosen if i != number] + ([number] if checked else [])

    @rx.event
    def set_value(self, key: Any, value: Any):
        """Remember a typed field (``youtube.title`` ...)."""
        typed = text(value, max_length=20_000)
        if not isinstance(key, str) or key not in self.values or typed is None:
            self.error = BAD_REQUEST
            return
        self.values[key] = typed

    @rx.event
    def set_switch(self, key: Any, checked: Any):
        """Flip one of a platform's switches."""
        if not isinstance(key, str) or key not in self.switches or not isinstance(checked, bool):
            self.error = BAD_REQUEST
            return
        self.switches[key] = checked

    @rx.event
    def set_mode(self, mode: Any):
        """Publish now, or at a time."""
        self.mode = mode if mode in ("now", "schedule") else "now"

    @rx.event
    def set_when(self, value: Any):
        """The local date and time to publish at."""
        self.when = text(value, max_length=32) or ""

    def _requests(self) -> list[posts.PostRequest]:
        by_id = {a["id"]: a for a in self.accounts}
        return [
            posts.PostRequest(i, _fields_of(self.values, self.switches, by_id[i]["platform"]))
            for i in self.chosen
            if i in by_id
        ]

    def _explain(self, errors: dict[str, str]) -> list[str]:
        names = {str(a["id"]): f"{a['label']} · {a['name']}" for a in self.accounts}
        lines = []
        for key, message in errors.items():
            account, _, _field = key.partition(".")
            lines.append(f"{names[account]}: {message}" if account in names else message)
        return lines

    @rx.event
    async def submit(self):
        """Run the pre-flight and, when every account passes, publish or schedule."""
        self.messages, self.notice, self.error = [], "", ""
        actor, leave = await session_actor(self)
        if actor is None:
            return leave
        when = self.when if self.mode == "schedule" else ""
        if self.mode == "schedule" and not when:
            self.messages = ["Pick the date and time to publish at."]
            return None
        call = functools.partial(_publish, actor, self._video_id, self._requests(), when)
        try:
            made = await asyncio.to_thread(call)
        except ValidationError as exc:
            self.messages = self._explain(exc.field_errors)
            return None
        except ViralShortsError as exc:
            self.error = str(exc)
            return None
        self.notice = (
            f"Scheduled {made} post(s) for {when.replace('T', ' ')} ({self.timezone})."
            if when
            else f"Publishing {made} post(s) now."
        )
        self.chosen = []
        await self._refresh(actor)
        return None

    @rx.event
    async def cancel_post(self, post_id: Any):
        """Cancel one of this video's posts before it goes out."""
        self.error = ""
        actor, leave = await session_actor(self)
        if actor is None:
            return leave
        number = record_id(post_id)
        if number is None or number not in {p["id"] for p in self.posts}:
            self.error = BAD_REQUEST
            return None
        try:
            await asyncio.to_thread(_cancel, actor, number)
        except ValidationError as exc:
            self.error = " ".join(exc.field_errors.values())
        except ViralShortsError as exc:
            self.error = str(exc)
        await self._refresh(actor)
        return None


# ----------------------------------------------------------------------------- components

INPUT_STYLE = {
    "width": "100%",
    "padding": "0.5rem",
    "border": "1px solid var(--gray-7)",
    "border_radius": "var(--radius-2)",
}


def _account_choice(account: rx.Var[AccountRow]) -> rx.Component:
    control_id = f"publish-account-{account['id']}"
    return rx.hstack(
        rx.el.input(
            type="checkbox",
            id=control_id,
            disabled=~account["ready"].to(bool),
            checked=PublishState.chosen.contains(account["id"]),
            on_change=lambda checked: PublishState.choose(account["id"], checked),
        ),
        rx.el.label(account["label"], " · ", account["name"], html_for=control_id),
        sandbox_badge(account["sandbox"]),
        rx.cond(account["note"] != "", rx.text(account["note"], size="1", color_scheme="amber")),
        align="center",
        wrap="wrap",
    )


def _text_field(platform: str, name: str, label: str, multiline: bool = False) -> rx.Component:
    key = f"{platform}.{name}"
    field_id = f"publish-{platform}-{name}"
    element = rx.el.textarea if multiline else rx.el.input
    counter = rx.text(
        PublishState.counters[key],
        id=f"{field_id}-count",
        size="1",
        color_scheme=rx.cond(PublishState.over_limit[key], "red", "gray"),
        aria_live="polite",
    )
    return rx.vstack(
        rx.hstack(
            rx.el.label(label, html_for=field_id, style={"font_weight": "500"}),
            rx.spacer(),
            counter,
            width="100%",
        ),
        element(
            id=field_id,
            value=PublishState.values[key],
            rows=4 if multiline else None,
            on_change=lambda v: PublishState.set_value(key, v),
            style=INPUT_STYLE,
            aria_describedby=f"{field_id}-count",
        ),
        spacing="1",
        width="100%",
    )


def _switch(platform: str, name: str, label: str) -> rx.Component:
    key = f"{platform}.{name}"
    control_id = f"publish-{platform}-{name}"
    return rx.hstack(
        rx.el.input(
            type="checkbox",
            id=control_id,
            checked=PublishState.switches[key],
            on_change=lambda checked: PublishState.set_switch(key, checked),
        ),
        rx.el.label(label, html_for=control_id),
        align="center",
    )


def _privacy(platform: str, choices: list[str] | rx.Var[list[str]]) -> rx.Component:
    key = f"{platform}.privacy"
    control_id = f"publish-{platform}-privacy"
    items = (
        [rx.el.option(c, value=c) for c in choices]
        if isinstance(choices, list)
        else [rx.foreach(choices, lambda c: rx.el.option(c, value=c))]
    )
    return rx.vstack(
        rx.el.label("Who can see it", html_for=control_id, style={"font_weight": "500"}),
        rx.el.select(
            rx.el.option("Choose…", value=""),
            *items,
            id=control_id,
            value=PublishState.values[key],
            style=INPUT_STYLE,
            on_change=lambda v: PublishState.set_value(key, v),
        ),
        spacing="1",
        width="100%",
    )


def _platform_fields(platform: Platform) -> rx.Component:
    name = platform.value
    limits = limits_for(platform)
    parts: list[rx.Component] = [rx.heading(limits.label, size="3", as_="h4")]
    if platform == Platform.YOUTUBE:
        parts += [
            _text_field(name, "title", "Title"),
            _text_field(name, "description", "Description", multiline=True),
            _text_field(name, "hashtags", "Tags"),
            _privacy(name, list(limits.privacy_options)),
            _switch(name, "made_for_kids", "Made for kids"),
            _switch(name, "synthetic_content", "Altered or synthetic content"),
        ]
    elif platform == Platform.TIKTOK:
        parts += [
            _text_field(name, "description", "Caption", multiline=True),
            _text_field(name, "hashtags", "Hashtags"),
            _privacy(name, PublishState.tiktok_privacy),
            _switch(name, "disable_comment", "Turn off comments"),
            _switch(name, "disable_duet", "Turn off duets"),
            _switch(name, "disable_stitch", "Turn off stitches"),
        ]
    else:
        parts += [
            _text_field(name, "description", "Caption", multiline=True),
            _text_field(name, "hashtags", "Hashtags"),
            _switch(name, "share_to_feed", "Also share to the feed"),
        ]
    return rx.cond(PublishState.chosen_platforms.contains(name), card(*parts))


def _when_choice(mode: str, label: str) -> rx.Component:
    return rx.text(
        rx.flex(rx.radio_group.item(value=mode), label, spacing="2", align="center"),
        as_="label",
        size="2",
    )


def _when() -> rx.Component:
    return rx.vstack(
        rx.radio_group.root(
            rx.flex(_when_choice("now", "Now"), _when_choice("schedule", "At a time"), spacing="4"),
            value=PublishState.mode,
            on_change=PublishState.set_mode,
            aria_label="When to publish",
        ),
        rx.cond(
            PublishState.mode == "schedule",
            rx.vstack(
                rx.el.label("Publish at (", PublishState.timezone, ")", html_for="publish-when"),
                rx.el.input(
                    type="datetime-local",
                    id="publish-when",
                    value=PublishState.when,
                    on_change=PublishState.set_when,
                    style=INPUT_STYLE,
                ),
                spacing="1",
            ),
        ),
        spacing="2",
    )


def post_badge(row: rx.Var[PostRow]) -> rx.Component:
    return rx.badge(row["status_label"], color_scheme=row["color"].to(str), variant="soft")


def _post_line(row: rx.Var[PostRow]) -> rx.Component:
    return rx.hstack(
        post_badge(row),
        rx.text(
            row["platform_label"], " · ", row["account_name"], " · ", row["when_text"], size="2"
        ),
        sandbox_badge(row["sandbox"]),
        rx.cond(
            row["url"] != "",
            rx.el.elements.a(
                "Open the live video", href=row["url"], target="_blank", rel="noopener"
            ),
        ),
        rx.cond(row["last_error"] != "", rx.text(row["last_error"], size="1", color_scheme="red")),
        rx.cond(row["paused"] != "", rx.text(row["paused"], size="1", color_scheme="amber")),
        rx.cond(
            row["can_change"],
            rx.button(
                "Cancel post",
                size="1",
                variant="soft",
                color_scheme="red",
                on_click=PublishState.cancel_post(row["id"]),
            ),
        ),
        align="center",
        wrap="wrap",
        data_testid="video-post",
    )


def publish_panel() -> rx.Component:
    """The panel (it loads itself when shown)."""
    form = rx.vstack(
        rx.text("Accounts", weight="medium"),
        rx.cond(
            PublishState.accounts.length() > 0,
            rx.vstack(rx.foreach(PublishState.accounts, _account_choice), spacing="1"),
            rx.text(
                "No account is connected yet. ",
                rx.link("Connect one on the Accounts page", href="/app/accounts"),
                ".",
            ),
        ),
        *[_platform_fields(p) for p in Platform],
        _when(),
        rx.cond(
            PublishState.messages.length() > 0,
            rx.callout(
                rx.vstack(rx.foreach(PublishState.messages, lambda m: rx.text(m, size="2"))),
                color_scheme="red",
                role="alert",
                title="Not accepted yet",
            ),
        ),
        rx.hstack(
            rx.button(
                "Publish", on_click=PublishState.submit, disabled=PublishState.chosen.length() == 0
            ),
            rx.text(PublishState.notice, role="status", color_scheme="green"),
            align="center",
        ),
        spacing="3",
        width="100%",
    )
    return card(
        rx.heading("Publish", size="4", as_="h3"),
        rx.cond(
            PublishState.can_post,
            form,
            rx.text("Your role can see this video's posts but not publish.", size="2"),
        ),
        error_callout(PublishState.error),
        rx.cond(
            PublishState.posts.length() > 0,
            rx.vstack(
                rx.text("Posts of this video", weight="medium"),
                rx.foreach(PublishState.posts, _post_line),
                spacing="2",
            ),
        ),
        on_mount=PublishState.load,
    )
