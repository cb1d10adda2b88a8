"""Connected platform accounts: OAuth connect, encrypted tokens, refresh, health, disconnect.

Connecting is the authorization code flow: ``start_connect`` keeps state, the PKCE verifier,
the workspace and a hash of the browser's session server-side (``OneTimeStore``, 10 minutes,
taken once), and ``finish_connect`` accepts only that browser's callback. Tokens are encrypted
at rest (``TokenCipher`` port) and never leave the worker and web processes.

Health: only an OK account publishes; the posts of any other are paused (the dispatcher skips
them). A refresh the platform refuses marks the account NEEDS_RECONNECT and tells the workspace;
connecting the same account again sets it OK, which resumes its posts. Disconnect revokes where
the platform allows, wipes the tokens and keeps the row (DISCONNECTED), so the posts' history
stays and a reconnect picks them up again.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from viralshorts.domain import quotas
from viralshorts.domain.account_words import PLATFORM_LABELS, connect_callback_url, scope_words
from viralshorts.domain.accounts import _sha256
from viralshorts.domain.notifications import notify
from viralshorts.domain.workspaces import Action, Actor, actor_for, require
from viralshorts.errors import (
    ConfigurationError,
    IntegrationError,
    NotFoundError,
    PermissionDeniedError,
    PlatformAuthError,
    PlatformError,
    QuotaExceededError,
)
from viralshorts.integrations.ports import (
    OneTimeStore,
    PlatformProfile,
    PlatformTokens,
    PublishingPlatform,
    Services,
    TokenCipher,
)
from viralshorts.models import AccountHealth, AuditLog, SocialAccount, utcnow

log = logging.getLogger(__name__)

FLOW_SECONDS = 600
EXPIRY_LEEWAY = timedelta(seconds=60)  # an access token this close to its end is refreshed
ACCOUNT_NOT_FOUND = "That account is not connected to this workspace."
STATE_INVALID = "That connection attempt was not started here, or it expired."


@dataclass(frozen=True)
class AccountSummary:
    """A connected account as the Accounts page shows it (never a token)."""

    id: int
    platform: str
    platform_label: str
    display_name: str
    avatar_url: str
    health: str
    health_message: str
    abilities: list[str]
    sandbox: bool
    connected_at: datetime


# ---------------------------------------------------------------- ports


def _platform(services: Services, name: str) -> PublishingPlatform:
    platform = services.platforms.get(name)
    if platform is None:
        label = PLATFORM_LABELS.get(name, name)
        raise ConfigurationError(
            f"{label} is not configured on this server.",
            code="platform_not_configured",
            params={"platform": name},
        )
    return platform


def _cipher(services: Services) -> TokenCipher:
    if services.token_cipher is None:
        raise ConfigurationError("No token cipher is configured.", code="token_cipher_missing")
    return services.token_cipher


def _flows(services: Services) -> OneTimeStore:
    if services.tickets is None:
        raise ConfigurationError("No one-time store is configured.", code="ticket_store_missing")
    return services.tickets


def _manager(session: Session, *, user_id: int, workspace_id: int) -> Actor:
    """The user in the workspace with their current role, refused unless it may connect."""
    current = actor_for(session, user_id=user_id, workspace_id=workspace_id)
    require(current, Action.MANAGE_ACCOUNTS)
    return current


def _audit(session: Session, user_id: int | None, account: SocialAccount, action: str) -> None:
    session.add(
        AuditLog(
            user_id=user_id,
            workspace_id=account.workspace_id,
            action=action,
            target_type="social_account",
            target_id=str(account.id),
            details={"platform": account.platform, "external_id": account.external_id},
        )
    )


# ---------------------------------------------------------------- connect


def start_connect(
    session: Session, services: Services, *, actor: Actor, platform: str, browser_session: str
) -> str:
    """The platform's consent page URL for connecting an account to the actor's workspace.

    Args:
        session: The database session.
        services: Platforms and the one-time store.
        actor: Who connects (owner or admin).
        platform: ``youtube`` | ``tiktok`` | ``instagram``.
        browser_session: The raw session cookie; only this browser may finish the flow.

    Raises:
        PermissionDeniedError: the actor's role may not connect accounts.
        ConfigurationError: the platform is not configured (``platform_not_configured``).
        QuotaExceededError: the plan's accounts are all in use and the workspace has no
            account on this platform that the consent could be for (told before the consent
            page, not after it).
    """
    client = _platform(services, platform)
    actor = _manager(session, user_id=actor.user_id, workspace_id=actor.workspace_id)
    _require_room_for(session, actor.workspace_id, platform)
    state, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(64)
    flow = {
        "user_id": actor.user_id,
        "workspace_id": actor.workspace_id,
        "platform": platform,
        "verifier": verifier,
        "browser": _sha256(browser_session),
    }
    _flows(services).put(f"connect:{state}", json.dumps(flow), ttl_seconds=FLOW_SECONDS)
    redirect_uri = connect_callback_url(services.settings, platform)
    return client.authorize_url(redirect_uri=redirect_uri, state=state, code_verifier=verifier)


def _require_room_for(session: Session, workspace_id: int, platform: str) -> None:
    """Refuse up front what the callback could only refuse after the consent: with no slot
    left, a consent on a platform where the workspace has no live account can only be for a
    new one. An account it has there may be the one being reconnected, which needs no slot:
    then the callback decides (and checks the slot again in any case)."""
    live = session.exec(
        select(SocialAccount.id).where(
            SocialAccount.workspace_id == workspace_id,
            SocialAccount.platform == platform,
            SocialAccount.health != AccountHealth.DISCONNECTED,
        )
    ).first()
    if live is None:
        quotas.require_account_slot(session, workspace_id, lock=False)


def _take_flow(
    services: Services, *, state: str, platform: str, user_id: int, browser_session: str
) -> dict[str, Any]:
    raw = _flows(services).take(f"connect:{state}") if state else None
    flow = json.loads(raw) if raw else None
    if (
        not isinstance(flow, dict)
        or flow.get("platform") != platform
        or flow.get("user_id") != user_id
        or not secrets.compare_digest(str(flow.get("browser", "")), _sha256(browser_session))
    ):
        raise PermissionDeniedError(STATE_INVALID, code="connect_state_invalid")
    return flow


def finish_connect(
    session: Session,
    services: Services,
    *,
    user_id: int,
    platform: str,
    state: str,
    code: str,
    browser_session: str,
) -> SocialAccount:
    """Redeem the callback's code and connect (or reconnect) the account; commits.

    The same external account connected again updates its row and makes it OK, so its paused
    posts resume; a new one adds a row (several accounts per platform per workspace).

    Raises:
        PermissionDeniedError: unknown, used or expired ``state``; another user's or browser's
            flow (``connect_state_invalid``); or the role no longer allows connecting.
        NotFoundError: the user is no longer a member of the flow's workspace.
        QuotaExceededError: a new account beyond the plan's connected accounts (the grant
            is revoked again).
        PlatformError: the platform refused the code or did not answer.
    """
    flow = _take_flow(
        services, state=state, platform=platform, user_id=user_id, browser_session=browser_session
    )
    actor = _manager(session, user_id=user_id, workspace_id=int(flow["workspace_id"]))
    client = _platform(services, platform)
    redirect_uri = connect_callback_url(services.settings, platform)
    tokens = client.exchange_code(
        code=code, redirect_uri=redirect_uri, code_verifier=str(flow["verifier"])
    )
    profile = client.profile(tokens)
    existing = _existing(session, actor.workspace_id, platform, profile.external_id)
    if existing is None or existing.health == AccountHealth.DISCONNECTED:
        _take_account_slot(session, client, tokens, actor.workspace_id)
    account = _upsert(session, services, actor=actor, client=client, tokens=tokens, profile=profile)
    session.commit()
    session.refresh(account)
    return account


def _existing(
    session: Session, workspace_id: int, platform: str, external_id: str
) -> SocialAccount | None:
    return session.exec(
        select(SocialAccount).where(
            SocialAccount.workspace_id == workspace_id,
            SocialAccount.platform == platform,
            SocialAccount.external_id == external_id,
        )
    ).first()


def _take_account_slot(
    session: Session, client: PublishingPlatform, tokens: PlatformTokens, workspace_id: int
) -> None:
    """Refuse a new account beyond the plan's limit, handing the unused grant back."""
    try:
        quotas.require_account_slot(session, workspace_id)
    except QuotaExceededError:
        session.rollback()
        try:
            client.revoke(tokens)
        except IntegrationError as exc:
            log.warning("revoking an account over the plan's limit failed: %s", exc)
        raise


def _upsert(
    session: Session,
    services: Services,
    *,
    actor: Actor,
    client: PublishingPlatform,
    tokens: PlatformTokens,
    profile: PlatformProfile,
) -> SocialAccount:
    account = _existing(session, actor.workspace_id, client.name, profile.external_id)
    action = "account.reconnect" if account is not None else "account.connect"
    if account is None:
        account = SocialAccount(
            workspace_id=actor.workspace_id,
            user_id=actor.user_id,
            platform=client.name,
            external_id=profile.external_id,
        )
    account.user_id = actor.user_id
    account.display_name = profile.display_name[:200]
    account.avatar_url = profile.avatar_url[:1000]
    account.profile_extra = dict(profile.extra)
    account.sandbox = bool(client.sandbox)
    account.health, account.health_message = AccountHealth.OK, ""
    _store_tokens(account, _cipher(services), tokens)
    session.add(account)
    session.flush()
    _audit(session, actor.user_id, account, action)
    return account


def _store_tokens(account: SocialAccount, cipher: TokenCipher, tokens: PlatformTokens) -> None:
    """Encrypt ``tokens`` into the row; a refresh that brings no refresh token keeps the old one."""
    now = utcnow()
    account.access_token_enc = cipher.encrypt(tokens.access_token)
    if tokens.refresh_token:
        account.refresh_token_enc = cipher.encrypt(tokens.refresh_token)
        account.refresh_expires_at = tokens.refresh_expires_at
    elif account.refresh_token_enc:
        account.refresh_token_enc = cipher.rotate(account.refresh_token_enc)
    account.token_key_id = cipher.key_id
    account.token_expires_at = tokens.expires_at
    if tokens.scopes:
        account.scopes = " ".join(tokens.scopes)[:1000]
    account.last_refreshed_at = account.updated_at = now


# ---------------------------------------------------------------- reading


def list_accounts(session: Session, services: Services, *, actor: Actor) -> list[AccountSummary]:
    """The workspace's connected accounts (disconnected ones are left out), by platform."""
    require(actor, Action.VIEW)
    rows = session.exec(
        select(SocialAccount)
        .where(
            SocialAccount.workspace_id == actor.workspace_id,
            SocialAccount.health != AccountHealth.DISCONNECTED,
        )
        .order_by(col(SocialAccount.platform), col(SocialAccount.display_name))
    ).all()
    return [_summary(row) for row in rows]


def _summary(account: SocialAccount) -> AccountSummary:
    return AccountSummary(
        id=account.id or 0,
        platform=account.platform,
        platform_label=PLATFORM_LABELS.get(account.platform, account.platform),
        display_name=account.display_name or account.external_id,
        avatar_url=account.avatar_url,
        health=AccountHealth(account.health).value,
        health_message=account.health_message,
        abilities=scope_words(account.scopes.split()),
        sandbox=account.sandbox,
        connected_at=account.created_at,
    )


def _find(session: Session, workspace_id: int, account_id: int) -> SocialAccount:
    account = session.get(SocialAccount, account_id)
    if account is None or account.workspace_id != workspace_id:
        raise NotFoundError(ACCOUNT_NOT_FOUND, code="account_not_found")
    return account


# ---------------------------------------------------------------- tokens


def _decrypted(services: Services, account: SocialAccount) -> PlatformTokens:
    cipher = _cipher(services)
    return PlatformTokens(
        access_token=cipher.decrypt(account.access_token_enc),
        refresh_token=cipher.decrypt(account.refresh_token_enc)
        if account.refresh_token_enc
        else "",
        expires_at=account.token_expires_at,
        refresh_expires_at=account.refresh_expires_at,
        scopes=tuple(account.scopes.split()),
    )


def _needs_reconnect_error(account: SocialAccount) -> PlatformAuthError:
    label = PLATFORM_LABELS.get(account.platform, account.platform)
    return PlatformAuthError(
        f"The {label} account {account.display_name} needs to be reconnected.",
        retryable=False,
        code="account_needs_reconnect",
        params={"account_id": account.id},
    )


def tokens_for(session: Session, services: Services, account: SocialAccount) -> PlatformTokens:
    """The account's tokens to call the platform with, refreshed first when about to expire.

    Raises:
        PlatformAuthError: the account is not OK (needs reconnect, disconnected) or the refresh
            was refused (then it is marked needs-reconnect).
        PlatformError: the platform did not answer the refresh (retryable).
    """
    if account.health != AccountHealth.OK or not account.access_token_enc:
        raise _needs_reconnect_error(account)
    tokens = _decrypted(services, account)
    if tokens.expires_at is not None and tokens.expires_at <= utcnow() + EXPIRY_LEEWAY:
        return refreshed_tokens(session, services, account)
    return tokens


def _locked(session: Session, account_id: int) -> SocialAccount | None:
    """The account's row, locked until commit (PostgreSQL), read fresh from the database."""
    query = select(SocialAccount).where(SocialAccount.id == account_id).with_for_update()
    return session.exec(query.execution_options(populate_existing=True)).first()


def refreshed_tokens(
    session: Session, services: Services, account: SocialAccount
) -> PlatformTokens:
    """Refresh the account's tokens now and store them; commits (the caller's work too).

    The row is locked while the platform answers, so two workers never spend one rotating
    refresh token twice: the second finds the tokens already changed and uses them. New tokens
    (a rotated refresh token above all) are committed before anything else can fail.

    Raises:
        PlatformAuthError: the platform refused the refresh; the account is marked
            needs-reconnect and the workspace notified (only this account).
        PlatformError: the platform did not answer (nothing changed; try again later).
        NotFoundError: the account was deleted meanwhile.
    """
    seen = account.access_token_enc
    client = _platform(services, account.platform)
    locked = _locked(session, account.id or 0)
    if locked is None:
        session.rollback()
        raise NotFoundError(ACCOUNT_NOT_FOUND, code="account_not_found")
    if locked.health != AccountHealth.OK or not locked.access_token_enc:
        session.rollback()
        raise _needs_reconnect_error(locked)
    if locked.access_token_enc != seen:  # another process refreshed while we waited
        session.commit()
        return _decrypted(services, locked)
    try:
        fresh = client.refresh(_decrypted(services, locked))
    except PlatformError as exc:
        if exc.retryable and not isinstance(exc, PlatformAuthError):
            session.rollback()
            raise
        mark_needs_reconnect(session, services, locked, exc.message)
        raise _needs_reconnect_error(locked) from exc
    _store_tokens(locked, _cipher(services), fresh)
    session.add(locked)
    session.commit()
    return _decrypted(services, locked)


def mark_needs_reconnect(
    session: Session, services: Services, account: SocialAccount, message: str
) -> None:
    """Mark the account needs-reconnect (its posts pause) and tell the workspace once; commits."""
    changed = session.exec(
        sa.update(SocialAccount)
        .where(
            col(SocialAccount.id) == account.id,
            col(SocialAccount.health).in_([AccountHealth.OK, AccountHealth.UNHEALTHY]),
        )
        .values(
            health=AccountHealth.NEEDS_RECONNECT, health_message=message[:500], updated_at=utcnow()
        )
    ).rowcount  # type: ignore[call-overload]
    if changed:
        label = PLATFORM_LABELS.get(account.platform, account.platform)
        name = account.display_name or account.external_id
        name += " (sandbox)" if account.sandbox else ""
        notify(
            session,
            services,
            workspace_id=account.workspace_id,
            kind="account_needs_reconnect",
            title=f"Reconnect the {label} account {name}",
            body=f"{label} refused to renew access ({message}). Its posts are paused until "
            "an owner or admin connects it again on the Accounts page.",
            link="/app/accounts",
        )
        _audit(session, None, account, "account.needs_reconnect")
    session.commit()
    if account in session:
        session.refresh(account)


def refresh_expiring(session: Session, services: Services) -> list[int]:
    """Refresh every OK account whose access token ends within the margin (the worker's tick).

    Returns:
        The ids of the accounts refreshed (a refused one is marked needs-reconnect instead; one
        whose platform did not answer is tried again at the next tick).
    """
    cutoff = utcnow() + timedelta(seconds=services.settings.token_refresh_margin_seconds)
    due = session.exec(
        select(SocialAccount).where(
            SocialAccount.health == AccountHealth.OK,
            col(SocialAccount.token_expires_at).is_not(None),
            col(SocialAccount.token_expires_at) <= cutoff,
            col(SocialAccount.platform).in_(list(services.platforms)),
        )
    ).all()
    refreshed = []
    for account in due:
        try:
            refreshed_tokens(session, services, account)
        except (PlatformError, IntegrationError, NotFoundError) as exc:
            log.warning("refreshing account %s failed: %s", account.id, exc)
            continue
        refreshed.append(account.id or 0)
    return refreshed


# ---------------------------------------------------------------- disconnect


def disconnect(session: Session, services: Services, *, actor: Actor, account_id: int) -> None:
    """Revoke the account's tokens where the platform allows, then wipe them; commits.

    Its posts stay (paused); connecting the same account again resumes them.

    Raises:
        PermissionDeniedError: the actor's role may not remove accounts.
        NotFoundError: not an account of the actor's workspace.
    """
    actor = _manager(session, user_id=actor.user_id, workspace_id=actor.workspace_id)
    account = _find(session, actor.workspace_id, account_id)
    if account.health == AccountHealth.DISCONNECTED:
        return
    _revoke_quietly(services, account)
    account.access_token_enc = account.refresh_token_enc = ""
    account.token_expires_at = account.refresh_expires_at = None
    account.health, account.health_message = AccountHealth.DISCONNECTED, "Disconnected"
    account.updated_at = utcnow()
    session.add(account)
    _audit(session, actor.user_id, account, "account.disconnect")
    session.commit()


def _revoke_quietly(services: Services, account: SocialAccount) -> None:
    client = services.platforms.get(account.platform)
    if client is None or not account.access_token_enc:
        return
    try:
        client.revoke(_decrypted(services, account))
    except IntegrationError as exc:  # the tokens are wiped here either way
        log.warning("revoking account %s failed: %s", account.id, exc)


# ---------------------------------------------------------------- key rotation


def reencrypt_tokens(session: Session, services: Services) -> int:
    """Encrypt every stored token again with the newest key; commits. Returns rows changed."""
    cipher = _cipher(services)
    changed = 0
    rows = session.exec(select(SocialAccount).where(SocialAccount.access_token_enc != "")).all()
    for account in rows:
        account.access_token_enc = cipher.rotate(account.access_token_enc)
        if account.refresh_token_enc:
            account.refresh_token_enc = cipher.rotate(account.refresh_token_enc)
        account.token_key_id = cipher.key_id
        session.add(account)
        changed += 1
    session.commit()
    return changed
