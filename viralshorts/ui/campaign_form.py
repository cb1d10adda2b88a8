"""The campaign form: /app/campaigns/new and /app/campaigns/[campaign_id].

Every handler checks what the browser sent (an event is a public endpoint); database work runs
in a thread so one slow query never holds up the other tabs on this server.
"""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx

from viralshorts.db import session_scope
from viralshorts.domain import campaigns as domain
from viralshorts.domain import video_requests, voice_catalogue
from viralshorts.domain.workspaces import Actor
from viralshorts.errors import NotFoundError, PermissionDeniedError, ValidationError
from viralshorts.integrations.services import get_services
from viralshorts.models import Campaign, Schedule
from viralshorts.ui import guards
from viralshorts.ui.fields import Option, options, select_control
from viralshorts.ui.layout import app_shell, card

TEXT_FIELDS = (
    "name", "niche", "tone", "language", "voice", "caption_style", "look", "palette", "timezone",
)  # fmt: skip
NEW_DEFAULTS: dict[str, str] = {
    "name": "",
    "niche": "",
    "tone": "energetic",
    "language": "en",
    "voice": "piper:joe",
    "caption_style": "bold",
    "look": "generated",
    "palette": "auto",
    "times_text": "",
    "timezone": "UTC",
}
LOOK_HINT = (
    "The colours of generated backgrounds, the hook and fact cards and the thumbnails. "
    "Automatic gives each video one of them."
)
STOCK_NOTE = (
    "Stock footage is not available on this site yet. Generated motion backgrounds and your "
    "own uploaded clips work today."
)


def _campaign_id_from_path(path: str) -> int | None:
    return guards.record_id(path.rstrip("/").rsplit("/", 1)[-1])


def _form_values(campaign: Campaign, schedule: Schedule | None) -> dict[str, Any]:
    values: dict[str, Any] = {
        key: getattr(campaign, key) for key in TEXT_FIELDS if key != "timezone"
    }
    values["platforms"] = list(campaign.default_platforms)
    values["archived"] = campaign.archived_at is not None
    if schedule is not None:
        values["days"], values["timezone"] = list(schedule.days), schedule.timezone
        values["times_text"] = ", ".join(schedule.times)
    return values


def _load(actor: Actor, campaign_id: int) -> dict[str, Any]:
    with session_scope() as s:
        campaign = domain.get_campaign(s, actor=actor, campaign_id=campaign_id)
        schedule = domain.get_schedule(s, actor=actor, campaign_id=campaign_id)
        return _form_values(campaign, schedule)


def _save(actor: Actor, campaign_id: int, data: domain.CampaignInput) -> int:
    """Create (``campaign_id == 0``) or update the campaign; returns its id."""
    services = get_services()
    with session_scope() as s:
        if campaign_id:
            domain.update_campaign(
                s, actor=actor, campaign_id=campaign_id, data=data, services=services
            )
            return campaign_id
        return domain.create_campaign(s, actor=actor, data=data, services=services).id or 0


def _set_archived(actor: Actor, campaign_id: int, archived: bool) -> None:
    change = domain.archive_campaign if archived else domain.restore_campaign
    with session_scope() as s:
        change(s, actor=actor, campaign_id=campaign_id)


def _language_choices() -> list[Option]:
    """Every language, with the ones this site cannot make videos in yet marked (and why)."""
    languages = video_requests.language_options(get_services())
    labels = {language.code: language.label for language in languages}
    return options(labels, {lang.code: lang.note for lang in languages if not lang.available})


def _voice_languages() -> dict[str, list[str]]:
    """Every voice this site offers now, with the languages it speaks."""
    offered = voice_catalogue.offered_voices(get_services())
    return {voice: sorted(voice_catalogue.voice_language_codes(voice)) for voice in offered}


def _voice_choices(language: str, voice_languages: dict[str, list[str]]) -> list[Option]:
    """The offered voices that speak ``language`` (all offered ones when none does)."""
    labels = voice_catalogue.offered_voices(get_services())
    speaking = [v for v, codes in voice_languages.items() if language in codes]
    return options({v: labels[v] for v in speaking or voice_languages if v in labels})


def _bad_request() -> rx.event.EventSpec:
    return rx.toast.error(guards.BAD_REQUEST)


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
    palette: str = "auto"
    platforms: list[str] = []
    days: list[int] = []
    times_text: str = ""
    timezone: str = "UTC"
    voices: list[Option] = []
    languages: list[Option] = []
    backgrounds: list[Option] = []
    palettes: list[Option] = options(domain.PALETTES)
    stock_enabled: bool = False
    errors: dict[str, str] = {}
    _voice_languages: dict[str, list[str]] = {}

    def _fit_voice(self) -> None:
        """List the voices that speak the chosen language and keep one of them picked."""
        self.voice = voice_catalogue.voice_for(self.language, self.voice, self._voice_languages)
        self.voices = _voice_choices(self.language, self._voice_languages)

    def _reset_form(self) -> None:
        for key, value in NEW_DEFAULTS.items():
            setattr(self, key, value)
        self.platforms, self.days, self.errors = [], [], {}
        self.editing_id, self.archived, self.not_found = 0, False, False
        self._voice_languages = _voice_languages()
        self._fit_voice()
        self.languages = _language_choices()
        unavailable = domain.unavailable_backgrounds()
        self.backgrounds = options(domain.BACKGROUNDS, unavailable)
        self.stock_enabled = "stock" not in unavailable

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
        actor, leave = await guards.session_actor(self)
        if actor is None:
            return leave
        campaign_id = _campaign_id_from_path(self.router.url.path)
        try:
            if campaign_id is None:
                raise NotFoundError("Campaign not found.", code="campaign_not_found")
            values = await asyncio.to_thread(_load, actor, campaign_id)
        except NotFoundError:
            self.not_found = True
        else:
            for key, value in values.items():
                setattr(self, key, value)
            self._fit_voice()
            self.editing_id = campaign_id
        self.loaded = True
        return None

    @rx.event
    def set_field(self, field: str, value: str):
        """Keep a typed or picked value (only the form's own fields, only text)."""
        typed = guards.text(value)
        if field not in (*TEXT_FIELDS, "times_text") or typed is None:
            return _bad_request()
        setattr(self, field, typed)
        if field == "language":
            self._fit_voice()
        return None

    @rx.event
    def toggle_platform(self, platform: str, checked: bool):
        """Tick or untick a target platform."""
        name, ticked = guards.text(platform, max_length=40), guards.flag(checked)
        if name not in domain.PLATFORMS or ticked is None:
            return _bad_request()
        rest = [p for p in self.platforms if p != name]
        self.platforms = [*rest, name] if ticked else rest
        return None

    @rx.event
    def toggle_day(self, day: int, checked: bool):
        """Tick or untick a posting weekday (0 = Monday)."""
        index, ticked = guards.whole_number(day), guards.flag(checked)
        if index not in range(len(domain.WEEKDAYS)) or ticked is None:
            return _bad_request()
        rest = [d for d in self.days if d != index]
        self.days = sorted([*rest, index]) if ticked else rest
        return None

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
        actor, leave = await guards.session_actor(self)
        if actor is None:
            return leave
        editing_id = self.editing_id
        try:
            saved_id = await asyncio.to_thread(_save, actor, editing_id, self._input())
        except PermissionDeniedError as exc:
            return rx.toast.error(exc.message)
        except ValidationError as exc:
            self.errors = exc.field_errors
            return rx.toast.error("Please fix the highlighted fields.")
        except NotFoundError:
            self.not_found = True
            return None
        self.errors = {}
        if editing_id:
            return rx.toast.success("Changes saved.")
        return [rx.toast.success("Campaign created."), rx.redirect(f"/app/campaigns/{saved_id}")]

    @rx.event
    async def set_archived(self, archived: bool):
        """Archive or restore this campaign."""
        wanted = guards.flag(archived)
        if wanted is None:
            return _bad_request()
        actor, leave = await guards.session_actor(self)
        if actor is None:
            return leave
        if not self.editing_id:
            return None
        try:
            await asyncio.to_thread(_set_archived, actor, self.editing_id, wanted)
        except PermissionDeniedError as exc:
            return rx.toast.error(exc.message)
        except NotFoundError:
            self.not_found = True
            return None
        self.archived = wanted
        return rx.toast.success("Campaign archived." if wanted else "Campaign restored.")


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


def _select(
    label: str, key: str, choices: list[Option] | rx.Var[list[Option]], hint: str = ""
) -> rx.Component:
    control = select_control(
        f"campaign-{key}",
        key,
        choices,
        getattr(S, key),
        lambda value: S.set_field(key, value),
        invalid=S.errors.contains(key),
        described_by=f"{key}-error",
    )
    return _field(label, key, control, hint)


def _stock_note() -> rx.Component:
    return rx.cond(
        S.stock_enabled,
        rx.fragment(),
        rx.text(STOCK_NOTE, size="1", color_scheme="gray", id="look-note"),
    )


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
            _select("Tone", "tone", options(domain.TONES)),
            _select("Language", "language", S.languages),
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
            _select("Caption style", "caption_style", options(domain.CAPTION_STYLES)),
            _select("Background", "look", S.backgrounds),
            columns={"initial": "1", "sm": "3"},
            spacing="4",
            width="100%",
        ),
        _stock_note(),
        _select("Look", "palette", S.palettes, hint=LOOK_HINT),
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
