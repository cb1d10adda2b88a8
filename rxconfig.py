"""Reflex configuration, derived from the one Settings object.

Reflex's own ``REFLEX_*`` environment variables still win (for example ``REFLEX_REDIS_URL`` to
share UI state between several web instances; see docs/deploy.md).
"""

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin

from viralshorts.db import normalise_url
from viralshorts.settings import get_settings

settings = get_settings()

config = rx.Config(
    app_name="viralshorts",
    db_url=normalise_url(settings.database_url),
    telemetry_enabled=False,
    show_built_with_reflex=False,
    cors_allowed_origins=settings.allowed_origins,
    trusted_proxy_hops=settings.trusted_proxy_hops,
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(appearance="light", accent_color="violet", radius="large")
        )
    ],
    disable_plugins=[SitemapPlugin],
)
