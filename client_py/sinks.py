"""Where live events go: a terminal view, JSON lines, a MIDI port, a MIDI file at the end.

Every sink has `handle(event)` for each event as it arrives and `close(final)` once the stream ends
(`final` is None when it ended with an error); the terminal view also shows the input level.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Protocol, TextIO

from notestream.midi import write_midi
from notestream.notes import events_to_performance

from .events import LiveEvent, StreamEvent, StreamFinal, StreamStatus
from .midi_out import PacedMidiWriter, event_messages

METER_WIDTH = 30
METER_FLOOR_DB = -60.0


class EventSink(Protocol):
    def handle(self, event: StreamEvent) -> None: ...

    def close(self, final: StreamFinal | None) -> None: ...


class TerminalView:
    """Human-readable lines for each note and pedal change, and (on a terminal) a live status line with
    a level meter, audio sent, and how far the server lags."""

    def __init__(self, out: TextIO = sys.stderr, interactive: bool | None = None):
        self.out = out
        self.interactive = out.isatty() if interactive is None else interactive
        self.notes = 0
        self._status = ""
        self._level_db = -120.0
        self._sent = 0.0
        self._lag = 0.0
        self._drawn_at = 0.0

    def handle(self, event: StreamEvent) -> None:
        if isinstance(event, LiveEvent):
            if event.kind == "note_on":
                self.notes += 1
                self._print(f"{event.time:9.3f} s  {event.name:<4} ({event.pitch:3d})  vel {event.velocity:3d}"
                            + _latency_text(event.latency))
            elif event.kind in ("pedal_on", "pedal_off"):
                self._print(f"{event.time:9.3f} s  pedal {'down' if event.kind == 'pedal_on' else 'up'}"
                            + _latency_text(event.latency))
        elif isinstance(event, StreamStatus):
            self._lag = event.lag_seconds
            self._redraw()

    def show_input(self, level_db: float, sent_seconds: float) -> None:
        """Called by the feeder for each chunk of audio: updates the meter at most 10 times a second."""
        self._level_db, self._sent = level_db, sent_seconds
        self._redraw()

    def close(self, final: StreamFinal | None) -> None:
        self._clear_status()
        if final is not None:
            urls = final.urls.get("midi") or final.urls.get("json") or ""
            self.out.write(f"done: {final.notes} notes in {final.duration:.1f} s (session {final.session})"
                           + (f"; results at {urls}" if urls else "") + "\n")
        self.out.flush()

    def _print(self, line: str) -> None:
        self._clear_status()
        self.out.write(line + "\n")
        self._redraw(force=True)

    def _redraw(self, force: bool = False) -> None:
        if not self.interactive or (not force and time.monotonic() - self._drawn_at < 0.1):
            return
        self._drawn_at = time.monotonic()
        self._clear_status()
        self._status = f"{level_meter(self._level_db)} {self._level_db:6.1f} dB  sent {self._sent:7.1f} s  lag {self._lag:4.2f} s"
        self.out.write(self._status)
        self.out.flush()

    def _clear_status(self) -> None:
        if self.interactive and self._status:
            self.out.write("\r" + " " * len(self._status) + "\r")
            self._status = ""


def level_meter(level_db: float, width: int = METER_WIDTH) -> str:
    """A bar like [#######.......] for a level between METER_FLOOR_DB and 0 dBFS."""
    filled = round(width * min(1.0, max(0.0, (level_db - METER_FLOOR_DB) / -METER_FLOOR_DB)))
    return "[" + "#" * filled + "." * (width - filled) + "]"


def _latency_text(latency: float | None) -> str:
    return f"  latency {latency:5.3f} s" if latency is not None else ""


class JsonLinesSink:
    """One JSON object per line for every note/pedal event and the final summary: for piping."""

    def __init__(self, out: TextIO = sys.stdout, include_status: bool = False):
        self.out = out
        self.include_status = include_status

    def handle(self, event: StreamEvent) -> None:
        if isinstance(event, StreamStatus) and not self.include_status:
            return
        self.out.write(json.dumps(event.to_json()) + "\n")
        self.out.flush()

    def close(self, final: StreamFinal | None) -> None:
        self.out.flush()


class MidiPortSink:
    """Plays events on an open mido output port as they arrive (paced, so bursts are not dropped);
    releases held notes and the pedal at the end."""

    def __init__(self, port, channel: int = 0):
        self.port = PacedMidiWriter(port)
        self.channel = channel
        self._held: set[int] = set()
        self._pedal = False

    def handle(self, event: StreamEvent) -> None:
        if not isinstance(event, LiveEvent):
            return
        for message in event_messages(event.kind, event.pitch, event.velocity, self.channel):
            self.port.send(message)
        if event.kind == "note_on" and event.pitch is not None:
            self._held.add(event.pitch)
        elif event.kind == "note_off":
            self._held.discard(event.pitch)
        elif event.kind in ("pedal_on", "pedal_off"):
            self._pedal = event.kind == "pedal_on"

    def close(self, final: StreamFinal | None) -> None:
        for pitch in sorted(self._held):
            for message in event_messages("note_off", pitch, 0, self.channel):
                self.port.send(message)
        if self._pedal:
            for message in event_messages("pedal_off", None, 0, self.channel):
                self.port.send(message)
        self._held.clear()
        self._pedal = False
        self.port.close()


class MidiFileRecorder:
    """Collects events and writes them as a MIDI file (notes with velocity, sustain pedal) at the end."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.events: list[LiveEvent] = []

    def handle(self, event: StreamEvent) -> None:
        if isinstance(event, LiveEvent):
            self.events.append(event)

    def close(self, final: StreamFinal | None) -> None:
        """Write what arrived, also after an error, so a long take is never lost."""
        end = final.duration if final is not None else None
        write_midi(events_to_performance(self.events, end), self.path)
