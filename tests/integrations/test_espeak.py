"""eSpeak NG really speaks: a WAV per text, sentence by sentence, with word timings that fit."""

from __future__ import annotations

import array
import itertools
import math
import wave
from pathlib import Path

import pytest

from viralshorts.errors import CancelledError, IntegrationError
from viralshorts.integrations.espeak_tts import EspeakSpeech, espeak_available

pytestmark = pytest.mark.skipif(not espeak_available(), reason="./dev installs espeak-ng")
TEXT = "Los pulpos tienen tres corazones. ¿Sabías que su sangre es azul? ¡Increíble!"


def _samples(path: Path) -> tuple[array.array, int]:
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        return array.array("h", wav.readframes(wav.getnframes())), wav.getframerate()


def _rms(samples: array.array, rate: int, start: float, end: float) -> float:
    part = samples[int(start * rate) : int(end * rate)]
    return math.sqrt(sum(s * s for s in part) / max(1, len(part)))


def test_speaks_spanish_with_a_timing_per_written_word(tmp_path: Path) -> None:
    result = EspeakSpeech().synthesize(
        TEXT, voice="espeak:es", speed=1.0, out_path=tmp_path / "v.wav"
    )
    samples, rate = _samples(result.audio_path)
    assert result.duration == pytest.approx(len(samples) / rate)
    assert 3.0 < result.duration < 12.0
    assert _rms(samples, rate, 0, result.duration) > 300
    words = result.words or []
    assert [w.word for w in words] == TEXT.split()
    assert all(a.end <= b.start + 1e-3 for a, b in itertools.pairwise(words))
    assert words[-1].end == pytest.approx(result.duration, abs=0.01)
    sabias = next(w for w in words if w.word == "¿Sabías")
    assert _rms(samples, rate, sabias.start, sabias.end) > 300  # a sentence starts on speech


def test_a_faster_speed_is_shorter_and_odd_text_is_spoken_as_text(tmp_path: Path) -> None:
    speech = EspeakSpeech()
    normal = speech.synthesize(TEXT, voice="espeak:es", speed=1.0, out_path=tmp_path / "a.wav")
    fast = speech.synthesize(TEXT, voice="espeak:es", speed=1.5, out_path=tmp_path / "b.wav")
    assert fast.duration < 0.85 * normal.duration
    dash = speech.synthesize(
        "-v fr --help", voice="espeak:de", speed=1, out_path=tmp_path / "c.wav"
    )
    assert dash.duration > 0.3


def test_unknown_voice_empty_text_and_cancel(tmp_path: Path) -> None:
    speech = EspeakSpeech()
    with pytest.raises(IntegrationError, match="Unknown eSpeak voice"):
        speech.synthesize("Hola.", voice="espeak:xx", speed=1, out_path=tmp_path / "x.wav")
    with pytest.raises(IntegrationError, match="no narration"):
        speech.synthesize("  ", voice="espeak:es", speed=1, out_path=tmp_path / "x.wav")
    with pytest.raises(CancelledError):
        speech.synthesize(
            TEXT, voice="espeak:es", speed=1, out_path=tmp_path / "x.wav", is_cancelled=lambda: True
        )
