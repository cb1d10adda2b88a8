"""Piper really speaks: a WAV of the right length and rate, with word timings that fit the audio."""

from __future__ import annotations

import array
import itertools
import math
import wave
from pathlib import Path

import psutil
import pytest

from viralshorts.errors import CancelledError, IntegrationError
from viralshorts.integrations import piper_tts
from viralshorts.integrations.piper_tts import (
    PiperSpeech,
    SentenceAudio,
    Span,
    aligned_model,
    load_voice,
    prepare_bundled_voice,
    voice_files,
    word_timings,
)
from viralshorts.integrations.ports import SpeechResult

TEXT = "Octopuses have three hearts. Their blood is blue, and that is wild!"


@pytest.fixture(scope="module")
def piper() -> PiperSpeech:
    return PiperSpeech(keep_loaded=True)


@pytest.fixture(scope="module")
def spoken(piper: PiperSpeech, tmp_path_factory: pytest.TempPathFactory) -> SpeechResult:
    """TEXT spoken once at normal speed (synthesis is the slow part; tests share it)."""
    out = tmp_path_factory.mktemp("piper") / "v.wav"
    return piper.synthesize(TEXT, voice="piper:joe", speed=1.0, out_path=out)


def samples_of(path: Path) -> tuple[array.array, int]:
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        return array.array("h", wav.readframes(wav.getnframes())), wav.getframerate()


def rms(samples: array.array, rate: int, start: float, end: float) -> float:
    part = samples[int(start * rate) : int(end * rate)]
    return math.sqrt(sum(s * s for s in part) / max(1, len(part)))


def test_speaks_a_wav_with_word_timings(spoken: SpeechResult) -> None:
    result = spoken

    samples, rate = samples_of(result.audio_path)
    assert rate == 22050
    assert result.duration == pytest.approx(len(samples) / rate)
    assert 2.5 < result.duration < 8.0
    assert rms(samples, rate, 0, result.duration) > 500  # not silence
    words = result.words
    assert words is not None
    assert [w.word for w in words] == TEXT.split()
    assert all(a.end <= b.start for a, b in itertools.pairwise(words))
    assert all(0 <= w.start < w.end <= result.duration for w in words)


def test_word_timings_follow_the_audio(spoken: SpeechResult) -> None:
    samples, rate = samples_of(spoken.audio_path)
    words = spoken.words or []
    hearts, their = words[3], words[4]  # the pause between the two sentences
    assert their.start - hearts.end > 0.1
    speech = sum(rms(samples, rate, w.start, w.end) for w in words) / len(words)
    pause = rms(samples, rate, hearts.end + 0.03, their.start - 0.03)
    assert pause < speech / 4


def test_faster_speed_is_shorter(piper: PiperSpeech, spoken: SpeechResult, tmp_path: Path) -> None:
    fast = piper.synthesize(TEXT, voice="piper:joe", speed=1.3, out_path=tmp_path / "b.wav")
    assert fast.duration < spoken.duration * 0.92


def test_numbers_and_contractions_still_time_every_written_word(
    piper: PiperSpeech, tmp_path: Path
) -> None:
    text = "In the U.S., 2,500 people don't sleep. Really?"
    result = piper.synthesize(text, voice="piper:joe", speed=1.0, out_path=tmp_path / "n.wav")
    words = result.words or []
    assert [w.word for w in words] == text.split()
    assert all(a.end <= b.start for a, b in itertools.pairwise(words))
    assert words[-1].end <= result.duration


def test_the_voice_loads_once_per_process() -> None:
    model, config = voice_files()
    assert model.suffix == ".onnx"
    assert config.name.endswith(".onnx.json")
    assert load_voice(model, config) is load_voice(model, config)


def test_by_default_the_voice_speaks_in_a_child_process(
    spoken: SpeechResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_voice_here(*_args: object) -> None:
        raise AssertionError("the voice was loaded in the worker's own process")

    monkeypatch.setattr(piper_tts, "load_voice", no_voice_here)
    isolated = PiperSpeech().synthesize(
        TEXT, voice="piper:joe", speed=1.0, out_path=tmp_path / "c.wav"
    )
    samples, rate = samples_of(isolated.audio_path)
    assert isolated.duration == pytest.approx(len(samples) / rate)
    assert isolated.duration == pytest.approx(spoken.duration, rel=0.15)  # Piper adds noise
    assert [w.word for w in isolated.words or []] == TEXT.split()
    assert all(0 <= w.start < w.end <= isolated.duration for w in isolated.words or [])


def test_the_aligned_model_is_made_once_and_reused(tmp_path: Path) -> None:
    engine = PiperSpeech(aligned_dir=tmp_path / "voices", prepared_dir=None)
    first = engine.synthesize(
        "Hello there.", voice="piper:joe", speed=1.0, out_path=tmp_path / "1.wav"
    )
    [made] = (tmp_path / "voices").glob("*.aligned.onnx")
    inode = made.stat().st_ino
    second = engine.synthesize(
        "Bye now.", voice="piper:joe", speed=1.0, out_path=tmp_path / "2.wav"
    )
    assert [p.name for p in (tmp_path / "voices").iterdir()] == [made.name]
    assert made.stat().st_ino == inode
    assert [w.word for w in first.words or []] == ["Hello", "there."]
    assert [w.word for w in second.words or []] == ["Bye", "now."]
    assert all(w.end > w.start for w in (first.words or []) + (second.words or []))
    voice = load_voice(*voice_files(), tmp_path / "voices", None)
    assert len(voice.session.get_outputs()) == 2  # audio + phoneme lengths


def test_the_model_prepared_at_set_up_is_used_and_nothing_is_made_in_the_cache(
    tmp_path: Path,
) -> None:
    prepared = tmp_path / "prepared"
    prepared.mkdir()
    (prepared / "en_US-joe-medium-1-2.aligned.onnx").write_bytes(b"a reinstalled model's")
    made = prepare_bundled_voice(prepared)
    assert [p.name for p in prepared.iterdir()] == [made.name]  # the stale copy is gone
    assert made.stat().st_mode & 0o044 == 0o044  # readable by the web app's user too
    engine = PiperSpeech(aligned_dir=tmp_path / "cache", prepared_dir=prepared)
    spoken = engine.synthesize("Hello there.", voice="piper:joe", speed=1.0,
                               out_path=tmp_path / "1.wav")  # fmt: skip
    assert [w.word for w in spoken.words or []] == ["Hello", "there."]
    assert not (tmp_path / "cache").exists()
    assert aligned_model(voice_files()[0], tmp_path / "cache", prepared) == made


def test_the_child_works_from_any_directory_with_a_relative_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the worker may be started anywhere
    monkeypatch.delenv("PYTHONPATH", raising=False)
    result = PiperSpeech().synthesize(
        "Hello there.", voice="piper:joe", speed=1.0, out_path=Path("relative.wav")
    )
    assert (tmp_path / "relative.wav").stat().st_size > 1000
    assert [w.word for w in result.words or []] == ["Hello", "there."]


def test_cancelling_stops_the_child_at_once(tmp_path: Path) -> None:
    """The child is killed at the poll that says "cancelled", while it is still speaking."""
    polls = 0
    speaking_when_cancelled: list[psutil.Process] = []

    def is_cancelled() -> bool:
        nonlocal polls
        polls += 1
        if polls < 3:
            return False
        children = psutil.Process().children(recursive=True)
        speaking_when_cancelled.extend(c for c in children if c.is_running())
        return True

    with pytest.raises(CancelledError):
        PiperSpeech().synthesize(
            TEXT * 40, voice="piper:joe", speed=1.0, out_path=tmp_path / "long.wav",
            is_cancelled=is_cancelled,
        )  # fmt: skip
    assert polls == 3  # nothing waited for the synthesis to end after the answer
    assert speaking_when_cancelled, "the child had already finished: nothing was cancelled"
    assert not any(c.is_running() for c in speaking_when_cancelled)
    assert [c for c in psutil.Process().children(recursive=True) if c.is_running()] == []


def test_a_killed_child_is_worth_another_try(tmp_path: Path) -> None:
    """A Piper child killed from outside (the OOM killer) is a retryable failure."""

    def kill_the_child() -> bool:
        for child in psutil.Process().children(recursive=True):
            child.kill()
        return False

    with pytest.raises(IntegrationError, match="stopped by signal 9") as caught:
        PiperSpeech().synthesize(
            TEXT * 40, voice="piper:joe", speed=1.0, out_path=tmp_path / "k.wav",
            is_cancelled=kill_the_child,
        )  # fmt: skip
    assert caught.value.retryable and caught.value.code == "voice_killed"


def test_a_child_that_cannot_load_the_voice_is_an_integration_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    _, config = voice_files()
    engine = PiperSpeech(broken, config)
    with pytest.raises(IntegrationError, match=r"The Piper voice could not speak: .+"):
        engine.synthesize("Hello.", voice="piper:joe", speed=1.0, out_path=tmp_path / "b.wav")


def test_unknown_voice_and_empty_text_are_refused(piper: PiperSpeech, tmp_path: Path) -> None:
    with pytest.raises(IntegrationError, match="Unknown Piper voice") as caught:
        piper.synthesize("Hi.", voice="piper:nobody", speed=1.0, out_path=tmp_path / "x.wav")
    assert caught.value.retryable is False
    with pytest.raises(IntegrationError, match="no narration"):
        piper.synthesize("  ", voice="piper:joe", speed=1.0, out_path=tmp_path / "x.wav")


def test_words_are_spread_inside_their_own_sentence_when_not_aligned() -> None:
    sentences = [
        SentenceAudio(Span(0.0, 1.0), []),  # no phoneme alignments (onnx missing)
        SentenceAudio(Span(1.0, 3.0), [Span(1.2, 1.5), Span(1.6, 2.8)]),  # 2 heard, 3 written
    ]
    timings = word_timings("One two. Three four five.", sentences)
    assert [t.word for t in timings] == ["One", "two.", "Three", "four", "five."]
    assert timings[0].start == 0.0
    assert timings[1].end == 1.0
    assert timings[2].start == 1.2  # sentence two's words stay inside its heard speech
    assert timings[-1].end == 2.8
    assert all(a.end <= b.start for a, b in itertools.pairwise(timings))
