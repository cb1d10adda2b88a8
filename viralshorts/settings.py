"""The one configuration object. Nothing else in the code base reads ``os.environ``.

A feature is "on" when its configuration is present (``openai_enabled``, ``s3_enabled`` ...):
that is the switch between the embedded offline default and the real outside service.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import computed_field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "dev-insecure-secret-key-change-me"


class Settings(BaseSettings):
    """Environment-driven settings; see ``.env.example`` for every variable."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    app_env: Literal["development", "test", "production"] = "development"
    log_level: str = "INFO"
    secret_key: str = DEV_SECRET_KEY
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'data' / 'viralshorts.db'}"
    redis_url: str = "redis://127.0.0.1:6379/0"
    media_root: Path = PROJECT_ROOT / "data" / "media"
    public_base_url: str = "http://localhost:3000"

    # Sessions and sign-in protection
    session_idle_days: int = 14
    session_max_days: int = 30
    login_max_failures: int = 5
    login_window_seconds: int = 300
    login_max_failures_per_ip: int = 20

    # Storage
    storage_backend: Literal["local", "s3"] = "local"
    s3_bucket: str = ""
    s3_endpoint_url: str = ""
    aws_access_key_id: str = ""
    aws_secret_access_key: str = ""
    aws_region: str = "us-east-1"
    signed_url_ttl_seconds: int = 3600

    # OpenAI (or any OpenAI-compatible endpoint)
    openai_api_key: str = ""
    openai_base_url: str = "https://api.openai.com/v1"
    openai_model: str = "gpt-4o-mini"
    openai_tts_model: str = "gpt-4o-mini-tts"
    openai_transcribe_model: str = "whisper-1"

    # Stock footage
    pexels_api_key: str = ""
    pexels_api_base: str = "https://api.pexels.com"

    # Stripe
    stripe_secret_key: str = ""
    stripe_webhook_secret: str = ""
    stripe_api_base: str = "https://api.stripe.com"

    # Google (sign-in and YouTube)
    google_client_id: str = ""
    google_client_secret: str = ""
    google_auth_base: str = "https://accounts.google.com"
    google_token_url: str = "https://oauth2.googleapis.com/token"
    google_userinfo_url: str = "https://openidconnect.googleapis.com/v1/userinfo"
    youtube_api_base: str = "https://www.googleapis.com"
    youtube_upload_base: str = "https://www.googleapis.com"

    # GitHub sign-in
    github_client_id: str = ""
    github_client_secret: str = ""
    github_auth_base: str = "https://github.com"
    github_api_base: str = "https://api.github.com"

    # TikTok
    tiktok_client_key: str = ""
    tiktok_client_secret: str = ""
    tiktok_auth_base: str = "https://www.tiktok.com"
    tiktok_api_base: str = "https://open.tiktokapis.com"

    # Meta / Instagram
    meta_app_id: str = ""
    meta_app_secret: str = ""
    facebook_auth_base: str = "https://www.facebook.com"
    instagram_graph_base: str = "https://graph.facebook.com"

    # Rendering
    ffmpeg_binary: str = ""
    ffprobe_binary: str = ""
    render_job_timeout_seconds: int = 1800
    render_max_retries: int = 3
    render_retry_intervals: str = "10,30,60"
    render_per_user_concurrency: int = 2
    render_heartbeat_seconds: float = 5.0
    render_stale_seconds: int = 120
    render_tick_seconds: float = 15.0
    render_cache_days: float = 7.0  # cached steps unused this long are deleted; 0 = keep all
    max_upload_bytes: int = 500 * 1024 * 1024

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Settings:
        if self.app_env == "production" and self.secret_key in ("", DEV_SECRET_KEY):
            raise ValueError(
                "SECRET_KEY must be set to a long random value when APP_ENV=production"
            )
        if self.app_env == "production" and len(self.secret_key) < 32:
            raise ValueError("SECRET_KEY must be at least 32 characters when APP_ENV=production")
        return self

    @computed_field  # type: ignore[prop-decorator]
    @property
    def openai_enabled(self) -> bool:
        return bool(self.openai_api_key)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def pexels_enabled(self) -> bool:
        return bool(self.pexels_api_key)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def s3_enabled(self) -> bool:
        return self.storage_backend == "s3" and bool(self.s3_bucket)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def stripe_enabled(self) -> bool:
        return bool(self.stripe_secret_key and self.stripe_webhook_secret)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def google_login_enabled(self) -> bool:
        return bool(self.google_client_id and self.google_client_secret)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def github_login_enabled(self) -> bool:
        return bool(self.github_client_id and self.github_client_secret)

    @property
    def allowed_origins(self) -> list[str]:
        """Browser origins allowed to talk to the backend (websocket and routes).

        Outside production, ``localhost`` and ``127.0.0.1`` are the same machine, so both spellings
        of PUBLIC_BASE_URL are allowed; a newcomer may open either.
        """
        origin = self.public_base_url.rstrip("/")
        if self.app_env == "production":
            return [origin]
        variants = {origin}
        for a, b in (("//localhost", "//127.0.0.1"), ("//127.0.0.1", "//localhost")):
            if a in origin:
                variants.add(origin.replace(a, b))
        return sorted(variants)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def retry_intervals(self) -> list[int]:
        return [int(part) for part in self.render_retry_intervals.split(",") if part.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (read once; tests call ``get_settings.cache_clear()``)."""
    return Settings()
