"""Headless Chromium for the tests that render pages in a real browser.

Playwright's own browser download is not used: the tests launch the system's Chromium (Debian:
``apt-get install chromium``; another binary with ``HYPERBAND_CHROMIUM``).
"""

from __future__ import annotations

# Flags for a headless Chromium with nothing to talk to but the pages under test.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
