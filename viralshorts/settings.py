"""The one configuration object. Nothing else in the code base reads ``os.environ``.

A feature is "on" when its configuration is present (``openai_enabled``, ``s3_enabled`` ...):
that is the switch between the embedded offline default and the real outside service.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import SecretStr, computed_field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MIN_SECRET_KEY_LENGTH = 32


def _read_or_create_key(path: Path) -> str:
    """The key kept in ``path``, made (random, mode 0600) on first use.

    The key is written to a private temporary file and linked into place, so two processes
    starting together (web and worker) never read a half-written key and agree on one.
    """
    if path.is_file():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_urlsafe(48))
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass  # another process made it first: use theirs
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text().strip()


class Settings(BaseSettings):
    """Environment-driven settings; see ``.env.example`` for every variable."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    app_env: Literal["development", "test", "production"] = "development"
    log_level: str = "INFO"
    # Empty outside production: a random key is made once and kept in ``secret_key_file``.
    secret_key: SecretStr = SecretStr("")
    secret_key_file: Path = PROJECT_ROOT / "data" / "secret_key"
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
    signup_max_attempts_per_ip: int = 10
    signup_max_attempts_per_email: int = 3
    signup_window_seconds: int = 3600
    # Reverse proxies in front of the web app whose X-Forwarded-For we believe (0 = none).
    trusted_proxy_hops: int = 0

    # Password reset and email change links (counted per email and per IP within the window)
    password_reset_max_per_email: int = 3
    password_reset_max_per_ip: int = 10
    password_reset_window_seconds: int = 3600

    # Email: SMTP when SMTP_HOST is set, else .eml files in a local outbox folder
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_from: str = "ViralShortsOps <no-reply@localhost>"
    smtp_starttls: bool = True
    smtp_timeout_seconds: float = 20.0
    # Empty = the "outbox" folder beside MEDIA_ROOT (data/outbox by default).
    email_outbox_dir: str = ""

    # Storage
    storage_backend: Literal["local", "s3"] = "local"
    s3_bucket: str = ""
    s3_endpoint_url: str = ""
    aws_access_key_id: str = ""
    aws_secret_access_key: SecretStr = SecretStr("")
    aws_region: str = "us-east-1"
    signed_url_ttl_seconds: int = 3600

    # OpenAI (or any OpenAI-compatible endpoint)
    openai_api_key: SecretStr = SecretStr("")
    openai_base_url: str = "https://api.openai.com/v1"
    openai_model: str = "gpt-4o-mini"
    openai_tts_model: str = "gpt-4o-mini-tts"
    openai_transcribe_model: str = "whisper-1"

    # Stock footage
    pexels_api_key: SecretStr = SecretStr("")
    pexels_api_base: str = "https://api.pexels.com"

    # Stripe
    stripe_secret_key: SecretStr = SecretStr("")
    stripe_webhook_secret: SecretStr = SecretStr("")
    stripe_api_base: str = "https://api.stripe.com"
    # Billing: plans, prices, Stripe timeouts, past-due grace (issue 10)
    plans_file: str = ""  # "": viralshorts/resources/plans.toml
    stripe_price_ids: str = ""  # "creator=price_123,pro=price_456" overrides the plans file
    stripe_timeout_seconds: float = 8.0
    stripe_webhook_fetch_timeout_seconds: float = 0.8  # the webhook answers within a second
    billing_grace_days: int = 7  # a past-due subscription keeps its plan this long

    # Google (sign-in and YouTube)
    google_client_id: str = ""
    google_client_secret: SecretStr = SecretStr("")
    google_auth_base: str = "https://accounts.google.com"
    google_token_url: str = "https://oauth2.googleapis.com/token"
    google_userinfo_url: str = "https://openidconnect.googleapis.com/v1/userinfo"
    youtube_api_base: str = "https://www.googleapis.com"
    youtube_upload_base: str = "https://www.googleapis.com"
    # YouTube publishing (issue 9): revoking a grant, and where a published Short is watched
    google_revoke_url: str = "https://oauth2.googleapis.com/revoke"
    youtube_watch_base: str = "https://www.youtube.com"

    # GitHub sign-in
    github_client_id: str = ""
    github_client_secret: SecretStr = SecretStr("")
    github_auth_base: str = "https://github.com"
    github_api_base: str = "https://api.github.com"

    # TikTok
    tiktok_client_key: str = ""
    tiktok_client_secret: SecretStr = SecretStr("")
    tiktok_auth_base: str = "https://www.tiktok.com"
    tiktok_api_base: str = "https://open.tiktokapis.com"

    # Meta / Instagram
    meta_app_id: str = ""
    meta_app_secret: SecretStr = SecretStr("")
    facebook_auth_base: str = "https://www.facebook.com"
    instagram_graph_base: str = "https://graph.facebook.com"

    # Connected accounts (issue 9): platform tokens are encrypted with the first of these Fernet
    # keys and read with any of them (comma-separated, newest first); empty = a key derived
    # from SECRET_KEY. ``python -m viralshorts reencrypt-tokens`` moves every token to the first.
    token_encryption_keys: SecretStr = SecretStr("")
    token_refresh_margin_seconds: int = 900  # tokens expiring this soon are refreshed ahead
    token_refresh_every_seconds: float = 300.0  # how often the worker looks for them
    # The platform base URLs point at the local fakes (scripts/sandbox.py): accounts say so.
    platform_sandbox: bool = False

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

    # Instagram Graph API version and analytics collection (issue 9: Instagram + analytics)
    instagram_graph_version: str = "v24.0"
    analytics_interval_seconds: float = 3600.0  # the worker's ticker collects this often; 0 = off
    analytics_batch_size: int = 25  # posts asked about per platform call
    analytics_max_posts_per_run: int = 500  # per platform, so one run stays within rate limits

    # Publishing (issue 9): attempts and waits of the publish job, and the platforms' daily caps
    publish_max_attempts: int = 3
    publish_retry_intervals: str = "30,120,600"  # seconds before the 2nd, 3rd ... attempt
    # how soon a post still processing on the platform is asked again
    publish_poll_seconds: int = 20
    publish_stale_seconds: int = 300  # a post whose publish job is on no live worker this long
    publish_job_timeout_seconds: int = 3600
    publish_dispatch_batch: int = 50
    youtube_daily_quota_units: int = 10000  # the API project's daily quota
    youtube_upload_quota_units: int = 1600  # what one videos.insert costs
    tiktok_daily_posts: int = 15  # per creator account, rolling 24 h
    instagram_daily_posts: int = 50  # per account, rolling 24 h (content_publishing_limit)

    @model_validator(mode="after")
    def _secret_key_is_private(self) -> Settings:
        key = self.secret_key.get_secret_value()
        if self.app_env == "production" and not key:
            raise ValueError(
                "SECRET_KEY must be set to a long random value when APP_ENV=production"
            )
        if self.app_env == "production" and len(key) < MIN_SECRET_KEY_LENGTH:
            raise ValueError("SECRET_KEY must be at least 32 characters when APP_ENV=production")
        if not key:
            self.secret_key = SecretStr(_read_or_create_key(self.secret_key_file))
        return self

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> Settings:
        if self.storage_backend == "s3" and not self.s3_bucket.strip():
            raise ValueError(
                "STORAGE_BACKEND=s3 needs S3_BUCKET (the bucket to keep videos in); "
                "set it, or use STORAGE_BACKEND=local"
            )
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
        return self.storage_backend == "s3"

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

    @computed_field  # type: ignore[prop-decorator]
    @property
    def youtube_enabled(self) -> bool:
        return bool(self.google_client_id and self.google_client_secret)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tiktok_enabled(self) -> bool:
        return bool(self.tiktok_client_key and self.tiktok_client_secret)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def instagram_enabled(self) -> bool:
        return bool(self.meta_app_id and self.meta_app_secret)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_host.strip())

    @property
    def outbox_dir(self) -> Path:
        """Where messages are written as ``.eml`` files when no SMTP server is configured."""
        if self.email_outbox_dir.strip():
            return Path(self.email_outbox_dir)
        return self.media_root.parent / "outbox"

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
    def served_over_https(self) -> bool:
        """True when people open the app over https (secure cookies, HSTS)."""
        return urlsplit(self.public_base_url).scheme == "https"

    @property
    def media_origins(self) -> list[str]:
        """Origins of presigned S3 media URLs (path-style), for the CSP; empty when local."""
        if not self.s3_enabled:
            return []
        if self.s3_endpoint_url:
            parts = urlsplit(self.s3_endpoint_url)
            return [f"{parts.scheme}://{parts.netloc}"]
        return [f"https://s3.{self.aws_region}.amazonaws.com", "https://s3.amazonaws.com"]

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def publish_retry_delays(self) -> list[int]:
        return [int(part) for part in self.publish_retry_intervals.split(",") if part.strip()]

    @property
    def retry_intervals(self) -> list[int]:
        return [int(part) for part in self.render_retry_intervals.split(",") if part.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (read once; tests call ``get_settings.cache_clear()``)."""
    return Settings()
