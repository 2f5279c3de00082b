"""Debian's Chromium under Playwright, for the tests that look at a page (not a test module).

One guarded page: console errors and page errors are collected, and every request that
``allowed`` refuses is recorded and aborted, so a test can assert that nothing left the page's
own origin.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROME_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium() -> str:
    """Debian's Chromium (a failure, not a skip, if it is missing)."""
    path = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not Path(path).exists():
        pytest.fail(f"Chromium not found at {path}: install Debian's chromium "
                    "(apt-get install -y chromium) or set CHROMIUM to its path")
    return path


@contextmanager
def guarded_page(allowed: Callable[[str], bool], width: int = 1280, height: int = 900
                 ) -> Iterator[tuple[Any, list[str], list[str]]]:
    """Yield (page, console errors, refused request URLs) for one headless browser."""
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    refused: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium(), args=CHROME_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))

            def guard(route: Any) -> None:
                if allowed(route.request.url):
                    route.continue_()
                else:
                    refused.append(route.request.url)
                    route.abort()

            page.route("**/*", guard)
            yield page, errors, refused
        finally:
            browser.close()
