"""Forgot password, reset password from the emailed link, confirm a new email address.

The links in the emails carry the token in the URL; a page reads it at load into a backend-only
var and checks it before asking for anything. Every handler checks what the browser sent.
"""

import asyncio

import reflex as rx

from viralshorts.db import session_scope
from viralshorts.domain import account_recovery as recovery
from viralshorts.domain.account_emails import CONFIRM_EMAIL_PATH, RESET_PATH
from viralshorts.domain.accounts import normalise_email
from viralshorts.errors import RateLimitedError, ServiceUnavailableError, ValidationError
from viralshorts.integrations.ports import EmailSender, RateLimiter
from viralshorts.integrations.services import build_email, get_services
from viralshorts.ui.auth_pages import SERVICE_BUSY, _card, _field
from viralshorts.ui.guards import BAD_REQUEST, text

FORGOT_ROUTE = "/forgot-password"
RESET_ROUTE = RESET_PATH
CONFIRM_EMAIL_ROUTE = CONFIRM_EMAIL_PATH
MAX_FIELD = 1000  # longer than any email or password we accept


def mailer() -> EmailSender:
    """The process's email sender (built from the settings if a test left it out)."""
    services = get_services()
    return services.email or build_email(services.settings)


def limiter() -> RateLimiter:
    """The process's rate limiter."""
    return get_services().rate_limiter


# ---------------------------------------------------------------- blocking work (in threads)


def _ask_reset(email: str, ip: str) -> None:
    with session_scope() as s:
        recovery.request_password_reset(s, email=email, ip=ip, limiter=limiter(), mailer=mailer())


def _reset_link_ok(token: str) -> bool:
    with session_scope() as s:
        return recovery.reset_link_is_usable(s, token)


def _set_new_password(token: str, password: str, ip: str) -> None:
    with session_scope() as s:
        recovery.reset_password(
            s,
            token=token,
            new_password=password,
            limiter=limiter(),
            ip=ip,
            sessions=get_services().sessions,
        )


def _pending_email(token: str) -> str:
    with session_scope() as s:
        return recovery.pending_email_change(s, token) or ""


def _confirm_email(token: str, ip: str) -> str:
    with session_scope() as s:
        return recovery.confirm_email_change(s, token=token, mailer=mailer(), ip=ip).email


def form_text(form: object, name: str) -> str | None:
    """A text field of a submitted form, or None when the form or the value is forged."""
    return text(form.get(name, ""), max_length=MAX_FIELD) if isinstance(form, dict) else None


def wait_message(exc: RateLimitedError) -> str:
    """What to tell a person who tried too often."""
    return f"Too many attempts. Try again in {exc.retry_after} s."


# ---------------------------------------------------------------- forgot and reset password


class ForgotPasswordState(rx.State):
    """The forgot-password form; the answer is the same whether an account uses the email."""

    email_error: str = ""
    form_error: str = ""
    sent_to: str = ""
    submitting: bool = False

    @rx.event
    def load(self):
        """Start with an empty form."""
        self.email_error = self.form_error = self.sent_to = ""
        self.submitting = False

    @rx.event
    async def send_link(self, form: dict):
        """Ask for a reset link for the typed email."""
        self.email_error = self.form_error = self.sent_to = ""
        email = form_text(form, "email")
        if email is None:
            self.form_error = BAD_REQUEST
            return
        self.submitting = True
        yield
        try:
            await asyncio.to_thread(_ask_reset, email, self.router.session.client_ip)
        except ValidationError as exc:
            self.email_error = exc.field_errors.get("email", BAD_REQUEST)
        except RateLimitedError as exc:
            self.form_error = wait_message(exc)
        except ServiceUnavailableError:
            self.form_error = SERVICE_BUSY
        else:
            self.sent_to = normalise_email(email)
        self.submitting = False


class ResetPasswordState(rx.State):
    """Choose a new password from an emailed link."""

    _token: str = ""
    checked: bool = False
    link_ok: bool = False
    done: bool = False
    password_error: str = ""
    form_error: str = ""
    submitting: bool = False

    @rx.event
    async def load(self):
        """Read the link's token and check it before asking for a password."""
        self.done = self.submitting = False
        self.password_error = self.form_error = ""
        token = self.router.url.query_parameters.get("token", "")
        self._token = token if isinstance(token, str) else ""
        self.link_ok = await asyncio.to_thread(_reset_link_ok, self._token)
        self.checked = True

    @rx.event
    async def set_password(self, form: dict):
        """Set the new password; every session of the account ends."""
        self.password_error = self.form_error = ""
        password = form_text(form, "password")
        if password is None:
            self.form_error = BAD_REQUEST
            return
        self.submitting = True
        yield
        try:
            args = (self._token, password, self.router.session.client_ip)
            await asyncio.to_thread(_set_new_password, *args)
        except ValidationError as exc:
            self.password_error = exc.field_errors.get("password", "")
            self.link_ok = "token" not in exc.field_errors
        else:
            self.done = True
        self.submitting = False


class ConfirmEmailState(rx.State):
    """Confirm a new email address from the link sent to it."""

    _token: str = ""
    checked: bool = False
    new_email: str = ""
    done: bool = False
    form_error: str = ""
    submitting: bool = False

    @rx.event
    async def load(self):
        """Read the link's token and show the address it would confirm."""
        self.done = self.submitting = False
        self.form_error = ""
        token = self.router.url.query_parameters.get("token", "")
        self._token = token if isinstance(token, str) else ""
        self.new_email = await asyncio.to_thread(_pending_email, self._token)
        self.checked = True

    @rx.event
    async def confirm(self):
        """Make the new address the account's email."""
        self.submitting = True
        yield
        try:
            args = (self._token, self.router.session.client_ip)
            self.new_email = await asyncio.to_thread(_confirm_email, *args)
        except ValidationError as exc:
            self.form_error = next(iter(exc.field_errors.values()), BAD_REQUEST)
        else:
            self.done = True
        self.submitting = False


# ---------------------------------------------------------------- components


def alert(message: rx.Var[str]) -> rx.Component:
    return rx.cond(
        message != "",
        rx.callout(message, icon="triangle_alert", color_scheme="red", width="100%", role="alert"),
    )


def notice(*children: rx.Component | rx.Var | str) -> rx.Component:
    return rx.callout(
        rx.text(*children), icon="mail_check", color_scheme="green", width="100%", role="status"
    )


def submit_button(label: str, busy: rx.Var[bool]) -> rx.Component:
    return rx.button(
        label,
        type="submit",
        size="3",
        width="100%",
        loading=busy,
        aria_label=label,
        aria_busy=rx.cond(busy, "true", "false"),
    )


def length_hint(error: rx.Var[str]) -> rx.Component:
    return rx.cond(error == "", rx.text("At least 10 characters.", color_scheme="gray", size="1"))


def forgot_password_page() -> rx.Component:
    state = ForgotPasswordState
    return _card(
        "Forgot your password?",
        "Type the email you sign in with; we will send a link to choose a new password.",
        alert(state.form_error),
        rx.cond(
            state.sent_to != "",
            notice(
                "If an account uses ",
                rx.text.strong(state.sent_to),
                ", a link to reset its password is on its way. It works once, for 30 minutes.",
            ),
        ),
        rx.form(
            rx.vstack(
                _field("Email", "email", "email", state.email_error, "email"),
                submit_button("Send reset link", state.submitting),
                spacing="4",
                width="100%",
            ),
            on_submit=state.send_link,
            width="100%",
        ),
        rx.text("Remembered it? ", rx.link("Sign in", href="/sign-in"), size="2"),
    )


def _reset_form() -> rx.Component:
    state = ResetPasswordState
    return rx.form(
        rx.vstack(
            _field("New password", "password", "password", state.password_error, "new-password"),
            length_hint(state.password_error),
            submit_button("Set new password", state.submitting),
            spacing="4",
            width="100%",
        ),
        on_submit=state.set_password,
        width="100%",
    )


def _dead_link(text_: str) -> rx.Component:
    return rx.vstack(
        rx.callout(text_, icon="triangle_alert", color_scheme="red", width="100%", role="alert"),
        rx.link("Ask for a new link", href=FORGOT_ROUTE, size="2"),
        width="100%",
    )


def reset_password_page() -> rx.Component:
    state = ResetPasswordState
    return _card(
        "Choose a new password",
        "Setting a new password signs you out on every device.",
        rx.cond(
            ~state.checked,
            rx.center(rx.spinner(size="3"), width="100%", aria_label="Checking the link"),
            rx.cond(
                state.done,
                rx.vstack(
                    notice("Your password is changed and you are signed out everywhere."),
                    rx.link("Sign in with your new password", href="/sign-in", size="3"),
                    width="100%",
                ),
                rx.cond(state.link_ok, _reset_form(), _dead_link(recovery.LINK_INVALID)),
            ),
        ),
    )


def confirm_email_page() -> rx.Component:
    state = ConfirmEmailState
    return _card(
        "Confirm your new email",
        "Your account's email changes only when you confirm here.",
        alert(state.form_error),
        rx.cond(
            ~state.checked,
            rx.center(rx.spinner(size="3"), width="100%", aria_label="Checking the link"),
            rx.cond(
                state.done,
                rx.vstack(
                    notice("Your email is now ", rx.text.strong(state.new_email), "."),
                    rx.link("Go to the app", href="/app", size="3"),
                    width="100%",
                ),
                rx.cond(
                    state.new_email != "",
                    rx.vstack(
                        rx.text("New email: ", rx.text.strong(state.new_email)),
                        rx.button(
                            "Confirm new email",
                            on_click=state.confirm,
                            loading=state.submitting,
                            size="3",
                            width="100%",
                        ),
                        width="100%",
                    ),
                    _dead_link(recovery.LINK_INVALID),
                ),
            ),
        ),
    )
