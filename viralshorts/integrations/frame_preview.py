"""Preview frames for the media library: one small JPEG of a clip, taken with ffmpeg.

The frame is scaled to ``PREVIEW_WIDTH`` pixels wide with the clip's own aspect kept (a 16:9
upload stays 16:9 on its card); the domain says when in the clip to take it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from viralshorts.errors import IntegrationError
from viralshorts.integrations import processes
from viralshorts.integrations.ffmpeg_tools import find_ffmpeg, summarise_stderr
from viralshorts.settings import Settings

PREVIEW_WIDTH = 480
PREVIEW_QUALITY = 4  # mjpeg qscale: 2 is best, 31 worst
TIMEOUT_SECONDS = 60


class FfmpegFramePreviewer:
    """``FramePreviewer``: a clip's frame as a small JPEG."""

    def __init__(self, settings: Settings) -> None:
        self._ffmpeg = find_ffmpeg(settings)

    def preview_frame(self, source: Path, *, at_seconds: float, out_path: Path) -> None:
        """Write the frame at ``at_seconds`` of ``source`` to ``out_path`` (JPEG).

        Raises:
            IntegrationError: ffmpeg could not decode a frame there.
        """
        partial = out_path.with_name(out_path.name + ".partial.jpg")
        args = [self._ffmpeg, "-hide_banner", "-v", "error", "-y", "-ss", f"{at_seconds:.3f}"]
        args += ["-i", str(source), "-frames:v", "1", "-an"]
        args += ["-vf", f"scale={PREVIEW_WIDTH}:-2", "-q:v", str(PREVIEW_QUALITY), str(partial)]
        done = processes.run(
            args, timeout=TIMEOUT_SECONDS, text=True, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        if done.returncode != 0 or not partial.exists() or not partial.stat().st_size:
            partial.unlink(missing_ok=True)
            raise IntegrationError(f"No preview frame: {summarise_stderr(done.stderr)}")
        partial.replace(out_path)
