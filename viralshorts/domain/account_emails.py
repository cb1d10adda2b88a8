"""The messages account recovery sends: plain text, written for the person who reads them."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from viralshorts.domain.accounts import _EMAIL_SHAPE
from viralshorts.integrations.ports import OutgoingEmail
from viralshorts.settings import get_settings

PRODUCT = "ViralShortsOps"
RESET_PATH = "/reset-password"
CONFIRM_EMAIL_PATH = "/confirm-email"
INVITE_PATH = "/invite"
_SIGNATURE = f"\n\n— {PRODUCT}\n"


def looks_like_email(email: str) -> bool:
    """True for something shaped like an email address (at most 320 characters)."""
    return len(email) <= 320 and _EMAIL_SHAPE.match(email) is not None


def link(path: str, token: str) -> str:
    """An absolute link to ``path`` carrying ``token``, on PUBLIC_BASE_URL."""
    base = get_settings().public_base_url.rstrip("/")
    return f"{base}{path}?token={quote(token, safe='')}"


def _lifetime_words(lifetime: timedelta) -> str:
    minutes = int(lifetime.total_seconds() // 60)
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour" if hours == 1 else f"{hours} hours"
    return f"{minutes} minutes"


def reset_link(to: str, token: str, lifetime: timedelta) -> OutgoingEmail:
    """The password reset link for an account."""
    body = (
        "Hello,\n\n"
        f"Someone (hopefully you) asked to reset the password of your {PRODUCT} account. "
        f"Open this link within {_lifetime_words(lifetime)} to choose a new password:\n\n"
        f"{link(RESET_PATH, token)}\n\n"
        "The link works once. Setting a new password signs you out on every device; then you "
        "sign in with the new password.\n\n"
        "If you did not ask for this, ignore this message: your password stays as it is."
    )
    return OutgoingEmail(to=to, subject=f"Reset your {PRODUCT} password", body=body + _SIGNATURE)


def no_account_for_reset(to: str) -> OutgoingEmail:
    """The answer to a reset request for an address no account (that can sign in) uses."""
    body = (
        "Hello,\n\n"
        f"Someone (hopefully you) asked to reset a {PRODUCT} password for this email address, "
        "but no account that can sign in uses it.\n\n"
        "If you have an account, try again with the address you signed up with. If you did not "
        "ask for this, ignore this message."
    )
    return OutgoingEmail(to=to, subject=f"Reset your {PRODUCT} password", body=body + _SIGNATURE)


def confirm_new_email(to: str, token: str, lifetime: timedelta) -> OutgoingEmail:
    """The link that confirms ``to`` as an account's new email address."""
    body = (
        "Hello,\n\n"
        f"Someone (hopefully you) asked to use this address as the email of a {PRODUCT} "
        f"account. Open this link within {_lifetime_words(lifetime)} to confirm it:\n\n"
        f"{link(CONFIRM_EMAIL_PATH, token)}\n\n"
        "The link works once. Until it is opened, the account keeps its current email.\n\n"
        "If you did not ask for this, ignore this message."
    )
    return OutgoingEmail(
        to=to, subject=f"Confirm your new {PRODUCT} email address", body=body + _SIGNATURE
    )


def email_changed_notice(to: str, new_email: str) -> OutgoingEmail:
    """The notice to the old address once the email of the account has changed."""
    body = (
        "Hello,\n\n"
        f"The email address of your {PRODUCT} account was changed to {new_email}. "
        "From now on you sign in with that address, and messages about the account go there.\n\n"
        "If you did not do this, reply to this message or contact support at once: someone "
        "else may be using your account."
    )
    return OutgoingEmail(
        to=to, subject=f"Your {PRODUCT} email address was changed", body=body + _SIGNATURE
    )


def _role_words(role: str) -> str:
    article = "an" if role[:1] in "aeiou" else "a"
    return f"{article} {role}"


def workspace_invitation(
    to: str, token: str, lifetime: timedelta, *, workspace_name: str, inviter: str, role: str
) -> OutgoingEmail:
    """The link that lets ``to`` join a workspace with ``role``."""
    who = inviter or "A member"
    body = (
        "Hello,\n\n"
        f"{who} invited you to join the workspace “{workspace_name}” on {PRODUCT} as "
        f"{_role_words(role)}. Open this link within {_lifetime_words(lifetime)} to accept:\n\n"
        f"{link(INVITE_PATH, token)}\n\n"
        f"The link works once. Sign in, or create an account, with this address ({to}) to "
        "accept it.\n\n"
        "If you did not expect this, ignore this message: nothing changes until the link is "
        "opened."
    )
    return OutgoingEmail(
        to=to,
        subject=f"{who} invited you to “{workspace_name}” on {PRODUCT}",
        body=body + _SIGNATURE,
    )
