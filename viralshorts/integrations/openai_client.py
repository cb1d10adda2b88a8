"""OpenAI (or any OpenAI-compatible endpoint): scripts, speech, and word-timestamp transcription.

All three adapters use the official ``openai`` client (3.x, on httpx2) pointed at
``settings.openai_base_url``, with few SDK retries and a timeout so a render never hangs.
SDK errors become ``IntegrationError`` with a message a creator can act on.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from viralshorts.errors import IntegrationError
from viralshorts.integrations.ports import (
    Script,
    ScriptBrief,
    ScriptLine,
    SpeechResult,
    WordTiming,
)
from viralshorts.integrations.script_offline import (
    TITLE_MAX,
    WORDS_PER_SECOND,
    line_keywords,
    script_from_text,
)
from viralshorts.settings import Settings

MAX_RETRIES = 2
TIMEOUT_SECONDS = 120.0
SPEECH_MAX_CHARS = 4096
DEFAULT_OPENAI_VOICE = "alloy"
SCRIPT_SCHEMA_NAME = "short_script"

_STRING = {"type": "string"}
SCRIPT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "hook": _STRING,
        "lines": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"text": _STRING, "keywords": {"type": "array", "items": _STRING}},
                "required": ["text", "keywords"],
                "additionalProperties": False,
            },
        },
        "title": _STRING,
        "description": _STRING,
        "hashtags": {"type": "array", "items": _STRING},
    },
    "required": ["hook", "lines", "title", "description", "hashtags"],
    "additionalProperties": False,
}

SYSTEM_PROMPT = (
    "You write scripts for faceless short vertical videos (YouTube Shorts, TikTok, Reels). "
    "Open with a hook that stops the scroll in the first two seconds, keep every line short "
    "and spoken-word natural, state concrete specifics instead of vague claims, and end with a "
    "one-line call to action. Never invent statistics or quotes."
)


def make_client(settings: Settings) -> Any:
    """The official OpenAI client for these settings."""
    from openai import OpenAI

    return OpenAI(
        api_key=settings.openai_api_key.get_secret_value(),
        base_url=settings.openai_base_url,
        max_retries=MAX_RETRIES,
        timeout=TIMEOUT_SECONDS,
    )


def translate_error(exc: Exception, base_url: str) -> IntegrationError:
    """An ``IntegrationError`` a person understands, for an error the OpenAI SDK raised."""
    import openai

    rules: tuple[tuple[Any, bool, Callable[[Any], str]], ...] = (
        (
            openai.AuthenticationError | openai.PermissionDeniedError,
            False,
            lambda _e: "OpenAI rejected the API key",
        ),
        (
            openai.RateLimitError,
            True,
            lambda _e: "OpenAI is rate limiting requests; it will be retried shortly",
        ),
        (
            openai.InternalServerError,
            True,
            lambda e: f"OpenAI had a server error (HTTP {e.status_code}); try again",
        ),
        (openai.APITimeoutError, True, lambda _e: "OpenAI did not answer in time; try again"),
        (openai.APIConnectionError, True, lambda _e: f"Could not reach OpenAI at {base_url}"),
        (
            openai.APIStatusError,
            False,
            lambda e: f"OpenAI refused the request: {_error_message(e)}",
        ),
    )
    for kind, retryable, message in rules:
        if isinstance(exc, kind):
            return IntegrationError(message(exc), retryable=retryable)
    return IntegrationError(f"OpenAI failed: {exc}", retryable=False)


def _error_message(exc: Any) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error", body)
    return str(error.get("message") if isinstance(error, dict) else "") or exc.message


class _OpenAIAdapter:
    """Holds the settings and one lazily made client (no network until first use)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: Any = None

    def _openai(self) -> Any:
        if self._client is None:
            self._client = make_client(self.settings)
        return self._client


@contextmanager
def calling_openai(settings: Settings) -> Iterator[None]:
    """Turn any OpenAI SDK error raised inside the block into an ``IntegrationError``."""
    import openai

    try:
        yield
    except openai.OpenAIError as exc:
        raise translate_error(exc, settings.openai_base_url) from exc


# ---------------------------------------------------------------- scripts


def facts_prompt(facts: tuple[str, ...]) -> list[str]:
    """The prompt lines that ground a script in the creator's facts (none without facts)."""
    listed = [f"- {' '.join(fact.split())}" for fact in facts if fact.strip()]
    if not listed:
        return []
    return [
        "Key facts from the creator, one per line. Use every one of them, one fact per line, "
        "the most surprising one as the hook; state nothing that is not in them (connecting "
        "words, the call to action and the title's wording are yours):",
        *listed,
    ]


def script_prompt(brief: ScriptBrief) -> str:
    """The user message asking for one script for ``brief`` (grounded in its facts, if any)."""
    words = round(brief.target_seconds * WORDS_PER_SECOND)
    return "\n".join(
        [
            *facts_prompt(brief.facts),
            f"Topic: {brief.topic}",
            f"Channel niche: {brief.niche}",
            f"Tone: {brief.tone}",
            f"Language of hook, lines, title and description: {brief.language}",
            f"Length: about {brief.target_seconds} seconds spoken, so about {words} words in "
            "total across the hook and the lines (at least 3 lines; the last line is the call "
            "to action).",
            "For every line give 1 to 4 keywords: concrete, filmable English nouns for a stock "
            "footage search (no abstract words).",
            "Title: at most 100 characters. Description: one or two sentences. Hashtags: 3 to 6, "
            "each starting with #, no spaces.",
        ]
    )


def _response_format() -> dict[str, Any]:
    return {
        "type": "json_schema",
        "json_schema": {"name": SCRIPT_SCHEMA_NAME, "strict": True, "schema": SCRIPT_SCHEMA},
    }


def parse_script(content: str, *, topic: str) -> Script:
    """Validate the model's JSON and turn it into a Script.

    Args:
        content: The assistant message content (JSON text).
        topic: The brief's topic, used for keywords a line came without.

    Raises:
        IntegrationError: The content is not JSON of the script schema (not retryable).
    """
    try:
        data = json.loads(content)
        lines = [_script_line(item, topic) for item in data["lines"]]
        hook = _text(data["hook"])
        hashtags = [_hashtag(str(tag)) for tag in data["hashtags"]]
        title, description = _text(data["title"]), str(data["description"]).strip()
    except (ValueError, KeyError, TypeError) as exc:
        raise IntegrationError(
            f"OpenAI returned a script in the wrong shape ({exc})", retryable=False
        ) from exc
    if not lines:
        raise IntegrationError("OpenAI returned a script without lines", retryable=False)
    tags = [t for t in dict.fromkeys(hashtags) if len(t) > 1][:6]
    return Script(hook, lines, title[:TITLE_MAX].rstrip(), description, tags)


def _text(value: Any) -> str:
    text = " ".join(str(value).split())
    if not text:
        raise ValueError("an empty text")
    return text


def _hashtag(tag: str) -> str:
    return "#" + "".join(ch for ch in tag if ch.isalnum() or ch == "_")


def _script_line(item: dict[str, Any], topic: str) -> ScriptLine:
    text = _text(item["text"])
    keywords = [" ".join(str(k).lower().split()) for k in item["keywords"] if str(k).strip()]
    return ScriptLine(text, keywords[:4] or line_keywords(text, topic))


class OpenAIScriptWriter(_OpenAIAdapter):
    """``ScriptWriter`` using Chat Completions with a strict JSON schema (structured output)."""

    def write(self, brief: ScriptBrief) -> Script:
        """Ask the model for a script (a creator's own script is adopted as it is).

        Raises:
            IntegrationError: OpenAI failed, refused, or answered outside the schema.
        """
        if brief.custom_script.strip():
            return script_from_text(brief.custom_script, topic=brief.topic)
        with calling_openai(self.settings):
            completion = self._openai().chat.completions.create(
                model=self.settings.openai_model,
                messages=[
                    {"role": "system", "content": SYSTEM_PROMPT},
                    {"role": "user", "content": script_prompt(brief)},
                ],
                response_format=_response_format(),
                temperature=0.8,
                seed=brief.seed,
            )
        return parse_script(_content(completion), topic=brief.topic)


def _content(completion: Any) -> str:
    """The JSON text of the first choice, or a clear error for a refusal or a cut-off answer."""
    if not completion.choices:
        raise IntegrationError("OpenAI returned no script", retryable=False)
    choice = completion.choices[0]
    refusal = getattr(choice.message, "refusal", None)
    if refusal:
        raise IntegrationError(f"OpenAI refused to write this script: {refusal}", retryable=False)
    if choice.finish_reason == "length" or not choice.message.content:
        raise IntegrationError("OpenAI's script was cut off or empty", retryable=False)
    return choice.message.content


# ---------------------------------------------------------------- speech and transcription

STREAMING_SIZE = 0xFFFFFFFF
"""What a streamed WAV header says for sizes it did not know yet."""


def wav_duration(path: Path) -> float:
    """Seconds of audio in a PCM WAV file, repairing the header of a streamed WAV.

    A streamed WAV (as OpenAI sends) may claim an unknown data size; the real size is what
    the file holds, and the header is rewritten so every later tool reads it right.

    Raises:
        IntegrationError: The file is not a PCM WAV (not retryable).
    """
    data = bytearray(path.read_bytes())
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise IntegrationError("OpenAI returned audio that is not a WAV file", retryable=False)
    byte_rate, data_at = 0, 0
    pos = 12
    while pos + 8 <= len(data):
        chunk_id, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        if chunk_id == b"fmt ":
            byte_rate = struct.unpack_from("<I", data, pos + 16)[0]
        if chunk_id == b"data":
            data_at = pos + 8
            break
        pos += 8 + size + (size % 2)
    if not byte_rate or not data_at:
        raise IntegrationError("OpenAI returned a WAV file without audio", retryable=False)
    return _repair_sizes(path, data, data_at) / byte_rate


def _repair_sizes(path: Path, data: bytearray, data_at: int) -> int:
    """Make the RIFF and data sizes match the bytes present; return the data size."""
    actual = len(data) - data_at
    claimed = struct.unpack_from("<I", data, data_at - 4)[0]
    if claimed != actual and (claimed == STREAMING_SIZE or claimed > actual):
        struct.pack_into("<I", data, data_at - 4, actual)
        struct.pack_into("<I", data, 4, len(data) - 8)
        path.write_bytes(bytes(data))
        return actual
    return min(claimed, actual)


class OpenAISpeech(_OpenAIAdapter):
    """``SpeechSynthesizer`` for voice ids ``openai:<voice>`` (alloy, nova, onyx, ...)."""

    def synthesize(
        self,
        text: str,
        *,
        voice: str,
        speed: float,
        out_path: Path,
        is_cancelled: Callable[[], bool] | None = None,  # one bounded HTTP call: not polled
    ) -> SpeechResult:
        """Speak ``text`` into a WAV file; OpenAI gives no word timings (``words`` is None).

        Raises:
            IntegrationError: The text is too long or OpenAI failed.
        """
        if len(text) > SPEECH_MAX_CHARS:
            raise IntegrationError(
                f"The narration is {len(text)} characters; OpenAI speaks at most "
                f"{SPEECH_MAX_CHARS}. Shorten the script.",
                retryable=False,
            )
        name = voice.split(":", 1)[-1].strip() or DEFAULT_OPENAI_VOICE
        out_path.parent.mkdir(parents=True, exist_ok=True)
        with calling_openai(self.settings):
            audio = self._openai().audio.speech.create(
                model=self.settings.openai_tts_model,
                voice=name,
                input=text,
                response_format="wav",
                speed=min(4.0, max(0.25, speed or 1.0)),
            )
            audio.write_to_file(out_path)
        return SpeechResult(out_path, wav_duration(out_path), None)


class OpenAITranscriber(_OpenAIAdapter):
    """``Transcriber`` using whisper-1 with word timestamps (verbose_json)."""

    def word_timings(self, audio_path: Path, *, language: str) -> list[WordTiming]:
        """Every word heard in ``audio_path`` with its start and end (no punctuation).

        Raises:
            IntegrationError: OpenAI failed.
        """
        code = language.strip().lower()[:2]
        extra = {"language": code} if code.isalpha() and len(code) == 2 else {}
        with calling_openai(self.settings), audio_path.open("rb") as audio:
            result = self._openai().audio.transcriptions.create(
                model=self.settings.openai_transcribe_model,
                file=(audio_path.name, audio),
                response_format="verbose_json",
                timestamp_granularities=["word"],
                **extra,
            )
        words = getattr(result, "words", None) or []
        return [WordTiming(w.word.strip(), float(w.start), float(w.end)) for w in words]
