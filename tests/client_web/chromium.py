"""Debian's Chromium under Playwright, hearing a WAV file as its microphone.

Playwright's own browser downloads are never used: the system `/usr/bin/chromium` is launched with a
fresh profile and Chromium's fake-media switches, so `getUserMedia` returns the WAV (looped, or once
with `loop=False`) without any permission prompt.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, Playwright, sync_playwright
from playwright.sync_api import Error as PlaywrightError

CHROMIUM = Path("/usr/bin/chromium")
QUIET_SWITCHES = (
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium_switches(microphone_wav: Path | None, loop: bool = True) -> list[str]:
    """Command-line switches: autoplay allowed, and the WAV (mono 16-bit) as a granted microphone."""
    switches = ["--autoplay-policy=no-user-gesture-required", *QUIET_SWITCHES]
    if microphone_wav is not None:
        capture = f"{microphone_wav}{'' if loop else '%noloop'}"
        switches += [
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={capture}",
        ]
    return switches


@contextmanager
def chromium_context(
    playwright: Playwright,
    profile_dir: Path,
    microphone_wav: Path | None = None,
    loop: bool = True,
    viewport: tuple[int, int] = (1280, 860),
) -> Iterator[BrowserContext]:
    """A headless Chromium with its own `--user-data-dir` (`profile_dir`, created fresh).

    `playwright` is one started `sync_playwright()`: a process may run only one at a time.
    """
    if not CHROMIUM.exists():
        raise FileNotFoundError(f"{CHROMIUM} is missing: install Debian's 'chromium' package")
    profile_dir.mkdir(parents=True, exist_ok=True)
    context = playwright.chromium.launch_persistent_context(
        str(profile_dir),
        executable_path=str(CHROMIUM),
        headless=True,
        args=chromium_switches(microphone_wav, loop),
        viewport={"width": viewport[0], "height": viewport[1]},
    )
    try:
        yield context
    finally:
        context.close()


@contextmanager
def playwright_driver() -> Iterator[Playwright]:
    """Playwright's driver (sync API), without any of its downloaded browsers."""
    with sync_playwright() as playwright:
        yield playwright


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
