"""Accounts on a real PostgreSQL database, with the real Redis rate limiter."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from viralshorts.domain import accounts
from viralshorts.errors import AuthenticationError, NotFoundError, RateLimitedError, ValidationError
from viralshorts.integrations.redis_rate_limit import RedisRateLimiter
from viralshorts.integrations.redis_tickets import RedisOneTimeStore
from viralshorts.models import AuditLog, LoginSession, OAuthAccount, Role, User, utcnow
from viralshorts.settings import get_settings

PASSWORD = "correct horse battery"


@pytest.fixture()
def limiter(use_redis) -> RedisRateLimiter:
    return RedisRateLimiter(get_settings())


@pytest.fixture()
def user(session: Session) -> User:
    created = accounts.sign_up(
        session, email="Ada@Example.com ", password=PASSWORD, display_name="Ada"
    )
    session.commit()
    return created


def _actions(session: Session) -> list[str]:
    return [row.action for row in session.exec(select(AuditLog).order_by(AuditLog.id))]


def _login(
    session: Session,
    limiter,
    email: str = "ada@example.com",
    password: str = PASSWORD,
    ip: str = "10.0.0.1",
) -> User:
    return accounts.authenticate(session, limiter, email=email, password=password, ip=ip)


# ---------------------------------------------------------------- sign-up


def test_sign_up_normalises_email_and_hashes_with_argon2id(session: Session, user: User) -> None:
    stored = session.exec(select(User)).one()
    assert stored.email == "ada@example.com"
    assert stored.display_name == "Ada"
    assert stored.role == Role.CREATOR
    assert stored.password_hash is not None
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash
    assert _actions(session) == ["sign_up"]


@pytest.mark.parametrize(
    ("email", "password", "field", "message"),
    [
        ("not-an-email", PASSWORD, "email", "Enter a valid email address."),
        ("a@b", PASSWORD, "email", "Enter a valid email address."),
        ("bob@example.com", "short", "password", "Use 10 to 128 characters."),
        ("bob@example.com", "x" * 129, "password", "Use 10 to 128 characters."),
        (
            "bob@example.com",
            "Bob@Example.com",
            "password",
            "Don't use your email address as your password.",
        ),
    ],
)
def test_sign_up_rejects_bad_input(session: Session, email, password, field, message) -> None:
    with pytest.raises(ValidationError) as caught:
        accounts.sign_up(session, email=email, password=password)
    assert caught.value.field_errors == {field: message}
    assert session.exec(select(User)).all() == []


def test_sign_up_accepts_password_length_bounds(session: Session) -> None:
    accounts.sign_up(session, email="ten@example.com", password="a" * 10)
    accounts.sign_up(session, email="max@example.com", password="b" * 128)
    assert len(session.exec(select(User)).all()) == 2


def test_duplicate_email_is_a_field_error(session: Session, user: User) -> None:
    with pytest.raises(ValidationError) as caught:
        accounts.sign_up(session, email="  ADA@example.COM", password="another password")
    assert caught.value.field_errors == {"email": "An account with this email already exists."}


# ---------------------------------------------------------------- authenticate


def test_authenticate_ok_sets_last_login(session: Session, user: User, limiter) -> None:
    assert user.last_login_at is None
    signed_in = _login(session, limiter, email=" ADA@example.com")
    assert signed_in.id == user.id
    assert signed_in.last_login_at is not None
    assert _actions(session) == ["sign_up", "sign_in"]


@pytest.mark.parametrize(
    ("email", "password"),
    [("ada@example.com", "wrong password!"), ("nobody@example.com", PASSWORD)],
)
def test_wrong_password_and_unknown_email_look_the_same(
    session: Session, user: User, limiter, email: str, password: str
) -> None:
    with pytest.raises(AuthenticationError) as caught:
        _login(session, limiter, email=email, password=password)
    assert str(caught.value) == "Wrong email or password."


def test_disabled_user_gets_the_same_message(session: Session, user: User, limiter) -> None:
    user.disabled = True
    session.add(user)
    session.commit()
    with pytest.raises(AuthenticationError, match=r"^Wrong email or password\.$"):
        _login(session, limiter)


def test_oauth_only_user_cannot_sign_in_with_a_password(session: Session, limiter) -> None:
    accounts.sign_in_oauth(
        session,
        provider="google",
        provider_account_id="g-1",
        email="oauth@example.com",
        display_name="O",
    )
    with pytest.raises(AuthenticationError):
        _login(session, limiter, email="oauth@example.com", password="")


def test_rate_limited_after_max_failures_even_with_right_password(
    session: Session, user: User, limiter
) -> None:
    for _ in range(get_settings().login_max_failures):
        with pytest.raises(AuthenticationError):
            _login(session, limiter, password="wrong password!")
    with pytest.raises(RateLimitedError) as caught:
        _login(session, limiter)
    assert 0 < caught.value.retry_after <= get_settings().login_window_seconds


def test_per_ip_limit_spans_emails(session: Session, limiter, monkeypatch) -> None:
    monkeypatch.setenv("LOGIN_MAX_FAILURES_PER_IP", "3")
    get_settings.cache_clear()
    try:
        for n in range(3):
            with pytest.raises(AuthenticationError):
                _login(session, limiter, email=f"user{n}@example.com", ip="10.9.9.9")
        with pytest.raises(RateLimitedError):
            _login(session, limiter, email="fresh@example.com", ip="10.9.9.9")
        with pytest.raises(AuthenticationError):  # another IP is not limited
            _login(session, limiter, email="fresh@example.com", ip="10.9.9.10")
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_success_resets_the_email_counter(session: Session, user: User, limiter) -> None:
    limit = get_settings().login_max_failures
    for _ in range(limit - 1):
        with pytest.raises(AuthenticationError):
            _login(session, limiter, password="wrong password!")
    _login(session, limiter)
    for _ in range(limit - 1):  # a fresh budget: still not limited
        with pytest.raises(AuthenticationError):
            _login(session, limiter, password="wrong password!")
    assert _login(session, limiter).id == user.id


# ---------------------------------------------------------------- sessions


def _new_session(session: Session, user: User) -> tuple[str, LoginSession]:
    raw = accounts.create_login_session(session, user=user, user_agent="pytest", ip="10.0.0.1")
    session.commit()
    return raw, session.exec(select(LoginSession)).one()


def test_only_the_token_hash_is_stored(session: Session, user: User) -> None:
    raw, row = _new_session(session, user)
    assert len(raw) >= 40
    assert row.token_hash != raw and len(row.token_hash) == 64
    settings = get_settings()
    assert row.expires_at - row.created_at == timedelta(days=settings.session_idle_days)
    assert row.absolute_expires_at - row.created_at == timedelta(days=settings.session_max_days)
    assert accounts.user_for_token(session, raw).id == user.id
    assert accounts.user_for_token(session, raw + "x") is None
    assert accounts.user_for_token(session, "") is None


def test_expired_session_is_refused(session: Session, user: User) -> None:
    raw, row = _new_session(session, user)
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()
    assert accounts.user_for_token(session, raw) is None


def test_absolute_cap_wins_over_idle_expiry(session: Session, user: User) -> None:
    raw, row = _new_session(session, user)
    row.absolute_expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()
    assert accounts.user_for_token(session, raw) is None


def test_session_slides_at_most_once_a_minute(session: Session, user: User) -> None:
    raw, row = _new_session(session, user)
    first_expiry = row.expires_at
    accounts.user_for_token(session, raw)
    assert row.expires_at == first_expiry  # seen less than a minute ago: no write
    row.last_seen_at = utcnow() - timedelta(minutes=5)
    row.expires_at = utcnow() + timedelta(days=1)
    session.add(row)
    session.commit()
    accounts.user_for_token(session, raw)
    session.commit()
    session.refresh(row)
    idle = timedelta(days=get_settings().session_idle_days)
    assert row.expires_at > utcnow() + idle - timedelta(minutes=1)
    assert row.last_seen_at > utcnow() - timedelta(minutes=1)


def test_sliding_never_passes_the_absolute_cap(session: Session, user: User) -> None:
    raw, row = _new_session(session, user)
    cap = utcnow() + timedelta(hours=2)
    row.last_seen_at = utcnow() - timedelta(minutes=5)
    row.absolute_expires_at = cap
    session.add(row)
    session.commit()
    accounts.user_for_token(session, raw)
    assert row.expires_at == cap


def test_disabled_user_session_is_refused(session: Session, user: User) -> None:
    raw, _ = _new_session(session, user)
    user.disabled = True
    session.add(user)
    session.commit()
    assert accounts.user_for_token(session, raw) is None


def test_end_session_and_end_all_sessions(session: Session, user: User) -> None:
    first, _ = _new_session(session, user)
    second = accounts.create_login_session(session, user=user, user_agent="b", ip="")
    third = accounts.create_login_session(session, user=user, user_agent="c", ip="")
    accounts.end_session(session, first)
    assert accounts.user_for_token(session, first) is None
    assert accounts.user_for_token(session, second).id == user.id
    assert accounts.end_all_sessions(session, user.id) == 2
    session.commit()
    assert accounts.user_for_token(session, third) is None
    assert "sign_out_everywhere" in _actions(session)


# ---------------------------------------------------------------- tickets


def test_sign_in_ticket_is_single_use(session: Session, user: User, use_redis) -> None:
    store = RedisOneTimeStore(get_settings())
    ticket = accounts.issue_sign_in_ticket(store, user=user)
    assert ticket.encode() not in b"".join(use_redis.keys("*"))  # only the hash is a key
    ttl = use_redis.ttl(use_redis.keys("vs:once:signin:*")[0])
    assert 0 < ttl <= 60
    assert accounts.redeem_sign_in_ticket(session, store, ticket).id == user.id
    assert accounts.redeem_sign_in_ticket(session, store, ticket) is None
    assert accounts.redeem_sign_in_ticket(session, store, "") is None


# ---------------------------------------------------------------- OAuth, admin, get_user


def test_new_oauth_user_has_no_password(session: Session) -> None:
    created = accounts.sign_in_oauth(
        session,
        provider="github",
        provider_account_id="42",
        email="New@Example.com",
        display_name="New Person",
    )
    assert created.email == "new@example.com"
    assert created.password_hash is None
    assert created.last_login_at is not None
    link = session.exec(select(OAuthAccount)).one()
    assert (link.user_id, link.provider, link.provider_account_id) == (created.id, "github", "42")


def test_oauth_links_an_existing_user_by_email(session: Session, user: User) -> None:
    linked = accounts.sign_in_oauth(
        session,
        provider="google",
        provider_account_id="g-7",
        email="ada@example.com",
        display_name="Ada L",
    )
    assert linked.id == user.id
    assert len(session.exec(select(User)).all()) == 1


def test_existing_oauth_link_wins_over_email(session: Session, user: User) -> None:
    first = accounts.sign_in_oauth(
        session,
        provider="github",
        provider_account_id="9",
        email="ada@example.com",
        display_name="",
    )
    again = accounts.sign_in_oauth(
        session,
        provider="github",
        provider_account_id="9",
        email="changed@example.com",
        display_name="",
    )
    assert first.id == again.id == user.id
    assert len(session.exec(select(OAuthAccount)).all()) == 1


def test_disabled_user_cannot_sign_in_with_oauth(session: Session, user: User) -> None:
    user.disabled = True
    session.add(user)
    with pytest.raises(AuthenticationError):
        accounts.sign_in_oauth(
            session,
            provider="google",
            provider_account_id="g-1",
            email="ada@example.com",
            display_name="",
        )


def test_create_admin_creates_then_promotes(session: Session, user: User, limiter) -> None:
    admin = accounts.create_admin(session, email="root@example.com", password="root password 1")
    assert admin.is_admin and admin.password_hash
    promoted = accounts.create_admin(session, email="ADA@example.com", password="ignored!!!!")
    assert promoted.id == user.id and promoted.is_admin
    assert _login(session, limiter).is_admin  # password unchanged by promotion
    assert _actions(session).count("admin_created") == 2


def test_create_admin_validates_a_new_account(session: Session) -> None:
    with pytest.raises(ValidationError):
        accounts.create_admin(session, email="root@example.com", password="short")


def test_get_user(session: Session, user: User) -> None:
    assert accounts.get_user(session, user.id).email == "ada@example.com"
    with pytest.raises(NotFoundError):
        accounts.get_user(session, user.id + 1000)


# ---------------------------------------------------------------- issue 7: limits and rules


def _attempt_in_thread(database_url: str, limiter, barrier) -> str:
    from viralshorts import db as db_module

    with Session(db_module.get_engine(), expire_on_commit=False) as own:
        barrier.wait()
        try:
            _login(own, limiter, password="wrong password!", ip="10.7.7.7")
        except AuthenticationError:
            return "evaluated"
        except RateLimitedError:
            return "limited"
    return "signed in"


def test_concurrent_bad_sign_ins_evaluate_at_most_the_limit(
    session: Session, user: User, limiter, use_database
) -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    attempts = 30
    barrier = threading.Barrier(attempts)
    with ThreadPoolExecutor(max_workers=attempts) as pool:
        futures = [
            pool.submit(_attempt_in_thread, use_database, limiter, barrier) for _ in range(attempts)
        ]
        outcomes = [f.result() for f in futures]
    assert outcomes.count("evaluated") == get_settings().login_max_failures
    assert outcomes.count("limited") == attempts - get_settings().login_max_failures


def test_a_correct_password_gives_its_ip_attempt_back(
    session: Session, user: User, limiter, monkeypatch
) -> None:
    monkeypatch.setenv("LOGIN_MAX_FAILURES_PER_IP", "2")
    get_settings.cache_clear()
    for _ in range(5):  # five good sign-ins from one IP never use up its two failures
        assert _login(session, limiter).id == user.id
    with pytest.raises(AuthenticationError):
        _login(session, limiter, password="wrong password!")


@pytest.mark.parametrize(
    ("password", "code"),
    [
        (" " * 10, "password_blank"),
        ("\t" * 10, "password_control_characters"),
        ("\x00" * 10, "password_control_characters"),
        ("good password\x07", "password_control_characters"),
        ("pass\u200bword-long", "password_control_characters"),
        ("qwertyuiop", "password_common"),
        ("Password123", "password_common"),
        ("  1234567890 ", "password_common"),
    ],
)
def test_sign_up_refuses_blank_control_and_common_passwords(
    session: Session, password: str, code: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        accounts.sign_up(session, email="bob@example.com", password=password)
    assert caught.value.field_codes == {"password": code}
    assert list(caught.value.field_errors) == ["password"]


def test_common_password_list_is_loaded_once_and_large() -> None:
    first = accounts.common_passwords()
    assert first is accounts.common_passwords()
    assert len(first) >= 9000
    assert {"password", "qwertyuiop", "1q2w3e4r5t"} <= first


def test_sign_up_probes_are_rate_limited_per_ip(session: Session, user: User, limiter) -> None:
    limit = get_settings().signup_max_attempts_per_ip
    for n in range(limit):
        with pytest.raises(ValidationError):  # probing other addresses, all taken or invalid
            accounts.sign_up(
                session,
                email=f"not-an-email-{n}",
                password=PASSWORD,
                limiter=limiter,
                ip="10.1.1.1",
            )
    with pytest.raises(RateLimitedError) as caught:
        accounts.sign_up(
            session, email="ada@example.com", password=PASSWORD, limiter=limiter, ip="10.1.1.1"
        )
    assert caught.value.code == "sign_up_rate_limited"
    assert 0 < caught.value.retry_after <= get_settings().signup_window_seconds
    other_ip = accounts.sign_up(
        session, email="new@example.com", password=PASSWORD, limiter=limiter, ip="10.1.1.2"
    )
    assert other_ip.id is not None


def test_sign_up_probes_of_one_email_are_rate_limited(
    session: Session, user: User, limiter
) -> None:
    for n in range(get_settings().signup_max_attempts_per_email):
        with pytest.raises(ValidationError, match="already exists"):
            accounts.sign_up(
                session,
                email="ada@example.com",
                password=PASSWORD,
                limiter=limiter,
                ip=f"10.2.{n}.1",
            )
    with pytest.raises(RateLimitedError):
        accounts.sign_up(
            session, email="ADA@example.com", password=PASSWORD, limiter=limiter, ip="10.3.0.1"
        )


def test_successful_sign_ups_are_not_counted(session: Session, limiter) -> None:
    for n in range(get_settings().signup_max_attempts_per_ip + 2):
        accounts.sign_up(
            session, email=f"user{n}@example.com", password=PASSWORD, limiter=limiter, ip="10.4.4.4"
        )


def test_an_unreachable_limiter_is_service_unavailable(session: Session, user: User) -> None:
    from viralshorts.errors import ServiceUnavailableError

    dead = RedisRateLimiter(
        get_settings().model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    )
    with pytest.raises(ServiceUnavailableError) as caught:
        _login(session, dead)
    assert caught.value.code == "rate_limiter_unavailable"
    with pytest.raises(ServiceUnavailableError):
        accounts.sign_up(session, email="x@example.com", password=PASSWORD, limiter=dead)
