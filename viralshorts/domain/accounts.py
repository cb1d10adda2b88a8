"""Accounts: sign-up, sign-in with rate limits, server-side sessions, tickets, OAuth, admins.

Plain Python: every function receives a sqlmodel ``Session`` (the caller commits) and the ports
it needs. Only the SHA-256 of a session token or sign-in ticket is ever stored.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from viralshorts.domain.session_checks import sessions_ended
from viralshorts.domain.workspaces import create_personal_workspace
from viralshorts.errors import AuthenticationError, NotFoundError, RateLimitedError, ValidationError
from viralshorts.integrations.ports import OneTimeStore, RateLimiter, RateLimitTicket, SessionCache
from viralshorts.models import AuditLog, LoginSession, OAuthAccount, Role, User, utcnow
from viralshorts.settings import get_settings

SESSION_COOKIE = "vs_session"
WRONG_CREDENTIALS = "Wrong email or password."
SIGN_IN_TICKET_SECONDS = 60
DEFAULT_NEXT = "/app"
_SLIDE_EVERY = timedelta(minutes=1)
_EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_hasher = PasswordHasher()  # argon2id with the library's recommended cost
COMMON_PASSWORDS_FILE = (
    Path(__file__).resolve().parent.parent / "resources" / "common_passwords.txt"
)
ACCOUNT_EXISTS = "An account with this email already exists."


# ---------------------------------------------------------------- helpers


def normalise_email(email: str) -> str:
    """Emails are compared trimmed and lower-cased."""
    return email.strip().lower()


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def _sha256(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def _password_matches(user: User | None, password: str) -> bool:
    # Verify against a dummy hash when there is no user or no password, so an unknown email
    # costs the same time as a known one and the answer cannot enumerate accounts.
    has_password = user is not None and bool(user.password_hash)
    stored = user.password_hash if user is not None and has_password else _dummy_hash()
    try:
        _hasher.verify(stored or "", password)
    except (VerificationError, InvalidHashError):
        return False
    return has_password


def _find_user(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email)).first()


def _audit(
    session: Session, user_id: int | None, action: str, *, ip: str = "", **details: Any
) -> None:
    session.add(
        AuditLog(
            user_id=user_id,
            action=action,
            target_type="user",
            target_id=str(user_id or ""),
            details=details,
            ip=ip[:64],
        )
    )


def safe_next_path(value: str | None) -> str:
    """A same-origin relative path to go to after sign-in; anything else becomes ``/app``."""
    value = (value or "").strip()
    parts = urlsplit(value)
    unsafe = parts.scheme or parts.netloc or "\\" in value or any(ord(c) < 32 for c in value)
    if unsafe or not value.startswith("/") or value.startswith("//"):
        return DEFAULT_NEXT
    return value


# ---------------------------------------------------------------- sign-up and sign-in


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-case (read once, on first use)."""
    return frozenset(COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").split("\n")) - {""}


def password_problem(password: str, email: str) -> tuple[str, str] | None:
    """Why ``password`` may not be used, as ``(code, message)``; None when it is fine."""
    if not 10 <= len(password) <= 128:
        return "password_length", "Use 10 to 128 characters."
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in password):
        return "password_control_characters", "Use letters, digits, spaces and symbols only."
    if not password.strip():
        return "password_blank", "Use something other than spaces."
    folded = password.strip().lower()
    if folded == email:
        return "password_is_email", "Don't use your email address as your password."
    if folded in common_passwords():
        return "password_common", "This password is too common. Choose one that is harder to guess."
    return None


def _signup_errors(
    email: str, password: str, display_name: str
) -> tuple[dict[str, str], dict[str, str]]:
    errors: dict[str, str] = {}
    codes: dict[str, str] = {}
    if len(email) > 320 or not _EMAIL_SHAPE.match(email):
        errors["email"], codes["email"] = "Enter a valid email address.", "email_invalid"
    problem = password_problem(password, email)
    if problem is not None:
        codes["password"], errors["password"] = problem
    if len(display_name.strip()) > 120:
        errors["display_name"], codes["display_name"] = "Use at most 120 characters.", "too_long"
    return errors, codes


def _take_attempt(
    limiter: RateLimiter, limits: list[tuple[str, int]], window: int, code: str
) -> RateLimitTicket:
    taken = limiter.take(limits, window_seconds=window)
    if isinstance(taken, int):
        raise RateLimitedError(taken, code=code)
    return taken


def _sign_up_limits(email: str, ip: str) -> list[tuple[str, int]]:
    settings = get_settings()
    return [
        (f"signup:ip:{ip}", settings.signup_max_attempts_per_ip),
        (f"signup:email:{_sha256(email)}", settings.signup_max_attempts_per_email),
    ]


def sign_up(
    session: Session,
    *,
    email: str,
    password: str,
    display_name: str = "",
    limiter: RateLimiter | None = None,
    ip: str = "",
) -> User:
    """Create a creator account with a password.

    With a ``limiter`` (the sign-up page), refused attempts are counted per IP and per email,
    so the "already exists" answer cannot be used to test many addresses; an attempt that
    creates the account is not counted.

    Raises:
        RateLimitedError: too many refused sign-ups from this IP or for this email.
        ValidationError: on a bad email/password/name, or an email that already has an account.
        ServiceUnavailableError: the limiter does not answer.
    """
    email = normalise_email(email)
    ticket = None
    if limiter is not None:
        window = get_settings().signup_window_seconds
        limits = _sign_up_limits(email, ip)
        ticket = _take_attempt(limiter, limits, window, "sign_up_rate_limited")
    user = _create_user(session, email, password, display_name)
    if limiter is not None and ticket is not None:
        limiter.give_back(ticket)
    return user


def _create_user(session: Session, email: str, password: str, display_name: str) -> User:
    errors, codes = _signup_errors(email, password, display_name)
    if not errors and _find_user(session, email) is not None:
        errors["email"], codes["email"] = ACCOUNT_EXISTS, "email_taken"
    if errors:
        raise ValidationError(errors, field_codes=codes)
    user = User(
        email=email, display_name=display_name.strip(), password_hash=hash_password(password)
    )
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError:  # a concurrent sign-up won the unique index
        raise ValidationError(
            {"email": ACCOUNT_EXISTS}, field_codes={"email": "email_taken"}
        ) from None
    create_personal_workspace(session, user)
    _audit(session, user.id, "sign_up")
    return user


def _limit_keys(email: str, ip: str) -> list[tuple[str, int]]:
    settings = get_settings()
    return [
        (f"login:email:{email}", settings.login_max_failures),
        (f"login:ip:{ip}", settings.login_max_failures_per_ip),
    ]


def authenticate(
    session: Session, limiter: RateLimiter, *, email: str, password: str, ip: str
) -> User:
    """Check an email and password, counting failures per email and per IP.

    Each attempt is counted (atomically, against both limits) before the password is checked,
    and given back when it succeeds; so however many attempts arrive at once, at most the
    limit of them is ever evaluated.

    Raises:
        RateLimitedError: too many recent failures (nothing is checked then).
        AuthenticationError: wrong email or password, or a disabled account (same message).
        ServiceUnavailableError: the limiter does not answer.
    """
    email = normalise_email(email)
    keys = _limit_keys(email, ip)
    window = get_settings().login_window_seconds
    ticket = _take_attempt(limiter, keys, window, "sign_in_rate_limited")
    user = _find_user(session, email)
    if not _password_matches(user, password) or user is None or user.disabled:
        raise AuthenticationError(WRONG_CREDENTIALS, code="wrong_credentials")
    limiter.give_back(ticket)
    limiter.reset(keys[0][0])
    if _hasher.check_needs_rehash(user.password_hash or ""):
        user.password_hash = hash_password(password)
    _record_sign_in(session, user, ip=ip, method="password")
    return user


def _record_sign_in(session: Session, user: User, *, ip: str, method: str) -> None:
    user.last_login_at = utcnow()
    session.add(user)
    _audit(session, user.id, "sign_in", ip=ip, method=method)
    session.flush()


# ---------------------------------------------------------------- server-side sessions


def create_login_session(session: Session, *, user: User, user_agent: str, ip: str) -> str:
    """Start a browser session; returns the raw token for the cookie (only its hash is kept)."""
    settings = get_settings()
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        LoginSession(
            user_id=user.id,
            token_hash=_sha256(raw),
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(days=settings.session_idle_days),
            absolute_expires_at=now + timedelta(days=settings.session_max_days),
            user_agent=user_agent[:512],
            ip=ip[:64],
        )
    )
    session.flush()
    return raw


def _slide(row: LoginSession, now: datetime) -> None:
    if now - row.last_seen_at < _SLIDE_EVERY:
        return  # at most one write a minute, not one per request
    idle = timedelta(days=get_settings().session_idle_days)
    row.last_seen_at = now
    row.expires_at = min(now + idle, row.absolute_expires_at)


def user_for_token(session: Session, raw: str) -> User | None:
    """The signed-in user for a session token, or None (unknown, expired, or disabled)."""
    if not raw:
        return None
    row = session.exec(select(LoginSession).where(LoginSession.token_hash == _sha256(raw))).first()
    now = utcnow()
    if row is None or now >= row.expires_at or now >= row.absolute_expires_at:
        return None
    user = session.get(User, row.user_id)
    if user is None or user.disabled:
        return None
    _slide(row, now)
    session.add(row)
    return user


def end_session(session: Session, raw: str, *, sessions: SessionCache | None = None) -> None:
    """Sign one browser out (no error when the token is unknown); ``sessions`` forgets it."""
    if not raw:
        return
    row = session.exec(select(LoginSession).where(LoginSession.token_hash == _sha256(raw))).first()
    session.exec(delete(LoginSession).where(col(LoginSession.token_hash) == _sha256(raw)))
    if row is not None:
        sessions_ended(sessions, row.user_id)


def end_all_sessions(
    session: Session, user_id: int, *, sessions: SessionCache | None = None
) -> int:
    """Sign the user out everywhere; returns how many sessions ended.

    With ``sessions`` (the session cache), every open tab sees the end at its next event.
    """
    result = session.exec(delete(LoginSession).where(col(LoginSession.user_id) == user_id))
    _audit(session, user_id, "sign_out_everywhere", sessions=result.rowcount)
    session.flush()
    sessions_ended(sessions, user_id)
    return result.rowcount


# ---------------------------------------------------------------- one-time sign-in tickets


def issue_sign_in_ticket(store: OneTimeStore, *, user: User) -> str:
    """A single-use ticket (valid 60 s) that an HTTP route trades for the session cookie."""
    raw = secrets.token_urlsafe(32)
    store.put(f"signin:{_sha256(raw)}", str(user.id), ttl_seconds=SIGN_IN_TICKET_SECONDS)
    return raw


def redeem_sign_in_ticket(session: Session, store: OneTimeStore, raw: str) -> User | None:
    """The ticket's user, once; None for an unknown, reused or expired ticket."""
    user_id = store.take(f"signin:{_sha256(raw)}") if raw else None
    user = session.get(User, int(user_id)) if user_id else None
    return None if user is None or user.disabled else user


# ---------------------------------------------------------------- OAuth and admin


def sign_in_oauth(
    session: Session,
    *,
    provider: str,
    provider_account_id: str,
    email: str,
    display_name: str,
    ip: str = "",
) -> User:
    """Sign in with a social account; ``email`` must be one the provider has verified.

    An already linked account wins; else a user with that email gets the link; else a new
    user without a password is created.

    Raises:
        AuthenticationError: the linked user is disabled.
    """
    link = session.exec(
        select(OAuthAccount).where(
            OAuthAccount.provider == provider,
            OAuthAccount.provider_account_id == provider_account_id,
        )
    ).first()
    user = (
        session.get(User, link.user_id)
        if link
        else _user_for_new_link(session, email, display_name)
    )
    if user is None or user.disabled:
        raise AuthenticationError("This account is disabled.", code="account_disabled")
    if link is None:
        session.add(
            OAuthAccount(
                user_id=user.id,
                provider=provider,
                provider_account_id=provider_account_id,
                email=normalise_email(email),
            )
        )
    _record_sign_in(session, user, ip=ip, method=provider)
    return user


def _user_for_new_link(session: Session, email: str, display_name: str) -> User:
    email = normalise_email(email)
    user = _find_user(session, email)
    if user is None:
        user = User(email=email, display_name=display_name.strip()[:120])
        session.add(user)
        session.flush()
        create_personal_workspace(session, user)
        _audit(session, user.id, "sign_up", method="oauth")
    return user


def create_admin(session: Session, *, email: str, password: str) -> User:
    """Create an admin, or promote an existing user (whose password is then left unchanged).

    Raises:
        ValidationError: a new account's email or password breaks the sign-up rules.
    """
    user = _find_user(session, normalise_email(email)) or sign_up(
        session, email=email, password=password
    )
    user.role = Role.ADMIN
    session.add(user)
    _audit(session, user.id, "admin_created")
    session.flush()
    return user


def get_user(session: Session, user_id: int) -> User:
    """The user with this id.

    Raises:
        NotFoundError: there is no such user.
    """
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError("not found")
    return user
