"""Password reset, change password and change email on PostgreSQL, with the real Redis limiter."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import unquote

import pytest
from sqlmodel import Session, select

from tests.factories import RecordingMailer
from tests.fakes.smtp_server import SmtpServer
from viralshorts.domain import account_recovery as recovery
from viralshorts.domain import accounts
from viralshorts.errors import AuthenticationError, RateLimitedError, ValidationError
from viralshorts.integrations.email_background import BackgroundEmailSender
from viralshorts.integrations.email_smtp import SmtpEmailSender
from viralshorts.integrations.redis_rate_limit import RedisRateLimiter
from viralshorts.models import AccountToken, LoginSession, User, utcnow
from viralshorts.settings import Settings, get_settings

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new passphrase"
IP = "10.0.0.7"


@pytest.fixture()
def limiter(use_redis) -> RedisRateLimiter:
    return RedisRateLimiter(get_settings())


@pytest.fixture()
def mailer() -> RecordingMailer:
    return RecordingMailer()


@pytest.fixture()
def user(session: Session) -> User:
    created = accounts.sign_up(session, email="ada@example.com", password=PASSWORD)
    session.commit()
    return created


def _token_in(body: str, path: str) -> str:
    found = re.search(re.escape(path) + r"\?token=([^\s]+)", body)
    assert found, body
    return unquote(found.group(1))


def _ask_reset(session, limiter, mailer, email="ada@example.com", **kw) -> str:
    recovery.request_password_reset(
        session, email=email, ip=IP, limiter=limiter, mailer=mailer, **kw
    )
    session.commit()
    return (
        _token_in(mailer.sent[-1].body, "/reset-password")
        if "?token=" in (mailer.sent[-1].body)
        else ""
    )


def _sessions(session: Session, user: User, count: int) -> list[str]:
    tokens = [
        accounts.create_login_session(session, user=user, user_agent="t", ip=IP)
        for _ in range(count)
    ]
    session.commit()
    return tokens


def _session_count(session: Session, user_id: int) -> int:
    return len(session.exec(select(LoginSession).where(LoginSession.user_id == user_id)).all())


# ---------------------------------------------------------------- forgot password


def test_a_reset_link_is_emailed_and_only_its_hash_is_stored(session, user, limiter, mailer):
    token = _ask_reset(session, limiter, mailer)
    [message] = mailer.sent
    assert message.to == "ada@example.com"
    assert message.subject == "Reset your ViralShortsOps password"
    assert f"{get_settings().public_base_url}/reset-password?token=" in message.body
    assert "30 minutes" in message.body
    [row] = session.exec(select(AccountToken)).all()
    assert row.user_id == user.id
    assert token not in row.token_hash
    assert row.token_hash == accounts._sha256(token)
    assert row.expires_at - row.created_at == timedelta(minutes=30)


def test_an_unknown_email_gets_the_same_answer_and_the_same_work(session, user, limiter, mailer):
    known = recovery.request_password_reset(
        session, email="ada@example.com", ip=IP, limiter=limiter, mailer=mailer
    )
    unknown = recovery.request_password_reset(
        session, email="nobody@example.com", ip=IP, limiter=limiter, mailer=mailer
    )
    assert known is None
    assert unknown is None
    # One message each, to the address typed, with the same subject; only the known one links.
    assert [m.to for m in mailer.sent] == ["ada@example.com", "nobody@example.com"]
    assert mailer.sent[0].subject == mailer.sent[1].subject
    assert "?token=" not in mailer.sent[1].body
    assert "no account" in mailer.sent[1].body
    # Both were counted against their email's limit.
    for email in ("ada@example.com", "nobody@example.com"):
        for _ in range(get_settings().password_reset_max_per_email - 1):
            recovery.request_password_reset(
                session, email=email, ip=email, limiter=limiter, mailer=mailer
            )
        with pytest.raises(RateLimitedError):
            recovery.request_password_reset(
                session, email=email, ip=email, limiter=limiter, mailer=mailer
            )


def test_requests_are_limited_per_ip(session, limiter, mailer):
    for n in range(get_settings().password_reset_max_per_ip):
        recovery.request_password_reset(
            session, email=f"p{n}@example.com", ip=IP, limiter=limiter, mailer=mailer
        )
    with pytest.raises(RateLimitedError) as limited:
        recovery.request_password_reset(
            session, email="other@example.com", ip=IP, limiter=limiter, mailer=mailer
        )
    assert limited.value.code == "password_reset_rate_limited"


def test_a_new_password_ends_every_session_and_the_link_works_once(session, user, limiter, mailer):
    _sessions(session, user, 2)
    token = _ask_reset(session, limiter, mailer)
    assert recovery.reset_link_is_usable(session, token)
    recovery.reset_password(session, token=token, new_password=NEW_PASSWORD, limiter=limiter)
    session.commit()
    assert _session_count(session, user.id) == 0
    assert accounts.authenticate(
        session, limiter, email="ada@example.com", password=NEW_PASSWORD, ip=IP
    )
    with pytest.raises(AuthenticationError):
        accounts.authenticate(session, limiter, email="ada@example.com", password=PASSWORD, ip=IP)
    assert not recovery.reset_link_is_usable(session, token)
    with pytest.raises(ValidationError) as reused:
        recovery.reset_password(session, token=token, new_password="yet another passphrase")
    assert reused.value.field_codes == {"token": "link_invalid"}


def test_the_link_expires_after_30_minutes(session, user, limiter, mailer):
    start = utcnow()
    token = _ask_reset(session, limiter, mailer, now=start)
    late = start + timedelta(minutes=30)
    assert recovery.reset_link_is_usable(session, token, now=late - timedelta(seconds=1))
    assert not recovery.reset_link_is_usable(session, token, now=late)
    with pytest.raises(ValidationError) as expired:
        recovery.reset_password(session, token=token, new_password=NEW_PASSWORD, now=late)
    assert expired.value.field_codes == {"token": "link_invalid"}


def test_a_second_request_invalidates_the_first_link(session, user, limiter, mailer):
    first = _ask_reset(session, limiter, mailer)
    second = _ask_reset(session, limiter, mailer)
    assert first != second
    with pytest.raises(ValidationError):
        recovery.reset_password(session, token=first, new_password=NEW_PASSWORD)
    recovery.reset_password(session, token=second, new_password=NEW_PASSWORD)


def test_a_weak_password_is_refused_and_the_link_stays_usable(session, user, limiter, mailer):
    token = _ask_reset(session, limiter, mailer)
    with pytest.raises(ValidationError) as weak:
        recovery.reset_password(session, token=token, new_password="password123")
    assert weak.value.field_codes == {"password": "password_common"}
    assert recovery.reset_link_is_usable(session, token)


def test_unknown_and_forged_tokens_are_refused(session, user):
    for forged in ("", "x" * 43, "y" * 5000):
        assert not recovery.reset_link_is_usable(session, forged)
        with pytest.raises(ValidationError):
            recovery.reset_password(session, token=forged, new_password=NEW_PASSWORD)


def test_reset_end_to_end_through_a_real_smtp_server(session, user, limiter):
    old_sessions = _sessions(session, user, 2)
    with SmtpServer() as server:
        settings = Settings(
            _env_file=None, smtp_host=server.host, smtp_port=server.port, smtp_starttls=False
        )
        mailer = BackgroundEmailSender(SmtpEmailSender(settings))
        recovery.request_password_reset(
            session, email="Ada@Example.com", ip=IP, limiter=limiter, mailer=mailer
        )
        session.commit()
        [mail] = server.wait_for(1)
    assert mail.rcpt_tos == ["ada@example.com"]
    token = _token_in(mail.body, "/reset-password")
    recovery.reset_password(session, token=token, new_password=NEW_PASSWORD, limiter=limiter)
    session.commit()
    assert [accounts.user_for_token(session, raw) for raw in old_sessions] == [None, None]
    signed_in = accounts.authenticate(
        session, limiter, email="ada@example.com", password=NEW_PASSWORD, ip=IP
    )
    assert signed_in.id == user.id


# ---------------------------------------------------------------- change password


def test_change_password_needs_the_current_one_and_keeps_this_session(session, user, limiter):
    this, *others = _sessions(session, user, 3)
    with pytest.raises(ValidationError) as wrong:
        recovery.change_password(
            session,
            user_id=user.id,
            current_password="not my password",
            new_password=NEW_PASSWORD,
            keep_session_token=this,
            limiter=limiter,
        )
    assert wrong.value.field_codes == {"current_password": "wrong_password"}
    ended = recovery.change_password(
        session,
        user_id=user.id,
        current_password=PASSWORD,
        new_password=NEW_PASSWORD,
        keep_session_token=this,
        limiter=limiter,
    )
    session.commit()
    assert ended == 2
    assert accounts.user_for_token(session, this).id == user.id
    assert [accounts.user_for_token(session, raw) for raw in others] == [None, None]
    assert accounts.authenticate(
        session, limiter, email="ada@example.com", password=NEW_PASSWORD, ip=IP
    )


def test_change_password_applies_the_password_rules(session, user, limiter):
    with pytest.raises(ValidationError) as weak:
        recovery.change_password(
            session,
            user_id=user.id,
            current_password=PASSWORD,
            new_password="ada@example.com",
            keep_session_token="",
            limiter=limiter,
        )
    assert weak.value.field_codes == {"new_password": "password_is_email"}


def test_an_account_without_a_password_is_sent_to_the_reset_link(session, limiter):
    social = accounts.sign_in_oauth(
        session, provider="github", provider_account_id="7", email="gh@example.com", display_name=""
    )
    with pytest.raises(ValidationError) as none:
        recovery.change_password(
            session,
            user_id=social.id,
            current_password="",
            new_password=NEW_PASSWORD,
            keep_session_token="",
            limiter=limiter,
        )
    assert none.value.field_codes == {"current_password": "no_password"}


# ---------------------------------------------------------------- change email


def _ask_email_change(session, user, limiter, mailer, new_email="ada.new@example.com", **kw):
    recovery.request_email_change(
        session,
        user_id=user.id,
        new_email=new_email,
        current_password=kw.pop("password", PASSWORD),
        limiter=limiter,
        mailer=mailer,
        ip=IP,
        **kw,
    )
    session.commit()
    return _token_in(mailer.sent[-1].body, "/confirm-email")


def test_an_email_change_is_confirmed_by_a_link_to_the_new_address(session, user, limiter, mailer):
    reset_token = _ask_reset(session, limiter, mailer)
    token = _ask_email_change(session, user, limiter, mailer)
    link_mail = mailer.sent[-1]
    assert link_mail.to == "ada.new@example.com"
    assert "24 hours" in link_mail.body
    assert session.get(User, user.id).email == "ada@example.com"  # not before the link
    assert recovery.pending_email_change(session, token) == "ada.new@example.com"
    changed = recovery.confirm_email_change(session, token=token, mailer=mailer)
    session.commit()
    assert changed.email == "ada.new@example.com"
    notice = mailer.sent[-1]
    assert notice.to == "ada@example.com"
    assert "ada.new@example.com" in notice.body
    with pytest.raises(ValidationError):
        recovery.confirm_email_change(session, token=token, mailer=mailer)
    assert not recovery.reset_link_is_usable(session, reset_token)  # it went to the old address


def test_an_email_change_link_expires_after_24_hours(session, user, limiter, mailer):
    start = utcnow()
    token = _ask_email_change(session, user, limiter, mailer, now=start)
    late = start + timedelta(hours=24)
    assert recovery.pending_email_change(session, token, now=late - timedelta(seconds=1))
    with pytest.raises(ValidationError) as expired:
        recovery.confirm_email_change(session, token=token, mailer=mailer, now=late)
    assert expired.value.field_codes == {"token": "link_invalid"}


def test_an_email_of_another_account_is_refused(session, user, limiter, mailer):
    accounts.sign_up(session, email="taken@example.com", password="another long password")
    with pytest.raises(ValidationError) as taken:
        _ask_email_change(session, user, limiter, mailer, new_email="Taken@example.com")
    assert taken.value.field_codes == {"new_email": "email_taken"}
    assert mailer.sent == []


def test_an_address_taken_before_the_link_is_opened_is_refused(session, user, limiter, mailer):
    token = _ask_email_change(session, user, limiter, mailer)
    accounts.sign_up(session, email="ada.new@example.com", password="another long password")
    session.commit()
    with pytest.raises(ValidationError) as taken:
        recovery.confirm_email_change(session, token=token, mailer=mailer)
    assert taken.value.field_codes == {"token": "email_taken"}


def test_an_email_change_needs_the_current_password(session, user, limiter, mailer):
    with pytest.raises(ValidationError) as wrong:
        _ask_email_change(session, user, limiter, mailer, password="not my password")
    assert wrong.value.field_codes == {"current_password": "wrong_password"}
    assert mailer.sent == []
