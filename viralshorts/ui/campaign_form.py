"""The campaign form: /app/campaigns/new and /app/campaigns/[campaign_id]."""

from __future__ import annotations

import reflex as rx

from viralshorts.db import session_scope
from viralshorts.domain import campaigns as domain
from viralshorts.errors import NotFoundError, ValidationError
from viralshorts.models import Campaign, Schedule
from viralshorts.ui.layout import app_shell, card
from viralshorts.ui.state import AuthState

TEXT_FIELDS = ("name", "niche", "tone", "language", "voice", "caption_style", "look", "timezone")
NEW_DEFAULTS: dict[str, str] = {
    "name": "",
    "niche": "",
    "tone": "energetic",
    "language": "en",
    "voice": "piper:joe",
    "caption_style": "bold",
    "look": "generated",
    "times_text": "",
    "timezone": "UTC",
}


def _campaign_id_from_path(path: str) -> int | None:
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return int(last) if last.isdigit() else None


class CampaignFormState(rx.State):
    """One campaign being created or edited; only plain values live here."""

    editing_id: int = 0
    loaded: bool = False
    not_found: bool = False
    archived: bool = False
    name: str = ""
    niche: str = ""
    tone: str = "energetic"
    language: str = "en"
    voice: str = "piper:joe"
    caption_style: str = "bold"
    look: str = "generated"
    platforms: list[str] = []
    days: list[int] = []
    times_text: str = ""
    timezone: str = "UTC"
    voices: list[tuple[str, str]] = []
    errors: dict[str, str] = {}

    def _reset_form(self) -> None:
        for key, value in NEW_DEFAULTS.items():
            setattr(self, key, value)
        self.platforms, self.days, self.errors = [], [], {}
        self.editing_id, self.archived, self.not_found = 0, False, False
        self.voices = list(domain.voice_options().items())

    def _fill(self, campaign: Campaign, schedule: Schedule | None) -> None:
        for key in ("name", "niche", "tone", "language", "voice", "caption_style", "look"):
            setattr(self, key, getattr(campaign, key))
        self.platforms = list(campaign.default_platforms)
        self.editing_id, self.archived = campaign.id or 0, campaign.archived_at is not None
        if schedule is not None:
            self.days, self.timezone = list(schedule.days), schedule.timezone
            self.times_text = ", ".join(schedule.times)

    @rx.event
    def load_new(self):
        """Start an empty form."""
        self._reset_form()
        self.loaded = True

    @rx.event
    async def load_existing(self):
        """Load the campaign named in the URL; someone else's looks exactly like a missing one."""
        self._reset_form()
        self.loaded = False
        auth = await self.get_state(AuthState)
        campaign_id = _campaign_id_from_path(self.router.url.path)
        if auth._user_id is None:
            return
        try:
            if campaign_id is None:
                raise NotFoundError("Campaign not found.")
            with session_scope() as s:
                campaign = domain.get_campaign(s, user_id=auth._user_id, campaign_id=campaign_id)
                self._fill(
                    campaign, domain.get_schedule(s, user_id=auth._user_id, campaign_id=campaign_id)
                )
        except NotFoundError:
            self.not_found = True
        self.loaded = True

    @rx.event
    def set_field(self, field: str, value: str):
        """Keep a typed or picked value (only the form's own fields)."""
        if field in TEXT_FIELDS or field == "times_text":
            setattr(self, field, value)

    @rx.event
    def toggle_platform(self, platform: str, checked: bool):
        """Tick or untick a target platform."""
        rest = [p for p in self.platforms if p != platform]
        self.platforms = [*rest, platform] if checked else rest

    @rx.event
    def toggle_day(self, day: int, checked: bool):
        """Tick or untick a posting weekday."""
        rest = [d for d in self.days if d != day]
        self.days = sorted([*rest, day]) if checked else rest

    def _input(self) -> domain.CampaignInput:
        values = {key: getattr(self, key) for key in TEXT_FIELDS}
        return domain.CampaignInput(
            **values,
            platforms=list(self.platforms),
            days=list(self.days),
            times=domain.split_times(self.times_text),
        )

    @rx.event
    async def save(self, _form: dict):
        """Create or update the campaign; rule breaks show next to their fields."""
        user_id = (await self.get_state(AuthState))._user_id
        if user_id is None:
            return rx.redirect("/sign-in")
        try:
            with session_scope() as s:
                if self.editing_id:
                    domain.update_campaign(
                        s, user_id=user_id, campaign_id=self.editing_id, data=self._input()
                    )
                    self.errors = {}
                    return rx.toast.success("Changes saved.")
                created = domain.create_campaign(s, user_id=user_id, data=self._input())
                new_id = created.id
        except ValidationError as exc:
            self.errors = exc.field_errors
            return rx.toast.error("Please fix the highlighted fields.")
        except NotFoundError:
            self.not_found = True
            return None
        self.errors = {}
        return [rx.toast.success("Campaign created."), rx.redirect(f"/app/campaigns/{new_id}")]

    @rx.event
    async def set_archived(self, archived: bool):
        """Archive or restore this campaign."""
        user_id = (await self.get_state(AuthState))._user_id
        if user_id is None or not self.editing_id:
            return None
        change = domain.archive_campaign if archived else domain.restore_campaign
        try:
            with session_scope() as s:
                change(s, user_id=user_id, campaign_id=self.editing_id)
        except NotFoundError:
            self.not_found = True
            return None
        self.archived = archived
        return rx.toast.success("Campaign archived." if archived else "Campaign restored.")


# ------------------------------------------------------------------------------------ components
S = CampaignFormState


def _error(key: str) -> rx.Component:
    return rx.cond(
        S.errors.contains(key),
        rx.text(S.errors[key], color_scheme="red", size="1", id=f"{key}-error", role="alert"),
    )


def _field(label: str, key: str, control: rx.Component, hint: str = "") -> rx.Component:
    return rx.vstack(
        rx.el.label(rx.text(label, size="2", weight="medium"), html_for=f"campaign-{key}"),
        control,
        rx.cond(hint != "", rx.text(hint, size="1", color_scheme="gray")),
        _error(key),
        spacing="1",
        width="100%",
    )


def _text_input(label: str, key: str, placeholder: str, hint: str = "") -> rx.Component:
    source = "times_text" if key == "times" else key
    control = rx.input(
        id=f"campaign-{key}",
        name=key,
        value=getattr(S, source),
        on_change=lambda value: S.set_field(source, value),
        placeholder=placeholder,
        aria_label=label,
        aria_invalid=S.errors.contains(key),
        aria_describedby=f"{key}-error",
        width="100%",
    )
    return _field(label, key, control, hint)


def _select(label: str, key: str, options: dict[str, str] | rx.Var) -> rx.Component:
    if isinstance(options, dict):
        items = [rx.select.item(text, value=value) for value, text in options.items()]
    else:
        items = [rx.foreach(options, lambda pair: rx.select.item(pair[1], value=pair[0]))]
    control = rx.select.root(
        rx.select.trigger(id=f"campaign-{key}", aria_label=label, width="100%"),
        rx.select.content(*items),
        value=getattr(S, key),
        on_change=lambda value: S.set_field(key, value),
    )
    return _field(label, key, control)


def _checks(label: str, key: str, boxes: list[rx.Component]) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium", id=f"campaign-{key}-label"),
        rx.flex(
            *boxes, spacing="4", wrap="wrap", role="group", aria_labelledby=f"campaign-{key}-label"
        ),
        _error(key),
        spacing="2",
        width="100%",
    )


def _platform_boxes() -> list[rx.Component]:
    return [
        rx.checkbox(
            text,
            checked=S.platforms.contains(value),
            on_change=lambda checked, v=value: S.toggle_platform(v, checked),
        )
        for value, text in domain.PLATFORMS.items()
    ]


def _day_boxes() -> list[rx.Component]:
    return [
        rx.checkbox(
            text,
            checked=S.days.contains(index),
            on_change=lambda checked, i=index: S.toggle_day(i, checked),
        )
        for index, text in enumerate(domain.WEEKDAYS)
    ]


def _content_card() -> rx.Component:
    return card(
        rx.heading("What the videos are about", size="4", as_="h2"),
        _text_input("Name", "name", "Space facts daily"),
        _text_input("Niche", "niche", "Mind-blowing space facts for curious teens"),
        rx.grid(
            _select("Tone", "tone", domain.TONES),
            _select("Language", "language", domain.LANGUAGES),
            columns={"initial": "1", "sm": "2"},
            spacing="4",
            width="100%",
        ),
    )


def _look_card() -> rx.Component:
    return card(
        rx.heading("Voice and look", size="4", as_="h2"),
        rx.grid(
            _select("Voice", "voice", S.voices),
            _select("Caption style", "caption_style", domain.CAPTION_STYLES),
            _select("Background", "look", domain.BACKGROUNDS),
            columns={"initial": "1", "sm": "3"},
            spacing="4",
            width="100%",
        ),
    )


def _schedule_card() -> rx.Component:
    return card(
        rx.heading("Where and when to post", size="4", as_="h2"),
        _checks("Platforms", "platforms", _platform_boxes()),
        _checks("Posting days", "days", _day_boxes()),
        rx.grid(
            _text_input("Posting times", "times", "09:00, 18:30", "24-hour times, comma separated"),
            _text_input(
                "Timezone", "timezone", "Europe/Berlin", "An IANA name, e.g. America/New_York"
            ),
            columns={"initial": "1", "sm": "2"},
            spacing="4",
            width="100%",
        ),
    )


def _actions() -> rx.Component:
    archive = rx.cond(
        S.archived,
        rx.button("Restore", type="button", variant="soft", on_click=S.set_archived(False)),
        rx.button(
            "Archive",
            type="button",
            variant="soft",
            color_scheme="gray",
            on_click=S.set_archived(True),
        ),
    )
    return rx.flex(
        rx.button(rx.cond(S.editing_id > 0, "Save changes", "Create campaign"), type="submit"),
        rx.cond(S.editing_id > 0, archive),
        rx.cond(
            S.editing_id > 0,
            rx.link("New video", href=f"/app/videos/new?campaign={S.editing_id}"),
        ),
        spacing="4",
        align="center",
        wrap="wrap",
    )


def campaign_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.cond(S.archived, rx.callout("This campaign is archived.", icon="archive")),
            _content_card(),
            _look_card(),
            _schedule_card(),
            _actions(),
            spacing="4",
            width="100%",
        ),
        on_submit=S.save,
        reset_on_submit=False,
        width="100%",
        max_width="48rem",
    )


def _not_found() -> rx.Component:
    return card(
        rx.text("It may have been deleted, or the link is wrong."),
        rx.link("Back to campaigns", href="/app/campaigns"),
    )


def new_campaign_page() -> rx.Component:
    return app_shell("New campaign", rx.cond(S.loaded, campaign_form(), rx.spinner()))


def edit_campaign_page() -> rx.Component:
    return app_shell(
        rx.cond(S.not_found, "Campaign not found", "Edit campaign"),
        rx.cond(S.loaded, rx.cond(S.not_found, _not_found(), campaign_form()), rx.spinner()),
    )
