"""Forgot password, reset password, confirm a new email address, and the profile page.

The links in the emails carry the token in the URL; a page reads it at load into a backend-only
var and checks it before asking for anything. Every handler checks what the browser sent.
"""

import asyncio

import reflex as rx

from viralshorts.db import session_scope
from viralshorts.domain import account_recovery as recovery
from viralshorts.domain.account_emails import CONFIRM_EMAIL_PATH, RESET_PATH
from viralshorts.domain.accounts import get_user, normalise_email
from viralshorts.errors import RateLimitedError, ServiceUnavailableError, ValidationError
from viralshorts.integrations.ports import EmailSender, RateLimiter
from viralshorts.integrations.services import build_email, get_services
from viralshorts.ui.auth_pages import SERVICE_BUSY, _card, _field
from viralshorts.ui.guards import BAD_REQUEST, session_user, text
from viralshorts.ui.layout import app_shell, card
from viralshorts.ui.state import AuthState

FORGOT_ROUTE = "/forgot-password"
RESET_ROUTE = RESET_PATH
CONFIRM_EMAIL_ROUTE = CONFIRM_EMAIL_PATH
PROFILE_ROUTE = "/app/profile"
MAX_FIELD = 1000  # longer than any email or password we accept


def _mailer() -> EmailSender:
    services = get_services()
    return services.email or build_email(services.settings)


def _limiter() -> RateLimiter:
    return get_services().rate_limiter


# ---------------------------------------------------------------- blocking work (in threads)


def _ask_reset(email: str, ip: str) -> None:
    with session_scope() as s:
        recovery.request_password_reset(s, email=email, ip=ip, limiter=_limiter(), mailer=_mailer())


def _reset_link_ok(token: str) -> bool:
    with session_scope() as s:
        return recovery.reset_link_is_usable(s, token)


def _set_new_password(token: str, password: str, ip: str) -> None:
    with session_scope() as s:
        recovery.reset_password(s, token=token, new_password=password, limiter=_limiter(), ip=ip)


def _pending_email(token: str) -> str:
    with session_scope() as s:
        return recovery.pending_email_change(s, token) or ""


def _confirm_email(token: str, ip: str) -> str:
    with session_scope() as s:
        return recovery.confirm_email_change(s, token=token, mailer=_mailer(), ip=ip).email


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
            limiter=_limiter(),
            ip=ip,
        )


def _ask_email_change(user_id: int, new_email: str, current: str, ip: str) -> str:
    with session_scope() as s:
        return recovery.request_email_change(
            s,
            user_id=user_id,
            new_email=new_email,
            current_password=current,
            limiter=_limiter(),
            mailer=_mailer(),
            ip=ip,
        )


def _form_text(form: object, name: str) -> str | None:
    return text(form.get(name, ""), max_length=MAX_FIELD) if isinstance(form, dict) else None


def _wait_message(exc: RateLimitedError) -> str:
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
        email = _form_text(form, "email")
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
            self.form_error = _wait_message(exc)
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
        password = _form_text(form, "password")
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
        current, new = _form_text(form, "current_password"), _form_text(form, "new_password")
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
            self.password_form_error = _wait_message(exc)
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
        new_email, current = _form_text(form, "new_email"), _form_text(form, "current_password")
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
            self.email_form_error = _wait_message(exc)
        except ServiceUnavailableError:
            self.email_form_error = SERVICE_BUSY
        self.saving_email = False


# ---------------------------------------------------------------- components


def _alert(message: rx.Var[str]) -> rx.Component:
    return rx.cond(
        message != "",
        rx.callout(message, icon="triangle_alert", color_scheme="red", width="100%", role="alert"),
    )


def _notice(*children: rx.Component | rx.Var | str) -> rx.Component:
    return rx.callout(
        rx.text(*children), icon="mail_check", color_scheme="green", width="100%", role="status"
    )


def _submit(label: str, busy: rx.Var[bool]) -> rx.Component:
    return rx.button(
        label,
        type="submit",
        size="3",
        width="100%",
        loading=busy,
        aria_label=label,
        aria_busy=rx.cond(busy, "true", "false"),
    )


def _profile_field(
    form: str, label: str, name: str, input_type: str, error: rx.Var[str], *, autocomplete: str
) -> rx.Component:
    # Two forms on one page both ask for the current password: ids carry the form's name.
    field_id = f"{form}-{name}"
    return rx.vstack(
        rx.el.label(label, html_for=field_id, font_weight="500", font_size="0.9rem"),
        rx.input(
            id=field_id,
            name=name,
            type=input_type,
            auto_complete=autocomplete,
            size="3",
            width="100%",
            aria_invalid=rx.cond(error != "", "true", "false"),
            aria_describedby=f"{field_id}-error",
        ),
        rx.cond(error != "", rx.text(error, id=f"{field_id}-error", color_scheme="red", size="2")),
        spacing="1",
        width="100%",
    )


def _hint(error: rx.Var[str]) -> rx.Component:
    return rx.cond(error == "", rx.text("At least 10 characters.", color_scheme="gray", size="1"))


def forgot_password_page() -> rx.Component:
    state = ForgotPasswordState
    return _card(
        "Forgot your password?",
        "Type the email you sign in with; we will send a link to choose a new password.",
        _alert(state.form_error),
        rx.cond(
            state.sent_to != "",
            _notice(
                "If an account uses ",
                rx.text.strong(state.sent_to),
                ", a link to reset its password is on its way. It works once, for 30 minutes.",
            ),
        ),
        rx.form(
            rx.vstack(
                _field("Email", "email", "email", state.email_error, "email"),
                _submit("Send reset link", state.submitting),
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
            _hint(state.password_error),
            _submit("Set new password", state.submitting),
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
                    _notice("Your password is changed and you are signed out everywhere."),
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
        _alert(state.form_error),
        rx.cond(
            ~state.checked,
            rx.center(rx.spinner(size="3"), width="100%", aria_label="Checking the link"),
            rx.cond(
                state.done,
                rx.vstack(
                    _notice("Your email is now ", rx.text.strong(state.new_email), "."),
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
            _hint(state.new_password_error),
            _submit("Change password", state.saving_password),
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
        _alert(state.password_form_error),
        rx.cond(state.password_message != "", _notice(state.password_message)),
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
        _alert(state.email_form_error),
        rx.cond(
            state.email_sent_to != "",
            _notice(
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
                _submit("Send confirmation link", state.saving_email),
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
    return app_shell("Profile", _email_card(), _password_card())
