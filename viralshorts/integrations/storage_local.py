"""MediaStorage on a local folder, with HMAC-signed URLs served by ``web/media.py``.

Files are written to a temporary name in the destination folder and renamed into place, so a
reader (or a worker killed mid-copy) never sees a half-written file under its final name.
"""

from __future__ import annotations

import hashlib
import hmac
import mimetypes
import os
import re
import shutil
import time
import uuid
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote, urlencode

from viralshorts.errors import NotFoundError, PermissionDeniedError, ValidationError
from viralshorts.integrations.ports import ServedFile
from viralshorts.settings import Settings

_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")
_EXTRA_TYPES = {".srt": "application/x-subrip", ".vtt": "text/vtt", ".m4a": "audio/mp4"}


def content_type_for(key: str) -> str:
    """The Content-Type to serve ``key`` with, from its extension."""
    suffix = Path(key).suffix.lower()
    if suffix in _EXTRA_TYPES:
        return _EXTRA_TYPES[suffix]
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


def validate_key(key: str) -> str:
    """Return ``key`` if it is a safe relative storage key, else raise ValidationError.

    Segments may not be empty, ``..``, or start with a dot (no hidden or temp files, no
    escaping the media root).
    """
    parts = key.split("/")
    if not key or len(key) > 300 or not all(_SEGMENT.match(part) for part in parts):
        raise ValidationError({"key": "That is not a valid media key."})
    return key


def sign(secret: str, key: str, exp: int, disposition: str) -> str:
    """HMAC-SHA256 of ``key|exp|disposition`` under the app's secret key."""
    message = f"{key}|{exp}|{disposition}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def disposition_for(download_name: str) -> str:
    """The signed disposition: ``inline``, or ``attachment:<filename>`` for downloads."""
    return f"attachment:{download_name}" if download_name else "inline"


def verify(
    secret: str, key: str, exp: int, disposition: str, signature: str, *, max_ttl: int
) -> bool:
    """True when ``signature`` matches and ``exp`` (unix seconds) is in the next ``max_ttl`` s.

    An ``exp`` further ahead than any URL we make is refused even when signed, so a leaked or
    forged long-lived link never works.
    """
    expected = sign(secret, key, exp, disposition)
    now = int(time.time())
    return hmac.compare_digest(expected, signature) and now <= exp <= now + max_ttl


def _atomic_copy(source: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.parent / f".{dest.name}.{uuid.uuid4().hex}.part"
    try:
        with source.open("rb") as src, tmp.open("wb") as out:
            shutil.copyfileobj(src, out, length=1024 * 1024)
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(dest)
    finally:
        tmp.unlink(missing_ok=True)


class LocalStorage:
    """Keys are relative paths under ``settings.media_root``."""

    def __init__(self, settings: Settings) -> None:
        self._root = Path(settings.media_root)
        self._secret = settings.secret_key.get_secret_value()
        self._max_ttl = settings.signed_url_ttl_seconds

    def path_for(self, key: str) -> Path:
        """The file behind ``key`` (it may not exist)."""
        return self._root / validate_key(key)

    def put_file(self, key: str, source: Path, content_type: str) -> None:
        """Copy ``source`` to ``key`` atomically (Content-Type comes from the key when served)."""
        _atomic_copy(source, self.path_for(key))

    def download_to(self, key: str, dest: Path) -> Path:
        """Copy ``key`` to ``dest``; NotFoundError if there is no such file."""
        path = self.path_for(key)
        if not path.is_file():
            raise NotFoundError(f"media {key} not found")
        _atomic_copy(path, dest)
        return dest

    def exists(self, key: str) -> bool:
        return self.path_for(key).is_file()

    def delete(self, key: str) -> None:
        self.path_for(key).unlink(missing_ok=True)

    def size(self, key: str) -> int:
        """The file's size in bytes; NotFoundError if there is no such file."""
        path = self.path_for(key)
        if not path.is_file():
            raise NotFoundError(f"media {key} not found")
        return path.stat().st_size

    def open_stream(self, key: str, offset: int = 0) -> BinaryIO:
        """The file opened for reading at byte ``offset``; NotFoundError if there is none."""
        try:
            stream = self.path_for(key).open("rb")
        except FileNotFoundError as exc:
            raise NotFoundError(f"media {key} not found") from exc
        stream.seek(offset)
        return stream

    def signed_url(self, key: str, *, expires_in: int, download_name: str = "") -> str:
        """A relative ``/api/media/...`` URL valid for ``expires_in`` seconds."""
        validate_key(key)
        exp = int(time.time()) + min(expires_in, self._max_ttl)
        params = {"exp": exp, "sig": sign(self._secret, key, exp, disposition_for(download_name))}
        if download_name:
            params["dl"] = download_name
        return f"/api/media/{quote(key)}?{urlencode(params)}"

    def open_signed(self, key: str, *, exp: str, signature: str, download_name: str) -> ServedFile:
        """The file behind a URL made by ``signed_url``, once its signature and expiry check.

        Raises:
            PermissionDeniedError: the signature is wrong or the link has expired.
            NotFoundError: the key is not a valid key or there is no such file.
        """
        disposition = disposition_for(download_name)
        expires = int(exp) if exp.isascii() and exp.isdigit() else -1
        if not verify(self._secret, key, expires, disposition, signature, max_ttl=self._max_ttl):
            raise PermissionDeniedError(
                "This link is invalid or has expired.", code="media_link_invalid"
            )
        try:
            path = self.path_for(key)
        except ValidationError:
            raise NotFoundError("not found", code="media_not_found") from None
        if not path.is_file():
            raise NotFoundError("not found", code="media_not_found")
        return ServedFile(path=path, content_type=content_type_for(key))
