"""The soundtrack in numpy: narration + music ducked under it, loudness-normalised, limited.

ffmpeg only decodes the inputs to 48 kHz stereo float; the mix, the loudness measurement
(ITU-R BS.1770-4: K-weighting, 400 ms blocks, absolute and relative gates) and a peak limiter
run here, and the result is encoded to AAC on its own, so the render only copies it into the MP4.
Measuring in Python instead of with ``ebur128`` saves two extra ffmpeg passes per render, and
encoding the audio outside the render's ffmpeg saves more than the encode costs (measured:
that ffmpeg feeds x264 better without an audio encoder in its main thread).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from viralshorts.errors import RenderError

RATE = 48_000
AAC_BITRATE = "128k"
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


def decode(ffmpeg: str, path: Path, seconds: float, *, loop: bool = False) -> np.ndarray:
    """``seconds`` of ``path`` as float32 (frames, 2) at 48 kHz, zero-padded at the end."""
    looping = ["-stream_loop", "-1"] if loop else []
    args = [ffmpeg, "-v", "error", "-nostdin", *looping, "-i", str(path), "-t", f"{seconds:.3f}"]
    args += ["-vn", "-f", "f32le", "-ac", "2", "-ar", str(RATE), "-"]
    done = subprocess.run(args, capture_output=True, timeout=600, check=False)
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise RenderError(f"Could not read the audio of {path.name}: {reason[0]}")
    samples = np.frombuffer(done.stdout, dtype="<f4").reshape(-1, 2)
    return _fit(samples, round(seconds * RATE))


def _fit(samples: np.ndarray, frames: int) -> np.ndarray:
    out = np.zeros((frames, 2), dtype=np.float32)
    kept = min(frames, len(samples))
    out[:kept] = samples[:kept]
    return out


def _block_power(signal: np.ndarray, block: int) -> np.ndarray:
    """Mean square of ``signal`` (frames, channels) over consecutive ``block``-frame blocks."""
    usable = len(signal) // block * block
    squares = np.square(signal[:usable], dtype=np.float64)
    total = squares[:, 0] + squares[:, 1] if signal.shape[1] == 2 else squares.sum(axis=1)
    return total.reshape(-1, block).mean(axis=1) / signal.shape[1]


def _follow(levels: np.ndarray, attack: float, release: float) -> np.ndarray:
    """A one-pole envelope that rises with ``attack`` and falls with ``release`` (per step)."""
    envelope = np.empty_like(levels)
    current = 0.0
    for index, level in enumerate(levels.tolist()):
        current += (level - current) * (attack if level > current else release)
        envelope[index] = current
    return envelope


def _per_frame(gains: np.ndarray, block: int, frames: int) -> np.ndarray:
    centres = np.arange(len(gains)) * block + block / 2
    return np.interp(np.arange(frames), centres, gains).astype(np.float32)


def duck(music: np.ndarray, voice: np.ndarray) -> np.ndarray:
    """``music`` compressed by the voice's level (10:1 above 0.02 RMS), like sidechaincompress."""
    step = DUCK_BLOCK / RATE
    attack, release = 1 - np.exp(-step / DUCK_ATTACK_S), 1 - np.exp(-step / DUCK_RELEASE_S)
    level = np.sqrt(_follow(_block_power(voice, DUCK_BLOCK), attack, release))
    over = np.maximum(level / DUCK_THRESHOLD, 1.0)
    gains = over ** (1 / DUCK_RATIO - 1)
    return music * _per_frame(gains, DUCK_BLOCK, len(music))[:, None]


def _response(coefficients: tuple[list[float], list[float]], size: int) -> np.ndarray:
    """A biquad's complex response at the ``size``-point real FFT's frequencies."""
    (b0, b1, b2), (a0, a1, a2) = coefficients
    angles = np.arange(size // 2 + 1, dtype=np.float32) * np.float32(-2 * np.pi / size)
    delay = np.exp(1j * angles).astype(np.complex64)
    return (b0 + delay * (b1 + delay * b2)) / (a0 + delay * (a1 + delay * a2))


def k_weighted(signal: np.ndarray) -> np.ndarray:
    """``signal`` through the BS.1770 K-weighting filter (applied in the frequency domain)."""
    # At least a second of padding, so the filters' tails do not wrap around; a power of two
    # keeps the FFT fast.
    size = 1 << (len(signal) + RATE - 1).bit_length()
    weights = (_response(K_SHELF, size) * _response(K_HIGHPASS, size)).astype(np.complex64)
    spectrum = np.fft.rfft(signal.astype(np.float32), size, axis=0) * weights[:, None]
    return np.fft.irfft(spectrum, size, axis=0)[: len(signal)]


def gated_lufs(weighted: np.ndarray) -> float:
    """Integrated loudness in LUFS of an already K-weighted 48 kHz signal (frames, channels)."""
    quarter = RATE // 10  # 100 ms: 400 ms blocks overlap by 75 %
    power = _block_power(weighted, quarter) * weighted.shape[1]
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


def limiter_gains(signal: np.ndarray, ceiling: float = CEILING) -> np.ndarray:
    """Per-frame gains that hold every peak of ``signal`` at or under ``ceiling``.

    The gain drops 5 ms ahead of a peak and recovers with a 50 ms release.
    """
    peaks = np.maximum(np.abs(signal[:, 0]), np.abs(signal[:, -1]))
    needed = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-9))
    if needed.min() >= 1.0:
        return np.ones(len(signal), dtype=np.float32)
    blocks = -(-len(needed) // LIMIT_BLOCK)
    padded = np.ones(blocks * LIMIT_BLOCK)
    padded[: len(needed)] = needed
    lowest = padded.reshape(blocks, LIMIT_BLOCK).min(axis=1)
    lowest = np.minimum(lowest, np.minimum(np.roll(lowest, 1), np.roll(lowest, -1)))
    release = 1 - np.exp(-LIMIT_BLOCK / RATE / LIMIT_RELEASE_S)
    smooth = _recover(lowest, release)
    return np.minimum(_per_frame(smooth, LIMIT_BLOCK, len(signal)), needed).astype(np.float32)


def _recover(lowest: np.ndarray, release: float) -> np.ndarray:
    """Gains that drop at once to ``lowest`` and climb back towards it at ``release``."""
    out = np.empty_like(lowest)
    current = 1.0
    for index, target in enumerate(lowest.tolist()):
        current = target if target < current else current + (target - current) * release
        out[index] = current
    return out


def _final_gains(mix: np.ndarray, gain_db: float) -> np.ndarray:
    scale = np.float32(10 ** (min(MAX_GAIN_DB, gain_db) / 20))
    return limiter_gains(mix * scale) * scale


def normalise(mix: np.ndarray, target_lufs: float) -> np.ndarray:
    """``mix`` at ``target_lufs`` after the limiter (two corrections for what it shaves off).

    The mix is K-weighted once: the limiter's gain moves slowly next to the filter's impulse
    response, so weighting the limited mix equals applying its gains to the weighted one.
    """
    weighted = k_weighted(mix)
    gain_db = target_lufs - gated_lufs(weighted)
    for _ in range(2):
        gains = _final_gains(mix, gain_db)
        gain_db += target_lufs - gated_lufs(weighted * gains[:, None])
    return mix * _final_gains(mix, gain_db)[:, None]


def encode_aac(ffmpeg: str, signal: np.ndarray, path: Path) -> None:
    """Encode float ``signal`` (frames, 2) as 48 kHz stereo AAC in an MP4 audio file."""
    args = [ffmpeg, "-v", "error", "-y", "-f", "f32le", "-ar", str(RATE), "-ac", "2", "-i", "-"]
    args += ["-c:a", "aac", "-b:a", AAC_BITRATE, "-f", "mp4", str(path)]
    pcm = np.ascontiguousarray(signal, dtype="<f4").tobytes()
    done = subprocess.run(args, input=pcm, capture_output=True, timeout=600, check=False)
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise RenderError(f"Could not encode the soundtrack: {reason[0]}")


def mix_soundtrack(
    ffmpeg: str,
    *,
    narration: Path,
    music: Path | None,
    music_volume_db: float,
    seconds: float,
    target_lufs: float,
    out_path: Path,
) -> None:
    """Write the finished soundtrack of ``seconds`` to ``out_path`` (48 kHz stereo AAC)."""
    mix = decode(ffmpeg, narration, seconds)
    if music is not None:
        bed = decode(ffmpeg, music, seconds, loop=True) * np.float32(10 ** (music_volume_db / 20))
        mix = mix + duck(bed, mix)
    encode_aac(ffmpeg, normalise(mix, target_lufs), out_path)
