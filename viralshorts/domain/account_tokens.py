"""Single-use emailed links: a random token for the URL, only its SHA-256 in ``account_tokens``."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, select, update

from viralshorts.domain.accounts import _sha256
from viralshorts.models import AccountToken, AccountTokenPurpose

MAX_TOKEN_LENGTH = 200  # ours are 43 characters; anything far longer is not one


def issue_token(
    session: Session,
    user_id: int,
    purpose: AccountTokenPurpose,
    lifetime: timedelta,
    now: datetime,
    **extra: str,
) -> str:
    """Store a new link for ``user_id`` and return its raw token (for the URL only).

    There is one live link per purpose: a new one replaces (and so invalidates) the previous.
    """
    drop_tokens(session, user_id, purpose)
    raw = secrets.token_urlsafe(32)
    session.add(
        AccountToken(
            user_id=user_id,
            purpose=purpose,
            token_hash=_sha256(raw),
            created_at=now,
            expires_at=now + lifetime,
            **extra,
        )
    )
    session.flush()
    return raw


def drop_tokens(session: Session, user_id: int, purpose: AccountTokenPurpose | None = None) -> None:
    """Forget the user's links of ``purpose`` (every link when None)."""
    query = delete(AccountToken).where(col(AccountToken.user_id) == user_id)
    if purpose is not None:
        query = query.where(col(AccountToken.purpose) == purpose)
    session.exec(query)


def usable_token(
    session: Session, raw: str, purpose: AccountTokenPurpose, now: datetime
) -> AccountToken | None:
    """The stored link for ``raw`` while it is unused and unexpired, else None."""
    if not raw or len(raw) > MAX_TOKEN_LENGTH:
        return None
    row = session.exec(
        select(AccountToken).where(
            AccountToken.token_hash == _sha256(raw), AccountToken.purpose == purpose
        )
    ).first()
    if row is None or row.used_at is not None or now >= row.expires_at:
        return None
    return row


def claim_token(session: Session, row: AccountToken, now: datetime) -> bool:
    """Mark the link used; False when a concurrent request used it first."""
    result = session.exec(
        update(AccountToken)
        .where(col(AccountToken.id) == row.id, col(AccountToken.used_at).is_(None))
        .values(used_at=now)
    )
    return result.rowcount == 1
