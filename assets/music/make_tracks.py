"""Synthesise the bundled background tracks (CC0, see LICENSE).

Run: ``python assets/music/make_tracks.py``.
Every track is a whole number of bars and every note's tail wraps around to the start, so the
file loops without a click. Needs numpy and ffmpeg (to encode AAC).
"""

from __future__ import annotations

import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

RATE = 44100
HERE = Path(__file__).resolve().parent
A4 = 440.0


def hz(semitones_from_a4: float) -> float:
    return A4 * 2 ** (semitones_from_a4 / 12)


def add(buf: np.ndarray, start: float, sound: np.ndarray) -> None:
    """Mix ``sound`` into ``buf`` at ``start`` seconds, wrapping past the end (seamless loop)."""
    index = (int(start * RATE) + np.arange(len(sound))) % len(buf)
    np.add.at(buf, index, sound)


def tone(
    freq: float, seconds: float, *, attack: float, release: float, harmonics: int
) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    wave_ = sum(np.sin(2 * np.pi * freq * k * t) / k**1.5 for k in range(1, harmonics + 1))
    env = np.minimum(1.0, t / attack) * np.exp(-np.maximum(0.0, t - attack) / release)
    return wave_ * env


def kick(seconds: float = 0.35) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    freq = 50 + 90 * np.exp(-t * 30)
    return np.sin(2 * np.pi * np.cumsum(freq) / RATE) * np.exp(-t * 9)


def hat(rng: np.random.Generator, seconds: float = 0.06) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    noise = rng.standard_normal(len(t))
    return np.diff(noise, prepend=0.0) * np.exp(-t * 60) * 0.15


def chill(rng: np.random.Generator) -> np.ndarray:
    """Soft pad chords, 72 bpm, 16 bars of 4/4 (about 53.3 s)."""
    beat, chords = 60 / 72, [(-9, -5, -2, 2), (-4, 0, 3, 7), (-7, -3, 0, 3), (-2, 2, 5, 8)]
    buf = np.zeros(int(64 * beat * RATE))
    for bar in range(16):
        for note in chords[bar % 4]:
            add(
                buf,
                bar * 4 * beat,
                0.12 * tone(hz(note - 12), 4 * beat, attack=0.8, release=1.6, harmonics=3),
            )
        for step in range(8):
            note = chords[bar % 4][(step * 3) % 4] + 12
            add(
                buf,
                (bar * 4 + step / 2) * beat,
                0.05 * tone(hz(note), 0.5, attack=0.01, release=0.25, harmonics=2),
            )
    return buf


def upbeat(rng: np.random.Generator) -> np.ndarray:
    """Kick, hats, bass and a bright arpeggio, 112 bpm, 16 bars (about 34.3 s)."""
    beat, roots = 60 / 112, [-9, -5, -2, -7]
    buf = np.zeros(int(64 * beat * RATE))
    for bar in range(16):
        root = roots[(bar // 2) % 4]
        for b in range(4):
            add(buf, (bar * 4 + b) * beat, 0.5 * kick())
            add(buf, (bar * 4 + b + 0.5) * beat, hat(rng))
            add(
                buf,
                (bar * 4 + b) * beat,
                0.18 * tone(hz(root - 24), beat * 0.9, attack=0.005, release=0.2, harmonics=4),
            )
        for step, interval in enumerate((0, 4, 7, 12, 7, 4, 0, 4)):
            add(
                buf,
                (bar * 4 + step / 2) * beat,
                0.07 * tone(hz(root + interval + 12), 0.3, attack=0.005, release=0.12, harmonics=3),
            )
    return buf


def cinematic(rng: np.random.Generator) -> np.ndarray:
    """A low drone with slow swells and a distant pulse, 60 bpm, 8 bars (32 s)."""
    beat = 1.0
    buf = np.zeros(int(32 * beat * RATE))
    for bar in range(8):
        root = (-21, -19, -24, -17)[bar % 4]
        for note in (root, root + 7, root + 12, root + 15):
            add(
                buf, bar * 4 * beat, 0.1 * tone(hz(note), 6.0, attack=2.0, release=2.0, harmonics=4)
            )
        for b in (0, 2):
            add(buf, (bar * 4 + b) * beat, 0.35 * kick(0.8))
    return buf


def write_track(name: str, samples: np.ndarray) -> Path:
    """Normalise, widen to stereo, encode to AAC (.m4a) beside this file."""
    samples = samples / np.max(np.abs(samples)) * 0.7
    stereo = np.stack([samples, np.roll(samples, int(0.012 * RATE))], axis=1)
    pcm = (stereo * 32767).astype("<i2")
    out = HERE / f"{name}.m4a"
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / f"{name}.wav"
        with wave.open(str(wav), "wb") as handle:
            handle.setnchannels(2)
            handle.setsampwidth(2)
            handle.setframerate(RATE)
            handle.writeframes(pcm.tobytes())
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-c:a", "aac", "-b:a", "96k", str(out)],
            check=True,
        )
    return out


def main() -> None:
    for name, make in (("chill", chill), ("upbeat", upbeat), ("cinematic", cinematic)):
        print(write_track(name, make(np.random.default_rng(7))))


if __name__ == "__main__":
    main()
