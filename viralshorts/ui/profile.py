"""The profile page: change the password or the email of the signed-in account."""

import asyncio

import reflex as rx

from viralshorts.db import session_scope
from viralshorts.domain import account_recovery as recovery
from viralshorts.domain.accounts import get_user
from viralshorts.errors import RateLimitedError, ServiceUnavailableError, ValidationError
from viralshorts.integrations.services import get_services
from viralshorts.ui.account_pages import (
    FORGOT_ROUTE,
    SERVICE_BUSY,
    alert,
    form_text,
    length_hint,
    limiter,
    mailer,
    notice,
    submit_button,
    wait_message,
)
from viralshorts.ui.fields import labeled_input
from viralshorts.ui.guards import BAD_REQUEST, session_user
from viralshorts.ui.layout import app_shell, card
from viralshorts.ui.notifications import email_choices_card
from viralshorts.ui.state import AuthState

ROUTE = "/app/profile"


def _has_password(user_id: int) -> bool:
    with session_scope() as s:
        return bool(get_user(s, user_id).password_hash)


def _change_password(user_id: int, current: str, new: str, keep: str, ip: str) -> int:
    with session_scope() as s:
        return recovery.change_password(
            s,
            user_id=user_id,
            current_password=current,
            new_password=new,
            keep_session_token=keep,
            limiter=limiter(),
            ip=ip,
            sessions=get_services().sessions,
        )


def _ask_email_change(user_id: int, new_email: str, current: str, ip: str) -> str:
    with session_scope() as s:
        return recovery.request_email_change(
            s,
            user_id=user_id,
            new_email=new_email,
            current_password=current,
            limiter=limiter(),
            mailer=mailer(),
            ip=ip,
        )


# ---------------------------------------------------------------- profile


class ProfileState(rx.State):
    """Change password and change email for the signed-in user."""

    has_password: bool = True
    current_password_error: str = ""
    new_password_error: str = ""
    password_message: str = ""
    password_form_error: str = ""
    saving_password: bool = False
    new_email_error: str = ""
    email_password_error: str = ""
    email_sent_to: str = ""
    email_form_error: str = ""
    saving_email: bool = False

    def _clear_password(self) -> None:
        self.current_password_error = self.new_password_error = ""
        self.password_message = self.password_form_error = ""

    def _clear_email(self) -> None:
        self.new_email_error = self.email_password_error = ""
        self.email_sent_to = self.email_form_error = ""

    @rx.event
    async def load(self):
        """Read whether the account has a password (social sign-in accounts may not)."""
        self._clear_password()
        self._clear_email()
        self.saving_password = self.saving_email = False
        user_id, leave = await session_user(self)
        if user_id is None:
            return leave
        self.has_password = await asyncio.to_thread(_has_password, user_id)
        return None

    @rx.event
    async def change_password(self, form: dict):
        """Check the current password, set the new one, end the other sessions."""
        self._clear_password()
        user_id, leave = await session_user(self)
        if user_id is None:
            yield leave
            return
        current, new = form_text(form, "current_password"), form_text(form, "new_password")
        if current is None or new is None:
            self.password_form_error = BAD_REQUEST
            return
        self.saving_password = True
        yield
        keep = (await self.get_state(AuthState))._session_token()
        try:
            args = (user_id, current, new, keep, self.router.session.client_ip)
            await asyncio.to_thread(_change_password, *args)
        except ValidationError as exc:
            self.current_password_error = exc.field_errors.get("current_password", "")
            self.new_password_error = exc.field_errors.get("new_password", "")
        except RateLimitedError as exc:
            self.password_form_error = wait_message(exc)
        except ServiceUnavailableError:
            self.password_form_error = SERVICE_BUSY
        else:
            self.password_message = "Password changed. Your other sessions were signed out."
        self.saving_password = False

    @rx.event
    async def change_email(self, form: dict):
        """Send a confirmation link to the new address."""
        self._clear_email()
        user_id, leave = await session_user(self)
        if user_id is None:
            yield leave
            return
        new_email, current = form_text(form, "new_email"), form_text(form, "current_password")
        if new_email is None or current is None:
            self.email_form_error = BAD_REQUEST
            return
        self.saving_email = True
        yield
        try:
            args = (user_id, new_email, current, self.router.session.client_ip)
            self.email_sent_to = await asyncio.to_thread(_ask_email_change, *args)
        except ValidationError as exc:
            self.new_email_error = exc.field_errors.get("new_email", "")
            self.email_password_error = exc.field_errors.get("current_password", "")
        except RateLimitedError as exc:
            self.email_form_error = wait_message(exc)
        except ServiceUnavailableError:
            self.email_form_error = SERVICE_BUSY
        self.saving_email = False


def _profile_field(
    form: str, label: str, name: str, input_type: str, error: rx.Var[str], *, autocomplete: str
) -> rx.Component:
    # Two forms on one page both ask for the current password: ids carry the form's name.
    return labeled_input(
        f"{form}-{name}", label, name, input_type=input_type, error=error, autocomplete=autocomplete
    )


def _password_card() -> rx.Component:
    state = ProfileState
    form = rx.form(
        rx.vstack(
            _profile_field(
                "password",
                "Current password",
                "current_password",
                "password",
                state.current_password_error,
                autocomplete="current-password",
            ),
            _profile_field(
                "password",
                "New password",
                "new_password",
                "password",
                state.new_password_error,
                autocomplete="new-password",
            ),
            length_hint(state.new_password_error),
            submit_button("Change password", state.saving_password),
            spacing="3",
            width="100%",
        ),
        on_submit=state.change_password,
        reset_on_submit=True,
        width="100%",
    )
    no_password = rx.text(
        "You sign in with Google or GitHub, so this account has no password. To add one, use ",
        rx.link("Forgot password?", href=FORGOT_ROUTE),
        " with your email.",
        size="2",
    )
    return card(
        rx.heading("Password", size="4", as_="h2"),
        alert(state.password_form_error),
        rx.cond(state.password_message != "", notice(state.password_message)),
        rx.cond(state.has_password, form, no_password),
        max_width="32rem",
    )


def _email_card() -> rx.Component:
    state = ProfileState
    password_field = _profile_field(
        "email",
        "Password",
        "current_password",
        "password",
        state.email_password_error,
        autocomplete="current-password",
    )
    return card(
        rx.heading("Email", size="4", as_="h2"),
        rx.text("You sign in with ", rx.text.strong(AuthState.user_email), ".", size="2"),
        alert(state.email_form_error),
        rx.cond(
            state.email_sent_to != "",
            notice(
                "We sent a link to ",
                rx.text.strong(state.email_sent_to),
                ". Your email changes when you open it (within 24 hours).",
            ),
        ),
        rx.form(
            rx.vstack(
                _profile_field(
                    "email",
                    "New email",
                    "new_email",
                    "email",
                    state.new_email_error,
                    autocomplete="email",
                ),
                rx.cond(state.has_password, password_field),
                submit_button("Send confirmation link", state.saving_email),
                spacing="3",
                width="100%",
            ),
            on_submit=state.change_email,
            reset_on_submit=True,
            width="100%",
        ),
        max_width="32rem",
    )


def profile_page() -> rx.Component:
    return app_shell("Profile", _email_card(), _password_card(), email_choices_card(card))
