"""Generated hostile WebSocket cases for test_fuzz.py, each with the answer docs/protocol.md promises.

A case sends raw frames (raw_wire.py) and observes (first error code or None, close code). The expected
answer comes from the protocol's rules written out once here (`start_answer`), not from the server.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from tests.stream_server.raw_wire import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_TEXT,
    close_code,
    error_codes,
    frame,
    open_raw_websocket,
    read_server_frames,
    text_frame,
)

RATES = (8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000, 88200, 96000)
MAX_TEXT_BYTES = 4096  # docs/protocol.md: control messages
MESSAGE_LIMIT = 64 * 1024  # the fuzz server runs with --max-message-kb 64
VALID_START = {"type": "start", "sample_rate": 16000, "encoding": "pcm_s16le", "channels": 1}
STOP = text_frame({"type": "stop"})
HOSTILE_VALUES = [None, True, False, 0, -1, 1, 2, 1.0, 16000.0, 2**31, 2**63, -(2**63), 2**64, 10**30, 1e308, "", "x",
                  "16000", "pcm_s16le ", "PCM_S16LE", [], [1], ["pcm_s16le"], {}, {"encoding": "pcm_s16le"}, "x" * 300,
                  "\u0000", "é\u202e"]


@dataclass(frozen=True)
class WsCase:
    """Frames to send on /v1/stream and the documented answer: (error code or None, close code or None)."""

    name: str
    frames: tuple[bytes, ...]
    expected: tuple[str | None, int | None]
    abort: bool = False  # drop the TCP connection after sending, reading nothing

    async def run(self, port: int) -> tuple[str | None, int | None]:
        reader, writer = await open_raw_websocket(port)
        try:
            for data in self.frames:
                writer.write(data)
            await writer.drain()
            if self.abort:
                writer.transport.abort()
                return self.expected
            frames = await read_server_frames(reader)
        finally:
            writer.close()
        codes = error_codes(frames)
        return (codes[0] if codes else None), close_code(frames)


def start_answer(fields: dict) -> tuple[str | None, int]:
    """What the server must answer to a `start` with these fields (docs/protocol.md, `start` and Errors);
    (None, 1000): it is valid, gets `ready`, and the `stop` sent after it gets `final`."""
    def is_int(v):
        return isinstance(v, int) and not isinstance(v, bool)

    if fields.get("type") != "start":
        return "bad_message", 1008
    if any(name not in fields for name in ("sample_rate", "encoding", "channels")) or not is_int(fields["sample_rate"]):
        return "bad_message", 1008
    if fields["sample_rate"] not in RATES:
        return "unsupported_rate", 1008
    if fields["encoding"] not in ("pcm_s16le", "f32le") or not (is_int(fields["channels"]) and fields["channels"] in (1, 2)):
        return "unsupported_encoding", 1008
    session, token, after = fields.get("session"), fields.get("token"), fields.get("after_seq", 0)
    if session is not None and not (isinstance(session, str) and 0 < len(session) <= 256):
        return "bad_message", 1008
    if token is not None and not (isinstance(token, str) and len(token) <= 256):
        return "bad_message", 1008
    if not is_int(after) or not 0 <= after < 2**53:
        return "bad_message", 1008
    if session is not None:
        return "unknown_session", 1008
    return None, 1000


def _start_case(name: str, fields: dict) -> WsCase:
    expected = start_answer(fields)
    frames = (text_frame(fields),) + ((STOP,) if expected == (None, 1000) else ())
    return WsCase(name, frames, expected)


def field_cases() -> list[WsCase]:
    """Every start field set to every hostile value, and each required field left out."""
    cases = []
    for name in ("type", "sample_rate", "encoding", "channels", "session", "token", "after_seq"):
        for i, value in enumerate(HOSTILE_VALUES):
            cases.append(_start_case(f"start-{name}-{i}-{str(value)[:12]}", {**VALID_START, name: value}))
        if name in VALID_START:
            cases.append(_start_case(f"start-without-{name}", {k: v for k, v in VALID_START.items() if k != name}))
    cases += [_start_case(f"start-rate-{rate}-{enc}-{ch}", {**VALID_START, "sample_rate": rate, "encoding": enc, "channels": ch})
              for rate, enc, ch in ((8000, "f32le", 2), (96000, "pcm_s16le", 2), (44100, "f32le", 1), (12345, "f32le", 1))]
    return cases


def truncation_cases() -> list[WsCase]:
    """A valid start cut after every other byte: never JSON, always bad_message."""
    text = json.dumps(VALID_START)
    return [WsCase(f"truncated-start-{n}", (text_frame(text[:n]),), ("bad_message", 1008)) for n in range(0, len(text), 2)]


def size_and_shape_cases() -> list[WsCase]:
    """Sizes around the limits, deep nesting, JSON that is not an object, odd encodings."""
    padded = {**VALID_START, "pad": "x" * MAX_TEXT_BYTES}
    return [
        WsCase("text-over-control-limit", (text_frame(padded),), ("bad_message", 1008)),
        WsCase("text-over-message-limit", (frame(OP_TEXT, b" " * (MESSAGE_LIMIT + 1)),), ("too_large", 1009)),
        WsCase("text-announced-over-twice-the-limit", (frame(OP_TEXT, b" " * (2 * MESSAGE_LIMIT + 2048))[:10],), (None, 1009)),
        WsCase("binary-announced-over-twice-the-limit", (frame(OP_BINARY, b"\0" * (2 * MESSAGE_LIMIT + 2048))[:10],), (None, 1009)),
        WsCase("binary-announced-2-64", (bytes([0x82, 0xFF]) + b"\x7f" + b"\xff" * 7,), (None, 1009)),
        *[WsCase(f"nested-lists-{d}", (text_frame("[" * d + "]" * d),), ("bad_message", 1008)) for d in (10, 500, 1000, 2000)],
        *[WsCase(f"nested-objects-{d}", (text_frame('{"a":' * d + "1" + "}" * d),), ("bad_message", 1008)) for d in (10, 600)],
        WsCase("nested-start-field", (text_frame({**VALID_START, "channels": [[[[1]]]]}),), ("unsupported_encoding", 1008)),
        WsCase("json-bom", (text_frame("\ufeff" + json.dumps(VALID_START)),), ("bad_message", 1008)),
        WsCase("huge-integer-digits", (text_frame('{"type":"start","sample_rate":' + "9" * 4000 + "}"),), ("bad_message", 1008)),
        WsCase("nan-rate", (text_frame('{"type":"start","sample_rate":NaN,"encoding":"f32le","channels":1}'),), ("bad_message", 1008)),
        WsCase("duplicate-keys", (text_frame('{"type":"start","type":"stop"}'),), ("bad_message", 1008)),
        *[WsCase(f"json-{kind}", (text_frame(text),), ("bad_message", 1008))
          for kind, text in (("null", "null"), ("number", "1"), ("string", '"start"'), ("list", "[]"), ("true", "true"))],
        WsCase("invalid-utf8-text", (frame(OP_TEXT, b'{"type":"st\xffart"}'),), (None, 1007)),
        WsCase("utf16-text", (frame(OP_TEXT, json.dumps(VALID_START).encode("utf-16")),), (None, 1007)),
    ]


def order_cases() -> list[WsCase]:
    """Messages in the wrong order, and audio framings that are legal but odd."""
    start = text_frame(VALID_START)
    return [
        WsCase("audio-before-start", (frame(OP_BINARY, b"\0\0" * 100),), ("bad_message", 1008)),
        WsCase("empty-audio-before-start", (frame(OP_BINARY, b""),), ("bad_message", 1008)),
        WsCase("stop-before-start", (STOP,), ("bad_message", 1008)),
        WsCase("start-twice", (start, start), ("bad_message", 1008)),
        WsCase("start-audio-start", (start, frame(OP_BINARY, b"\1"), start), ("bad_message", 1008)),
        WsCase("garbage-after-start", (start, text_frame("garbage")), ("bad_message", 1008)),
        WsCase("invalid-utf8-after-start", (start, frame(OP_TEXT, b"\xc3\x28")), (None, 1007)),
        WsCase("unknown-type-after-start", (start, text_frame({"type": "pause"})), ("bad_message", 1008)),
        WsCase("audio-too-big-after-start", (start, frame(OP_BINARY, b"\0" * (MESSAGE_LIMIT + 2))), ("too_large", 1009)),
        WsCase("odd-bytes-then-stop", (start, frame(OP_BINARY, b"\1"), frame(OP_BINARY, b"\0" * 3), STOP), (None, 1000)),
        WsCase("empty-frames-then-stop", (start, *[frame(OP_BINARY, b"")] * 5, STOP), (None, 1000)),
        WsCase("stop-with-extra-fields", (start, text_frame({"type": "stop", "x": [1]})), (None, 1000)),
        WsCase("f32-nan-audio-then-stop", (text_frame({**VALID_START, "encoding": "f32le"}),
                                           frame(OP_BINARY, b"\0\0\xc0\x7f" * 4000 + b"\0\0\x80\x7f" * 4000), STOP), (None, 1000)),
    ]


def raw_frame_cases() -> list[WsCase]:
    """Frames that break RFC 6455 itself, before and after `start`: the WebSocket layer closes (1002/1007)."""
    bad = {
        **{f"opcode-{op:x}": frame(op, b"x") for op in (3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF)},
        **{f"rsv-{rsv}": frame(OP_TEXT, b"{}", rsv=rsv) for rsv in (1, 2, 4, 7)},
        "continuation-first": frame(OP_CONT, b"x"),
        "fragmented-ping": frame(OP_PING, b"x", fin=False),
        "ping-too-long": frame(OP_PING, b"x" * 126),
        "close-one-byte": frame(OP_CLOSE, b"\x03"),
        "close-code-999": frame(OP_CLOSE, b"\x03\xe7"),
        "close-code-5000": frame(OP_CLOSE, b"\x13\x88"),
        "text-fragment-then-binary": frame(OP_TEXT, b"{", fin=False) + frame(OP_BINARY, b"x"),
    }
    expected = {"close-code-999": 1002, "close-code-5000": 1000}  # 5000 is unassigned, not forbidden: a normal close
    cases = []
    for prefix, lead in (("", ()), ("after-start-", (text_frame(VALID_START),))):
        for name, data in bad.items():
            cases.append(WsCase(prefix + name, (*lead, data), (None, expected.get(name, 1002))))
    cases.append(WsCase("close-invalid-utf8-reason", (frame(OP_CLOSE, b"\x03\xe8\xff\xfe"),), (None, 1007)))
    return cases


def abort_cases() -> list[WsCase]:
    """Clients that vanish: right after the upgrade, between start and ready, mid-frame, mid-audio."""
    start = text_frame(VALID_START)
    return [
        WsCase("abort-after-upgrade", (), (None, None), abort=True),
        WsCase("abort-after-start", (start,), (None, None), abort=True),
        WsCase("abort-mid-frame-header", (frame(OP_BINARY, b"\0" * 300)[:3],), (None, None), abort=True),
        WsCase("abort-mid-audio", (start, frame(OP_BINARY, b"\0\1" * 8000), frame(OP_BINARY, b"\0" * 400)[:50]),
               (None, None), abort=True),
        WsCase("clean-close-after-upgrade", (frame(OP_CLOSE, b"\x03\xe8"),), (None, 1000)),
        WsCase("clean-close-after-start", (start, frame(OP_CLOSE, b"\x03\xe8")), (None, 1000)),
    ]


def all_ws_cases() -> list[WsCase]:
    return field_cases() + truncation_cases() + size_and_shape_cases() + order_cases() + raw_frame_cases() + abort_cases()
