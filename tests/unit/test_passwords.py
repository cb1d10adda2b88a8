"""Pure pieces of sign-in: password hashing, safe redirects, reading the session cookie."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from viralshorts.domain.accounts import hash_password, normalise_email, safe_next_path
from viralshorts.ui.state import _token_from_cookie_header


def test_hash_is_salted_argon2id_and_verifies() -> None:
    first, second = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert first.startswith("$argon2id$") and first != second
    assert PasswordHasher().verify(first, "correct horse battery")


def test_normalise_email() -> None:
    assert normalise_email("  Ada@Example.COM\n") == "ada@example.com"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "/app"),
        ("", "/app"),
        ("/app/campaigns?tab=2#top", "/app/campaigns?tab=2#top"),
        ("/sign-in", "/sign-in"),
        ("https://evil.example/app", "/app"),
        ("//evil.example", "/app"),
        ("/\\evil.example", "/app"),
        ("javascript:alert(1)", "/app"),
        ("app/relative", "/app"),
        ("/app\r\nSet-Cookie: x=1", "/app"),
        ("  /app/videos  ", "/app/videos"),
    ],
)
def test_safe_next_path(value: str | None, expected: str) -> None:
    assert safe_next_path(value) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("vs_session=abc123", "abc123"),
        ("theme=dark; vs_session=tok-_9; other=1", "tok-_9"),
        ("theme=dark", ""),
        ("", ""),
    ],
)
def test_session_token_from_cookie_header(header: str, expected: str) -> None:
    assert _token_from_cookie_header(header) == expected
