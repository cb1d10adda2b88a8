"""The TokenCipher port with cryptography's MultiFernet: encrypt with the newest key, read with any.

Keys come from ``TOKEN_ENCRYPTION_KEYS`` (comma-separated Fernet keys, newest first). Without
any, one key is derived from SECRET_KEY for this purpose only (as ``token_cipher.FernetBox``
does for the OAuth cookie), so a local run works with nothing configured.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from viralshorts.errors import ConfigurationError, IntegrationError
from viralshorts.settings import Settings

PURPOSE = b"platform-tokens"


def _derived_key(settings: Settings) -> bytes:
    secret = settings.secret_key.get_secret_value().encode()
    return base64.urlsafe_b64encode(hashlib.sha256(PURPOSE + b":" + secret).digest())


def configured_keys(settings: Settings) -> list[bytes]:
    """The keys to use, newest first.

    Raises:
        ConfigurationError: a value in TOKEN_ENCRYPTION_KEYS is not a Fernet key.
    """
    listed = settings.token_encryption_keys.get_secret_value()
    keys = [part.strip().encode() for part in listed.split(",") if part.strip()]
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError as exc:
            raise ConfigurationError(
                f"TOKEN_ENCRYPTION_KEYS: key {position} is not a Fernet key (32 url-safe "
                'base64-encoded bytes; make one with `python -c "from cryptography.fernet '
                'import Fernet; print(Fernet.generate_key().decode())"`).',
                code="token_key_invalid",
                params={"position": position},
            ) from exc
    return keys or [_derived_key(settings)]


def key_fingerprint(key: bytes) -> str:
    """A short public name for a key (never the key itself)."""
    return hashlib.sha256(key).hexdigest()[:12]


class MultiFernetCipher:
    """Platform tokens encrypted at rest; see the module docstring for the keys."""

    def __init__(self, settings: Settings) -> None:
        keys = configured_keys(settings)
        self._key_id = key_fingerprint(keys[0])
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    @property
    def key_id(self) -> str:
        """The fingerprint of the key new values are encrypted with."""
        return self._key_id

    def encrypt(self, plaintext: str) -> str:
        """``plaintext`` encrypted with the newest key."""
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        """The plaintext, read with whichever configured key encrypted it."""
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except (InvalidToken, ValueError) as exc:
            raise _unreadable() from exc

    def rotate(self, ciphertext: str) -> str:
        """The value encrypted again with the newest key."""
        try:
            return self._fernet.rotate(ciphertext.encode()).decode()
        except (InvalidToken, ValueError) as exc:
            raise _unreadable() from exc


def _unreadable() -> IntegrationError:
    return IntegrationError(
        "A stored token could not be decrypted with any configured key.",
        retryable=False,
        code="token_unreadable",
    )
