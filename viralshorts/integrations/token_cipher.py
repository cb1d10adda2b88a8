"""The SealedBox port with Fernet (AES-CBC + HMAC, timestamped), keyed from SECRET_KEY."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

from viralshorts.settings import Settings


class FernetBox:
    """Seals values with a key derived from SECRET_KEY and ``purpose`` (one key per use)."""

    def __init__(self, settings: Settings, *, purpose: str) -> None:
        secret = settings.secret_key.get_secret_value().encode()
        digest = hashlib.sha256(purpose.encode() + b":" + secret).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, data: bytes) -> str:
        """``data`` encrypted and authenticated, as URL-safe text."""
        return self._fernet.encrypt(data).decode()

    def open(self, sealed: str, *, max_age_seconds: int) -> bytes | None:
        """The data, or None when ``sealed`` is forged, for another purpose, or too old."""
        try:
            return self._fernet.decrypt(sealed.encode(), ttl=max_age_seconds)
        except (InvalidToken, ValueError):
            return None
