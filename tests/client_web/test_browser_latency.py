"""The browser path of `notestream bench latency`: the real app in Chromium hears a rendered phrase through
its fake microphone, and every note_on's arrival in the page is timed from the true onset in the audio."""

from __future__ import annotations

import pytest

from notestream.notes import Note, Performance
from notestream_bench.browser_latency import MIC_RATE, measure_browser
from notestream_bench.chromium import CHROMIUM
from tests.conftest import render_piano, shipped_low_ms

# Four keys a clear 0.6 s apart, then silence for the look-ahead to pass.
PHRASE = [Note(0.3 + 0.6 * i, 0.8 + 0.6 * i, pitch, 90) for i, pitch in enumerate((60, 64, 67, 72))]
SECONDS = 3.2


def test_each_note_on_reaches_the_page_after_its_true_onset_and_within_seconds(server_url: str):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    clip = render_piano(Performance(PHRASE), MIC_RATE, seconds=SECONDS), PHRASE
    result = measure_browser(server_url.replace("http://", "ws://") + "/v1/stream", ["low"], clip, lead_in=1.0)
    row = result["latencies"][0]
    assert row["latency"] == "low" and row["lookahead_ms"] == shipped_low_ms()
    assert row["matched_note_ons"] == row["reference_notes"] == len(PHRASE)
    earliest, latest = row["from_strike_range_ms"]
    assert 0 < earliest <= row["from_strike"]["p50_ms"] <= latest < 3000
    assert -1.0 <= row["capture_started_s"] < 1.0  # the lead-in of silence covered the capture's start-up
