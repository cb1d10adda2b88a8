"""Illustrations for render tests: distinct transparent PNGs made with ffmpeg, and a picker.

Each picture is a disc cut out of ffmpeg's colour test pattern in its own hue, so a frame can
be compared with the source picture pixel by pixel and two pictures never look alike.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from viralshorts.integrations.ports import Script

SIDE = 618


@dataclass(frozen=True)
class SamplePick:
    """The shape of ``illustrations.IllustrationPick``."""

    path: Path | None
    name: str
    card_text: str
    score: float = 1.0
    attribution: str = ""


def make_pictures(folder: Path, count: int) -> list[Path]:
    """``count`` different 618x618 PNGs, transparent outside a centred disc."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(count):
        path = folder / f"picture-{n}.png"
        disc = f"a='if(lt(hypot(X-{SIDE // 2},Y-{SIDE // 2}),{SIDE // 2 - 20}),255,0)'"
        graph = (
            f"testsrc2=s={SIDE}x{SIDE}:r=1,format=rgba,hue=h={n * 67},"
            f"geq=r='r(X,Y)':g='g(X,Y)':b='b(X,Y)':{disc}"
        )
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", graph, "-frames:v", "1",
             str(path)],
            check=True,
        )  # fmt: skip
        paths.append(path)
    return paths


class SamplePicker:
    """Gives script line ``i`` picture ``i`` (or a card showing ``cards[i]``); says the
    attribution a real library would require."""

    def __init__(
        self, pictures: Sequence[Path], cards: dict[int, str] | None = None, attribution: str = ""
    ) -> None:
        self.pictures, self.cards, self.attribution = list(pictures), cards or {}, attribution
        self.picks: list[SamplePick] = []

    def __call__(self, script: Script) -> tuple[list[SamplePick], str]:
        self.picks = [
            SamplePick(None, "", self.cards[i], 0.0) if i in self.cards
            else SamplePick(self.pictures[i % len(self.pictures)], f"picture-{i}", "")
            for i in range(len(script.lines))
        ]  # fmt: skip
        used = any(p.path for p in self.picks)
        return self.picks, self.attribution if used else ""


def no_pictures(script: Script) -> tuple[list[SamplePick], str]:
    """A picker for tests about something else: no line gets a picture or a card."""
    return [], ""
