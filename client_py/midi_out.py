"""Live MIDI output through mido + python-rtmidi: an existing port by name, or a virtual port.

The backend defaults to mido's (rtmidi on the system's default API, ALSA on Linux); pass
`backend="mido.backends.rtmidi/UNIX_JACK"` (or set MIDO_BACKEND) to use JACK instead.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import mido

from .errors import StreamClientError

CLIENT_NAME = "notestream"
SUSTAIN_CC = 64


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
