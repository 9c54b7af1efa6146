"""Debian's Chromium under Playwright, hearing a WAV file as its microphone: for the browser tests and
the browser latency bench.

Playwright's own browser downloads are never used: the system `/usr/bin/chromium` is launched with a
fresh profile and Chromium's fake-media switches, so `getUserMedia` returns the WAV (looped, or once
with `loop=False`) without any permission prompt. Playwright is imported only when a browser starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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
    playwright,
    profile_dir: Path,
    microphone_wav: Path | None = None,
    loop: bool = True,
    viewport: tuple[int, int] = (1280, 860),
):
    """A headless Chromium (a Playwright BrowserContext) with its own `--user-data-dir` (`profile_dir`, created fresh).

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
def playwright_driver() -> Iterator:
    """Playwright's driver (sync API), without any of its downloaded browsers."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise ValueError("the browser needs Playwright's Python package: pip install 'notestream[test]'") from exc
    with sync_playwright() as playwright:
        yield playwright
