"""The Live tab in headless Chromium: the fake microphone plays a piano WAV, the page shows the notes."""

from __future__ import annotations

from collections import Counter

from conftest import WAV_SECONDS, BrowserPage, get_json

from model.transcriber import Transcription


def listen_to_the_wav(browser: BrowserPage, server_url: str, expect_notes: bool) -> str:
    """Start listening, let the whole WAV play, stop; returns the session id shown with the downloads."""
    page = browser.page
    page.goto(server_url)
    page.wait_for_selector("body[data-ready=true]")
    page.get_by_role("button", name="Start listening").click()
    page.wait_for_function("document.querySelector('#live-toggle .label').textContent === 'Stop'")
    page.wait_for_function("document.querySelector('#live-level').value > 0.05")  # the meter hears the piano
    if expect_notes:  # a key lights up while its note sounds
        page.wait_for_selector("#live-keyboard .key.on", timeout=(WAV_SECONDS + 20) * 1000)
    page.wait_for_function(f"parseFloat(document.querySelector('#live-duration').textContent) > {WAV_SECONDS + 0.5}",
                           timeout=(WAV_SECONDS + 20) * 1000)
    page.get_by_role("button", name="Stop").click()
    page.wait_for_selector("#live-downloads:not([hidden])", timeout=90_000)
    return page.get_attribute("#live-downloads", "data-session")


def test_live_view_shows_the_notes_the_server_decided_and_offers_the_session_downloads(
    browser_page: BrowserPage, server_url: str, offline_transcription: Transcription
):
    page = browser_page.page
    session = listen_to_the_wav(browser_page, server_url, expect_notes=bool(offline_transcription.notes))
    stored = page.evaluate("JSON.parse(localStorage.getItem('notestream.sessions'))")
    token = next(s["token"] for s in stored if s["id"] == session)
    result = get_json(f"{server_url}/v1/sessions/{session}", token)

    shown = browser_page.notes("#live-notes")
    decided = [(n["pitch"], round(n["onset"], 3)) for n in result["notes"]]
    assert Counter(shown) == Counter(decided)
    assert page.inner_text("#live-count") == str(len(decided))
    # The browser heard the file through its audio stack (resampled, shifted by capture start-up):
    # the pitches it shows are the pitches the model finds in the file itself.
    shown_pitches = {pitch for pitch, _ in shown}
    offline_pitches = {n.pitch for n in offline_transcription.notes}
    overlap = len(shown_pitches & offline_pitches) / max(1, len(shown_pitches | offline_pitches))
    assert overlap >= 0.6, (sorted(shown_pitches), sorted(offline_pitches))
    if shown:
        assert page.inner_text("#live-latency").endswith(" s")

    formats = page.eval_on_selector_all("#live-downloads a[data-format]", "as => as.map(a => a.dataset.format)")
    assert formats == ["midi", "musicxml", "svg", "json"]
    midi = page.request.get(server_url + page.get_attribute("#live-downloads a[data-format=midi]", "href"))
    assert midi.ok and midi.body()[:4] == b"MThd"
    page.get_by_role("tab", name="My sessions").click()
    assert page.locator(f"#sessions-list li[data-session='{session}']").is_visible()
    assert browser_page.errors == []
