"""One base error and descriptive subclasses; messages are written for a person to read.

Beside its English message every error carries a stable ``code`` (``"quota_exceeded"``) and the
``params`` the message was built from (``{"remaining": 3}``), so a translation or an API client
never has to parse sentences. A subclass names its default code; a raise site may pass a more
precise one.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ViralShortsError(Exception):
    """Base class of every error this application raises on purpose."""

    default_code: ClassVar[str] = "error"

    def __init__(
        self, message: str = "", *, code: str | None = None, params: dict[str, Any] | None = None
    ) -> None:
        self.code = code or self.default_code
        self.params: dict[str, Any] = dict(params or {})
        super().__init__(message)

    @property
    def message(self) -> str:
        """The English text for a person."""
        return str(self)


class ValidationError(ViralShortsError):
    """Input that breaks a rule; ``field_errors`` maps a form field to its message.

    ``field_codes`` maps the same fields to stable codes (``"required"``, ``"too_long"``);
    a field without one has the code ``"invalid"``.
    """

    default_code = "validation"

    def __init__(
        self,
        field_errors: dict[str, str],
        *,
        field_codes: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        self.field_errors = field_errors
        self.field_codes = {name: (field_codes or {}).get(name, "invalid") for name in field_errors}
        text = "; ".join(f"{field}: {msg}" for field, msg in field_errors.items())
        super().__init__(text, params=params)


class NotFoundError(ViralShortsError):
    """The thing does not exist, or belongs to someone else (we never say which)."""

    default_code = "not_found"


class PermissionDeniedError(ViralShortsError):
    """The signed-in user may not do this."""

    default_code = "permission_denied"


class AuthenticationError(ViralShortsError):
    """Sign-in failed; the message never says whether the email exists."""

    default_code = "authentication_failed"


class RateLimitedError(ViralShortsError):
    """Too many attempts; ``retry_after`` is the number of seconds to wait."""

    default_code = "rate_limited"

    def __init__(self, retry_after: int, *, code: str | None = None) -> None:
        self.retry_after = retry_after
        message = f"Too many attempts. Try again in {retry_after} s."
        super().__init__(message, code=code, params={"retry_after": retry_after})


class QuotaExceededError(ViralShortsError):
    """The user's plan does not allow this many more videos/posts this period."""

    default_code = "quota_exceeded"


class ConfigurationError(ViralShortsError):
    """A feature was asked for whose configuration is missing."""

    default_code = "not_configured"


class ServiceUnavailableError(ViralShortsError):
    """A service we depend on (Redis, the queue) does not answer; nothing was lost."""

    default_code = "service_busy"


class IntegrationError(ViralShortsError):
    """An outside service failed; ``retryable`` says whether trying again may help."""

    default_code = "integration_failed"

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = True,
        code: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        self.retryable = retryable
        super().__init__(message, code=code, params=params)


class PlatformError(IntegrationError):
    """A publishing platform (YouTube, TikTok, Instagram) refused or failed a call.

    ``message`` is the platform's own words where it gave any (shown on the post).
    """

    default_code = "platform_failed"


class PlatformAuthError(PlatformError):
    """401 / invalid or expired token: refresh once and retry; a failed refresh needs reconnect."""

    default_code = "platform_auth"


class PlatformRateLimitedError(PlatformError):
    """429 / quota: wait ``retry_after_seconds`` and try again without burning an attempt."""

    default_code = "platform_rate_limited"

    def __init__(self, message: str, *, retry_after_seconds: float, **kwargs: Any) -> None:
        self.retry_after_seconds = retry_after_seconds
        super().__init__(message, **kwargs)


class RenderError(ViralShortsError):
    """The video could not be produced; the message is shown to the creator."""

    default_code = "render_failed"


class CancelledError(ViralShortsError):
    """The creator cancelled the work while it was running."""

    default_code = "cancelled"


class WebhookSignatureError(ViralShortsError):
    """A webhook whose signature is missing, wrong, or older than the tolerance (answer 400)."""

    default_code = "bad_signature"
