"""The Reflex app: pages and the plain HTTP routes, in one readable place."""

import reflex as rx

from viralshorts.logs import request_logging
from viralshorts.ui import pages
from viralshorts.web.routes import build_api

app = rx.App(api_transformer=[build_api(), request_logging])
pages.register(app)
