"""The one bare ``rx.App()`` of the UI tests (Reflex allows a single App per process).

It gives the live-progress loop the token manager that says whether a tab is connected.
"""

import reflex as rx

APP = rx.App()
