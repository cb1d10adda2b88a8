"""Email without a mail server: each message becomes an ``.eml`` file in the outbox folder.

``./dev run`` works with nothing set up: open the file (its path is in the log) to follow a
password reset or email change link.
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

from viralshorts.errors import IntegrationError
from viralshorts.integrations.email_smtp import mime_message
from viralshorts.integrations.ports import OutgoingEmail
from viralshorts.logs import log_event


class OutboxEmailSender:
    """Writes messages to ``folder`` as ``<UTC time>-<random>.eml`` (private to this user)."""

    def __init__(self, folder: Path, *, sender: str) -> None:
        self._folder = folder
        self._sender = sender

    def send(self, message: OutgoingEmail) -> None:
        """Write ``message`` to the outbox; IntegrationError when the folder is not writable."""
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(4)}.eml"
        path = self._folder / name
        data = mime_message(message, self._sender).as_bytes()
        try:
            self._folder.mkdir(parents=True, exist_ok=True)
            _write_privately(path, data)
        except OSError as exc:
            raise IntegrationError(
                f"Could not write the message to {self._folder}: {exc}",
                code="email_outbox_unwritable",
                params={"folder": str(self._folder)},
            ) from exc
        log_event("email.outbox", path=path, subject=message.subject)


def _write_privately(path: Path, data: bytes) -> None:
    # The message holds a sign-in-grade link: mode 0600, and written under a temporary name
    # so a reader never sees half a message.
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    tmp.replace(path)
