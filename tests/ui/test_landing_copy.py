"""What a visitor reads is true today: nothing promises publishing, analytics or plans."""

from __future__ import annotations

import re

from viralshorts.ui import landing, layout

PROMISES = re.compile(r"publish|analytic|upgrade|\bplans?\b|schedul|automatic", re.IGNORECASE)


def test_the_landing_page_describes_only_what_works() -> None:
    sentences = [landing.HEADLINE, landing.PITCH]
    sentences += [f"{title}. {text}" for _, title, text in landing.FEATURES]
    promised = [s for s in sentences if PROMISES.search(s)]
    assert promised == []


def test_the_landing_page_says_what_is_not_built_yet() -> None:
    page = str(landing.landing_page())
    assert landing.NOT_YET in page
    for missing in ("publishing", "analytics"):
        assert missing in landing.NOT_YET


def test_the_navigation_marks_unbuilt_sections() -> None:
    assert set() == layout.LATER  # every section is built
    for label, route, icon in layout.NAV_ITEMS:
        shown = str(layout._nav_link(label, route, icon))
        assert ('"Later"' in shown) == (route in layout.LATER)
