"""Headless Chromium for the tests that drive a page: the emulator's chat, the board's Mini App, the demo.

They are marked ``browser``; without ``/usr/bin/chromium`` they are skipped with the command that
installs it (Playwright drives the system's Chromium, so no browser download is needed).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HAS_CHROMIUM = CHROMIUM.exists()
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"  # screenshots to look at; gitignored


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """A launched headless Chromium (a Playwright ``Browser``), closed on exit."""
    if not HAS_CHROMIUM:
        pytest.skip(
            f"chromium not installed at {CHROMIUM}: apt-get install -y chromium fonts-noto-color-emoji"
        )
    from playwright.async_api import async_playwright  # only the browser tests load Playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Headless Chromium for one test."""
    async with chromium() as launched:
        yield launched


@pytest.fixture
def artifacts() -> Path:
    """The folder a test saves its screenshots in."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
