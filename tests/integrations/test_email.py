"""Email adapters against a real SMTP server in-process (aiosmtpd), and the local outbox."""

from __future__ import annotations

import logging
import stat
import time
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from tests.fakes.smtp_server import SmtpServer
from viralshorts.errors import IntegrationError
from viralshorts.integrations.email_background import BackgroundEmailSender
from viralshorts.integrations.email_outbox import OutboxEmailSender
from viralshorts.integrations.email_smtp import SmtpEmailSender
from viralshorts.integrations.ports import OutgoingEmail
from viralshorts.integrations.services import build_email
from viralshorts.logs import LOGGER_NAME
from viralshorts.settings import Settings

MESSAGE = OutgoingEmail(
    to="ada@example.com", subject="Reset your password", body="Hello Ada,\n\nOpen this link.\n"
)


def _settings(server: SmtpServer | None = None, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "smtp_starttls": False,
        "smtp_from": "Shorts <no-reply@shorts.test>",
    }
    if server is not None:
        values |= {"smtp_host": server.host, "smtp_port": server.port}
    return Settings(_env_file=None, **(values | overrides))


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture()
def log_lines():
    handler = _Lines()
    logger = logging.getLogger(LOGGER_NAME)
    logger.addHandler(handler)
    yield handler.lines
    logger.removeHandler(handler)


def _poll(condition, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met before the deadline")


# ---------------------------------------------------------------- SMTP


def test_smtp_delivers_a_plain_text_message() -> None:
    with SmtpServer() as server:
        SmtpEmailSender(_settings(server)).send(MESSAGE)
        [mail] = server.wait_for(1)
    assert mail.rcpt_tos == ["ada@example.com"]
    assert mail.mail_from == "no-reply@shorts.test"
    assert mail.message["Subject"] == "Reset your password"
    assert mail.message["From"] == "Shorts <no-reply@shorts.test>"
    assert mail.message.get_content_type() == "text/plain"
    assert mail.body == MESSAGE.body
    assert not mail.encrypted
    assert mail.login is None


def test_starttls_and_login_when_configured() -> None:
    with SmtpServer(tls=True, users={"mailer": "s3cret-pass"}) as server:
        settings = _settings(
            server, smtp_starttls=True, smtp_username="mailer", smtp_password="s3cret-pass"
        )
        SmtpEmailSender(settings, ssl_context=server.client_ssl_context()).send(MESSAGE)
        [mail] = server.wait_for(1)
    assert mail.encrypted
    assert mail.login == "mailer"


def test_starttls_is_skipped_when_off_even_if_offered() -> None:
    with SmtpServer(tls=True) as server:
        SmtpEmailSender(_settings(server, smtp_starttls=False)).send(MESSAGE)
        [mail] = server.wait_for(1)
    assert not mail.encrypted


def test_no_login_without_a_username() -> None:
    with SmtpServer(users={"mailer": "s3cret-pass"}) as server:
        SmtpEmailSender(_settings(server)).send(MESSAGE)
        [mail] = server.wait_for(1)
    assert mail.login is None


def test_starttls_on_against_a_server_without_it_is_refused() -> None:
    with SmtpServer() as server:
        sender = SmtpEmailSender(_settings(server, smtp_starttls=True))
        with pytest.raises(IntegrationError) as refused:
            sender.send(MESSAGE)
        assert server.received == []
    assert refused.value.code == "email_send_failed"


def test_a_wrong_password_is_an_integration_error() -> None:
    with SmtpServer(tls=True, users={"mailer": "s3cret-pass"}) as server:
        settings = _settings(
            server, smtp_starttls=True, smtp_username="mailer", smtp_password="wrong-pass"
        )
        sender = SmtpEmailSender(settings, ssl_context=server.client_ssl_context())
        with pytest.raises(IntegrationError):
            sender.send(MESSAGE)
        assert server.received == []


# ---------------------------------------------------------------- outbox


def test_the_outbox_writes_a_private_eml_file_and_logs_its_path(
    tmp_path: Path, log_lines: list[str]
) -> None:
    folder = tmp_path / "outbox"
    OutboxEmailSender(folder, sender="Shorts <no-reply@shorts.test>").send(MESSAGE)
    [path] = list(folder.glob("*.eml"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["To"] == "ada@example.com"
    assert message["Subject"] == "Reset your password"
    assert message.get_body(preferencelist=("plain",)).get_content() == MESSAGE.body
    assert any("event=email.outbox" in line and str(path) in line for line in log_lines)
    assert not [p for p in folder.iterdir() if p.suffix != ".eml"]  # no temporary left


def test_the_outbox_folder_defaults_beside_the_media_root(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, media_root=tmp_path / "data" / "media")
    assert settings.outbox_dir == tmp_path / "data" / "outbox"
    assert not settings.email_enabled
    assert Settings(_env_file=None, smtp_host="mail.example.com").email_enabled


# ---------------------------------------------------------------- off the request path


class _Refusing:
    def send(self, message: OutgoingEmail) -> None:
        raise IntegrationError("The mail server did not take the message: 554 no")


def test_a_failed_background_send_is_logged_not_raised(log_lines: list[str]) -> None:
    BackgroundEmailSender(_Refusing()).send(MESSAGE)
    line = _poll(lambda: next((x for x in log_lines if "event=email.failed" in x), None))
    assert "554 no" in line
    assert "Open this link" not in line  # the body (a link) is never logged


def test_the_composition_root_picks_smtp_when_a_host_is_set(tmp_path: Path) -> None:
    with SmtpServer() as server:
        build_email(_settings(server, email_outbox_dir=str(tmp_path))).send(MESSAGE)
        server.wait_for(1)
    assert list(tmp_path.iterdir()) == []


def test_the_composition_root_uses_the_outbox_without_smtp(tmp_path: Path) -> None:
    build_email(_settings(email_outbox_dir=str(tmp_path))).send(MESSAGE)
    _poll(lambda: list(tmp_path.glob("*.eml")))
