"""The Live tab in headless Chromium: the fake microphone plays a piano WAV, the page shows the notes."""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlsplit

from notestream.model.transcriber import Transcription
from tests.client_web.chromium import BrowserPage
from tests.client_web.served_app import get_json
from tests.client_web.tcp_relay import TcpRelay

# Headless Chromium here has no MIDI devices (no ALSA sequencer), so the page is given a Web MIDI
# output that records what it is sent.
RECORDING_MIDI_OUTPUT = """
window.midiSent = [];
const output = {id: 'rec', name: 'Recording synth', send: (bytes) => window.midiSent.push(Array.from(bytes))};
Object.defineProperty(navigator, 'requestMIDIAccess', {value: async () => ({outputs: new Map([['rec', output]])})});
"""

# Remembers that a key of the live keyboard lit up, even if its note-off came in the same message as its
# note-on (a loaded machine's server can decide both at once, so the key is never on when polled).
KEY_LIT_RECORDER = """
window.keyLit = false;
new MutationObserver((records) => {
  for (const r of records) {
    const wasOn = (r.oldValue || '').split(/\\s+/).includes('on');
    if (r.target.closest('#live-keyboard') && (wasOn || r.target.classList.contains('on'))) window.keyLit = true;
  }
}).observe(document, {subtree: true, attributes: true, attributeFilter: ['class'], attributeOldValue: true});
"""


def heard_more_than(seconds: float) -> str:
    """A page condition: the Live tab has captured more than `seconds` of audio."""
    return f"parseFloat(document.querySelector('#live-duration').textContent) > {seconds}"


def listen_to_the_wav(browser: BrowserPage, server_url: str, wav_seconds: float, expect_notes: bool) -> str:
    """Start listening (MIDI out to the recording output), let the whole WAV play, stop; the session id."""
    page = browser.page
    page.add_init_script(RECORDING_MIDI_OUTPUT)
    page.add_init_script(KEY_LIT_RECORDER)
    page.goto(server_url)
    page.wait_for_selector("body[data-ready=true]")
    page.focus("#midi-output")
    page.wait_for_selector("#midi-output option[value=rec]", state="attached")
    page.select_option("#midi-output", "rec")
    page.get_by_role("button", name="Start listening").click()
    page.wait_for_function("document.querySelector('#live-toggle .label').textContent === 'Stop'")
    page.wait_for_function("document.querySelector('#live-level').value > 0.05")  # the meter hears the piano
    if expect_notes:  # a key lights up while its note sounds
        page.wait_for_function("window.keyLit === true", timeout=(wav_seconds + 20) * 1000)
    page.wait_for_function(heard_more_than(wav_seconds + 0.5), timeout=(wav_seconds + 20) * 1000)
    page.get_by_role("button", name="Stop").click()
    page.wait_for_selector("#live-downloads:not([hidden])", timeout=90_000)
    return page.get_attribute("#live-downloads", "data-session")


def assert_shows_the_latest(browser: BrowserPage, decided: list[tuple[int, float]]) -> None:
    """The page shows exactly the server's notes, or (past its limit) exactly the most recent of them."""
    shown = browser.notes("#live-notes")
    limit = int(browser.page.get_attribute("#live-notes", "data-max"))
    assert 0 < len(shown) <= limit or not decided
    if len(decided) <= limit:
        assert Counter(shown) == Counter(decided)
        return
    assert len(shown) == limit
    assert not Counter(shown) - Counter(decided)  # nothing the server did not decide
    first_shown = min(onset for _, onset in shown)
    assert Counter(n for n in decided if n[1] > first_shown) <= Counter(shown)  # and no gap in the latest


def test_live_notes_reach_the_page_and_the_midi_output_as_the_server_decided_them(
    browser_page: BrowserPage, server_url: str, wav_seconds: float, offline_transcription: Transcription
):
    page = browser_page.page
    session = listen_to_the_wav(browser_page, server_url, wav_seconds, expect_notes=bool(offline_transcription.notes))
    stored = page.evaluate("JSON.parse(localStorage.getItem('notestream.sessions'))")
    token = next(s["token"] for s in stored if s["id"] == session)
    result = get_json(f"{server_url}/v1/sessions/{session}", token)

    decided = [(n["pitch"], round(n["onset"], 3)) for n in result["notes"]]
    assert_shows_the_latest(browser_page, decided)
    assert page.inner_text("#live-count") == page.get_attribute("#live-notes", "data-total") == str(len(decided))
    # The browser heard the file through its audio stack (resampled, shifted by capture start-up):
    # the pitches of the session it showed are the pitches the model finds in the file itself.
    live_pitches = {pitch for pitch, _ in decided}
    offline_pitches = {n.pitch for n in offline_transcription.notes}
    overlap = len(live_pitches & offline_pitches) / max(1, len(live_pitches | offline_pitches))
    assert overlap >= 0.6, (sorted(live_pitches), sorted(offline_pitches))
    if decided:
        assert page.inner_text("#live-latency").endswith(" s")
    midi = page.evaluate("window.midiSent")
    assert Counter(m[1] for m in midi if m[0] == 0x90) == Counter(pitch for pitch, _ in decided)
    assert [0xB0, 123, 0] in midi  # all notes off when the session ends

    formats = page.eval_on_selector_all("#live-downloads a[data-format]", "as => as.map(a => a.dataset.format)")
    assert formats == ["midi", "musicxml", "svg", "pdf", "json"]
    midi_file = page.request.get(server_url + page.get_attribute("#live-downloads a[data-format=midi]", "href"))
    assert midi_file.ok and midi_file.body()[:4] == b"MThd"
    page.get_by_role("tab", name="My sessions").click()
    assert page.locator(f"#sessions-list li[data-session='{session}']").is_visible()
    assert browser_page.errors == []



def test_a_dropped_connection_resumes_the_session_without_gaps_or_repeats(
    browser_page: BrowserPage, server_url: str, wav_seconds: float
):
    page = browser_page.page
    relay = TcpRelay(urlsplit(server_url).port)
    try:
        page.goto(f"http://127.0.0.1:{relay.port}/")
        page.wait_for_selector("body[data-ready=true]")
        page.get_by_role("button", name="Start listening").click()
        page.wait_for_function(heard_more_than(1.2))
        relay.drop()  # the network goes away mid-phrase
        page.wait_for_function("document.querySelector('#live-status').textContent.startsWith('Reconnected')")
        page.wait_for_function(heard_more_than(wav_seconds + 0.5), timeout=(wav_seconds + 20) * 1000)
        page.get_by_role("button", name="Stop").click()
        page.wait_for_selector("#live-downloads:not([hidden])", timeout=90_000)
    finally:
        relay.close()

    heard = float(page.get_attribute("#live-duration", "data-seconds"))
    session = page.get_attribute("#live-downloads", "data-session")
    stored = page.evaluate("JSON.parse(localStorage.getItem('notestream.sessions'))")
    result = get_json(f"{server_url}/v1/sessions/{session}", next(s["token"] for s in stored if s["id"] == session))
    assert relay.dropped >= 1
    assert abs(result["duration"] - heard) < 0.01  # every captured sample reached the server, once
    assert_shows_the_latest(browser_page, [(n["pitch"], round(n["onset"], 3)) for n in result["notes"]])
    assert browser_page.errors == []
