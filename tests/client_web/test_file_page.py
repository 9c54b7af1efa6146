"""The File tab: upload a recording, follow the job, show and play the result, download it."""

from __future__ import annotations

from pathlib import Path

from notestream.model.transcriber import Transcription
from tests.client_web.chromium import BrowserPage


def test_uploaded_file_is_transcribed_shown_and_downloadable(
    browser_page: BrowserPage, server_url: str, microphone_wav: Path, offline_transcription: Transcription
):
    page = browser_page.page
    page.goto(server_url)
    page.wait_for_selector("body[data-ready=true]")
    page.get_by_role("tab", name="File").click()
    page.set_input_files("#file-input", str(microphone_wav))
    page.wait_for_selector("#result:not([hidden])[data-note-count]", timeout=90_000)

    assert page.get_attribute("#upload-progress", "value") == "1"
    assert page.get_attribute("#job-progress", "value") == "1"
    expected = [(n.pitch, round(n.onset, 3)) for n in offline_transcription.notes]
    assert sorted(browser_page.notes("#result-notes")) == sorted(expected)
    assert page.get_attribute("#result", "data-note-count") == str(len(expected))
    # the original recording is playable beside the transcription
    assert page.evaluate("document.querySelector('#original-audio').src.startsWith('blob:')")
    page.wait_for_function("document.querySelector('#original-audio').readyState >= 1")
    # sheet music: an image once engraved, or a sentence saying why not
    page.wait_for_selector("#sheet[data-state=ready], #sheet[data-state=unavailable]", timeout=60_000)
    if page.get_attribute("#sheet", "data-state") == "ready":
        assert page.locator("#sheet img").count() >= 1
    else:
        assert page.inner_text("#sheet").startswith("No sheet music: ")

    hrefs = dict(page.eval_on_selector_all(
        "#result-downloads a[data-format]", "as => as.map(a => [a.dataset.format, a.getAttribute('href')])"))
    assert list(hrefs) == ["midi", "musicxml", "svg", "pdf", "json"]
    midi = page.request.get(server_url + hrefs["midi"])
    assert midi.ok and midi.body()[:4] == b"MThd"
    notes_json = page.request.get(server_url + hrefs["json"]).json()
    assert len(notes_json["notes"]) == len(expected)
    chips = page.eval_on_selector_all("#result-notes li", "ls => ls.map(l => [Number(l.dataset.pitch), l.textContent])")
    assert sorted(map(tuple, chips)) == sorted((n["pitch"], n["name"]) for n in notes_json["notes"])  # the sheet's key
    if page.get_attribute("#sheet", "data-state") == "ready":
        pdf = page.request.get(server_url + hrefs["pdf"], timeout=120_000)
        assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF-")

    page.get_by_role("button", name="Play transcription").click()
    page.wait_for_function("document.querySelector('#synth-play').getAttribute('aria-pressed') === 'true'")
    page.get_by_role("button", name="Stop").click()
    assert browser_page.errors == []


def test_a_file_that_is_not_audio_gets_the_servers_explanation(
    quiet_page: BrowserPage, server_url: str, tmp_path: Path
):
    not_audio = tmp_path / "notes.wav"
    not_audio.write_text("this is a shopping list, not a recording\n")
    page = quiet_page.page
    page.goto(f"{server_url}/#file")
    page.wait_for_selector("body[data-ready=true]")
    page.set_input_files("#file-input", str(not_audio))
    page.wait_for_selector("#file-status.error")
    assert "not audio" in page.inner_text("#file-status")
    assert page.locator("#result").is_hidden()
