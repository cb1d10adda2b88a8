"""Sending email off the request path: each message is delivered by a short-lived thread.

A slow or failing mail server then never delays an answer or changes it (an answer that took
longer, or said something else, when an address has an account would tell who has one). A
failed send is logged with its reason; the person can ask for another link.
"""

from __future__ import annotations

import logging
import threading

from viralshorts.errors import ViralShortsError
from viralshorts.integrations.ports import EmailSender, OutgoingEmail
from viralshorts.logs import log_event


class BackgroundEmailSender:
    """Wraps an EmailSender so ``send`` returns at once and delivery happens in a thread."""

    def __init__(self, inner: EmailSender) -> None:
        self._inner = inner

    def send(self, message: OutgoingEmail) -> None:
        """Start delivering ``message``; never raises for a delivery problem."""
        thread = threading.Thread(
            target=self._deliver, args=(message,), name="email-send", daemon=True
        )
        thread.start()

    def _deliver(self, message: OutgoingEmail) -> None:
        try:
            self._inner.send(message)
        except ViralShortsError as exc:
            log_event(
                "email.failed", level=logging.ERROR, subject=message.subject, reason=exc.message
            )
        except Exception as exc:  # a thread's exception would otherwise vanish unlogged
            log_event(
                "email.failed", level=logging.ERROR, subject=message.subject, reason=repr(exc)
            )
