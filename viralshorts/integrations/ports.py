"""The small interfaces the domain talks to. No SDK imports here; adapters implement these.

Every adapter lives in its own module next to this one; ``services.py`` (the composition root,
used only by the entry points: web, worker, CLI) picks which and fills the ``Services`` bundle.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, runtime_checkable

if TYPE_CHECKING:
    from viralshorts.settings import Settings

# ---------------------------------------------------------------- data passed across the ports


@dataclass(frozen=True)
class ScriptBrief:
    """What the creator asked for; the writer turns it into a Script."""

    topic: str
    niche: str
    tone: str
    language: str
    target_seconds: int
    seed: int = 0
    custom_script: str = ""
    facts: tuple[str, ...] = ()
    """The creator's key facts, one per item: the offline writer says only these."""


@dataclass(frozen=True)
class ScriptLine:
    text: str
    keywords: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Script:
    hook: str
    lines: list[ScriptLine]
    title: str
    description: str
    hashtags: list[str]

    @property
    def narration(self) -> str:
        """Everything that is spoken, hook first."""
        return " ".join([self.hook, *(line.text for line in self.lines)]).strip()

    def to_dict(self) -> dict[str, Any]:
        return {
            "hook": self.hook,
            "lines": [{"text": ln.text, "keywords": list(ln.keywords)} for ln in self.lines],
            "title": self.title,
            "description": self.description,
            "hashtags": list(self.hashtags),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Script:
        return cls(
            hook=data["hook"],
            lines=[ScriptLine(ln["text"], list(ln.get("keywords", []))) for ln in data["lines"]],
            title=data.get("title", ""),
            description=data.get("description", ""),
            hashtags=list(data.get("hashtags", [])),
        )


@dataclass(frozen=True)
class WordTiming:
    word: str
    start: float
    end: float


@dataclass(frozen=True)
class SpeechResult:
    """A WAV file of the narration; ``words`` when the engine can time them, else None."""

    audio_path: Path
    duration: float
    words: list[WordTiming] | None = None


@dataclass(frozen=True)
class StockClip:
    provider: str
    clip_id: str
    download_url: str
    width: int
    height: int
    duration: float


@dataclass(frozen=True)
class MediaProbe:
    """What ffprobe says a file is."""

    format_name: str
    duration: float | None
    width: int | None
    height: int | None
    has_video: bool
    has_audio: bool
    video_codec: str = ""
    audio_codec: str = ""


@dataclass(frozen=True)
class Segment:
    """One stretch of background: a clip, a still image, or a generated pattern (``kind``)."""

    start: float
    duration: float
    kind: str  # "clip" | "image" | "generated"
    source: Path | None = None
    clip_offset: float = 0.0
    seed: int = 0
    lavfi: str = ""  # for "generated": a lavfi source graph drawn small, scaled up by the renderer
    label: str = ""


# Issue 11 (scenes): pictures laid over the background, and the thumbnails' own layout.
@dataclass(frozen=True)
class Overlay:
    """An illustration shown over the background from ``start`` to ``end`` (seconds).

    It is scaled once to fit a ``size`` x ``size`` box centred on ``(centre_x, centre_y)`` and
    enters with ``entrance`` ("pop" | "slide" | "float"); ``side`` (-1 or 1) is where a slide
    comes from.
    """

    source: Path
    start: float
    end: float
    size: int
    centre_x: int
    centre_y: int
    entrance: str = "pop"
    side: int = 1
    aspect: float = 1.0  # width / height of the picture: the pop's canvas is fitted to it


@dataclass(frozen=True)
class Card:
    """A hook or typographic card: drawn once by libass to a transparent picture, then laid
    over like an illustration (libass burning it into every frame cost ≈ 3 s CPU per 30 s).

    Card ``k`` of a plan is what ``RenderPlan.cards_ass`` draws during second ``k`` centred on
    a ``card_canvas(plan.cards)`` canvas, cut to ``width`` x ``height`` around the centre; it is
    shown from ``start`` to ``end`` centred on ``(centre_x, centre_y)`` and enters with
    ``entrance`` as an Overlay does.
    """

    width: int
    height: int
    start: float
    end: float
    centre_x: int
    centre_y: int
    entrance: str = "pop"
    side: int = 1

    def as_overlay(self, picture: Path) -> Overlay:
        """The card's picture as an Overlay, its pop canvas fitted to the card."""
        return Overlay(
            source=picture, start=self.start, end=self.end, size=max(self.width, self.height),
            centre_x=self.centre_x, centre_y=self.centre_y, entrance=self.entrance,
            side=self.side, aspect=self.width / self.height,
        )  # fmt: skip


def card_canvas(cards: list[Card]) -> tuple[int, int]:
    """The canvas every card of a plan is drawn on: as large as the largest, in even pixels."""
    width = max((c.width for c in cards), default=2)
    height = max((c.height for c in cards), default=2)
    return width + width % 2, height + height % 2


@dataclass(frozen=True)
class ThumbnailLayout:
    """What the thumbnails show: the background at ``at`` seconds (no captions), the
    illustration (if any), and the title drawn by the ASS files (1080x1920 and 1280x720)."""

    at: float
    title_tall_ass: Path
    title_wide_ass: Path
    illustration: Path | None = None


def wide_thumbnail_of(video_path: Path) -> Path:
    """Where a render writes the 1280x720 thumbnail of ``video_path`` (next to it)."""
    return video_path.with_suffix(".wide.jpg")


@dataclass(frozen=True)
class RenderPlan:
    """Everything the one ffmpeg pass needs; built by the pipeline, run by a VideoRenderer."""

    segments: list[Segment]
    narration_path: Path
    out_path: Path
    duration: float
    subtitles_path: Path | None = None
    fonts_dir: Path | None = None
    music_path: Path | None = None
    music_volume_db: float = -16.0
    target_lufs: float = -14.0
    width: int = 1080
    height: int = 1920
    fps: int = 30
    crf: int = 23
    preset: str = "superfast"
    thumbnail_at: float = 1.5  # seconds; the pass also writes thumbnail_of(out_path) from there
    overlays: list[Overlay] = field(default_factory=list)  # issue 11: in the same pass
    cards: list[Card] = field(default_factory=list)  # laid over like the overlays
    cards_ass: Path | None = None  # draws card k during second k (see Card)
    thumbnails: ThumbnailLayout | None = None  # None: the frame at thumbnail_at, as it is


def thumbnail_of(video_path: Path) -> Path:
    """Where a render writes the thumbnail of ``video_path`` (next to it)."""
    return video_path.with_suffix(".jpg")


# ---------------------------------------------------------------- ports


class ScriptWriter(Protocol):
    def write(self, brief: ScriptBrief) -> Script: ...


class SpeechSynthesizer(Protocol):
    def synthesize(
        self,
        text: str,
        *,
        voice: str,
        speed: float,
        out_path: Path,
        is_cancelled: Callable[[], bool] | None = None,
    ) -> SpeechResult:
        """Speak ``text`` into ``out_path``; an engine that can stop part-way polls
        ``is_cancelled`` and raises CancelledError."""
        ...


class Transcriber(Protocol):
    def word_timings(self, audio_path: Path, *, language: str) -> list[WordTiming]: ...


class StockFootage(Protocol):
    def search(self, query: str, *, min_duration: float, count: int) -> list[StockClip]: ...

    def download(self, clip: StockClip, dest: Path) -> Path: ...


class MediaStorage(Protocol):
    """Where finished videos, thumbnails, captions and uploads live (local folder or S3)."""

    def put_file(self, key: str, source: Path, content_type: str) -> None: ...

    def download_to(self, key: str, dest: Path) -> Path: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def signed_url(self, key: str, *, expires_in: int, download_name: str = "") -> str: ...

    # Streaming reads for uploads to the platforms (issue 9): bounded memory whatever the size.
    def size(self, key: str) -> int:
        """The stored file's size in bytes; NotFoundError when there is none."""
        ...

    def open_stream(self, key: str, offset: int = 0) -> BinaryIO:
        """A readable stream of the file from byte ``offset`` (the caller reads it in chunks
        and closes it); NotFoundError when there is none."""
        ...


@dataclass(frozen=True)
class ServedFile:
    """A stored file the web app streams itself, with the type to serve it as."""

    path: Path
    content_type: str


@runtime_checkable
class SelfServedStorage(Protocol):
    """A MediaStorage whose signed URLs point at this app (the local folder), not elsewhere."""

    def open_signed(self, key: str, *, exp: str, signature: str, download_name: str) -> ServedFile:
        """The file for a signed URL's parts; PermissionDeniedError / NotFoundError otherwise."""
        ...


@dataclass(frozen=True)
class OAuthIdentity:
    """Who a sign-in provider says signed in; ``email`` is always one it has verified."""

    account_id: str
    email: str
    display_name: str


class OAuthSignIn(Protocol):
    """Sign-in with Google/GitHub: the authorization code flow with PKCE (S256)."""

    def is_configured(self, provider: str) -> bool: ...

    def authorization_url(
        self, provider: str, *, redirect_uri: str, code_verifier: str
    ) -> tuple[str, str]:
        """The provider's consent page URL and the ``state`` it carries."""
        ...

    async def identity(
        self, provider: str, *, redirect_uri: str, code: str, code_verifier: str
    ) -> OAuthIdentity | None:
        """Redeem ``code``; None when the account has no verified email.

        Raises IntegrationError when the provider refuses the code (``oauth_token_refused``)
        or does not answer (``oauth_provider_unreachable``).
        """
        ...


class SealedBox(Protocol):
    """Encrypts small values for a round trip through the browser (the OAuth flow cookie)."""

    def seal(self, data: bytes) -> str: ...

    def open(self, sealed: str, *, max_age_seconds: int) -> bytes | None:
        """The data, or None when it was tampered with, is not ours, or is too old."""
        ...


class TokenCipher(Protocol):
    """Encrypts platform tokens at rest with the newest of several keys, so keys can rotate."""

    @property
    def key_id(self) -> str:
        """A short fingerprint of the newest key (what ``encrypt`` uses now)."""
        ...

    def encrypt(self, plaintext: str) -> str: ...

    def decrypt(self, ciphertext: str) -> str:
        """The plaintext, read with any configured key; IntegrationError(``token_unreadable``)
        when no key opens it (a key was dropped too early, or the value was tampered with)."""
        ...

    def rotate(self, ciphertext: str) -> str:
        """The same plaintext encrypted again with the newest key."""
        ...


@dataclass(frozen=True)
class RateLimitTicket:
    """One counted attempt, so it can be given back when it turns out fine."""

    keys: tuple[str, ...]
    member: str


class RateLimiter(Protocol):
    def take(
        self, limits: Sequence[tuple[str, int]], *, window_seconds: int
    ) -> RateLimitTicket | int:
        """Atomically count one attempt against every ``(key, limit)``, or return the seconds
        to wait (then nothing is counted); ServiceUnavailableError when unreachable."""
        ...

    def give_back(self, ticket: RateLimitTicket) -> None: ...

    def reset(self, key: str) -> None: ...


class OneTimeStore(Protocol):
    """Short-lived values that can be taken exactly once (sign-in tickets)."""

    def put(self, key: str, value: str, *, ttl_seconds: int) -> None: ...

    def take(self, key: str) -> str | None:
        """Return and delete the value atomically; None when missing or expired."""
        ...


class SessionCache(Protocol):
    """Session lookups remembered for a moment, so every event can re-check its session cheaply.

    Keys are SHA-256 hashes of session tokens (never the token). Implementations raise
    ServiceUnavailableError when their store does not answer; callers then ask the database.
    """

    def get(self, token_hash: str) -> str | None:
        """The remembered lookup, or None when there is none (or it expired)."""
        ...

    def put(self, token_hash: str, user_id: int, value: str, *, ttl_ms: int) -> None:
        """Remember ``value`` for ``ttl_ms``, unless ``user_id``'s sessions ended a moment ago."""
        ...

    def forget_user(self, user_id: int, *, hold_ms: int) -> None:
        """Drop everything remembered for ``user_id`` and remember nothing new for ``hold_ms``."""
        ...


class ProgressPublisher(Protocol):
    def publish(self, workspace_id: int, payload: dict[str, Any]) -> None:
        """Send ``payload`` to every member watching the workspace; never raises."""
        ...


class ProgressSubscription(Protocol):
    """One open subscription to a workspace's progress messages (the publisher's reading side)."""

    async def next_update(self, *, timeout: float) -> dict[str, Any] | None:
        """The next ``{video_id, status, step, percent, message}``, or None after ``timeout`` s.

        Raises ServiceUnavailableError when the subscription is lost (the caller drops it).
        """
        ...

    async def close(self) -> None: ...


class ProgressFeed(Protocol):
    """Live progress for the pages; a missed message is never lost (the pages re-read the DB)."""

    async def subscribe(self, workspace_id: int) -> ProgressSubscription:
        """Receive the workspace's messages; ServiceUnavailableError when unreachable."""
        ...


def render_job_id(video_id: int, attempt: int) -> str:
    """The queue job id of one render attempt (deterministic, so it is never enqueued twice)."""
    return f"render-{video_id}-{attempt}"


class JobQueue(Protocol):
    """How the domain hands work to workers without importing RQ."""

    def enqueue_render(self, video_id: int, user_id: int, *, attempt: int = 1) -> str: ...

    def enqueue_publish(self, post_id: int, job_id: str) -> str:
        """Put one publish of a post on queue ``publish`` under ``job_id`` (once per id);
        ServiceUnavailableError when the queue does not answer (issue 9)."""
        ...

    def cancel(self, job_id: str) -> None: ...

    def is_alive(self, job_id: str) -> bool:
        """True while the job waits, is scheduled for a retry, or runs on a live worker."""
        ...


ProgressCallback = Callable[[str, int, str], None]
"""``(step, percent, message)`` reported by long-running work."""


class MediaProber(Protocol):
    def probe(self, path: Path) -> MediaProbe:
        """Describe a media file; raises IntegrationError(retryable=False) if it is not media."""
        ...


class VideoRenderer(Protocol):
    """Runs the one ffmpeg pass described by a render plan (the plan type lives in ports too).

    ``render`` writes ``plan.out_path`` and its thumbnail ``thumbnail_of(plan.out_path)``;
    ``thumbnail`` takes one from any finished video.
    """

    def render(
        self,
        plan: Any,
        *,
        on_progress: Callable[[float], None],
        is_cancelled: Callable[[], bool],
    ) -> None: ...

    def thumbnail(self, video_path: Path, *, at_seconds: float, out_path: Path) -> None: ...


class FramePreviewer(Protocol):
    """Issue 11 (media library cards): a small still of an uploaded clip."""

    def preview_frame(self, source: Path, *, at_seconds: float, out_path: Path) -> None:
        """Write a JPEG (small, the clip's aspect kept) of the frame at ``at_seconds``."""
        ...


@dataclass(frozen=True)
class OutgoingEmail:
    """One plain-text message for a person."""

    to: str
    subject: str
    body: str


class EmailSender(Protocol):
    """Delivers email (an SMTP server, or the local outbox folder when none is configured)."""

    def send(self, message: OutgoingEmail) -> None:
        """Hand ``message`` over for delivery; raises IntegrationError when it cannot."""
        ...


# ---------------------------------------------------------------- publishing platforms
#
# One adapter module per platform (integrations/youtube.py, tiktok.py, instagram.py) implements
# PublishingPlatform over httpx (authlib for the OAuth code flow). Every base URL comes from
# settings. Errors: PlatformAuthError (401), PlatformRateLimitedError (429/quota, with the delay),
# PlatformError(retryable=True) for 5xx/network, PlatformError(retryable=False) for a refusal;
# the message is the platform's own.


@dataclass(frozen=True)
class PlatformTokens:
    access_token: str
    refresh_token: str = ""  # "" when the platform gives none (Instagram long-lived tokens)
    expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlatformProfile:
    """Who the tokens belong to: a channel id, a TikTok open_id, an Instagram user id."""

    external_id: str
    display_name: str
    avatar_url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. the Facebook page id


@dataclass(frozen=True)
class CreatorLimits:
    """What the account may post right now (TikTok creator_info; fixed limits elsewhere)."""

    privacy_options: tuple[str, ...]
    max_duration_seconds: int
    comment_disabled: bool = False
    duet_disabled: bool = False
    stitch_disabled: bool = False
    can_post: bool = True
    message: str = ""


@dataclass(frozen=True)
class PostOptions:
    """The per-platform fields of one post, already validated by the domain."""

    title: str = ""
    description: str = ""  # the caption on TikTok and Instagram
    hashtags: tuple[str, ...] = ()
    privacy: str = ""  # YouTube privacyStatus / TikTok privacy_level; unused on Instagram
    made_for_kids: bool = False
    synthetic_content: bool = True
    disable_comment: bool = False
    disable_duet: bool = False
    disable_stitch: bool = False
    share_to_feed: bool = True


@dataclass(frozen=True)
class VideoSource:
    """The file to upload, read in bounded chunks from storage (local or S3)."""

    size: int
    open_at: Callable[[int], BinaryIO]  # a readable stream starting at the byte offset
    duration_seconds: float = 0.0
    content_type: str = "video/mp4"
    public_url: str = ""  # a signed URL the platform can fetch (Instagram video_url), or ""


@dataclass(frozen=True)
class PublishOutcome:
    external_id: str
    url: str = ""
    done: bool = True  # False: still processing on the platform; call publish again later


@dataclass(frozen=True)
class PostStats:
    views: int = 0
    likes: int = 0
    comments: int = 0
    shares: int = 0
    saves: int = 0


@runtime_checkable
class PublishingPlatform(Protocol):
    name: str  # Platform value: "youtube" | "tiktok" | "instagram"
    scopes: tuple[str, ...]
    sandbox: bool  # pointed at the local fakes (labelled "sandbox" in the UI)

    def authorize_url(self, *, redirect_uri: str, state: str, code_verifier: str) -> str:
        """The consent page; PKCE (S256 of ``code_verifier``) where the platform supports it."""
        ...

    def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str
    ) -> PlatformTokens: ...

    def refresh(self, tokens: PlatformTokens) -> PlatformTokens:
        """New tokens; a rotated refresh token is in the result (store it before anything else)."""
        ...

    def revoke(self, tokens: PlatformTokens) -> None:
        """Revoke where the platform allows; a no-op elsewhere."""
        ...

    def profile(self, tokens: PlatformTokens) -> PlatformProfile: ...

    def creator_limits(
        self, tokens: PlatformTokens, profile_extra: dict[str, Any]
    ) -> CreatorLimits: ...

    def publish(
        self,
        tokens: PlatformTokens,
        *,
        profile_extra: dict[str, Any],
        source: VideoSource,
        options: PostOptions,
        checkpoint: dict[str, Any],
        save_checkpoint: Callable[[dict[str, Any]], None],
    ) -> PublishOutcome:
        """Upload and publish, resuming from ``checkpoint`` (what an earlier attempt saved).

        The adapter calls ``save_checkpoint`` as soon as the platform remembers something (an
        upload session URL, a publish_id, a container id, the final id), before sending bytes, so
        a killed worker's retry asks the platform for that upload's state instead of starting a
        second copy.
        """
        ...

    def stats(
        self, tokens: PlatformTokens, profile_extra: dict[str, Any], external_ids: Sequence[str]
    ) -> dict[str, PostStats]: ...


# ---------------------------------------------------------------- billing (Stripe)
#
# integrations/stripe_billing.py implements BillingGateway with the stripe library pointed at
# STRIPE_API_BASE. Stripe API errors and timeouts raise IntegrationError (retryable for
# timeouts, 429 and 5xx); a bad webhook signature raises WebhookSignatureError.


@dataclass(frozen=True)
class BillingSubscription:
    """A Stripe subscription as it is now (re-fetched, never taken from an event's order)."""

    id: str
    customer_id: str
    status: str  # Stripe's: active, trialing, past_due, canceled, unpaid, incomplete, ...
    price_id: str
    current_period_start: datetime | None
    current_period_end: datetime | None
    cancel_at_period_end: bool = False
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BillingInvoice:
    id: str
    number: str
    status: str  # draft, open, paid, uncollectible, void
    amount_due: int  # in the currency's smallest unit (cents)
    amount_paid: int
    currency: str
    created: datetime | None
    hosted_url: str = ""


class BillingGateway(Protocol):
    def verify_event(self, payload: bytes, signature: str) -> dict[str, Any]:
        """The event in ``payload`` once its ``Stripe-Signature`` checks out against the
        secret and tolerance; WebhookSignatureError otherwise."""
        ...

    def create_customer(self, *, email: str, workspace_id: int) -> str: ...

    def checkout_url(
        self,
        *,
        customer_id: str,
        price_id: str,
        workspace_id: int,
        success_url: str,
        cancel_url: str,
    ) -> str:
        """A Checkout Session (mode subscription) for the customer; its hosted page's URL."""
        ...

    def portal_url(self, *, customer_id: str, return_url: str) -> str: ...

    def subscription(self, subscription_id: str) -> BillingSubscription:
        """The subscription now, within the webhook's time budget."""
        ...

    def invoices(self, customer_id: str, *, limit: int = 12) -> list[BillingInvoice]: ...


# ---------------------------------------------------------------- the queues the admin page reads


@dataclass(frozen=True)
class QueueCounts:
    """How many jobs of one queue wait, run, wait for a retry or a dependency, or failed."""

    name: str
    queued: int
    started: int
    scheduled: int
    deferred: int
    failed: int


@dataclass(frozen=True)
class WorkerSummary:
    """One registered worker and the job it runs now (``current_job_id`` "" when idle)."""

    name: str
    hostname: str
    pid: int
    state: str
    queues: tuple[str, ...]
    current_job_id: str
    current_job_description: str
    last_heartbeat: datetime | None


@dataclass(frozen=True)
class FailedJob:
    """One job in a queue's dead-letter registry, as the queue holds it.

    ``kind`` is ``render``, ``publish`` or ``other`` (from the job's function), ``subject_id``
    the video or post it concerns (0 for other jobs).
    """

    job_id: str
    queue: str
    kind: str
    subject_id: int
    description: str
    failed_at: datetime | None
    exc_string: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


class QueueAdmin(Protocol):
    """What the admin page reads and removes in the job queues (RQ), without importing RQ.

    Every method raises ServiceUnavailableError when the queue does not answer.
    """

    def queue_counts(self) -> list[QueueCounts]:
        """Every known queue (the workers' and the app's), by name."""
        ...

    def workers(self) -> list[WorkerSummary]: ...

    def failed_jobs(self, *, limit: int) -> list[FailedJob]:
        """The newest failed jobs of every queue, newest first."""
        ...

    def failed_job(self, job_id: str) -> FailedJob | None:
        """The job if it is in a queue's dead-letter registry now, else None."""
        ...

    def delete_failed(self, job_id: str) -> bool:
        """Remove the job from its dead-letter registry and delete it; False if it was not there."""
        ...


# ---------------------------------------------------------------- the bundle the domain receives


@dataclass
class Services:
    """Every port, filled by the composition root; the domain receives one and never builds it."""

    settings: Settings
    storage: MediaStorage
    script_writer: ScriptWriter
    speech: dict[str, SpeechSynthesizer]
    transcriber: Transcriber | None
    stock: StockFootage | None
    rate_limiter: RateLimiter
    progress: ProgressPublisher
    queue: JobQueue
    prober: MediaProber
    renderer: VideoRenderer
    # Defaulted so code that builds a Services by hand keeps working; build_services sets it.
    tickets: OneTimeStore | None = None
    progress_feed: ProgressFeed | None = None
    email: EmailSender | None = None
    sessions: SessionCache | None = None  # None: every check asks the database
    # The configured publishing platforms by name; an unconfigured one is absent.
    platforms: dict[str, PublishingPlatform] = field(default_factory=dict)
    billing: BillingGateway | None = None  # None: Stripe is not configured
    token_cipher: TokenCipher | None = None  # platform tokens at rest (issue 9)
    previews: FramePreviewer | None = None  # media library preview frames (issue 11)
    queue_admin: QueueAdmin | None = None  # the admin page's queues and dead letters
