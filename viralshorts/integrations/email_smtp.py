"""Email over SMTP (``smtplib``): STARTTLS when ``SMTP_STARTTLS``, a login with a username."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from viralshorts.errors import IntegrationError
from viralshorts.integrations.ports import OutgoingEmail
from viralshorts.logs import log_event
from viralshorts.settings import Settings


def mime_message(message: OutgoingEmail, sender: str) -> EmailMessage:
    """``message`` as a plain-text (UTF-8) MIME message from ``sender``."""
    mime = EmailMessage()
    mime["From"] = sender
    mime["To"] = message.to
    mime["Subject"] = message.subject
    mime["Date"] = formatdate(localtime=False, usegmt=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    mime["Message-ID"] = make_msgid(domain=domain)
    mime.set_content(message.body)
    return mime


class SmtpEmailSender:
    """Sends each message over a new connection to ``SMTP_HOST:SMTP_PORT``.

    ``ssl_context`` verifies the server's certificate during STARTTLS (default: the system's
    trusted authorities); tests pass one that trusts their own certificate.
    """

    def __init__(self, settings: Settings, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self._settings = settings
        self._ssl_context = ssl_context

    def send(self, message: OutgoingEmail) -> None:
        """Deliver ``message``; IntegrationError when the server refuses or cannot be reached."""
        settings = self._settings
        mime = mime_message(message, settings.smtp_from)
        try:
            with smtplib.SMTP(
                settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds
            ) as smtp:
                self._secure_and_log_in(smtp)
                smtp.send_message(mime)
        except (smtplib.SMTPException, OSError) as exc:
            raise IntegrationError(
                f"The mail server did not take the message: {exc}",
                code="email_send_failed",
                params={"host": settings.smtp_host},
            ) from exc
        log_event("email.sent", host=settings.smtp_host, subject=message.subject)

    def _secure_and_log_in(self, smtp: smtplib.SMTP) -> None:
        settings = self._settings
        if settings.smtp_starttls:
            smtp.starttls(context=self._ssl_context or ssl.create_default_context())
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
