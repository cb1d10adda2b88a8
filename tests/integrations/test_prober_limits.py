"""ffprobe never decodes a picture larger than the library accepts (a stored bomb stays cheap)."""

import subprocess
import sys
from pathlib import Path

from tests.image_samples import bomb_png

PROBE_IN_A_CHILD = """
import resource, sys
from pathlib import Path
from viralshorts.integrations.ffmpeg_tools import FfmpegProber
from viralshorts.settings import get_settings
probe = FfmpegProber(get_settings()).probe(Path(sys.argv[1]))
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(probe.width, probe.height, peak_kb)
"""


def test_a_bomb_is_reported_without_its_pixels_being_decoded(tmp_path: Path) -> None:
    bomb = bomb_png(tmp_path / "bomb.png", 16000, 16000)
    done = subprocess.run(
        [sys.executable, "-c", PROBE_IN_A_CHILD, str(bomb)],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    width, height, peak_kb = (int(v) for v in done.stdout.split())
    assert (width, height) == (0, 0)  # the library refuses a size it cannot read
    assert peak_kb < 300_000  # decoding it costs ~800 MB
