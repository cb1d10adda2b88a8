"""Every link of the built app leads somewhere: a site admin opens each page the app registers,
follows every link on it that stays on this site, and fetches every /api/ link. No link may end
on the 404 page or an HTTP error, and no page may throw in the browser."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.conftest import E2EEnvironment, new_page, sign_in
from tests.e2e.test_admin_users import _create_admin
from viralshorts.ui import pages as app_pages

pytestmark = pytest.mark.e2e

NOT_FOUND = "Page not found"
SKIPPED_PREFIXES = ("/sign-out", "/api/auth/", "/api/connect/")  # leave, or go to a platform


class _RouteRecorder:
    """Stands in for ``rx.App`` in ``pages.register`` to list the routes it adds."""

    def __init__(self) -> None:
        self.head_components: list = []
        self.routes: list[str] = []

    def add_page(self, component, *, route: str, **_: object) -> None:
        self.routes.append(route)


def _static_routes() -> list[str]:
    recorder = _RouteRecorder()
    app_pages.register(recorder)
    return [route for route in recorder.routes if "[" not in route]


def _links_on(page: Page, base: str) -> set[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    found = set()
    for href in hrefs:
        url = urljoin(page.url, href or "")
        parts = urlsplit(url)
        if not href or href.startswith("#") or f"{parts.scheme}://{parts.netloc}" != base:
            continue
        if not parts.path.startswith(SKIPPED_PREFIXES):
            found.add(url)
    return found


def _settled(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")


def test_every_link_on_every_page_leads_somewhere(
    browser: Browser, app_url: str, e2e_environment: E2EEnvironment
) -> None:
    context, page = new_page(browser)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    try:
        sign_in(page, app_url, *_create_admin(e2e_environment))
        page.wait_for_url(f"{app_url}/app**")
        _settled(page, f"{app_url}/app/no-such-page")  # what a broken link looks like here
        assert page.get_by_text(NOT_FOUND).count() == 1
        routes = _static_routes()
        assert "/app/admin/jobs" in routes and "/app/calendar" in routes
        links: dict[str, str] = {}
        for route in routes:
            _settled(page, f"{app_url}{route}")
            assert page.get_by_text(NOT_FOUND).count() == 0, f"{route} is the 404 page"
            for link in _links_on(page, app_url):
                links.setdefault(link, route)
        broken = []
        for link, found_on in sorted(links.items()):
            if urlsplit(link).path.startswith("/api/"):
                status = page.request.get(link, max_redirects=0).status
                if status >= 400:
                    broken.append(f"{link} (on {found_on}): HTTP {status}")
                continue
            _settled(page, link)
            if page.get_by_text(NOT_FOUND).count():
                broken.append(f"{link} (on {found_on}): the 404 page")
        assert len(links) > len(routes) / 2
        assert broken == []
        assert errors == []
    finally:
        context.close()
