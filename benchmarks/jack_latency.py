"""Note-on latency to a JACK MIDI port: the Python client plays each event on its MIDI output
(notestream.client's MidiPortSink, the sink `notestream stream --midi-port` uses) into a dummy-driver
JACK server, and a JACK MIDI input port (a synth's) time-stamps each note_on as it arrives.

Arrival times come from JACK's own clock: python-rtmidi gives each message the time since the previous
one, taken in the input client's JACK cycle. Their running sum is pinned to this process's
`perf_counter()` at the least-delayed poll (a poll can only be later than the arrival), so how often the
bench polls adds nothing. The audio's sample 0 is on the same `perf_counter()` (the sender's clock).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from notestream.client.events import parse_server_message
from notestream.client.midi_out import open_midi_output
from notestream.client.sinks import MidiPortSink
from notestream.notes import Note
from notestream_bench.jack_server import dummy_jack_server
from notestream_bench.stream_bench import StrikeClock, percentiles_ms, stream_in_real_time, strike_row

JACK_RATE = 48000
NOTE_ON = 0x90
SYNTH_PORT = "notestream-bench-synth"


class JackMidiRecorder:
    """A JACK MIDI input port named SYNTH_PORT that records each message with its arrival time."""

    def __init__(self):
        import rtmidi

        self.port = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, "bench", queue_size_limit=65536)
        self.port.open_virtual_port(SYNTH_PORT)
        self.received: list[tuple[float, float, list[int]]] = []  # (poll time, JACK time since first, message)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="bench-jack-recorder", daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        jack_time = 0.0
        while not self._stop.is_set():
            got = self.port.get_message()
            if got is None:
                time.sleep(0.0005)
                continue
            message, delta = got
            jack_time += delta if self.received else 0.0
            self.received.append((time.perf_counter(), jack_time, message))

    def wait_for_note_ons(self, count: int, timeout: float = 5.0) -> None:
        """Wait until `count` note_ons have arrived (a loaded machine's JACK cycles can run late)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.note_ons()[0]) < count:
            time.sleep(0.05)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.port.close_port()
        self.port.delete()

    def note_ons(self) -> tuple[list[tuple[float, int]], np.ndarray]:
        """(arrival time on perf_counter, pitch) of each note_on, and how much later each was polled (s)."""
        received = list(self.received)  # the poll thread may still append
        if not received:
            return [], np.zeros(0)
        polled = np.array([r[0] for r in received])
        jack = np.array([r[1] for r in received])
        arrivals = float((polled - jack).min()) + jack
        ons = [(float(t), m[1]) for t, (_, _, m) in zip(arrivals, received, strict=True)
               if len(m) == 3 and m[0] & 0xF0 == NOTE_ON and m[2] > 0]
        return ons, polled - arrivals


def paired_in_order(played: list[tuple[int, float]], arrived: list[tuple[float, int]]) -> list[tuple[tuple[int, float], float]]:
    """Each played note_on (pitch, event time) with the arrival time of its MIDI message: messages keep their
    order on the port, so a played note whose pitch the next arrival does not have was lost on the way."""
    pairs, k = [], 0
    for note in played:
        if k < len(arrived) and arrived[k][1] == note[0]:
            pairs.append((note, arrived[k][0]))
            k += 1
    return pairs


def measure_jack(stream_url: str, clip: tuple[np.ndarray, list[Note]], names: list[str], chunk_ms: float,
                 period: int) -> dict:
    """Latency to a JACK MIDI port at each operating point, on a fresh dummy JACK server."""
    with tempfile.TemporaryDirectory(prefix="notestream-jack-") as tmp:
        with dummy_jack_server(Path(tmp) / "jackd.log", period=period, rate=JACK_RATE) as backend:
            rows = [jack_row(stream_url, clip, name, chunk_ms, backend) for name in names]
    return {"client": "Python client, MIDI out through MidiPortSink (paced writer thread) into JACK",
            "jack_period_frames": period, "jack_rate": JACK_RATE,
            "jack_cycle_ms": round(period / JACK_RATE * 1000, 2), "latencies": rows}


def jack_row(stream_url: str, clip: tuple[np.ndarray, list[Note]], name: str, chunk_ms: float, backend: str) -> dict:
    """Stream the clip in real time at `name`, every event played on a JACK port; latency at the synth's port."""
    audio, notes = clip
    recorder = JackMidiRecorder()
    sink = MidiPortSink(open_midi_output(SYNTH_PORT, backend=backend))
    forwarded: list[tuple[int, float]] = []  # (pitch, event time) of each note_on played, in order

    def play(message: dict) -> None:
        sink.handle(parse_server_message(message))
        if message["type"] == "note_on":
            forwarded.append((message["pitch"], message["time"]))

    try:
        report = asyncio.run(stream_in_real_time(stream_url, audio, chunk_ms, name, notes, on_event=play))
        recorder.wait_for_note_ons(len(forwarded))
    finally:
        sink.close(None)
        recorder.close()
    if report.error:
        raise RuntimeError(f"the stream at {name!r} failed: {report.error}")
    arrivals, poll_delays = recorder.note_ons()
    pairs = paired_in_order(forwarded, arrivals)
    strikes = StrikeClock(notes)
    strikes.started = report.started
    latencies = [arrived - struck for (pitch, t), arrived in pairs if (struck := strikes.struck(pitch, t)) is not None]
    row = strike_row(name, report.lookahead, latencies, len(notes), note_ons=len(forwarded),
                     note_ons_lost_on_the_port=len(forwarded) - len(pairs),
                     python_client_from_strike=percentiles_ms(report.strike_latencies),
                     poll_after_arrival=percentiles_ms(list(poll_delays)))
    print(f"jack, {name}: from the strike {row['from_strike']}", file=sys.stderr)
    return row
