"""What a streaming server says, as typed values: note and pedal events, status, the final summary.

Server messages are JSON objects with a `type`; `parse_server_message` turns each into one of the
types below so that apps never handle raw dictionaries.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from notestream.notes import NoteEvent, note_name

NOTE_KINDS = ("note_on", "note_off", "pedal_on", "pedal_off")


@dataclass(frozen=True)
class LiveEvent(NoteEvent):
    """A note or pedal event received live; `latency` is seconds from sending its audio to receiving it.

    It is a `model.notes.NoteEvent`, so everything that reads note events reads these.
    """

    latency: float | None = field(default=None, compare=False)
    seq: int | None = field(default=None, compare=False)

    @property
    def name(self) -> str:
        """Scientific pitch name ('C4'), or 'pedal' for the sustain pedal."""
        return note_name(self.pitch) if self.pitch is not None else "pedal"

    def to_json(self) -> dict:
        """The event as the server sent it, plus latency: one JSON line for `--json`."""
        out: dict = {"type": self.kind, "time": round(self.time, 4)}
        if self.pitch is not None:
            out.update(pitch=self.pitch, name=self.name)
        if self.kind in ("note_on", "pedal_on"):
            out["velocity"] = self.velocity
        if self.latency is not None:
            out["latency"] = round(self.latency, 4)
        return out


@dataclass(frozen=True)
class StreamStatus:
    """Periodic progress: audio the server received, audio it has transcribed and stored (as seconds and
    as frames at the session's rate: the acknowledged point), and how far behind it is."""

    audio_seconds: float
    processed_seconds: float
    lag_seconds: float
    processed_frames: int | None = None

    def to_json(self) -> dict:
        return {"type": "status", "audio_seconds": self.audio_seconds,
                "processed_seconds": self.processed_seconds, "lag_seconds": self.lag_seconds}


@dataclass(frozen=True)
class StreamFinal:
    """The end of a session: every event has been sent; `urls` point at the stored results."""

    session: str
    notes: int
    duration: float
    urls: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"type": "final", "session": self.session, "notes": self.notes,
                "duration": self.duration, "urls": self.urls}


StreamEvent = LiveEvent | StreamStatus | StreamFinal


class ProtocolError(ValueError):
    """The server sent something this client does not understand."""


def parse_server_message(message: dict, latency: float | None = None) -> StreamEvent | None:
    """One decoded JSON message -> a typed event; None for messages an app need not see (ready, errors)."""
    kind = message.get("type")
    try:
        if kind in NOTE_KINDS:
            pitch, seq = message.get("pitch"), message.get("seq")
            velocity = int(message.get("velocity", 127 if kind == "pedal_on" else 0))
            return LiveEvent(kind, float(message["time"]), None if pitch is None else int(pitch), velocity, latency,
                             None if seq is None else int(seq))
        if kind == "status":
            frames = message.get("audio_frames")
            return StreamStatus(float(message.get("audio_seconds", 0.0)), float(message.get("processed_seconds", 0.0)),
                                float(message.get("lag_seconds", 0.0)), None if frames is None else int(frames))
        if kind == "final":
            return StreamFinal(str(message["session"]), int(message.get("notes", 0)),
                               float(message.get("duration", 0.0)), dict(message.get("urls") or {}))
    except (KeyError, TypeError, ValueError) as exc:
        raise ProtocolError(f"malformed {kind!r} message from the server: {message}") from exc
    return None
