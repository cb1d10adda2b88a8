"""Connected accounts on real PostgreSQL and Redis: connect, tokens at rest, refresh, health.

The platform is the in-memory double of the PublishingPlatform port (tests/fakes/
platform_double.py): PKCE checked, refresh tokens rotated and spent like TikTok's.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.fernet import Fernet
from sqlmodel import Session, select

from tests.factories import RecordingMailer, new_user
from tests.fakes.platform_double import PlatformDouble
from viralshorts import cli
from viralshorts import db as db_module
from viralshorts.domain import billing
from viralshorts.domain import connected_accounts as ca
from viralshorts.domain.workspaces import Actor, actor_for, personal_workspace_id
from viralshorts.errors import (
    ConfigurationError,
    PermissionDeniedError,
    PlatformAuthError,
    PlatformError,
    QuotaExceededError,
)
from viralshorts.integrations.ports import PlatformProfile, Services
from viralshorts.integrations.services import build_services, use_services
from viralshorts.integrations.token_vault import MultiFernetCipher
from viralshorts.jobs import maintenance
from viralshorts.models import (
    AccountHealth,
    AuditLog,
    Membership,
    Notification,
    SocialAccount,
    Subscription,
    WorkspaceRole,
    utcnow,
)
from viralshorts.settings import get_settings

BROWSER = "raw-session-cookie-of-this-browser"


class SlowRefresh(PlatformDouble):
    """Answers a refresh only after a moment, so two refreshes overlap."""

    def refresh(self, tokens):
        time.sleep(0.3)
        return super().refresh(tokens)


@pytest.fixture()
def tiktok() -> PlatformDouble:
    return PlatformDouble()


@pytest.fixture()
def mailer() -> RecordingMailer:
    return RecordingMailer()


@pytest.fixture()
def services(use_redis, tiktok, mailer) -> Services:
    built = build_services(get_settings())
    return dataclasses.replace(built, platforms={"tiktok": tiktok}, email=mailer)


@pytest.fixture()
def owner(session: Session) -> Actor:
    """Olga, owner of a workspace on the Pro plan (room for several accounts)."""
    user = new_user(session, "olga@example.com", display_name="Olga")
    workspace_id = personal_workspace_id(session, user.id)
    session.add(Subscription(workspace_id=workspace_id, user_id=user.id, plan="pro"))
    session.commit()
    return actor_for(session, user_id=user.id, workspace_id=workspace_id)


def _member(session: Session, owner: Actor, email: str, role: WorkspaceRole) -> Actor:
    user = new_user(session, email)
    session.add(Membership(workspace_id=owner.workspace_id, user_id=user.id, role=role))
    session.commit()
    return actor_for(session, user_id=user.id, workspace_id=owner.workspace_id)


def _connect(session, services, actor, platform: PlatformDouble, browser=BROWSER):
    url = ca.start_connect(
        session, services, actor=actor, platform=platform.name, browser_session=BROWSER
    )
    callback = parse_qs(urlsplit(platform.consent(url)).query)
    return ca.finish_connect(
        session,
        services,
        user_id=actor.user_id,
        platform=platform.name,
        state=callback["state"][0],
        code=callback["code"][0],
        browser_session=browser,
    )


def _fresh(account_id: int) -> SocialAccount:
    """The row as another process sees it (only what was committed)."""
    with Session(db_module.get_engine()) as other:
        row = other.get(SocialAccount, account_id)
        assert row is not None
        other.expunge(row)
        return row


# ---------------------------------------------------------------- connect


def test_connect_stores_the_account_with_encrypted_tokens(session, services, owner, tiktok):
    url = ca.start_connect(
        session, services, actor=owner, platform="tiktok", browser_session=BROWSER
    )
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"]
    callback_url = f"{get_settings().public_base_url}/api/connect/tiktok/callback"
    assert query["redirect_uri"] == [callback_url]
    callback = parse_qs(urlsplit(tiktok.consent(url)).query)
    account = ca.finish_connect(
        session,
        services,
        user_id=owner.user_id,
        platform="tiktok",
        state=callback["state"][0],
        code=callback["code"][0],
        browser_session=BROWSER,
    )
    stored = _fresh(account.id)
    assert (stored.display_name, stored.avatar_url, stored.external_id) == (
        "Ada Creates",
        "https://x/a.png",
        "open-1",
    )
    assert stored.health == AccountHealth.OK and stored.sandbox is True
    assert stored.token_key_id == services.token_cipher.key_id
    tokens = ca.tokens_for(session, services, stored)
    assert tokens.access_token.startswith("at-") and tokens.refresh_token.startswith("rt-")
    assert tokens.access_token not in stored.access_token_enc
    assert tokens.refresh_token not in stored.refresh_token_enc
    assert tokens.scopes == tiktok.scopes
    actions = session.exec(select(AuditLog.action).where(AuditLog.target_id == str(account.id)))
    assert actions.all() == ["account.connect"]
    [summary] = ca.list_accounts(session, services, actor=owner)
    assert summary.abilities == ["read the profile", "publish videos", "upload drafts"]
    assert summary.sandbox and summary.platform_label == "TikTok"


def test_a_callback_is_accepted_once_and_only_from_the_browser_that_started_it(
    session, services, owner, tiktok
):
    other = new_user(session, "mallory@example.com")
    url = ca.start_connect(
        session, services, actor=owner, platform="tiktok", browser_session=BROWSER
    )
    callback = parse_qs(urlsplit(tiktok.consent(url)).query)
    state, code = callback["state"][0], callback["code"][0]
    attempts = [
        {"user_id": owner.user_id, "state": "forged-state", "browser_session": BROWSER},
        {"user_id": other.id, "state": state, "browser_session": BROWSER},
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDeniedError) as refused:
            ca.finish_connect(session, services, platform="tiktok", code=code, **attempt)
        assert refused.value.code == "connect_state_invalid"
    # The other user's try spent the state: the flow is gone even for its owner.
    with pytest.raises(PermissionDeniedError):
        ca.finish_connect(
            session,
            services,
            user_id=owner.user_id,
            platform="tiktok",
            state=state,
            code=code,
            browser_session=BROWSER,
        )
    with pytest.raises(PermissionDeniedError):
        _connect(session, services, owner, tiktok, browser="another-browser's-cookie")
    assert session.exec(select(SocialAccount)).all() == []


def test_a_code_redeemed_without_its_verifier_is_refused_by_the_platform(
    session, services, owner, tiktok
):
    url = ca.start_connect(
        session, services, actor=owner, platform="tiktok", browser_session=BROWSER
    )
    code = parse_qs(urlsplit(tiktok.consent(url)).query)["code"][0]
    with pytest.raises(PlatformError):
        tiktok.exchange_code(
            code=code,
            redirect_uri=f"{get_settings().public_base_url}/api/connect/tiktok/callback",
            code_verifier="a-guessed-verifier",
        )


def test_only_owners_and_admins_connect_and_disconnect_viewers_read(
    session, services, owner, tiktok
):
    admin = _member(session, owner, "ada@example.com", WorkspaceRole.ADMIN)
    editor = _member(session, owner, "eve@example.com", WorkspaceRole.EDITOR)
    viewer = _member(session, owner, "vic@example.com", WorkspaceRole.VIEWER)
    account = _connect(session, services, admin, tiktok)
    for actor in (editor, viewer):
        with pytest.raises(PermissionDeniedError):
            ca.start_connect(
                session, services, actor=actor, platform="tiktok", browser_session=BROWSER
            )
        with pytest.raises(PermissionDeniedError):
            ca.disconnect(session, services, actor=actor, account_id=account.id)
    assert [a.id for a in ca.list_accounts(session, services, actor=viewer)] == [account.id]


def test_an_unconfigured_platform_cannot_be_connected(session, services, owner):
    with pytest.raises(ConfigurationError) as refused:
        ca.start_connect(
            session, services, actor=owner, platform="youtube", browser_session=BROWSER
        )
    assert refused.value.code == "platform_not_configured"


def test_several_accounts_per_platform_and_reconnect_updates_the_same_row(
    session, services, owner, tiktok
):
    first = _connect(session, services, owner, tiktok)
    tiktok.person = PlatformProfile("open-2", "Second Channel")
    second = _connect(session, services, owner, tiktok)
    assert first.id != second.id
    ca.mark_needs_reconnect(session, services, first, "invalid_grant")
    tiktok.person = PlatformProfile("open-1", "Ada Renamed", "https://x/b.png")
    again = _connect(session, services, owner, tiktok)
    assert again.id == first.id
    stored = _fresh(first.id)
    assert (stored.health, stored.display_name) == (AccountHealth.OK, "Ada Renamed")
    assert len(session.exec(select(SocialAccount)).all()) == 2
    actions = session.exec(select(AuditLog.action).where(AuditLog.target_id == str(first.id)))
    assert actions.all() == ["account.connect", "account.needs_reconnect", "account.reconnect"]


def test_a_new_account_beyond_the_plan_is_refused_and_its_grant_revoked(session, services, tiktok):
    user = new_user(session, "frida@example.com")  # the free plan: one account
    free = actor_for(session, user_id=user.id, workspace_id=personal_workspace_id(session, user.id))
    first = _connect(session, services, free, tiktok)
    tiktok.person = PlatformProfile("open-2", "Second Channel")
    with pytest.raises(QuotaExceededError):
        _connect(session, services, free, tiktok)
    assert len(tiktok.revoked) == 1
    assert [a.id for a in ca.list_accounts(session, services, actor=free)] == [first.id]
    tiktok.person = PlatformProfile("open-1", "Ada Creates")
    assert _connect(session, services, free, tiktok).id == first.id  # reconnecting is no new slot


def test_with_no_slot_left_a_platform_without_an_account_is_refused_before_the_consent(
    session, services, tiktok
):
    user = new_user(session, "frida@example.com")  # the free plan: one account
    free = actor_for(session, user_id=user.id, workspace_id=personal_workspace_id(session, user.id))
    first = _connect(session, services, free, tiktok)
    youtube = PlatformDouble(name="youtube")
    both = dataclasses.replace(services, platforms={"tiktok": tiktok, "youtube": youtube})
    with pytest.raises(QuotaExceededError, match="connects 1 social account"):
        ca.start_connect(session, both, actor=free, platform="youtube", browser_session=BROWSER)
    assert youtube.revoked == []  # no consent was asked for, so there is nothing to hand back
    # on the platform it has an account on, the consent may be for that one: asked, then decided
    url = ca.start_connect(session, both, actor=free, platform="tiktok", browser_session=BROWSER)
    assert url.startswith("https://tiktok.example/authorize?")
    ca.disconnect(session, services, actor=free, account_id=first.id)
    assert ca.start_connect(
        session, both, actor=free, platform="youtube", browser_session=BROWSER
    ).startswith("https://youtube.example/authorize?")  # the slot is free again


def test_a_disconnected_account_gives_its_slot_back_until_it_is_connected_again(
    session, services, tiktok
):
    user = new_user(session, "frida@example.com")  # the free plan: one account
    free = actor_for(session, user_id=user.id, workspace_id=personal_workspace_id(session, user.id))
    first = _connect(session, services, free, tiktok)
    ca.disconnect(session, services, actor=free, account_id=first.id)
    tiktok.person = PlatformProfile("open-2", "Second Channel")
    second = _connect(session, services, free, tiktok)  # the disconnected one holds no slot
    assert second.id != first.id and _fresh(second.id).health == AccountHealth.OK
    meters = {m.key: m for m in billing.meters(session, workspace_id=free.workspace_id)}
    accounts = meters["connected_accounts"]
    assert (accounts.used, accounts.limit) == (1, 1)  # what the Billing page shows
    tiktok.person = PlatformProfile("open-1", "Ada Creates")
    with pytest.raises(QuotaExceededError, match="connects 1 social account"):
        _connect(session, services, free, tiktok)  # connecting it again needs the slot
    assert _fresh(first.id).health == AccountHealth.DISCONNECTED


# ---------------------------------------------------------------- refresh


def test_a_rotated_refresh_token_is_committed_before_anything_else(
    session, services, owner, tiktok
):
    account = _connect(session, services, owner, tiktok)
    old = ca.tokens_for(session, services, account)
    new = ca.refreshed_tokens(session, services, account)
    assert new.refresh_token != old.refresh_token and new.access_token != old.access_token
    session.rollback()  # whatever the caller does next, the new tokens are already stored
    stored = _fresh(account.id)
    assert ca.tokens_for(session, services, stored).refresh_token == new.refresh_token
    assert stored.last_refreshed_at is not None
    with pytest.raises(PlatformAuthError):
        tiktok.refresh(old)  # the previous refresh token no longer works


def test_two_refreshes_at_once_spend_the_refresh_token_once(session, services, owner):
    slow = SlowRefresh()
    services = dataclasses.replace(services, platforms={"tiktok": slow})
    account = _connect(session, services, owner, slow)
    results: list[object] = []

    def refresh() -> None:
        with Session(db_module.get_engine(), expire_on_commit=False) as own:
            row = own.get(SocialAccount, account.id)
            try:
                results.append(ca.refreshed_tokens(own, services, row))
            except Exception as exc:
                results.append(exc)

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert slow.refresh_calls == 1
    assert all(not isinstance(r, Exception) for r in results), results
    assert results[0] == results[1]
    assert _fresh(account.id).health == AccountHealth.OK


def test_a_refused_refresh_marks_only_that_account_and_tells_the_workspace(
    session, services, owner, tiktok, mailer
):
    viewer = _member(session, owner, "vic@example.com", WorkspaceRole.VIEWER)
    broken = _connect(session, services, owner, tiktok)
    tiktok.person = PlatformProfile("open-2", "Healthy One")
    healthy = _connect(session, services, owner, tiktok)
    tiktok.revoke(ca.tokens_for(session, services, broken))  # the person revoked us
    with pytest.raises(PlatformAuthError) as refused:
        ca.refreshed_tokens(session, services, broken)
    assert refused.value.code == "account_needs_reconnect"
    assert _fresh(broken.id).health == AccountHealth.NEEDS_RECONNECT
    assert "revoked" in _fresh(broken.id).health_message
    assert _fresh(healthy.id).health == AccountHealth.OK
    notes = session.exec(select(Notification).order_by(Notification.user_id)).all()
    assert [(n.user_id, n.kind, n.link) for n in notes] == [
        (owner.user_id, "account_needs_reconnect", "/app/accounts"),
        (viewer.user_id, "account_needs_reconnect", "/app/accounts"),
    ]
    assert notes[0].title == "Reconnect the TikTok account Ada Creates (sandbox)"
    assert sorted(m.to for m in mailer.sent) == ["olga@example.com", "vic@example.com"]
    with pytest.raises(PlatformAuthError):
        ca.tokens_for(session, services, _fresh(broken.id))
    # Refused again later: no second notification.
    ca.mark_needs_reconnect(session, services, _fresh(broken.id), "still refused")
    assert len(session.exec(select(Notification)).all()) == 2


def test_a_platform_that_does_not_answer_changes_nothing(session, services, owner, tiktok):
    account = _connect(session, services, owner, tiktok)
    before = ca.tokens_for(session, services, account)
    tiktok.down = True
    with pytest.raises(PlatformError) as failed:
        ca.refreshed_tokens(session, services, account)
    assert failed.value.retryable and not isinstance(failed.value, PlatformAuthError)
    stored = _fresh(account.id)
    assert stored.health == AccountHealth.OK
    assert ca.tokens_for(session, services, stored) == before


def test_tokens_about_to_expire_are_refreshed_on_use_and_by_the_tick(
    session, services, owner, tiktok
):
    soon = _connect(session, services, owner, tiktok)
    tiktok.person = PlatformProfile("open-2", "Later")
    later = _connect(session, services, owner, tiktok)
    soon.token_expires_at = utcnow() + timedelta(seconds=30)
    session.add(soon)
    session.commit()
    old = ca._decrypted(services, soon)
    fresh = ca.tokens_for(session, services, soon)
    assert fresh.access_token != old.access_token
    assert tiktok.refresh_calls == 1
    assert ca.refresh_expiring(session, services) == []  # nothing within the margin now
    later_row = session.get(SocialAccount, later.id)
    later_row.token_expires_at = utcnow() + timedelta(seconds=60)
    session.add(later_row)
    session.commit()
    assert ca.refresh_expiring(session, services) == [later.id]
    assert _fresh(later.id).token_expires_at > utcnow() + timedelta(hours=1)


def test_the_workers_tick_refreshes_expiring_tokens(session, services, owner, tiktok):
    account = _connect(session, services, owner, tiktok)
    account.token_expires_at = utcnow() + timedelta(seconds=120)
    session.add(account)
    session.commit()
    use_services(services)
    try:
        assert maintenance.run_token_refresh() == [account.id]
    finally:
        use_services(None)
    assert tiktok.refresh_calls == 1


# ---------------------------------------------------------------- disconnect


def test_disconnect_revokes_wipes_the_tokens_and_hides_the_account(
    session, services, owner, tiktok
):
    account = _connect(session, services, owner, tiktok)
    access = ca.tokens_for(session, services, account).access_token
    ca.disconnect(session, services, actor=owner, account_id=account.id)
    stored = _fresh(account.id)
    assert tiktok.revoked == [access]
    assert (stored.access_token_enc, stored.refresh_token_enc) == ("", "")
    assert stored.health == AccountHealth.DISCONNECTED
    assert ca.list_accounts(session, services, actor=owner) == []
    with pytest.raises(PlatformAuthError):
        ca.tokens_for(session, services, stored)
    again = _connect(session, services, owner, tiktok)
    assert again.id == account.id and _fresh(account.id).health == AccountHealth.OK


# ---------------------------------------------------------------- key rotation


def test_keys_rotate_and_reencrypt_moves_every_token_to_the_newest(
    session, services, owner, tiktok, monkeypatch
):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("TOKEN_ENCRYPTION_KEYS", old_key)
    get_settings.cache_clear()
    services = dataclasses.replace(services, token_cipher=MultiFernetCipher(get_settings()))
    account = _connect(session, services, owner, tiktok)
    tokens = ca.tokens_for(session, services, account)

    monkeypatch.setenv("TOKEN_ENCRYPTION_KEYS", f"{new_key},{old_key}")
    get_settings.cache_clear()
    rotated = dataclasses.replace(services, token_cipher=MultiFernetCipher(get_settings()))
    assert ca.tokens_for(session, rotated, _fresh(account.id)) == tokens
    assert ca.reencrypt_tokens(session, rotated) == 1
    assert _fresh(account.id).token_key_id == rotated.token_cipher.key_id

    monkeypatch.setenv("TOKEN_ENCRYPTION_KEYS", new_key)  # the old key is dropped
    get_settings.cache_clear()
    newest_only = dataclasses.replace(services, token_cipher=MultiFernetCipher(get_settings()))
    assert ca.tokens_for(session, newest_only, _fresh(account.id)) == tokens
    get_settings.cache_clear()


def test_the_reencrypt_command_rotates_every_stored_token(
    session, services, owner, tiktok, monkeypatch, capsys
):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("TOKEN_ENCRYPTION_KEYS", old_key)
    get_settings.cache_clear()
    services = dataclasses.replace(services, token_cipher=MultiFernetCipher(get_settings()))
    account = _connect(session, services, owner, tiktok)
    tokens = ca.tokens_for(session, services, account)
    monkeypatch.setenv("TOKEN_ENCRYPTION_KEYS", f"{new_key},{old_key}")
    get_settings.cache_clear()
    use_services(dataclasses.replace(services, token_cipher=MultiFernetCipher(get_settings())))
    try:
        assert cli.main(["reencrypt-tokens"]) == 0
    finally:
        use_services(None)
    assert "1 account(s) now encrypted with key" in capsys.readouterr().out
    monkeypatch.setenv("TOKEN_ENCRYPTION_KEYS", new_key)
    get_settings.cache_clear()
    newest_only = dataclasses.replace(services, token_cipher=MultiFernetCipher(get_settings()))
    assert ca.tokens_for(session, newest_only, _fresh(account.id)) == tokens
    get_settings.cache_clear()


def test_a_malformed_key_is_a_clear_configuration_error(monkeypatch):
    monkeypatch.setenv("TOKEN_ENCRYPTION_KEYS", "not-a-key")
    get_settings.cache_clear()
    with pytest.raises(ConfigurationError) as refused:
        MultiFernetCipher(get_settings())
    assert "TOKEN_ENCRYPTION_KEYS" in str(refused.value)
    get_settings.cache_clear()
