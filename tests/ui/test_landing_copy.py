"""What a visitor reads is true today: what is built is described, nothing says it is not, and
what depends on the site's setup says so."""

from __future__ import annotations

import re

from viralshorts.settings import PROJECT_ROOT
from viralshorts.ui import landing, layout

NOT_BUILT = re.compile(r"not built|not yet|coming soon|later\b", re.IGNORECASE)


def _sentences() -> list[str]:
    sentences = [landing.HEADLINE, landing.PITCH, landing.SETUP_NOTE]
    return sentences + [f"{title}. {text}" for _, title, text in landing.FEATURES]


def test_the_landing_page_describes_publishing_the_calendar_and_analytics() -> None:
    titles = [title for _, title, _ in landing.FEATURES]
    assert "Publish now or on a schedule" in titles
    assert "A calendar of every post" in titles
    assert "Numbers back from each platform" in titles
    page = str(landing.landing_page())
    assert all(text in page for _, _, text in landing.FEATURES)
    assert landing.SETUP_NOTE in page


def test_nothing_on_the_landing_page_or_in_the_readme_says_a_built_part_is_missing() -> None:
    assert [s for s in _sentences() if NOT_BUILT.search(s)] == []
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert not re.search(r"not built", readme, re.IGNORECASE)


def test_what_depends_on_the_sites_setup_says_so() -> None:
    assert "depends on how this site is set up" in landing.SETUP_NOTE
    [scripts] = [text for _, title, text in landing.FEATURES if title == "AI-written scripts"]
    assert "where the site has one turned on" in scripts


def test_the_navigation_marks_unbuilt_sections() -> None:
    assert set() == layout.LATER  # every section is built
    for label, route, icon in layout.NAV_ITEMS:
        shown = str(layout._nav_link(label, route, icon))
        assert ('"Later"' in shown) == (route in layout.LATER)
