"""The settings object: defaults, feature switches, and the production secret guard."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from viralshorts.settings import Settings


def test_production_refuses_a_missing_secret_key(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(
            app_env="production", secret_key="", secret_key_file=tmp_path / "k", _env_file=None
        )
    assert not (tmp_path / "k").exists()  # production never makes one up


def test_production_refuses_a_short_secret_key() -> None:
    with pytest.raises(ValidationError, match="32 characters"):
        Settings(app_env="production", secret_key="short", _env_file=None)


def test_production_accepts_a_long_random_secret() -> None:
    settings = Settings(app_env="production", secret_key="k" * 40, _env_file=None)
    assert settings.app_env == "production"


def test_features_are_on_only_when_configured() -> None:
    plain = Settings(_env_file=None, openai_api_key="", pexels_api_key="", storage_backend="local")
    assert not plain.openai_enabled
    assert not plain.pexels_enabled
    assert not plain.s3_enabled
    configured = Settings(
        _env_file=None, openai_api_key="sk-x", storage_backend="s3", s3_bucket="videos"
    )
    assert configured.openai_enabled
    assert configured.s3_enabled


def test_retry_intervals_parse() -> None:
    assert Settings(_env_file=None, render_retry_intervals="1, 2,3").retry_intervals == [1, 2, 3]


def test_development_allows_both_spellings_of_localhost() -> None:
    dev = Settings(_env_file=None, public_base_url="http://localhost:3000")
    assert dev.allowed_origins == ["http://127.0.0.1:3000", "http://localhost:3000"]
    prod = Settings(
        _env_file=None,
        app_env="production",
        secret_key="k" * 40,
        public_base_url="https://shorts.example.com/",
    )
    assert prod.allowed_origins == ["https://shorts.example.com"]


def test_development_makes_a_private_random_key_once_and_reuses_it(tmp_path: Path) -> None:
    key_file = tmp_path / "data" / "secret_key"
    first = Settings(_env_file=None, secret_key="", secret_key_file=key_file)
    key = first.secret_key.get_secret_value()
    assert len(key) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    again = Settings(_env_file=None, secret_key="", secret_key_file=key_file)
    assert again.secret_key.get_secret_value() == key
    elsewhere = Settings(_env_file=None, secret_key="", secret_key_file=tmp_path / "other")
    assert elsewhere.secret_key.get_secret_value() != key  # never a shared constant
    assert [p.name for p in key_file.parent.iterdir()] == ["secret_key"]  # no temp file left


def test_a_set_secret_key_is_used_and_no_file_is_made(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, secret_key="k" * 40, secret_key_file=tmp_path / "k")
    assert settings.secret_key.get_secret_value() == "k" * 40
    assert not (tmp_path / "k").exists()


def test_secrets_never_print() -> None:
    settings = Settings(
        _env_file=None,
        secret_key="s" * 40,
        openai_api_key="sk-live-123",
        aws_secret_access_key="aws-456",
        github_client_secret="gh-789",
        stripe_secret_key="stripe-000",
    )
    shown = repr(settings) + str(settings.model_dump()) + settings.model_dump_json()
    for secret in ("s" * 40, "sk-live-123", "aws-456", "gh-789", "stripe-000"):
        assert secret not in shown
    assert settings.openai_api_key.get_secret_value() == "sk-live-123"


def test_s3_without_a_bucket_refuses_to_start() -> None:
    with pytest.raises(ValidationError, match="S3_BUCKET"):
        Settings(_env_file=None, storage_backend="s3", s3_bucket="")
    with pytest.raises(ValidationError, match="S3_BUCKET"):
        Settings(_env_file=None, storage_backend="s3", s3_bucket="  ")


def test_trusted_proxy_hops_default_to_none_and_reach_reflex() -> None:
    assert Settings(_env_file=None).trusted_proxy_hops == 0
    text = (Path(__file__).resolve().parents[2] / "rxconfig.py").read_text()
    assert "trusted_proxy_hops=settings.trusted_proxy_hops" in text


def test_env_example_names_every_setting() -> None:
    example = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    named = {
        line.split("=", 1)[0].strip().lstrip("# ") for line in example.splitlines() if "=" in line
    }
    missing = {name.upper() for name in Settings.model_fields} - named
    assert not missing, f".env.example does not mention {sorted(missing)}"
