"""Basic offline voices for languages other than English: eSpeak NG (Debian's ``espeak-ng``).

eSpeak NG is a formant synthesizer: clear but robotic, so the forms label these voices
"basic". A voice id is ``espeak:<espeak voice>`` (``espeak:es``, ``espeak:pt-br``). Each sentence
is spoken by its own short ``espeak-ng`` run (about 30 ms), so sentence boundaries in the audio
are exact; inside a sentence the written words are spread over its audio in proportion to
their letters (eSpeak NG reports no word times), as Piper does when its counts disagree.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import wave
from collections.abc import Callable
from pathlib import Path

from viralshorts.errors import CancelledError, IntegrationError
from viralshorts.integrations.piper_tts import SENTENCE_BREAK, Span, spread_words
from viralshorts.integrations.ports import SpeechResult, WordTiming

BINARY = "espeak-ng"
VOICES = frozenset({"es", "es-419", "fr-fr", "de", "it", "pt", "pt-br"})
"""The eSpeak NG voices offered (their language files ship in Debian's ``espeak-ng-data``)."""
WORDS_PER_MINUTE = 165
MIN_WPM, MAX_WPM = 80, 400
SENTENCE_TIMEOUT_SECONDS = 60
SAMPLE_RATE = 22050


def espeak_available() -> bool:
    """Whether the ``espeak-ng`` program is installed (``./dev`` installs it)."""
    return shutil.which(BINARY) is not None


def _voice_name(voice: str) -> str:
    name = voice.split(":", 1)[-1].strip().lower()
    if name not in VOICES:
        known = ", ".join(f"espeak:{v}" for v in sorted(VOICES))
        raise IntegrationError(f"Unknown eSpeak voice '{voice}'. Use {known}.", retryable=False)
    return name


def speak_sentence(sentence: str, *, voice: str, words_per_minute: int) -> bytes:
    """One sentence as 16-bit mono PCM frames at ``SAMPLE_RATE`` (the text goes in on stdin,
    so a sentence starting with "-" is never read as an option)."""
    command = [BINARY, "-v", voice, "-s", str(words_per_minute), "-b", "1", "--stdout"]
    try:
        done = subprocess.run(
            command,
            input=sentence.encode(),
            capture_output=True,
            timeout=SENTENCE_TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError as exc:
        raise IntegrationError("eSpeak NG (espeak-ng) is not installed.") from exc
    except subprocess.TimeoutExpired as exc:
        raise IntegrationError("The eSpeak voice took too long to speak.") from exc
    if done.returncode != 0 or not done.stdout:
        reason = done.stderr.decode(errors="replace").strip() or "no audio"
        raise IntegrationError(f"The eSpeak voice could not speak: {reason}")
    with wave.open(io.BytesIO(done.stdout)) as wav:
        if (wav.getnchannels(), wav.getsampwidth()) != (1, 2):
            raise IntegrationError("The eSpeak voice wrote audio in an unexpected format.")
        return wav.readframes(wav.getnframes())


class EspeakSpeech:
    """``SpeechSynthesizer`` for voice ids ``espeak:<voice>``."""

    def synthesize(
        self,
        text: str,
        *,
        voice: str,
        speed: float,
        out_path: Path,
        is_cancelled: Callable[[], bool] | None = None,
    ) -> SpeechResult:
        """Speak ``text`` into a 16-bit mono WAV at ``out_path``, with estimated word timings.

        Raises:
            IntegrationError: Unknown voice, nothing to say, or espeak-ng failed.
            CancelledError: ``is_cancelled()`` turned true between two sentences.
        """
        name = _voice_name(voice)
        sentences = [s for s in SENTENCE_BREAK.split(text.strip()) if s.strip()]
        if not sentences:
            raise IntegrationError("There is no narration to speak.", retryable=False)
        wpm = min(MAX_WPM, max(MIN_WPM, round(WORDS_PER_MINUTE * (speed or 1.0))))
        cancelled = is_cancelled or (lambda: False)
        timings: list[WordTiming] = []
        samples = 0
        out_path.parent.mkdir(parents=True, exist_ok=True)
        with wave.open(str(out_path), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(SAMPLE_RATE)
            for sentence in sentences:
                if cancelled():
                    raise CancelledError("The render was cancelled.")
                frames = speak_sentence(sentence, voice=name, words_per_minute=wpm)
                span = Span(samples / SAMPLE_RATE, (samples + len(frames) // 2) / SAMPLE_RATE)
                timings += spread_words(sentence.split(), [span])
                wav.writeframes(frames)
                samples += len(frames) // 2
        return SpeechResult(out_path, samples / SAMPLE_RATE, timings or None)
