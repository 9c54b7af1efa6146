"""The WebSocket protocol of docs/protocol.md: parsing client messages and building server messages."""

from __future__ import annotations

import json
from dataclasses import dataclass

from notestream.notes import NoteEvent, note_name

SUPPORTED_RATES = (8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000, 88200, 96000)
ENCODINGS = {"pcm_s16le": 2, "f32le": 4}  # encoding -> bytes per sample
CHANNELS = (1, 2)

CLOSE_NORMAL = 1000
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_INTERNAL = 1011
CLOSE_RESTART = 1012
CLOSE_TRY_LATER = 1013


class ProtocolError(Exception):
    """A refusal the client can understand: an `error` code, a sentence, and the close code to use."""

    def __init__(self, code: str, message: str, close_code: int = CLOSE_POLICY):
        super().__init__(message)
        self.code = code
        self.message = message
        self.close_code = close_code

    def to_message(self) -> dict:
        return {"type": "error", "code": self.code, "message": self.message}


@dataclass(frozen=True)
class StartMessage:
    """The client's opening message: the audio format, and a session to resume (optional)."""

    sample_rate: int
    encoding: str
    channels: int
    session: str | None = None
    token: str | None = None
    after_seq: int = 0
    latency: str | None = None  # a named operating point of the model (None: the server's default)

    @property
    def bytes_per_frame(self) -> int:
        return ENCODINGS[self.encoding] * self.channels


@dataclass(frozen=True)
class StopMessage:
    """The client has sent all its audio: flush and finalise."""


MAX_TEXT_BYTES = 4096  # control messages are small; anything longer is not one of ours
MAX_ID_CHARS = 256
MAX_SEQ = (1 << 53) - 1  # exact in every JSON implementation, and within SQLite's integers


def parse_client_message(text: str | bytes) -> StartMessage | StopMessage:
    """Parse and validate one text frame: the one place message types and values are checked.

    Raises ProtocolError (`bad_message`, `unsupported_rate` or `unsupported_encoding`) naming what is wrong.
    """
    size = len(text) if len(text) > MAX_TEXT_BYTES or isinstance(text, bytes) else len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_TEXT_BYTES:
        raise ProtocolError("bad_message", f"control messages are at most {MAX_TEXT_BYTES} bytes; this one has {size}")
    try:
        data = json.loads(text)
    except (ValueError, TypeError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ProtocolError("bad_message", f"messages must be JSON objects ({_short(exc)})") from exc
    if not isinstance(data, dict):
        raise ProtocolError("bad_message", "messages must be JSON objects with a \"type\" field")
    kind = data.get("type")
    if kind == "stop":
        return StopMessage()
    if kind == "start":
        return _parse_start(data)
    raise ProtocolError("bad_message", f"unknown message type {_short(kind)}; expected \"start\" or \"stop\"")


def _short(value: object, limit: int = 80) -> str:
    """A client-supplied value for an error message, cut to `limit` characters."""
    text = repr(value) if not isinstance(value, BaseException) else str(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


REQUIRED_START_FIELDS = {"sample_rate": "48000", "encoding": "\"pcm_s16le\"", "channels": "1"}


def _parse_start(data: dict) -> StartMessage:
    for name, example in REQUIRED_START_FIELDS.items():
        if name not in data:
            raise ProtocolError("bad_message", f"start needs \"{name}\" (e.g. {example}); see docs/protocol.md")
    rate = data["sample_rate"]
    if not _is_int(rate):
        raise ProtocolError("bad_message", "start needs an integer \"sample_rate\" (e.g. 48000)")
    if rate not in SUPPORTED_RATES:
        supported = ", ".join(map(str, SUPPORTED_RATES))
        raise ProtocolError("unsupported_rate", f"sample_rate {_short(rate)} is not supported; use one of {supported}")
    encoding = data.get("encoding")
    if not isinstance(encoding, str) or encoding not in ENCODINGS:
        raise ProtocolError("unsupported_encoding", f"encoding {_short(encoding)} is not supported; use \"pcm_s16le\" or \"f32le\"")
    channels = data["channels"]
    if not _is_int(channels) or channels not in CHANNELS:
        raise ProtocolError("unsupported_encoding", f"channels {_short(channels)} is not supported; send the integer 1 (mono) or 2 (stereo)")
    session, token = data.get("session"), data.get("token")
    if session is not None and not (isinstance(session, str) and 0 < len(session) <= MAX_ID_CHARS):
        raise ProtocolError("bad_message", "\"session\" must be the session id string from \"ready\"")
    if token is not None and not (isinstance(token, str) and len(token) <= MAX_ID_CHARS):
        raise ProtocolError("bad_message", "\"token\" must be the token string from \"ready\"")
    after_seq = data.get("after_seq", 0)
    if not _is_int(after_seq) or not 0 <= after_seq <= MAX_SEQ:
        raise ProtocolError("bad_message", f"\"after_seq\" must be an integer from 0 to {MAX_SEQ} (the last event seq received)")
    latency = data.get("latency")
    if latency is not None and not (isinstance(latency, str) and 0 < len(latency) <= MAX_ID_CHARS):
        raise ProtocolError("bad_message", "\"latency\" must be a name the server offers (see /healthz \"latencies\")")
    return StartMessage(rate, encoding, channels, session, token, after_seq, latency)


def event_message(seq: int, event: NoteEvent) -> dict:
    """A note or pedal event as sent to clients (docs/protocol.md, "Events")."""
    message: dict = {"type": event.kind, "seq": seq, "time": round(event.time, 6)}
    if event.pitch is not None:
        message["pitch"] = event.pitch
        message["name"] = note_name(event.pitch)
    if event.kind == "note_on":
        message["velocity"] = event.velocity
    return message


def session_urls(session_id: str) -> dict[str, str]:
    """Where a session's results live (relative URLs; the token must be added to read them)."""
    base = f"/v1/sessions/{session_id}"
    return {"json": base, "midi": f"{base}.mid", "musicxml": f"{base}.musicxml", "svg": f"{base}.svg",
            "pdf": f"{base}.pdf", "audio": f"{base}.flac"}
