"""The sheet view of an uploaded recording of real music: the engraved pages the page shows have bars, a time
signature and both staves, and a screenshot of the view is kept with the test artefacts
(test-artifacts/client_web/sheet-view.png) for a person to look at."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy.io import wavfile

from notestream.model.data.humanize import humanize
from notestream.model.data.music21_corpus import KEYBOARD_WORKS, read_score
from notestream.notes import Performance
from tests.client_web.chromium import BrowserPage
from tests.client_web.conftest import ARTIFACTS
from tests.conftest import PIANO_RATE, render_piano

EXCERPT_S = 12.0
SCREENSHOT = ARTIFACTS / "sheet-view.png"


@pytest.fixture(scope="module")
def mazurka_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The opening of Chopin's Mazurka Op. 6 No. 2 (music21's public-domain corpus), humanised and played by
    FluidSynth's piano: a 16 kHz mono WAV."""
    work = next(w for w in KEYBOARD_WORKS if "mazurka06-2" in w.path)
    performance = humanize(read_score(work), seed=3)
    excerpt = Performance([n for n in performance.notes if n.offset < EXCERPT_S],
                          [p for p in performance.pedals if p.offset < EXCERPT_S])
    path = tmp_path_factory.mktemp("mazurka") / "mazurka.wav"
    wavfile.write(str(path), PIANO_RATE, (render_piano(excerpt) * 32767).astype(np.int16))
    return path


def shown_svg_pages(page) -> list[str]:
    """The SVG text behind each sheet image the page shows (blob: URLs, read inside the page)."""
    return page.evaluate("""async () => Promise.all([...document.querySelectorAll('#sheet img')].map(
        img => fetch(img.src).then(r => r.text())))""")


def engraved_upload(browser_page: BrowserPage, server_url: str, wav: Path):
    """The page after uploading `wav` on the File tab and waiting for its sheet."""
    page = browser_page.page
    page.goto(f"{server_url}/#file")
    page.wait_for_selector("body[data-ready=true]")
    page.set_input_files("#file-input", str(wav))
    page.wait_for_selector("#sheet[data-state=ready]", timeout=120_000)
    return page


def test_the_sheet_view_shows_engraved_bars_and_a_metre_and_is_kept_as_a_screenshot(
    quiet_page: BrowserPage, server_url: str, mazurka_wav: Path
):
    page = engraved_upload(quiet_page, server_url, mazurka_wav)
    page.wait_for_function("[...document.querySelectorAll('#sheet img')].every(i => i.complete && i.naturalWidth > 0)")

    pages = shown_svg_pages(page)
    assert pages and all(p.lstrip().startswith(("<?xml", "<svg")) for p in pages)
    svg = "".join(pages)
    assert svg.count('class="measure"') >= 4  # ~12 s of a mazurka at its pace
    assert svg.count('class="meterSig"') >= 2  # the time signature, on both staves
    assert svg.count('class="staff"') >= 2 * svg.count('class="system"') > 0  # two staves per system

    page.evaluate("window.scrollTo(0, 0)")  # the page's sticky header then stays above the sheet
    box = page.locator("figure.sheet").bounding_box()
    page.screenshot(path=str(SCREENSHOT), full_page=True, clip=box)
    with Image.open(SCREENSHOT) as shot:
        assert abs(shot.width - box["width"]) <= 2 and shot.height > 200
        dark = np.asarray(shot.convert("L")) < 100
    assert dark.mean() > 0.005  # staff lines and notes drawn, not a blank box
    assert quiet_page.errors == []


def test_the_sheet_is_engraved_again_in_the_tempo_and_metre_the_user_gives(
    quiet_page: BrowserPage, server_url: str, mazurka_wav: Path
):
    quiet_page.page.clock.install()
    page = engraved_upload(quiet_page, server_url, mazurka_wav)

    page.clock.pause_at(time.time() + 3600)  # page time moves only as the test says
    for _ in range(4):  # tapping the beat every 0.4 s sets 150 beats per minute
        page.click("#sheet-tap")
        page.clock.run_for(400)
    assert page.input_value("#sheet-tempo") == "150"

    page.fill("#sheet-tempo", "1000")  # out of range: the form says so and keeps the sheet
    page.select_option("#sheet-time-signature", "3/4")
    page.click("#sheet-hint button[type=submit]")
    assert page.eval_on_selector("#sheet-tempo", "e => e.validity.rangeOverflow")
    assert page.get_attribute("#sheet", "data-state") == "ready"

    page.fill("#sheet-tempo", "160")
    page.click("#sheet-hint button[type=submit]")
    page.wait_for_selector("#sheet[data-state=ready]", timeout=120_000)
    assert "".join(shown_svg_pages(page)).count('class="measure"') >= 4
    link = page.get_attribute("[data-format=musicxml]", "href")
    assert "tempo=160" in link and "time_signature=3%2F4" in link
    xml = page.evaluate("async (href) => (await fetch(href)).text()", link)
    assert "<beats>3</beats>" in xml and "<beat-type>4</beat-type>" in xml
    assert "time_signature" not in page.get_attribute("[data-format=midi]", "href")
    assert quiet_page.errors == []
