"""The Reflex app: pages and the plain HTTP routes, in one readable place."""

import reflex as rx

from viralshorts.ui import pages
from viralshorts.web.routes import build_api

app = rx.App(api_transformer=build_api())
pages.register(app)
