"""Pure parsing rules for the posting schedule and the option lists."""

from __future__ import annotations

import pytest

from viralshorts.domain import campaigns as camp
from viralshorts.models import BackgroundSource, Platform


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("09:00, 18:30", ["09:00", "18:30"]),
        ("9:00 18:30", ["9:00", "18:30"]),
        (" 07:15 ;;12:00 ,", ["07:15", "12:00"]),
        ("", []),
    ],
)
def test_split_times(text: str, expected: list[str]) -> None:
    assert camp.split_times(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("9:05", "09:05"),
        ("00:00", "00:00"),
        ("23:59", "23:59"),
        ("24:00", None),
        ("12:60", None),
        ("12", None),
        ("noon", None),
        ("1:2", None),
    ],
)
def test_normalise_time(value: str, expected: str | None) -> None:
    assert camp.normalise_time(value) == expected


def test_timezones_are_iana_names() -> None:
    assert camp.is_timezone("Europe/Berlin")
    assert camp.is_timezone("UTC")
    assert not camp.is_timezone("CEST+2")
    assert not camp.is_timezone("")


def test_option_lists_match_the_model_enums() -> None:
    assert set(camp.PLATFORMS) == {p.value for p in Platform}
    assert set(camp.BACKGROUNDS) == {b.value for b in BackgroundSource}
    assert {"en", "es", "fr", "de", "pt", "it"} <= set(camp.LANGUAGES)
    assert len(camp.WEEKDAYS) == 7
