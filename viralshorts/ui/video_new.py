"""/app/videos/new: ask for one or more videos, with a live cost line."""

from __future__ import annotations

from typing import Any

import reflex as rx

from viralshorts.db import session_scope
from viralshorts.domain import campaigns as campaign_domain
from viralshorts.domain import media_library
from viralshorts.domain import videos as video_domain
from viralshorts.domain.rendering import pipeline
from viralshorts.errors import NotFoundError, QuotaExceededError, ValidationError
from viralshorts.integrations.services import get_services
from viralshorts.models import Campaign
from viralshorts.models.enums import MediaKind
from viralshorts.settings import get_settings
from viralshorts.ui.layout import app_shell, card, error_callout
from viralshorts.ui.progress import current_user_id

ROUTE = "/app/videos/new"
FIELDS = (
    "campaign_id",
    "topic",
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
    "uploads": "My uploads",
    "stock": "Stock footage",
    "generated": "Generated motion",
}

Option = dict[str, str]


def _options(mapping: dict[str, str]) -> list[Option]:
    return [{"value": value, "label": label} for value, label in mapping.items()]


def _whole_number(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() else None


def _decimal(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _as_text(value: str | float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


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
    speed = _decimal(form.get("voice_speed", ""))
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
        count=numbers["count"],
        target_seconds=numbers["target_seconds"],
        language=form.get("language", ""),
        voice=form.get("voice", ""),
        voice_speed=speed,
        caption_style=form.get("caption_style", ""),
        background_source=form.get("background_source", ""),
        music=form.get("music", ""),
    )


def _music_options(session: Any, user_id: int) -> list[Option]:
    uploads = media_library.list_media(session, user_id=user_id, kind=MediaKind.MUSIC)
    return [
        {"value": "none", "label": "None"},
        *[{"value": value, "label": label} for value, label in pipeline.bundled_tracks()],
        *[{"value": f"asset:{a.id}", "label": f"My upload: {a.filename}"} for a in uploads],
    ]


def _campaign_defaults(campaign: Campaign) -> dict[str, str]:
    look = campaign.look if campaign.look in BACKGROUND_LABELS else "generated"
    return {
        "campaign_id": str(campaign.id),
        "language": campaign.language,
        "voice": campaign.voice,
        "voice_speed": f"{campaign.voice_speed:g}",
        "caption_style": campaign.caption_style,
        "background_source": look,
    }


class NewVideoState(rx.State):
    """The request form; ``form`` holds every field's text by name."""

    form: dict[str, str] = {}
    campaigns: list[Option] = []
    languages: list[Option] = []
    voices: list[Option] = []
    caption_styles: list[Option] = []
    music_options: list[Option] = []
    stock_enabled: bool = False
    cost_line: str = ""
    field_errors: dict[str, str] = {}
    quota_error: str = ""
    submitting: bool = False
    _defaults_by_campaign: dict[str, dict[str, str]] = {}

    @rx.event
    async def load_page(self):
        """Fill the options, pick the campaign from ``?campaign=`` and estimate the cost."""
        user_id = await current_user_id(self)
        if user_id is None:
            return
        settings = get_settings()
        self.stock_enabled = settings.pexels_enabled
        self.languages = _options(campaign_domain.LANGUAGES)
        self.voices = _options(campaign_domain.voice_options(settings))
        self.caption_styles = _options(campaign_domain.CAPTION_STYLES)
        self.field_errors, self.quota_error, self.submitting = {}, "", False
        with session_scope() as session:
            campaigns = campaign_domain.list_campaigns(session, user_id=user_id)
            self.music_options = _music_options(session, user_id)
        self.campaigns = [{"value": str(c.id), "label": c.name} for c in campaigns]
        self._defaults_by_campaign = {str(c.id): _campaign_defaults(c) for c in campaigns}
        wanted = self.router.url.query_parameters.get("campaign", "")
        first = self.campaigns[0]["value"] if self.campaigns else ""
        chosen = wanted if wanted in self._defaults_by_campaign else first
        self.form = {"topic": "", "custom_script": "", "count": "1", "target_seconds": "30"}
        self.form.update({"music": "none", **self._defaults_by_campaign.get(chosen, {})})
        self._estimate(user_id)

    def _estimate(self, user_id: int) -> None:
        try:
            request = parse_request(self.form)
            with session_scope() as session:
                estimate = video_domain.estimate_cost(session, user_id=user_id, request=request)
        except ValidationError:
            self.cost_line = "Enter how many videos you want to see what this uses."
            return
        self.cost_line = estimate.message

    @rx.event
    async def set_field(self, name: str, value: str | float | None):
        """Remember what was typed in one field (the cost line follows the count)."""
        if name not in FIELDS:
            return
        # Number inputs send numbers (or null when empty); the form keeps text.
        value = "" if value is None else _as_text(value)
        self.form[name] = value
        self.field_errors = {k: v for k, v in self.field_errors.items() if k != name}
        if name == "campaign_id":
            self.form.update(self._defaults_by_campaign.get(value, {}))
        if name in ("count", "campaign_id", "target_seconds"):
            user_id = await current_user_id(self)
            if user_id is not None:
                self._estimate(user_id)

    @rx.event
    async def submit(self, form_data: dict[str, Any]):
        """Validate, reserve quota and queue the videos; then go to the list."""
        user_id = await current_user_id(self)
        if user_id is None or self.submitting:
            return
        self.submitting, self.field_errors, self.quota_error = True, {}, ""
        yield
        try:
            form = {k: "" if v is None else _as_text(v) for k, v in form_data.items()}
            self._request_videos(user_id, form)
        except ValidationError as exc:
            self.field_errors = exc.field_errors
            # A rule about no single field still has to be seen.
            self.quota_error = " ".join(m for k, m in exc.field_errors.items() if k not in FIELDS)
        except (QuotaExceededError, NotFoundError) as exc:
            self.quota_error = str(exc)
        else:
            yield rx.redirect("/app/videos")
        finally:
            self.submitting = False

    def _request_videos(self, user_id: int, form: dict[str, str]) -> None:
        request = parse_request(form)
        with session_scope() as session:
            video_domain.request_videos(session, get_services(), user_id=user_id, request=request)


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


def _select(name: str, options: rx.Var[list[Option]]) -> rx.Component:
    return rx.el.select(
        rx.foreach(options, lambda o: rx.el.option(o["label"], value=o["value"])),
        id=f"vn-{name}",
        name=name,
        value=NewVideoState.form[name],
        on_change=_on_change(name),
        style=INPUT_STYLE,
    )


def _background_select() -> rx.Component:
    return rx.el.select(
        rx.el.option(BACKGROUND_LABELS["generated"], value="generated"),
        rx.el.option(BACKGROUND_LABELS["uploads"], value="uploads"),
        rx.el.option(
            rx.cond(
                NewVideoState.stock_enabled,
                BACKGROUND_LABELS["stock"],
                "Stock footage (not configured)",
            ),
            value="stock",
            disabled=~NewVideoState.stock_enabled,
        ),
        id="vn-background_source",
        name="background_source",
        value=NewVideoState.form["background_source"],
        on_change=_on_change("background_source"),
        style=INPUT_STYLE,
    )


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
        _field("Topic or brief", "topic", _input("topic", placeholder="e.g. 3 facts about owls")),
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
            "Leave empty and we write one from the topic.",
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
