"""Page structure that needs no audio: keyboard navigation, labels, Web MIDI absent, stored sessions."""

from __future__ import annotations

from tests.client_web.chromium import BrowserPage


def open_page(browser: BrowserPage, server_url: str) -> None:
    browser.page.goto(server_url)
    browser.page.wait_for_selector("body[data-ready=true]")


def test_tabs_switch_with_the_arrow_keys(quiet_page: BrowserPage, server_url: str):
    open_page(quiet_page, server_url)
    page = quiet_page.page
    page.get_by_role("tab", name="Live").focus()
    page.keyboard.press("ArrowRight")
    assert page.get_by_role("tab", name="File").get_attribute("aria-selected") == "true"
    assert page.locator("#panel-file").is_visible() and page.locator("#panel-live").is_hidden()
    page.keyboard.press("ArrowRight")
    assert page.locator("#panel-sessions").is_visible()
    page.keyboard.press("ArrowRight")  # wraps around
    assert page.locator("#panel-live").is_visible()
    assert page.evaluate("document.activeElement.id") == "tab-live"


def test_every_control_has_an_accessible_name(quiet_page: BrowserPage, server_url: str):
    open_page(quiet_page, server_url)
    unnamed = quiet_page.page.evaluate("""() => [...document.querySelectorAll(
        'button, select, input, meter, progress, canvas, audio, [role=tab], [role=img]')]
      .filter(el => !(el.getAttribute('aria-label') || el.labels?.length || el.textContent.trim()
                      || el.getAttribute('aria-labelledby')))
      .map(el => el.outerHTML.slice(0, 80))""")
    assert unnamed == []


def test_without_web_midi_the_output_is_disabled_with_a_reason(quiet_page: BrowserPage, server_url: str):
    quiet_page.page.add_init_script("delete Navigator.prototype.requestMIDIAccess")
    open_page(quiet_page, server_url)
    page = quiet_page.page
    assert page.locator("#midi-output").is_disabled()
    assert "not available" in page.inner_text("#midi-status")
    assert quiet_page.errors == []


def test_midi_output_that_cannot_be_opened_is_explained(quiet_page: BrowserPage, server_url: str):
    open_page(quiet_page, server_url)
    page = quiet_page.page
    page.focus("#midi-output")  # asks for Web MIDI; headless Chromium has no devices and no grant
    page.wait_for_function("document.querySelector('#midi-status').textContent !== ''")
    assert page.inner_text("#midi-status").startswith(("MIDI output unavailable", "No MIDI outputs found"))
    assert page.locator("#midi-output").input_value() == ""
    assert quiet_page.errors == []


def test_sessions_kept_in_the_browser_are_listed_and_forgotten(quiet_page: BrowserPage, server_url: str):
    open_page(quiet_page, server_url)
    page = quiet_page.page
    page.evaluate("""localStorage.setItem('notestream.sessions', JSON.stringify([
        {id: 's_older', token: 't1', kind: 'live', title: 'Live session', created: '2025-01-01T10:00:00Z', notes: 3},
        {id: 's_newer', token: 't2', kind: 'file', title: 'etude.flac', created: '2025-01-02T10:00:00Z'}]))""")
    page.reload()
    page.get_by_role("tab", name="My sessions").click()
    items = page.locator("#sessions-list li[data-session]")
    assert items.evaluate_all("els => els.map(e => e.dataset.session)") == ["s_older", "s_newer"]
    assert "token=t2" in items.nth(1).locator("a[data-format=midi]").get_attribute("href")
    page.get_by_role("button", name="Forget etude.flac").click()
    assert items.evaluate_all("els => els.map(e => e.dataset.session)") == ["s_older"]
