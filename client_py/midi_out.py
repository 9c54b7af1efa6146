"""Live MIDI output through mido + python-rtmidi: an existing port by name, or a virtual port.

The backend defaults to mido's (rtmidi on the system's default API, ALSA on Linux); pass
`backend="mido.backends.rtmidi/UNIX_JACK"` (or set MIDO_BACKEND) to use JACK instead.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import time
from collections.abc import Iterator

import mido

from .errors import StreamClientError

log = logging.getLogger(__name__)

CLIENT_NAME = "notestream"
SUSTAIN_CC = 64
CLOSE_GRACE_SECONDS = 0.05  # several JACK periods (5.3 ms at 256 frames, 48 kHz): the last cycle may come late


class MidiPortError(StreamClientError):
    """A MIDI port does not exist or the MIDI system cannot be opened."""


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """Silence what ALSA/JACK print on file descriptor 2 while probing; our own error says it better."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def midi_backend(name: str | None = None) -> mido.Backend:
    """The mido backend to use: `name`, else $MIDO_BACKEND, else mido's default (rtmidi)."""
    return mido.Backend(name or os.environ.get("MIDO_BACKEND") or "mido.backends.rtmidi", load=True)


def list_output_ports(backend: str | None = None) -> list[str]:
    """Names of the MIDI output ports that exist now."""
    try:
        with _quiet_native_stderr():
            return list(midi_backend(backend).get_output_names())
    except (OSError, ImportError, ValueError) as exc:
        raise MidiPortError(f"cannot list MIDI ports ({_reason(exc)})") from exc


def open_midi_output(port: str | None = None, virtual: str | None = None, backend: str | None = None):
    """Open an existing output port (exact name, or the one port whose name contains `port`) or create
    a virtual port named `virtual` that synths and DAWs can connect to; returns a mido output port."""
    if (port is None) == (virtual is None):
        raise ValueError("give exactly one of a port name or a virtual port name")
    try:
        with _quiet_native_stderr():
            chosen = midi_backend(backend)
            if virtual is not None:
                return chosen.open_output(virtual, virtual=True, client_name=CLIENT_NAME)
            names = list(chosen.get_output_names())
    except (OSError, ImportError, ValueError) as exc:
        raise MidiPortError(f"cannot open MIDI output ({_reason(exc)})") from exc
    name = _match_port(port, names)
    try:
        with _quiet_native_stderr():
            return chosen.open_output(name)
    except OSError as exc:
        raise MidiPortError(f"cannot open MIDI port {name!r} ({_reason(exc)})") from exc


def _match_port(wanted: str, names: list[str]) -> str:
    if wanted in names:
        return wanted
    matches = [n for n in names if wanted.lower() in n.lower()]
    if len(matches) == 1:
        return matches[0]
    available = ", ".join(repr(n) for n in names) or "none"
    if matches:
        raise MidiPortError(f"MIDI port name {wanted!r} is ambiguous: it matches {', '.join(map(repr, matches))}")
    raise MidiPortError(f"no MIDI output port named {wanted!r}; available: {available} "
                        "(or use --virtual-port NAME to create one)")


def _reason(exc: BaseException) -> str:
    text = " ".join(str(a) for a in exc.args) or type(exc).__name__
    if "JACK server not running" in text:
        return "the JACK server is not running"
    if "ALSA sequencer" in text:
        return "no ALSA sequencer (/dev/snd/seq); load snd-seq or use JACK with MIDO_BACKEND=mido.backends.rtmidi/UNIX_JACK"
    return text


def event_messages(kind: str, pitch: int | None, velocity: int, channel: int = 0) -> list[mido.Message]:
    """The MIDI messages for one note or pedal event."""
    if kind == "note_on" and pitch is not None:
        return [mido.Message("note_on", channel=channel, note=pitch, velocity=max(1, min(127, velocity)))]
    if kind == "note_off" and pitch is not None:
        return [mido.Message("note_off", channel=channel, note=pitch, velocity=0)]
    if kind in ("pedal_on", "pedal_off"):
        value = 127 if kind == "pedal_on" else 0
        return [mido.Message("control_change", channel=channel, control=SUSTAIN_CC, value=value)]
    return []


class PacedMidiWriter:
    """Sends MIDI messages from a thread, at most `burst` every `interval` seconds.

    Transcription decides notes in bursts (hundreds at once when a session resumes or ends), and MIDI
    transports drop what they cannot carry in one go (a JACK port holds about a hundred events per
    cycle). Pacing keeps every message at a small cost in delay; the event loop never waits on MIDI.
    """

    def __init__(self, port, burst: int = 5, interval: float = 0.005, max_pending: int = 100_000):
        self.port = port
        self.burst, self.interval = burst, interval
        self.dropped = 0
        self._queue: queue.Queue[mido.Message | None] = queue.Queue(max_pending)
        self._thread = threading.Thread(target=self._run, name="notestream-midi-out", daemon=True)
        self._thread.start()

    def send(self, message: mido.Message) -> None:
        try:
            self._queue.put_nowait(message)
        except queue.Full:
            self.dropped += 1  # only if the port stops taking messages altogether

    def close(self, timeout: float = 10.0) -> None:
        """Send what is queued, then close the port."""
        self._queue.put(None)
        self._thread.join(timeout)
        time.sleep(max(CLOSE_GRACE_SECONDS, 2 * self.interval))  # the transport hands over the last messages
        self.port.close()
        if self.dropped:
            log.warning("%d MIDI messages were dropped: the port did not keep up", self.dropped)

    def _run(self) -> None:
        sent_in_window, window_start = 0, time.monotonic()
        while (message := self._queue.get()) is not None:
            if sent_in_window >= self.burst:
                time.sleep(max(0.0, window_start + self.interval - time.monotonic()))
                sent_in_window = 0
            if sent_in_window == 0:
                window_start = time.monotonic()
            try:
                self.port.send(message)
            except (OSError, ValueError):
                self.dropped += 1
            sent_in_window += 1
