"""The soundtrack in numpy: narration + music ducked under it, loudness-normalised, limited.

ffmpeg only decodes the inputs to 48 kHz stereo float; the mix, the loudness measurement
(ITU-R BS.1770-4: K-weighting, 400 ms blocks, absolute and relative gates) and a peak limiter
run here, and the result is streamed as raw samples into the render's ffmpeg, which encodes it.
Measuring in Python instead of with ``ebur128`` saves two extra ffmpeg passes per render; the
samples are made while ffmpeg already encodes the picture, and its AAC encoder ("fast" coder)
takes them through a pipe, so no second encoder process sits beside it.
"""

from __future__ import annotations

import contextlib
import functools
import subprocess
import tempfile
from pathlib import Path
from typing import IO, cast

import numpy as np

from viralshorts.errors import RenderError
from viralshorts.integrations import processes
from viralshorts.integrations.processes import stop

RATE = 48_000
CEILING = 0.89  # about -1 dBFS of headroom for the AAC encoder
MAX_GAIN_DB = 30.0
SILENCE_LUFS = -70.0
# sidechaincompress-like ducking of the music under the voice.
DUCK_THRESHOLD, DUCK_RATIO = 0.02, 10.0
DUCK_ATTACK_S, DUCK_RELEASE_S = 0.015 / 4, 0.400 / 4  # ffmpeg's effective time constants
DUCK_BLOCK = RATE // 1000
LIMIT_BLOCK, LIMIT_RELEASE_S = RATE // 200, 0.05
# BS.1770 K-weighting at 48 kHz: a high shelf, then a high pass (numerator, denominator).
K_SHELF = ([1.53512485958697, -2.69169618940638, 1.19839281085285],
           [1.0, -1.69065929318241, 0.73248077421585])  # fmt: skip
K_HIGHPASS = ([1.0, -2.0, 1.0], [1.0, -1.99004745483398, 0.99007225036621])
K_TAPS, K_BLOCK = 8192, 1 << 16


def decode(ffmpeg: str, path: Path, seconds: float, *, loop: bool = False) -> np.ndarray:
    """``seconds`` of ``path`` as float32 (frames, 2) at 48 kHz, zero-padded at the end.

    ffmpeg's output is read straight into the array (no second copy of the track).
    """
    looping = ["-stream_loop", "-1"] if loop else []
    args = [ffmpeg, "-v", "error", "-nostdin", *looping, "-i", str(path), "-t", f"{seconds:.3f}"]
    args += ["-vn", "-f", "f32le", "-ac", "2", "-ar", str(RATE), "-"]
    samples = np.zeros((round(seconds * RATE), 2), dtype=np.float32)
    with tempfile.TemporaryFile() as log:
        proc = processes.popen(args, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL)
        try:
            _read_into(cast(IO[bytes], proc.stdout), memoryview(samples).cast("B"))
            returncode = proc.wait(timeout=600)
        finally:
            stop(proc)
        killed = processes.killed_error(
            returncode, f"ffmpeg was stopped by signal {{signal}} while it read {path.name}.",
            code="ffmpeg_killed",
        )  # fmt: skip
        if killed is not None:
            raise killed
        if returncode != 0:
            raise RenderError(f"Could not read the audio of {path.name}: {_last_line(log)}")
    return samples


def _read_into(stream: IO[bytes], buffer: memoryview) -> None:
    """Fill ``buffer`` from ``stream`` until either ends; drain what is left."""
    filled = 0
    while filled < len(buffer):
        count = stream.readinto(buffer[filled:])  # type: ignore[attr-defined]
        if not count:
            return
        filled += count
    while stream.read(1 << 16):
        pass


def _last_line(log: IO[bytes]) -> str:
    log.seek(0)
    lines = log.read().decode(errors="replace").strip().splitlines()
    return (lines or ["no output"])[-1]


def _block_power(signal: np.ndarray, block: int, gains: np.ndarray | None = None) -> np.ndarray:
    """Mean square of ``signal`` (frames, channels) over consecutive ``block``-frame blocks,
    optionally after multiplying frame ``i`` by ``gains[i]`` (without making that product)."""
    frames, channels = signal.shape
    usable = frames // block * block
    shaped = signal[:usable].reshape(-1, block, channels)
    if gains is None:
        power = np.einsum("ijk,ijk->i", shaped, shaped)
    else:
        scale = gains[:usable].reshape(-1, block)
        power = np.einsum("ijk,ijk,ij,ij->i", shaped, shaped, scale, scale)
    return power.astype(np.float64) / (block * channels)


def _follow(levels: np.ndarray, attack: float, release: float) -> np.ndarray:
    """A one-pole envelope that rises with ``attack`` and falls with ``release`` (per step)."""
    envelope = np.empty_like(levels)
    current = 0.0
    for index, level in enumerate(levels.tolist()):
        current += (level - current) * (attack if level > current else release)
        envelope[index] = current
    return envelope


def _per_frame(gains: np.ndarray, block: int, frames: int) -> np.ndarray:
    """Per-frame values, linear between the block centres where ``gains`` were measured
    (flat before the first centre and after the last)."""
    g = gains.astype(np.float32)
    out = np.empty(frames, dtype=np.float32)
    head = min(frames, block // 2)
    out[:head] = g[0]
    ramp = np.arange(block, dtype=np.float32) / np.float32(block)
    steps = min(len(g) - 1, (frames - head) // block)
    body = out[head : head + steps * block].reshape(steps, block)
    np.multiply((g[1 : steps + 1] - g[:steps])[:, None], ramp, out=body)
    body += g[:steps, None]
    rest = out[head + steps * block :]
    if steps < len(g) - 1:  # the frames end between two centres
        rest[:] = g[steps] + (g[steps + 1] - g[steps]) * ramp[: len(rest)]
    else:
        rest[:] = g[-1]
    return out


def duck(music: np.ndarray, voice: np.ndarray) -> np.ndarray:
    """``music`` compressed by the voice's level (10:1 above 0.02 RMS), like sidechaincompress;
    scaled in place and returned."""
    step = DUCK_BLOCK / RATE
    attack, release = 1 - np.exp(-step / DUCK_ATTACK_S), 1 - np.exp(-step / DUCK_RELEASE_S)
    level = np.sqrt(_follow(_block_power(voice, DUCK_BLOCK), attack, release))
    over = np.maximum(level / DUCK_THRESHOLD, 1.0)
    gains = over ** (1 / DUCK_RATIO - 1)
    music *= _per_frame(gains, DUCK_BLOCK, len(music))[:, None]
    return music


def _biquad_impulse(coefficients: tuple[list[float], list[float]], taps: int) -> np.ndarray:
    """The first ``taps`` samples of a biquad's impulse response (direct form I)."""
    (b0, b1, b2), (a0, a1, a2) = coefficients
    out = np.zeros(taps)
    x1 = x2 = y1 = y2 = 0.0
    for n in range(taps):
        x0 = 1.0 if n == 0 else 0.0
        out[n] = (b0 * x0 + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2) / a0
        x1, x2, y1, y2 = x0, x1, out[n], y1
    return out


@functools.cache
def _k_spectrum() -> np.ndarray:
    """The K-weighting filter as a ``K_TAPS`` FIR, transformed for ``K_BLOCK``-point FFTs.

    The high pass's slowest pole decays to 1e-17 within ``K_TAPS`` samples, so the truncated
    FIR equals the IIR filter to float32 precision.
    """
    shelf = _biquad_impulse(K_SHELF, K_TAPS)
    both = np.convolve(shelf, _biquad_impulse(K_HIGHPASS, K_TAPS))[:K_TAPS]
    return np.fft.rfft(both, K_BLOCK).astype(np.complex64)


def k_weighted(signal: np.ndarray) -> np.ndarray:
    """``signal`` (frames, channels) through the BS.1770 K-weighting filter.

    Overlap-save in ``K_BLOCK``-frame blocks: fast, and its memory does not grow with the
    length of the video (one whole-signal FFT took 0.5 s and 120 MB for 30 s of audio).
    """
    spectrum = _k_spectrum()[:, None]
    frames, channels = signal.shape
    hop = K_BLOCK - K_TAPS
    window = np.zeros((K_BLOCK, channels), dtype=np.float32)
    out = np.empty((frames, channels), dtype=np.float32)
    for start in range(0, frames, hop):
        # The window holds input frames start-K_TAPS .. start+hop (zeros outside the signal).
        first, last = max(0, start - K_TAPS), min(frames, start + hop)
        window[:] = 0
        window[first - (start - K_TAPS) : last - (start - K_TAPS)] = signal[first:last]
        block = np.fft.rfft(window, axis=0) * spectrum
        filtered = np.fft.irfft(block, K_BLOCK, axis=0)[K_TAPS:]
        kept = min(hop, frames - start)
        out[start : start + kept] = filtered[:kept]
    return out


def gated_lufs(weighted: np.ndarray, gains: np.ndarray | None = None) -> float:
    """Integrated loudness in LUFS of an already K-weighted 48 kHz signal (frames, channels),
    optionally with per-frame ``gains`` applied first."""
    quarter = RATE // 10  # 100 ms: 400 ms blocks overlap by 75 %
    power = _block_power(weighted, quarter, gains) * weighted.shape[1]
    if len(power) < 4:
        return SILENCE_LUFS
    blocks = np.convolve(power, np.full(4, 0.25), mode="valid")
    loud = blocks[blocks > 10 ** ((SILENCE_LUFS + 0.691) / 10)]
    if not len(loud):
        return SILENCE_LUFS
    relative = 10 * np.log10(loud.mean()) - 10.0
    gated = loud[loud > 10 ** (relative / 10)]
    return float(-0.691 + 10 * np.log10(gated.mean()))


def integrated_lufs(signal: np.ndarray) -> float:
    """Integrated loudness of 48 kHz ``signal`` (frames, channels) in LUFS (BS.1770-4)."""
    return gated_lufs(k_weighted(signal))


def _peaks(signal: np.ndarray) -> np.ndarray:
    return np.maximum(np.abs(signal[:, 0]), np.abs(signal[:, -1]))


def limiter_gains(signal: np.ndarray, ceiling: float = CEILING) -> np.ndarray:
    """Per-frame gains that hold every peak of ``signal`` at or under ``ceiling``.

    The gain drops 5 ms ahead of a peak and recovers with a 50 ms release.
    """
    return _limit(_peaks(signal), ceiling)


def _limit(peaks: np.ndarray, ceiling: float) -> np.ndarray:
    """Limiter gains for per-frame ``peaks``, which it overwrites (callers pass a fresh array:
    two arrays of the track's length at a time, beside ffmpeg)."""
    needed = np.maximum(peaks, np.float32(1e-9), out=peaks)
    np.divide(np.float32(ceiling), needed, out=needed)
    np.minimum(needed, np.float32(1), out=needed)
    if needed.min() >= 1.0:
        return np.ones(len(needed), dtype=np.float32)
    lowest = np.minimum.reduceat(needed, np.arange(0, len(needed), LIMIT_BLOCK))
    lowest = np.minimum(lowest, np.minimum(np.roll(lowest, 1), np.roll(lowest, -1)))
    release = 1 - np.exp(-LIMIT_BLOCK / RATE / LIMIT_RELEASE_S)
    gains = _per_frame(_recover(lowest, release), LIMIT_BLOCK, len(needed))
    return np.minimum(gains, needed, out=gains)


def _recover(lowest: np.ndarray, release: float) -> np.ndarray:
    """Gains that drop at once to ``lowest`` and climb back towards it at ``release``."""
    out = np.empty_like(lowest)
    current = 1.0
    for index, target in enumerate(lowest.tolist()):
        current = target if target < current else current + (target - current) * release
        out[index] = current
    return out


def _final_gains(peaks: np.ndarray, gain_db: float) -> np.ndarray:
    scale = np.float32(10 ** (min(MAX_GAIN_DB, gain_db) / 20))
    gains = _limit(peaks * scale, CEILING)
    gains *= scale
    return gains


def normalise(mix: np.ndarray, target_lufs: float) -> np.ndarray:
    """``mix`` brought to ``target_lufs`` after the limiter (two corrections for what it shaves
    off), scaled in place and returned.

    The mix is K-weighted once: the limiter's gain moves slowly next to the filter's impulse
    response, so weighting the limited mix equals applying its gains to the weighted one.
    """
    weighted, peaks = k_weighted(mix), _peaks(mix)
    gain_db = target_lufs - gated_lufs(weighted)
    for _ in range(2):
        gain_db += target_lufs - gated_lufs(weighted, _final_gains(peaks, gain_db))
    del weighted
    mix *= _final_gains(peaks, gain_db)[:, None]
    return mix


def write_pcm(signal: np.ndarray, stream: IO[bytes]) -> None:
    """Write float ``signal`` (frames, 2) to ``stream`` as f32le, a second at a time (no second
    copy of the whole track), then close it. A reader that went away ends it quietly."""
    with contextlib.suppress(BrokenPipeError), stream:
        for start in range(0, len(signal), RATE):
            stream.write(np.ascontiguousarray(signal[start : start + RATE], dtype="<f4").tobytes())


def soundtrack(
    ffmpeg: str,
    *,
    narration: Path,
    music: Path | None,
    music_volume_db: float,
    seconds: float,
    target_lufs: float,
) -> np.ndarray:
    """The finished soundtrack of ``seconds``: 48 kHz stereo float32, ready to encode."""
    mix = decode(ffmpeg, narration, seconds)
    if music is not None:
        bed = decode(ffmpeg, music, seconds, loop=True)
        bed *= np.float32(10 ** (music_volume_db / 20))
        mix += duck(bed, mix)
        del bed
    return normalise(mix, target_lufs)
