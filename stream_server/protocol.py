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


def parse_client_message(text: str) -> StartMessage | StopMessage:
    """Parse one text frame; raise ProtocolError naming what is wrong."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, TypeError) as exc:
        raise ProtocolError("bad_message", f"messages must be JSON objects ({exc})") from exc
    if not isinstance(data, dict):
        raise ProtocolError("bad_message", "messages must be JSON objects with a \"type\" field")
    kind = data.get("type")
    if kind == "stop":
        return StopMessage()
    if kind == "start":
        return _parse_start(data)
    raise ProtocolError("bad_message", f"unknown message type {kind!r}; expected \"start\" or \"stop\"")


def _parse_start(data: dict) -> StartMessage:
    rate = data.get("sample_rate")
    if not isinstance(rate, int) or isinstance(rate, bool):
        raise ProtocolError("bad_message", "start needs an integer \"sample_rate\" (e.g. 48000)")
    if rate not in SUPPORTED_RATES:
        supported = ", ".join(map(str, SUPPORTED_RATES))
        raise ProtocolError("unsupported_rate", f"sample_rate {rate} is not supported; use one of {supported}")
    encoding = data.get("encoding")
    if encoding not in ENCODINGS:
        raise ProtocolError("unsupported_encoding", f"encoding {encoding!r} is not supported; use \"pcm_s16le\" or \"f32le\"")
    channels = data.get("channels", 1)
    if channels not in CHANNELS or isinstance(channels, bool):
        raise ProtocolError("unsupported_encoding", f"channels {channels!r} is not supported; send 1 (mono) or 2 (stereo)")
    session, token = data.get("session"), data.get("token")
    if session is not None and not isinstance(session, str):
        raise ProtocolError("bad_message", "\"session\" must be the session id string from \"ready\"")
    if token is not None and not isinstance(token, str):
        raise ProtocolError("bad_message", "\"token\" must be the token string from \"ready\"")
    after_seq = data.get("after_seq", 0)
    if not isinstance(after_seq, int) or isinstance(after_seq, bool) or after_seq < 0:
        raise ProtocolError("bad_message", "\"after_seq\" must be a non-negative integer (the last event seq received)")
    latency = data.get("latency")
    if latency is not None and not isinstance(latency, str):
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
