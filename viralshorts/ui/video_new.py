"""/app/videos/new: ask for one or more videos, with a live cost line."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import reflex as rx

from viralshorts.db import session_scope
from viralshorts.domain import campaigns as campaign_domain
from viralshorts.domain import media_library, video_facts, video_requests, voice_catalogue
from viralshorts.domain import videos as video_domain
from viralshorts.domain.rendering import pipeline
from viralshorts.domain.workspaces import Actor
from viralshorts.errors import (
    NotFoundError,
    QuotaExceededError,
    ServiceUnavailableError,
    ValidationError,
)
from viralshorts.integrations.ports import Services
from viralshorts.integrations.services import get_services
from viralshorts.models import Campaign
from viralshorts.models.enums import MediaKind
from viralshorts.ui import guards
from viralshorts.ui.fields import options, select_control
from viralshorts.ui.layout import app_shell, card, error_callout

ROUTE = "/app/videos/new"
FIELDS = (
    "campaign_id",
    "topic",
    "facts",
    "custom_script",
    "count",
    "target_seconds",
    "language",
    "voice",
    "voice_speed",
    "caption_style",
    "background_source",
    "music",
)
BACKGROUND_LABELS = {
    "generated": "Generated motion",
    "uploads": "My uploads",
    "stock": "Stock footage",
}

Option = dict[str, str]


MAX_FIELD_LENGTH = 10_000
FACTS_HINT_OFFLINE = (
    "One per line. The video says exactly these: the most surprising one opens it, each other "
    "fact gets its own line, and nothing else is made up. Needed unless you paste a script."
)
FACTS_HINT_AI = "Optional, one per line: the AI writer uses every one and adds no other claims."
LIST_ROUTE = "/app/videos"


def _whole_number(text: str) -> int | None:
    # Six digits is more than any count or length allows; the domain checks the range.
    number = guards.whole_number(text.strip())
    return number if number is not None and number < 1_000_000 else None


def _decimal(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _as_text(value: object) -> str | None:
    """What the browser sent for one field as form text; None when it is not a field value."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    typed = str(value)
    return typed if len(typed) <= MAX_FIELD_LENGTH else None


def form_from_browser(form_data: object) -> dict[str, str] | None:
    """The submitted form as text by field name; None when it is not a form of ours."""
    if not isinstance(form_data, dict):
        return None
    form = {name: _as_text(form_data.get(name)) for name in FIELDS}
    return None if any(value is None for value in form.values()) else form  # type: ignore[return-value]


def parse_request(form: dict[str, str]) -> video_domain.VideoRequest:
    """Turn the form's text values into a VideoRequest.

    Raises:
        ValidationError: a number field does not hold a number.
    """
    numbers = {
        "campaign_id": _whole_number(form.get("campaign_id", "")),
        "count": _whole_number(form.get("count", "")),
        "target_seconds": _whole_number(form.get("target_seconds", "")),
    }
    speed = _decimal(form.get("voice_speed", "").strip())
    errors = {name: "Enter a whole number." for name, value in numbers.items() if value is None}
    if numbers["campaign_id"] is None:
        errors["campaign_id"] = "Choose a campaign."
    if speed is None:
        errors["voice_speed"] = "Enter a speed such as 1.0."
    if errors:
        raise ValidationError(errors)
    return video_domain.VideoRequest(
        campaign_id=numbers["campaign_id"],
        topic=form.get("topic", "").strip(),
        custom_script=form.get("custom_script", "").strip(),
        facts=form.get("facts", "").strip(),
        count=numbers["count"],
        target_seconds=numbers["target_seconds"],
        language=form.get("language", ""),
        voice=form.get("voice", ""),
        voice_speed=speed,
        caption_style=form.get("caption_style", ""),
        background_source=form.get("background_source", ""),
        music=form.get("music", ""),
    )


def _music_options(session: Any, actor: Actor) -> list[Option]:
    uploads = media_library.list_media(session, actor=actor, kind=MediaKind.MUSIC)
    return [
        {"value": "none", "label": "None"},
        *[{"value": value, "label": label} for value, label in pipeline.bundled_tracks()],
        *[{"value": f"asset:{a.id}", "label": f"My upload: {a.filename}"} for a in uploads],
    ]


def _campaign_defaults(campaign: Campaign, voice_languages: dict[str, list[str]]) -> dict[str, str]:
    look = campaign.look if campaign.look in BACKGROUND_LABELS else "generated"
    # A campaign saved with a voice this site no longer has (or one that does not speak its
    # language) starts on one that works.
    voice = voice_catalogue.voice_for(campaign.language, campaign.voice, voice_languages)
    return {
        "campaign_id": str(campaign.id),
        "language": campaign.language,
        "voice": voice,
        "voice_speed": f"{campaign.voice_speed:g}",
        "caption_style": campaign.caption_style,
        "background_source": look,
    }


def _language_choices(services: Services) -> list[Option]:
    languages = video_requests.language_options(services)
    labels = {language.code: language.label for language in languages}
    return options(labels, {lang.code: lang.note for lang in languages if not lang.available})


def load_form(actor: Actor) -> dict[str, Any]:
    """The form's choices for ``actor`` (reads the database and the services)."""
    services = get_services()
    voices = voice_catalogue.offered_voices(services)
    voice_languages = {v: sorted(voice_catalogue.voice_language_codes(v)) for v in voices}
    with session_scope() as session:
        campaigns = campaign_domain.list_campaigns(session, actor=actor)
        music = _music_options(session, actor)
    return {
        "stock_enabled": services.settings.pexels_enabled,
        "backgrounds": options(
            BACKGROUND_LABELS, campaign_domain.unavailable_backgrounds(services.settings)
        ),
        "languages": _language_choices(services),
        "voices": options(voices),
        "music": music,
        "campaigns": [{"value": str(c.id), "label": c.name} for c in campaigns],
        "defaults": {str(c.id): _campaign_defaults(c, voice_languages) for c in campaigns},
        "voice_languages": voice_languages,
        "facts_hint": FACTS_HINT_AI if services.settings.openai_enabled else FACTS_HINT_OFFLINE,
    }


def estimate_line(actor: Actor, form: dict[str, str]) -> str:
    """The cost line for the form as it stands (reads the database)."""
    try:
        request = parse_request(form)
        with session_scope() as session:
            estimate = video_domain.estimate_cost(session, actor=actor, request=request)
    except ValidationError:
        return "Enter how many videos you want to see what this uses."
    return estimate.message


def length_note(form: dict[str, str]) -> str:
    """A warning when the pasted script (else the facts) reads much shorter or longer than
    the target."""
    target = _whole_number(form.get("target_seconds", ""))
    speed = _decimal(form.get("voice_speed", "").strip())
    if target is None or speed is None:
        return ""
    spoken = form.get("custom_script", "").strip() or video_facts.facts_text(
        video_facts.fact_lines(form.get("facts", ""))
    )
    return video_requests.script_length_note(spoken, target_seconds=target, voice_speed=speed)


def _request_videos(actor: Actor, form: dict[str, str]) -> None:
    request = parse_request(form)
    with session_scope() as session:
        video_domain.request_videos(session, get_services(), actor=actor, request=request)


class NewVideoState(rx.State):
    """The request form; ``form`` holds every field's text by name."""

    form: dict[str, str] = {}
    campaigns: list[Option] = []
    languages: list[Option] = []
    voices: list[Option] = []
    caption_styles: list[Option] = options(campaign_domain.CAPTION_STYLES)
    music_options: list[Option] = []
    backgrounds: list[Option] = []
    stock_enabled: bool = False
    cost_line: str = ""
    length_note: str = ""
    field_errors: dict[str, str] = {}
    quota_error: str = ""
    submitting: bool = False
    facts_hint: str = ""
    _defaults_by_campaign: dict[str, dict[str, str]] = {}
    _voice_languages: dict[str, list[str]] = {}

    @rx.event
    async def load_page(self):
        """Fill the options, pick the campaign from ``?campaign=`` and estimate the cost."""
        actor, leave = await guards.session_actor(self)
        if actor is None:
            return leave
        loaded = await asyncio.to_thread(load_form, actor)
        self.stock_enabled, self.languages = loaded["stock_enabled"], loaded["languages"]
        self.voices, self.music_options = loaded["voices"], loaded["music"]
        self.backgrounds = loaded["backgrounds"]
        self.campaigns, self._defaults_by_campaign = loaded["campaigns"], loaded["defaults"]
        self._voice_languages, self.facts_hint = loaded["voice_languages"], loaded["facts_hint"]
        self.field_errors, self.quota_error, self.submitting = {}, "", False
        wanted = self.router.url.query_parameters.get("campaign", "")
        first = self.campaigns[0]["value"] if self.campaigns else ""
        chosen = wanted if wanted in self._defaults_by_campaign else first
        self.form = {"topic": "", "facts": "", "custom_script": "", "count": "1"}
        self.form["target_seconds"] = "30"
        self.form.update({"music": "none", **self._defaults_by_campaign.get(chosen, {})})
        self.length_note = ""
        self.cost_line = await asyncio.to_thread(estimate_line, actor, dict(self.form))
        return None

    @rx.event
    async def set_field(self, name: str, value: str | float | None):
        """Remember what was typed in one field (the cost line follows the count)."""
        typed = _as_text(value)
        if not isinstance(name, str) or name not in FIELDS or typed is None:
            return None
        self.form[name] = typed
        self.field_errors = {k: v for k, v in self.field_errors.items() if k != name}
        if name == "campaign_id":
            self.form.update(self._defaults_by_campaign.get(typed, {}))
        if name == "language":  # a voice that speaks the new language
            voice = self.form.get("voice", "")
            self.form["voice"] = voice_catalogue.voice_for(typed, voice, self._voice_languages)
        if name in ("facts", "custom_script", "target_seconds", "voice_speed", "campaign_id"):
            self.length_note = length_note(self.form)
        if name in ("count", "campaign_id", "target_seconds"):
            actor, leave = await guards.session_actor(self)
            if actor is None:
                return leave
            self.cost_line = await asyncio.to_thread(estimate_line, actor, dict(self.form))
        return None

    @rx.event
    async def submit(self, form_data: dict[str, Any]):
        """Validate, reserve quota and queue the videos; then go to the list."""
        if self.submitting:
            return
        actor, leave = await guards.session_actor(self)
        if actor is None:
            yield leave
            return
        form = form_from_browser(form_data)
        if form is None:
            self.quota_error = guards.BAD_REQUEST
            return
        self.submitting, self.field_errors, self.quota_error = True, {}, ""
        yield
        try:
            await asyncio.to_thread(_request_videos, actor, form)
        except ValidationError as exc:
            self.field_errors = exc.field_errors
            # A rule about no single field still has to be seen.
            self.quota_error = " ".join(m for k, m in exc.field_errors.items() if k not in FIELDS)
        except (QuotaExceededError, NotFoundError) as exc:
            self.quota_error = str(exc)
        except ServiceUnavailableError as exc:
            # The videos are saved and start when the queue answers: say so, and go on.
            yield rx.toast.warning(str(exc))
            yield rx.redirect(LIST_ROUTE)
        else:
            yield rx.redirect(LIST_ROUTE)
        finally:
            self.submitting = False


# ----------------------------------------------------------------------------- components


def _error(name: str) -> rx.Component:
    return rx.cond(
        NewVideoState.field_errors.contains(name),
        rx.text(NewVideoState.field_errors[name], color_scheme="red", size="2", id=f"{name}-error"),
    )


def _field(label: str, name: str, control: rx.Component, hint: str = "") -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=f"vn-{name}", style={"font_weight": "500"}),
        control,
        rx.text(hint, size="1", color_scheme="gray") if hint else rx.fragment(),
        _error(name),
        spacing="1",
        width="100%",
    )


INPUT_STYLE = {
    "width": "100%",
    "padding": "0.5rem",
    "border": "1px solid var(--gray-7)",
    "border_radius": "var(--radius-2)",
}


def _on_change(name: str) -> Any:
    return lambda value: NewVideoState.set_field(name, value)


def _input(name: str, **props: Any) -> rx.Component:
    return rx.el.input(
        id=f"vn-{name}",
        name=name,
        value=NewVideoState.form[name],
        on_change=_on_change(name),
        aria_invalid=NewVideoState.field_errors.contains(name),
        style=INPUT_STYLE,
        **props,
    )


def _select(name: str, choices: rx.Var[list[Option]]) -> rx.Component:
    return select_control(
        f"vn-{name}",
        name,
        choices,
        NewVideoState.form[name],
        _on_change(name),
        invalid=NewVideoState.field_errors.contains(name),
    )


def _background_select() -> rx.Component:
    return _select("background_source", NewVideoState.backgrounds)


def _stock_hint() -> rx.Component:
    return rx.cond(
        NewVideoState.stock_enabled,
        rx.fragment(),
        rx.text(
            "Stock footage needs a Pexels API key (PEXELS_API_KEY). Until then, use generated "
            "motion or your own uploaded clips.",
            size="1",
            color_scheme="gray",
        ),
    )


def _what_fields() -> rx.Component:
    return card(
        _field("Campaign", "campaign_id", _select("campaign_id", NewVideoState.campaigns)),
        _field("Topic or brief", "topic", _input("topic", placeholder="e.g. Octopus hearts")),
        _field(
            "Key facts or notes (one per line)",
            "facts",
            rx.el.textarea(
                id="vn-facts",
                name="facts",
                value=NewVideoState.form["facts"],
                on_change=_on_change("facts"),
                placeholder=video_facts.FACTS_EXAMPLE,
                aria_invalid=NewVideoState.field_errors.contains("facts"),
                aria_describedby="facts-hint",
                rows=5,
                style=INPUT_STYLE,
            ),
        ),
        rx.text(NewVideoState.facts_hint, id="facts-hint", size="1", color_scheme="gray"),
        _field(
            "Your own script (optional)",
            "custom_script",
            rx.el.textarea(
                id="vn-custom_script",
                name="custom_script",
                value=NewVideoState.form["custom_script"],
                on_change=_on_change("custom_script"),
                rows=5,
                style=INPUT_STYLE,
            ),
            "Leave empty and the video is written from your facts.",
        ),
        rx.cond(
            NewVideoState.length_note != "",
            rx.text(NewVideoState.length_note, id="script-length", size="2", color_scheme="amber"),
        ),
        rx.grid(
            _field("Number of videos", "count", _input("count", type="number", min=1, max=20)),
            _field(
                "Target length (seconds)",
                "target_seconds",
                _input("target_seconds", type="number", min=15, max=90, step=1),
            ),
            columns={"initial": "1", "sm": "2"},
            spacing="4",
            width="100%",
        ),
    )


def _how_fields() -> rx.Component:
    return card(
        rx.grid(
            _field("Language", "language", _select("language", NewVideoState.languages)),
            _field("Voice", "voice", _select("voice", NewVideoState.voices)),
            _field(
                "Voice speed",
                "voice_speed",
                _input("voice_speed", type="number", min=0.5, max=2, step=0.05),
            ),
            _field(
                "Caption style",
                "caption_style",
                _select("caption_style", NewVideoState.caption_styles),
            ),
            rx.vstack(
                _field("Background", "background_source", _background_select()),
                _stock_hint(),
                width="100%",
            ),
            _field("Music", "music", _select("music", NewVideoState.music_options)),
            columns={"initial": "1", "sm": "2"},
            spacing="4",
            width="100%",
        ),
    )


def _submit_row() -> rx.Component:
    return rx.vstack(
        rx.text(NewVideoState.cost_line, id="cost-line", aria_live="polite", weight="medium"),
        error_callout(NewVideoState.quota_error, width="100%"),
        rx.button(
            rx.cond(NewVideoState.submitting, "Generating…", "Generate videos"),
            type="submit",
            size="3",
            loading=NewVideoState.submitting,
            disabled=NewVideoState.submitting,
            aria_label="Generate videos",
            aria_busy=NewVideoState.submitting,
        ),
        spacing="3",
        width="100%",
    )


def video_new_page() -> rx.Component:
    """The request form."""
    return app_shell(
        "New video",
        rx.cond(
            NewVideoState.campaigns.length() > 0,
            rx.el.form(
                rx.vstack(_what_fields(), _how_fields(), _submit_row(), spacing="4"),
                on_submit=NewVideoState.submit,
                aria_label="New video",
                style={"width": "100%"},
            ),
            card(
                rx.text("Videos belong to a campaign. Create one first."),
                rx.link(rx.button("Create a campaign"), href="/app/campaigns/new"),
            ),
        ),
    )
