"""Pages under test in Debian's Chromium (launched by notestream_bench.chromium, shared with the browser
latency bench): the JavaScript errors a page raised, the notes it shows, a screenshot of its last look."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import BrowserContext, Page
from playwright.sync_api import Error as PlaywrightError


@dataclass
class BrowserPage:
    """A page under test, with the JavaScript errors it raised."""

    page: Page
    errors: list[str] = field(default_factory=list)

    def notes(self, list_selector: str) -> list[tuple[int, float]]:
        """(pitch, onset) of every note shown in the list at `list_selector`, in order."""
        return [tuple(n) for n in self.page.eval_on_selector_all(
            f"{list_selector} li[data-pitch]", "els => els.map(e => [Number(e.dataset.pitch), Number(e.dataset.onset)])")]


@contextmanager
def tracked_page(context: BrowserContext, screenshot: Path) -> Iterator[BrowserPage]:
    """A new page that records its JavaScript errors; a screenshot of its final look goes to `screenshot`."""
    page = context.new_page()
    wrapped = BrowserPage(page)
    page.on("pageerror", lambda exc: wrapped.errors.append(str(exc)))
    page.set_default_timeout(30_000)
    try:
        yield wrapped
    finally:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(PlaywrightError):  # a page that died must not hide the test's own failure
            page.screenshot(path=str(screenshot), full_page=True, timeout=15_000)
        page.close()
