"""One base error and descriptive subclasses; messages are written for a person to read."""

from __future__ import annotations


class ViralShortsError(Exception):
    """Base class of every error this application raises on purpose."""


class ValidationError(ViralShortsError):
    """Input that breaks a rule; ``field_errors`` maps a form field to its message."""

    def __init__(self, field_errors: dict[str, str]) -> None:
        self.field_errors = field_errors
        super().__init__("; ".join(f"{field}: {msg}" for field, msg in field_errors.items()))


class NotFoundError(ViralShortsError):
    """The thing does not exist, or belongs to someone else (we never say which)."""


class PermissionDeniedError(ViralShortsError):
    """The signed-in user may not do this."""


class AuthenticationError(ViralShortsError):
    """Sign-in failed; the message never says whether the email exists."""


class RateLimitedError(ViralShortsError):
    """Too many attempts; ``retry_after`` is the number of seconds to wait."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"Too many attempts. Try again in {retry_after} s.")


class QuotaExceededError(ViralShortsError):
    """The user's plan does not allow this many more videos/posts this period."""


class ConfigurationError(ViralShortsError):
    """A feature was asked for whose configuration is missing."""


class IntegrationError(ViralShortsError):
    """An outside service failed; ``retryable`` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        self.retryable = retryable
        super().__init__(message)


class RenderError(ViralShortsError):
    """The video could not be produced; the message is shown to the creator."""


class CancelledError(ViralShortsError):
    """The creator cancelled the work while it was running."""
