"""The numpy soundtrack: BS.1770 loudness, ducking, limiter, normalisation (no ffmpeg)."""

import numpy as np
import pytest

from viralshorts.integrations import audio_mix

RATE = audio_mix.RATE


def _sine(amplitude: float, seconds: float, hz: float = 997.0) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    mono = (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)
    return np.stack([mono, mono], axis=1)


def test_a_full_scale_sine_in_one_channel_reads_minus_3_lufs() -> None:
    # The reference point of ITU-R BS.1770: 997 Hz at 0 dBFS in one channel is -3.01 LUFS.
    signal = _sine(1.0, 5.0)
    signal[:, 1] = 0.0
    assert audio_mix.integrated_lufs(signal) == pytest.approx(-3.01, abs=0.05)


def test_loudness_follows_the_level_and_silence_is_gated() -> None:
    quiet = _sine(0.1, 5.0)
    assert audio_mix.integrated_lufs(quiet) == pytest.approx(-20.0, abs=0.1)
    with_pause = np.concatenate([quiet, np.zeros_like(quiet)])
    # Only the blocks that straddle the end of the tone pass the gates with less in them.
    assert audio_mix.integrated_lufs(with_pause) == pytest.approx(-20.0, abs=0.2)
    assert audio_mix.integrated_lufs(np.zeros((RATE, 2), np.float32)) == audio_mix.SILENCE_LUFS


def test_music_ducks_under_the_voice_and_comes_back_between_lines() -> None:
    voice = np.concatenate([_sine(0.3, 2.0), np.zeros((2 * RATE, 2), np.float32)])
    music = np.ones_like(voice)
    ducked = audio_mix.duck(music, voice)[:, 0]
    assert ducked[RATE] < 0.6  # under the voice: more than 4 dB down
    assert ducked[int(3.5 * RATE)] > 0.95  # 1.5 s after the line: back up


def test_the_limiter_holds_peaks_under_the_ceiling() -> None:
    loud = _sine(2.0, 2.0)
    limited = loud * audio_mix.limiter_gains(loud)[:, None]
    assert np.abs(limited).max() <= audio_mix.CEILING + 1e-6
    quiet = _sine(0.5, 1.0)
    assert np.array_equal(audio_mix.limiter_gains(quiet), np.ones(len(quiet), np.float32))


def test_normalise_reaches_the_target_with_peaks_limited() -> None:
    # Speech-like bursts: loud enough at -14 LUFS that the limiter has work to do.
    bursts = _sine(0.05, 6.0) * (np.arange(6 * RATE) % RATE < RATE // 4)[:, None]
    out = audio_mix.normalise(bursts.astype(np.float32), -14.0)
    assert audio_mix.integrated_lufs(out) == pytest.approx(-14.0, abs=0.3)
    assert np.abs(out).max() <= audio_mix.CEILING + 1e-6


@pytest.mark.parametrize(
    ("count", "block", "frames"),
    [(10, 48, 480), (10, 48, 300), (10, 48, 700), (1, 48, 100), (5, 240, 10)],
)
def test_per_frame_gains_are_linear_between_block_centres(
    count: int, block: int, frames: int
) -> None:
    gains = np.random.default_rng(count).random(count).astype(np.float32)
    centres = np.arange(count) * block + block / 2
    expected = np.interp(np.arange(frames), centres, gains)
    assert np.allclose(audio_mix._per_frame(gains, block, frames), expected, atol=1e-6)
