"""Account recovery and email: reset a forgotten password, change the password or the email.

Links sent by email carry a random token; only its SHA-256 is stored (``AccountToken``), with
an expiry, and it works once. Every function receives a sqlmodel ``Session`` (the caller
commits) and the ports it needs; ``now`` may be given to move the clock in tests.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete

from viralshorts.domain import account_emails
from viralshorts.domain.account_tokens import claim_token, drop_tokens, issue_token, usable_token
from viralshorts.domain.accounts import (
    ACCOUNT_EXISTS,
    _audit,
    _find_user,
    _limit_keys,
    _password_matches,
    _sha256,
    _take_attempt,
    end_all_sessions,
    get_user,
    hash_password,
    normalise_email,
    password_problem,
)
from viralshorts.domain.session_checks import sessions_ended
from viralshorts.errors import ValidationError
from viralshorts.integrations.ports import EmailSender, RateLimiter, SessionCache
from viralshorts.models import AccountToken, AccountTokenPurpose, LoginSession, User, utcnow
from viralshorts.settings import get_settings

RESET_LINK_LIFETIME = timedelta(minutes=30)
EMAIL_CHANGE_LINK_LIFETIME = timedelta(hours=24)
LINK_INVALID = "This link has expired or was already used. Ask for a new one."
WRONG_CURRENT_PASSWORD = "That is not your current password."
NO_PASSWORD_YET = (
    "This account has no password yet. Use “Forgot password?” on the sign-in page to set one."
)
_Purpose = AccountTokenPurpose


# ---------------------------------------------------------------- shared checks


def _invalid_link() -> ValidationError:
    return ValidationError({"token": LINK_INVALID}, field_codes={"token": "link_invalid"})


def _email_taken_meanwhile() -> ValidationError:
    return ValidationError(
        {"token": "Another account now uses this email address, so it cannot become yours."},
        field_codes={"token": "email_taken"},
    )


def _token_user(
    session: Session, raw: str, purpose: _Purpose, now: datetime
) -> tuple[AccountToken, User]:
    row = usable_token(session, raw, purpose, now)
    user = session.get(User, row.user_id) if row is not None else None
    if row is None or user is None or user.disabled:
        raise _invalid_link()
    return row, user


def _check_email_shape(email: str, field: str) -> None:
    if not account_emails.looks_like_email(email):
        raise ValidationError(
            {field: "Enter a valid email address."}, field_codes={field: "email_invalid"}
        )


# ---------------------------------------------------------------- forgot password


def _reset_limits(email: str, ip: str) -> list[tuple[str, int]]:
    settings = get_settings()
    return [
        (f"reset:email:{_sha256(email)}", settings.password_reset_max_per_email),
        (f"reset:ip:{ip}", settings.password_reset_max_per_ip),
    ]


def request_password_reset(
    session: Session,
    *,
    email: str,
    ip: str,
    limiter: RateLimiter,
    mailer: EmailSender,
    now: datetime | None = None,
) -> None:
    """Email a reset link (valid 30 minutes, once) to ``email`` if an account uses it.

    The answer and the work are the same either way, so the page cannot tell who has an
    account: the request is counted, the request is written to the audit log, and one message
    goes to the address (a link, or a note that no account uses it), sent off the request path.

    Raises:
        ValidationError: ``email`` is not an email address.
        RateLimitedError: too many requests for this email or from this IP.
        ServiceUnavailableError: the limiter does not answer.
    """
    email = normalise_email(email)
    _check_email_shape(email, "email")
    window = get_settings().password_reset_window_seconds
    _take_attempt(limiter, _reset_limits(email, ip), window, "password_reset_rate_limited")
    now = now or utcnow()
    user = _find_user(session, email)
    if user is None or user.id is None or user.disabled:
        _audit(session, None, "password_reset_requested", ip=ip, account=False)
        session.flush()
        mailer.send(account_emails.no_account_for_reset(email))
        return
    raw = issue_token(session, user.id, _Purpose.PASSWORD_RESET, RESET_LINK_LIFETIME, now)
    _audit(session, user.id, "password_reset_requested", ip=ip, account=True)
    session.flush()
    mailer.send(account_emails.reset_link(email, raw, RESET_LINK_LIFETIME))


def reset_link_is_usable(session: Session, token: str, *, now: datetime | None = None) -> bool:
    """True while a reset link can still set a password (the page checks before asking)."""
    return usable_token(session, token, _Purpose.PASSWORD_RESET, now or utcnow()) is not None


def reset_password(
    session: Session,
    *,
    token: str,
    new_password: str,
    limiter: RateLimiter | None = None,
    ip: str = "",
    now: datetime | None = None,
    sessions: SessionCache | None = None,
) -> User:
    """Set a new password from a reset link, then end every session of the user.

    The browser that used the link is signed out too; the person signs in with the new
    password. With a ``limiter``, earlier failed sign-ins for the email stop counting.

    Raises:
        ValidationError: ``token``: the link is unknown, expired or used; ``password``: the new
            password breaks the rules (the link stays usable then).
    """
    now = now or utcnow()
    row, user = _token_user(session, token, _Purpose.PASSWORD_RESET, now)
    problem = password_problem(new_password, user.email)
    if problem is not None:
        code, message = problem
        raise ValidationError({"password": message}, field_codes={"password": code})
    if user.id is None or not claim_token(session, row, now):
        raise _invalid_link()
    user.password_hash = hash_password(new_password)
    session.add(user)
    drop_tokens(session, user.id, _Purpose.PASSWORD_RESET)
    ended = end_all_sessions(session, user.id, sessions=sessions)
    _audit(session, user.id, "password_reset", ip=ip, sessions=ended)
    session.flush()
    if limiter is not None:
        limiter.reset(_limit_keys(user.email, ip)[0][0])
    return user


# ---------------------------------------------------------------- profile: password and email


def _check_current_password(user: User, password: str, limiter: RateLimiter, ip: str) -> None:
    if not user.password_hash:
        raise ValidationError(
            {"current_password": NO_PASSWORD_YET}, field_codes={"current_password": "no_password"}
        )
    # Wrong guesses count as failed sign-ins for this email, so a stolen session cannot be
    # used to try passwords faster than the sign-in page allows.
    window = get_settings().login_window_seconds
    ticket = _take_attempt(limiter, _limit_keys(user.email, ip), window, "sign_in_rate_limited")
    if not _password_matches(user, password):
        raise ValidationError(
            {"current_password": WRONG_CURRENT_PASSWORD},
            field_codes={"current_password": "wrong_password"},
        )
    limiter.give_back(ticket)


def change_password(
    session: Session,
    *,
    user_id: int,
    current_password: str,
    new_password: str,
    keep_session_token: str,
    limiter: RateLimiter,
    ip: str = "",
    sessions: SessionCache | None = None,
) -> int:
    """Change the password (the current one is needed) and end the user's other sessions.

    Returns:
        How many other sessions ended; the one whose token is ``keep_session_token`` stays.

    Raises:
        ValidationError: ``current_password`` wrong or missing; ``new_password`` breaks the rules.
        RateLimitedError: too many wrong passwords for this email or from this IP.
    """
    user = get_user(session, user_id)
    _check_current_password(user, current_password, limiter, ip)
    problem = password_problem(new_password, user.email)
    if problem is not None:
        code, message = problem
        raise ValidationError({"new_password": message}, field_codes={"new_password": code})
    user.password_hash = hash_password(new_password)
    session.add(user)
    others = delete(LoginSession).where(
        col(LoginSession.user_id) == user_id,
        col(LoginSession.token_hash) != _sha256(keep_session_token),
    )
    ended = session.exec(others).rowcount
    drop_tokens(session, user_id, _Purpose.PASSWORD_RESET)
    _audit(session, user_id, "password_changed", ip=ip, sessions=ended)
    session.flush()
    sessions_ended(sessions, user_id)  # the kept session is simply loaded again
    return ended


def _email_change_limits(user_id: int, ip: str) -> list[tuple[str, int]]:
    settings = get_settings()
    return [
        (f"email_change:user:{user_id}", settings.password_reset_max_per_email),
        (f"email_change:ip:{ip}", settings.password_reset_max_per_ip),
    ]


def _check_new_email(session: Session, user: User, new_email: str) -> None:
    if new_email == user.email:
        raise ValidationError(
            {"new_email": "This is already your email address."},
            field_codes={"new_email": "email_unchanged"},
        )
    if _find_user(session, new_email) is not None:
        raise ValidationError(
            {"new_email": ACCOUNT_EXISTS}, field_codes={"new_email": "email_taken"}
        )


def request_email_change(
    session: Session,
    *,
    user_id: int,
    new_email: str,
    current_password: str,
    limiter: RateLimiter,
    mailer: EmailSender,
    ip: str = "",
    now: datetime | None = None,
) -> str:
    """Send a link (valid 24 hours, once) to ``new_email``; the email changes when it is opened.

    Accounts with a password must give it. Returns the normalised new address.

    Raises:
        ValidationError: a bad or unchanged address, one another account uses, or a wrong
            current password.
        RateLimitedError: too many requests for this account or from this IP.
    """
    user = get_user(session, user_id)
    new_email = normalise_email(new_email)
    _check_email_shape(new_email, "new_email")
    if user.password_hash:
        _check_current_password(user, current_password, limiter, ip)
    window = get_settings().password_reset_window_seconds
    limits = _email_change_limits(user_id, ip)
    _take_attempt(limiter, limits, window, "email_change_rate_limited")
    _check_new_email(session, user, new_email)
    now = now or utcnow()
    lifetime = EMAIL_CHANGE_LINK_LIFETIME
    raw = issue_token(session, user_id, _Purpose.EMAIL_CHANGE, lifetime, now, new_email=new_email)
    _audit(session, user_id, "email_change_requested", ip=ip)
    session.flush()
    mailer.send(account_emails.confirm_new_email(new_email, raw, lifetime))
    return new_email


def pending_email_change(
    session: Session, token: str, *, now: datetime | None = None
) -> str | None:
    """The address a usable email-change link would confirm, else None."""
    row = usable_token(session, token, _Purpose.EMAIL_CHANGE, now or utcnow())
    return row.new_email if row is not None else None


def confirm_email_change(
    session: Session,
    *,
    token: str,
    mailer: EmailSender,
    ip: str = "",
    now: datetime | None = None,
) -> User:
    """Make the link's new address the account's email; the old address gets a notice.

    Links sent to the old address (password reset, earlier email changes) stop working.

    Raises:
        ValidationError: ``token``: the link is unknown, expired or used, or another account
            took the address meanwhile.
    """
    now = now or utcnow()
    row, user = _token_user(session, token, _Purpose.EMAIL_CHANGE, now)
    if _find_user(session, row.new_email) is not None:
        raise _email_taken_meanwhile()
    if user.id is None or not claim_token(session, row, now):
        raise _invalid_link()
    old_email = user.email
    try:
        with session.begin_nested():
            user.email = row.new_email
            session.add(user)
    except IntegrityError:  # another account signed up with the address a moment ago
        raise _email_taken_meanwhile() from None
    drop_tokens(session, user.id)
    _audit(session, user.id, "email_changed", ip=ip, old=old_email, new=user.email)
    session.flush()
    mailer.send(account_emails.email_changed_notice(old_email, user.email))
    return user
