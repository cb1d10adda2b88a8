"""The cheap session check every state-changing event makes, and dropping it when a session ends.

A lookup (whatever the caller loads for a valid session, encoded as text) is remembered for
at most ``CACHE_MS`` under the SHA-256 of the session token. Only found sessions are
remembered: an unknown or ended token always asks the database. When a session ends, the
user's entries are dropped at once, so the end is seen by the very next event, not a second
later. A cache that does not answer is skipped (the database decides); it never signs anyone
in and never fails the event.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Callable

from viralshorts.errors import ServiceUnavailableError
from viralshorts.integrations.ports import SessionCache

log = logging.getLogger(__name__)

CACHE_MS = 1000
# Longer than CACHE_MS plus a slow commit: no lookup that read the database before the end
# can write the ended session back (see integrations/redis_sessions.py).
HOLD_MS = 3000


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def checked(
    cache: SessionCache | None,
    token: str,
    load: Callable[[str], tuple[int, str] | None],
) -> str | None:
    """The encoded lookup for ``token``: from the cache, else ``load`` (the database).

    Args:
        cache: Where lookups are remembered; None asks the database every time.
        token: The raw session token from this request's own cookie.
        load: Looks the token up; returns ``(user_id, encoded lookup)`` or None.

    Returns:
        The encoded lookup, or None when there is no valid session.
    """
    if not token:
        return None
    key = _key(token)
    if cache is not None:
        try:
            remembered = cache.get(key)
        except ServiceUnavailableError:
            log.warning("session cache unavailable; checking the session in the database")
            remembered = None
        if remembered is not None:
            return remembered
    found = load(token)
    if found is None:
        return None
    user_id, value = found
    if cache is not None:
        # Not remembering it is harmless: the next check asks the database again.
        with contextlib.suppress(ServiceUnavailableError):
            cache.put(key, user_id, value, ttl_ms=CACHE_MS)
    return value


def sessions_ended(cache: SessionCache | None, user_id: int) -> None:
    """Forget every remembered lookup of ``user_id`` (call when any of their sessions ends).

    Membership or role changes call this too: the next check then loads them afresh.
    """
    if cache is None:
        return
    try:
        cache.forget_user(user_id, hold_ms=HOLD_MS)
    except ServiceUnavailableError:
        # The entries expire within CACHE_MS anyway; this is the only window left.
        log.warning("session cache unavailable; user %s's ended sessions lapse within 1 s", user_id)
