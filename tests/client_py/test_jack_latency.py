"""The JACK path of `notestream bench latency`: the Python client plays each event on a JACK MIDI port in
real time, and every note_on's arrival at a JACK input port is timed from the true onset in the audio."""

from __future__ import annotations

import pytest

from notestream.notes import Note, Performance
from notestream.server.process import ServerProcess
from notestream_bench.jack_latency import measure_jack
from notestream_bench.jack_server import jackd_available
from tests.conftest import render_piano, shipped_low_ms

PHRASE = [Note(0.3 + 0.6 * i, 0.8 + 0.6 * i, pitch, 90) for i, pitch in enumerate((60, 64, 67, 72))]
SECONDS = 3.2


def test_each_note_on_reaches_the_jack_port_after_its_true_onset_and_after_the_client(
        notestream_server: ServerProcess):
    if not jackd_available():
        pytest.skip("jackd is not installed")
    clip = render_piano(Performance(PHRASE), 16000, seconds=SECONDS), PHRASE
    result = measure_jack(f"{notestream_server.url}/v1/stream", clip, ["low"], chunk_ms=20, period=256)
    row = result["latencies"][0]
    assert result["jack_cycle_ms"] == 5.33 and row["lookahead_ms"] == shipped_low_ms()
    assert row["matched_note_ons"] == row["reference_notes"] == len(PHRASE)
    earliest, latest = row["from_strike_range_ms"]
    assert 0 < earliest <= row["from_strike"]["p50_ms"] <= latest < 3000
    # MIDI leaves the client after the event arrived there: the port cannot be earlier than the client
    assert row["from_strike"]["p50_ms"] >= row["python_client_from_strike"]["p50_ms"]
    assert row["poll_after_arrival"]["p99_ms"] < 50  # JACK's clock and the poll agree: the times are the port's
