"""A real SMTP server in-process (``aiosmtpd`` on its own thread) that keeps what it receives.

``SmtpServer(tls=True)`` offers STARTTLS with a self-signed certificate for 127.0.0.1 (a client
trusts it through ``client_ssl_context()``); ``users={"name": "password"}`` turns on AUTH
(PLAIN/LOGIN, only after STARTTLS when TLS is offered). Each received message records whether
the connection was encrypted and who logged in, so tests can tell what the client did.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOST = "127.0.0.1"


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    encrypted: bool
    login: str | None

    @property
    def body(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        text = part.get_content() if part is not None else ""
        return text.replace("\r\n", "\n")  # lines travel with CRLF endings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class _Recorder:
    def __init__(self) -> None:
        self.received: list[ReceivedMail] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        message = message_from_bytes(raw, policy=policy.default)
        login = session.auth_data.login.decode() if session.authenticated else None
        mail = ReceivedMail(
            mail_from=envelope.mail_from,
            rcpt_tos=list(envelope.rcpt_tos),
            message=message,  # type: ignore[arg-type]
            encrypted=session.ssl is not None,
            login=login,
        )
        with self.lock:
            self.received.append(mail)
        return "250 Message accepted for delivery"


class SmtpServer:
    """Start with ``with SmtpServer() as smtp:``; ``smtp.port``, ``smtp.received``."""

    def __init__(self, *, tls: bool = False, users: dict[str, str] | None = None) -> None:
        self.port = _free_port()
        self.host = HOST
        self.users = dict(users or {})
        self._folder = Path(tempfile.mkdtemp(prefix="smtp-"))
        self.cert_path: Path | None = None
        self._recorder = _Recorder()
        kwargs: dict[str, Any] = {}
        if tls:
            self.cert_path, key_path = _self_signed(self._folder)
            server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            server_context.load_cert_chain(self.cert_path, key_path)
            kwargs["tls_context"] = server_context
        if self.users:
            kwargs["authenticator"] = self._authenticate
            kwargs["auth_require_tls"] = tls
        self._controller = Controller(self._recorder, hostname=HOST, port=self.port, **kwargs)

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        ok = self.users.get(login) == password
        return AuthResult(success=ok, handled=False, auth_data=auth_data)  # not handled: 535

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()

    def client_ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's certificate (and nothing else)."""
        assert self.cert_path is not None, "start the server with tls=True"
        return ssl.create_default_context(cafile=str(self.cert_path))

    @property
    def received(self) -> list[ReceivedMail]:
        with self._recorder.lock:
            return list(self._recorder.received)

    def wait_for(self, count: int, *, timeout: float = 20.0) -> list[ReceivedMail]:
        """The received messages once there are at least ``count`` (AssertionError after
        ``timeout`` s: a generous deadline, not a measure of speed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            mails = self.received
            if len(mails) >= count:
                return mails
            time.sleep(0.05)
        raise AssertionError(f"expected {count} messages, received {len(self.received)}")
