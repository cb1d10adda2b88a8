"""The composition root: picks an adapter for every port from the settings.

A feature is on when its configuration is present; otherwise the embedded offline default is
used (local storage, offline script writer, Piper voice, generated backgrounds). Tests build a
``Services`` with fakes or local-fake-server adapters instead of patching module globals.
Adapters are imported inside the factories so a process only loads what it uses.
"""

from __future__ import annotations

from viralshorts.integrations.ports import (
    BillingGateway,
    EmailSender,
    FramePreviewer,
    MediaStorage,
    OAuthSignIn,
    PublishingPlatform,
    ScriptWriter,
    SealedBox,
    Services,
    SpeechSynthesizer,
    StockFootage,
    TokenCipher,
    Transcriber,
)
from viralshorts.settings import Settings, get_settings


def build_storage(settings: Settings) -> MediaStorage:
    if settings.s3_enabled:
        from viralshorts.integrations.storage_s3 import S3Storage

        return S3Storage(settings)
    from viralshorts.integrations.storage_local import LocalStorage

    return LocalStorage(settings)


def build_script_writer(settings: Settings) -> ScriptWriter:
    if settings.openai_enabled:
        from viralshorts.integrations.openai_client import OpenAIScriptWriter

        return OpenAIScriptWriter(settings)
    from viralshorts.integrations.script_offline import OfflineScriptWriter

    return OfflineScriptWriter()


def build_speech(settings: Settings) -> dict[str, SpeechSynthesizer]:
    """Speech engines by the prefix of a voice id ("piper:joe", "espeak:es", "openai:alloy")."""
    from viralshorts.integrations.piper_tts import PiperSpeech

    aligned_dir = settings.media_root / "cache" / "voices"
    engines: dict[str, SpeechSynthesizer] = {"piper": PiperSpeech(aligned_dir=aligned_dir)}
    from viralshorts.integrations.espeak_tts import EspeakSpeech, espeak_available

    if espeak_available():  # the basic offline voices for other languages
        engines["espeak"] = EspeakSpeech()
    # An empty OPENAI_TTS_MODEL means the endpoint has no speech (a local model server).
    if settings.openai_enabled and settings.openai_tts_model:
        from viralshorts.integrations.openai_client import OpenAISpeech

        engines["openai"] = OpenAISpeech(settings)
    return engines


def build_transcriber(settings: Settings) -> Transcriber | None:
    if not (settings.openai_enabled and settings.openai_transcribe_model):
        return None
    from viralshorts.integrations.openai_client import OpenAITranscriber

    return OpenAITranscriber(settings)


def build_stock(settings: Settings) -> StockFootage | None:
    if not settings.pexels_enabled:
        return None
    from viralshorts.integrations.pexels import PexelsStockFootage

    return PexelsStockFootage(settings)


def build_email(settings: Settings) -> EmailSender:
    """SMTP when ``SMTP_HOST`` is set, else the local outbox folder; sent off the request path."""
    from viralshorts.integrations.email_background import BackgroundEmailSender

    inner: EmailSender
    if settings.email_enabled:
        from viralshorts.integrations.email_smtp import SmtpEmailSender

        inner = SmtpEmailSender(settings)
    else:
        from viralshorts.integrations.email_outbox import OutboxEmailSender

        inner = OutboxEmailSender(settings.outbox_dir, sender=settings.smtp_from)
    return BackgroundEmailSender(inner)


def build_token_cipher(settings: Settings) -> TokenCipher:
    """MultiFernet over TOKEN_ENCRYPTION_KEYS (or a key derived from SECRET_KEY)."""
    from viralshorts.integrations.token_vault import MultiFernetCipher

    return MultiFernetCipher(settings)


def build_platforms(settings: Settings) -> dict[str, PublishingPlatform]:
    """A client for every configured platform (client id and secret set), by platform name."""
    platforms: dict[str, PublishingPlatform] = {}
    sandbox = settings.platform_sandbox
    if settings.youtube_enabled:
        from viralshorts.integrations.youtube import YouTubePlatform

        platforms["youtube"] = YouTubePlatform(settings, sandbox=sandbox)
    if settings.tiktok_enabled:
        from viralshorts.integrations.tiktok import TikTokPlatform

        platforms["tiktok"] = TikTokPlatform(settings, sandbox=sandbox)
    if settings.instagram_enabled:
        from viralshorts.integrations.instagram import InstagramPlatform

        platforms["instagram"] = InstagramPlatform(settings, sandbox=sandbox)
    return platforms


def build_billing(settings: Settings) -> BillingGateway | None:
    """Stripe when ``STRIPE_SECRET_KEY`` and ``STRIPE_WEBHOOK_SECRET`` are set, else None."""
    if not settings.stripe_enabled:
        return None
    from viralshorts.integrations.stripe_billing import StripeBilling

    return StripeBilling(settings)


def build_previews(settings: Settings) -> FramePreviewer:
    """Preview frames of uploaded clips for the media library (ffmpeg)."""
    from viralshorts.integrations.frame_preview import FfmpegFramePreviewer

    return FfmpegFramePreviewer(settings)


def build_services(settings: Settings | None = None) -> Services:
    """Every adapter for ``settings`` (default: the process settings)."""
    settings = settings or get_settings()
    from viralshorts.integrations.ffmpeg_tools import FfmpegProber, FfmpegRenderer
    from viralshorts.integrations.redis_progress import RedisProgressFeed, RedisProgressPublisher
    from viralshorts.integrations.redis_rate_limit import RedisRateLimiter
    from viralshorts.integrations.redis_sessions import RedisSessionCache
    from viralshorts.integrations.redis_tickets import RedisOneTimeStore
    from viralshorts.integrations.rq_admin import RQQueueAdmin
    from viralshorts.integrations.rq_queue import RQJobQueue

    return Services(
        settings=settings,
        storage=build_storage(settings),
        script_writer=build_script_writer(settings),
        speech=build_speech(settings),
        transcriber=build_transcriber(settings),
        stock=build_stock(settings),
        rate_limiter=RedisRateLimiter(settings),
        progress=RedisProgressPublisher(settings),
        queue=RQJobQueue(settings),
        prober=FfmpegProber(settings),
        renderer=FfmpegRenderer(settings),
        tickets=RedisOneTimeStore(settings),
        progress_feed=RedisProgressFeed(settings),
        email=build_email(settings),
        sessions=RedisSessionCache(settings),
        platforms=build_platforms(settings),
        token_cipher=build_token_cipher(settings),
        billing=build_billing(settings),
        previews=build_previews(settings),
        queue_admin=RQQueueAdmin(settings),
    )


_current: Services | None = None


def get_services() -> Services:
    """This process's services, built on first use."""
    global _current  # noqa: PLW0603
    if _current is None:
        _current = build_services()
    return _current


def use_services(services: Services | None) -> None:
    """Install ``services`` for this process (tests; ``None`` rebuilds from settings next time)."""
    global _current  # noqa: PLW0603
    _current = services


def build_oauth_sign_in(settings: Settings | None = None) -> OAuthSignIn:
    """Google/GitHub sign-in over HTTP for ``settings`` (default: the process settings)."""
    from viralshorts.integrations.oauth_http import AuthlibOAuthSignIn

    return AuthlibOAuthSignIn(settings or get_settings())


def build_sealed_box(purpose: str, settings: Settings | None = None) -> SealedBox:
    """Encryption keyed from SECRET_KEY for one ``purpose`` (e.g. ``"oauth-flow"``)."""
    from viralshorts.integrations.token_cipher import FernetBox

    return FernetBox(settings or get_settings(), purpose=purpose)
