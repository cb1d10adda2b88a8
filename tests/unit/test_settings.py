"""The settings object: defaults, feature switches, and the production secret guard."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from viralshorts.settings import DEV_SECRET_KEY, Settings


def test_production_refuses_the_default_secret_key() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(app_env="production", secret_key=DEV_SECRET_KEY, _env_file=None)


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
