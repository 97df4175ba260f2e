"""Fixtures for the console's tests that drive the session's local stack, in a real headless Chromium.

The browser is Debian's ``chromium`` (``apt-get install -y chromium``, as root; ``.ci/run`` does it),
driven by Playwright's Python client with ``executable_path``: Playwright downloads no browser of
its own. ``CHROMIUM_PATH`` names another binary. Without one the browser tests are skipped with a
reason that says how to install it, printed in the summary of ``make test``.

Screenshots go to ``.local/test-artifacts/console/`` (git ignores ``.local/``).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.console_page import ConsolePage
from tests.support.stack import RunningStack

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
INSTALL_HINT = "install it as root with `apt-get update && apt-get install -y chromium`"
VIEWPORT = {"width": 1366, "height": 900}
TIMEOUT_MS = 30_000


def chromium_path() -> tuple[str | None, str]:
    """The browser binary, or None and why there is none."""
    explicit = os.environ.get("CHROMIUM_PATH")
    if explicit:
        found = explicit if Path(explicit).is_file() else None
        return found, f"browser tests NOT run: CHROMIUM_PATH={explicit} is not a file; {INSTALL_HINT}"
    found = next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)
    looked_for = ", ".join(CHROMIUM_NAMES)
    return found, f"browser tests NOT run: no Chromium on PATH (looked for {looked_for}); {INSTALL_HINT}"


# Module scope: Playwright's sync API runs an event loop on this thread while it is open, and a later
# test on the same worker that calls asyncio.run() (the batch runner does) must not find it running.
@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    path, missing = chromium_path()
    if path is None:
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    # As root (CI) Chromium starts only without its sandbox; /dev/shm may be small in containers.
    args = ["--disable-dev-shm-usage"] + (["--no-sandbox"] if os.geteuid() == 0 else [])
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, headless=True, args=args)
        yield browser
        browser.close()


def _page(
    chromium: Any, stack: RunningStack, request: pytest.FixtureRequest, color_scheme: str
) -> Iterator[ConsolePage]:
    context = chromium.new_context(viewport=VIEWPORT, color_scheme=color_scheme)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", request.node.name)[:80]
    console_page = ConsolePage(page, stack, name)
    page.on("request", lambda r: console_page.requested.append(r.url))
    page.on("pageerror", lambda error: console_page.script_errors.append(str(error)))
    page.on("console", lambda m: m.type == "error" and console_page.script_errors.append(m.text))
    try:
        yield console_page
    finally:
        context.close()


@pytest.fixture
def console_page(chromium: Any, stack: RunningStack, request: pytest.FixtureRequest) -> Iterator[ConsolePage]:
    yield from _page(chromium, stack, request, "light")


@pytest.fixture
def dark_console_page(chromium: Any, stack: RunningStack, request: pytest.FixtureRequest) -> Iterator[ConsolePage]:
    yield from _page(chromium, stack, request, "dark")
