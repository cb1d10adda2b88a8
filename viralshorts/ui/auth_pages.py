"""The sign-in and sign-up pages and their state.

A handler checks the credentials, issues a one-time ticket and sends the browser (full page
load) to ``/api/auth/finish``, the HTTP route that sets the HttpOnly session cookie.
"""

import asyncio
from urllib.parse import quote

import reflex as rx

from viralshorts.db import session_scope
from viralshorts.domain.accounts import (
    authenticate,
    issue_sign_in_ticket,
    safe_next_path,
    sign_up,
)
from viralshorts.errors import (
    AuthenticationError,
    RateLimitedError,
    ServiceUnavailableError,
    ValidationError,
)
from viralshorts.integrations.services import get_services
from viralshorts.settings import get_settings
from viralshorts.ui.fields import labeled_input
from viralshorts.ui.state import AuthState
from viralshorts.web.auth import sign_in_tickets

OAUTH_ERRORS = {
    "oauth_cancelled": "Sign-in was cancelled or took too long. Try again.",
    "oauth_failed": "The sign-in provider did not answer as expected. Try again.",
    "oauth_unreachable": "We could not reach the sign-in provider. Try again in a moment.",
    "oauth_no_email": "Your account there has no verified email address.",
    "oauth_disabled": "This account is disabled.",
}


SERVICE_BUSY = "The service is busy right now. Try again in a moment."


def _password_sign_in(email: str, password: str, ip: str) -> str:
    with session_scope() as session:
        user = authenticate(
            session, get_services().rate_limiter, email=email, password=password, ip=ip
        )
        return issue_sign_in_ticket(sign_in_tickets(), user=user)


def _create_account(name: str, email: str, password: str, ip: str) -> str:
    with session_scope() as session:
        user = sign_up(
            session,
            email=email,
            password=password,
            display_name=name,
            limiter=get_services().rate_limiter,
            ip=ip,
        )
        return issue_sign_in_ticket(sign_in_tickets(), user=user)


def _go(url: str) -> rx.event.EventSpec:
    # Full page load: the websocket must reconnect to see the new cookie.
    return rx.call_script(f"window.location.assign('{url}')")


class AuthFormState(rx.State):
    """Errors and busy flag of the sign-in/up forms; which OAuth providers are on."""

    name_error: str = ""
    email_error: str = ""
    password_error: str = ""
    form_error: str = ""
    submitting: bool = False
    google_enabled: bool = False
    github_enabled: bool = False
    next_query: str = ""

    def _next_param(self) -> str:
        next_path = safe_next_path(self.router.url.query_parameters.get("next"))
        return quote(next_path, safe="")

    def _reset_errors(self) -> None:
        self.name_error = self.email_error = self.password_error = self.form_error = ""

    @rx.event
    def load_page(self):
        """Reset the form and read the providers and any OAuth error from the URL."""
        self._reset_errors()
        self.submitting = False
        settings = get_settings()
        self.google_enabled = settings.google_login_enabled
        self.github_enabled = settings.github_login_enabled
        error = self.router.url.query_parameters.get("error", "")
        self.form_error = OAUTH_ERRORS.get(error, "")
        has_next = bool(self.router.url.query_parameters.get("next"))
        self.next_query = f"?next={self._next_param()}" if has_next else ""

    @rx.event
    async def sign_in(self, form: dict):
        """Check the password; on success go finish the sign-in over HTTP."""
        self._reset_errors()
        self.submitting = True
        yield
        email, password = str(form.get("email", "")), str(form.get("password", ""))
        args = (email, password, self.router.session.client_ip)
        try:
            ticket = await asyncio.to_thread(_password_sign_in, *args)
        except RateLimitedError as exc:
            self.form_error = f"Too many sign-in attempts. Try again in {exc.retry_after} s."
        except AuthenticationError as exc:
            self.form_error = str(exc)
        except ServiceUnavailableError:
            self.form_error = SERVICE_BUSY
        else:
            yield _go(f"/api/auth/finish?ticket={ticket}&next={self._next_param()}")
            return
        self.submitting = False

    @rx.event
    async def create_account(self, form: dict):
        """Create the account; on success sign in like ``sign_in``."""
        self._reset_errors()
        self.submitting = True
        yield
        args = (
            str(form.get("name", "")),
            str(form.get("email", "")),
            str(form.get("password", "")),
            self.router.session.client_ip,
        )
        try:
            ticket = await asyncio.to_thread(_create_account, *args)
        except RateLimitedError as exc:
            self.form_error = f"Too many sign-up attempts. Try again in {exc.retry_after} s."
        except ServiceUnavailableError:
            self.form_error = SERVICE_BUSY
        except ValidationError as exc:
            errors = exc.field_errors
            self.name_error = errors.get("display_name", "")
            self.email_error = errors.get("email", "")
            self.password_error = errors.get("password", "")
            self.form_error = "Please fix the highlighted fields."
        else:
            yield _go(f"/api/auth/finish?ticket={ticket}&next={self._next_param()}")
            return
        self.submitting = False

    @rx.event
    def continue_with(self, provider: str):
        """Start signing in with Google or GitHub."""
        if provider in ("google", "github"):
            return _go(f"/api/auth/oauth/{provider}/start?next={self._next_param()}")
        return None


def _field(
    label: str, name: str, input_type: str, error: rx.Var, autocomplete: str
) -> rx.Component:
    return labeled_input(
        f"auth-{name}", label, name, input_type=input_type, error=error, autocomplete=autocomplete
    )


def _form_error() -> rx.Component:
    return rx.cond(
        AuthFormState.form_error != "",
        rx.callout(
            AuthFormState.form_error,
            icon="triangle_alert",
            color_scheme="red",
            width="100%",
            custom_attrs={"role": "alert"},
        ),
    )


def _oauth_buttons() -> rx.Component:
    def button(provider: str, label: str, enabled: rx.Var) -> rx.Component:
        return rx.cond(
            enabled,
            rx.button(
                label,
                type="button",
                variant="outline",
                size="3",
                width="100%",
                aria_label=label,
                on_click=AuthFormState.continue_with(provider),
            ),
        )

    return rx.cond(
        AuthFormState.google_enabled | AuthFormState.github_enabled,
        rx.vstack(
            rx.separator(size="4"),
            button("google", "Continue with Google", AuthFormState.google_enabled),
            button("github", "Continue with GitHub", AuthFormState.github_enabled),
            width="100%",
            spacing="3",
        ),
    )


def _brand() -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.icon("sparkles", size=22, color=rx.color("violet", 9)),
            rx.text("ViralShortsOps", weight="bold", size="4"),
            align="center",
            spacing="2",
        ),
        href="/",
        underline="none",
        color_scheme="gray",
        high_contrast=True,
        aria_label="ViralShortsOps home",
    )


def _back_home() -> rx.Component:
    return rx.link(
        rx.hstack(rx.icon("arrow_left", size=14), rx.text("Back to home"), spacing="1"),
        href="/",
        size="2",
        color_scheme="gray",
    )


def _card(title: str, subtitle: str, *children: rx.Component) -> rx.Component:
    return rx.center(
        rx.vstack(
            _brand(),
            rx.card(
                rx.vstack(
                    rx.heading(title, size="6", as_="h1"),
                    rx.text(subtitle, color_scheme="gray", size="2"),
                    *children,
                    spacing="4",
                    width="100%",
                ),
                size="3",
                width="100%",
            ),
            _back_home(),
            align="center",
            spacing="4",
            width="100%",
            max_width="26rem",
        ),
        min_height="100vh",
        padding="1rem",
        background="var(--gray-2)",
    )


def _submit(label: str) -> rx.Component:
    return rx.button(
        label,
        type="submit",
        size="3",
        width="100%",
        loading=AuthFormState.submitting,
        aria_label=label,
        aria_busy=rx.cond(AuthFormState.submitting, "true", "false"),
    )


def sign_in_page() -> rx.Component:
    return _card(
        "Sign in",
        "Welcome back to ViralShortsOps.",
        _form_error(),
        rx.form(
            rx.vstack(
                _field("Email", "email", "email", AuthFormState.email_error, "email"),
                _field(
                    "Password",
                    "password",
                    "password",
                    AuthFormState.password_error,
                    "current-password",
                ),
                rx.link("Forgot password?", href="/forgot-password", size="2"),
                _submit("Sign in"),
                spacing="4",
                width="100%",
            ),
            on_submit=AuthFormState.sign_in,
            width="100%",
        ),
        _oauth_buttons(),
        rx.text(
            "New here? ",
            rx.link("Create an account", href="/sign-up" + AuthFormState.next_query),
            size="2",
        ),
    )


def sign_up_page() -> rx.Component:
    return _card(
        "Create your account",
        "Start running your faceless channels.",
        _form_error(),
        rx.form(
            rx.vstack(
                _field("Name", "name", "text", AuthFormState.name_error, "name"),
                _field("Email", "email", "email", AuthFormState.email_error, "email"),
                _field(
                    "Password", "password", "password", AuthFormState.password_error, "new-password"
                ),
                # The hint gives way to the error, so one length message shows at a time.
                rx.cond(
                    AuthFormState.password_error == "",
                    rx.text("At least 10 characters.", color_scheme="gray", size="1"),
                ),
                _submit("Create account"),
                spacing="4",
                width="100%",
            ),
            on_submit=AuthFormState.create_account,
            width="100%",
        ),
        _oauth_buttons(),
        rx.text(
            "Already have an account? ",
            rx.link("Sign in", href="/sign-in" + AuthFormState.next_query),
            size="2",
        ),
    )


ON_LOAD = [AuthState.redirect_if_signed_in, AuthFormState.load_page]
