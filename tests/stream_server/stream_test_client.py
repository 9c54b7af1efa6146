"""A small real WebSocket client (the `websockets` library) speaking docs/protocol.md, for the tests."""

from __future__ import annotations

import asyncio
import json

import numpy as np
from scipy.io import wavfile
from websockets.asyncio.client import ClientConnection, connect

from notestream.notes import NoteEvent, events_to_performance

EVENT_KINDS = ("note_on", "note_off", "pedal_on", "pedal_off")
SEND_TIMEOUT = 120.0  # s for a whole test clip's audio; it takes a few seconds


def pcm_bytes(path, encoding: str = "pcm_s16le") -> tuple[bytes, int, int]:
    """A 16-bit WAV as interleaved bytes in `encoding`, with its rate and channel count."""
    rate, data = wavfile.read(str(path))
    channels = 1 if data.ndim == 1 else data.shape[1]
    if encoding == "f32le":
        return (data.astype(np.float32) / 32768).astype("<f4").tobytes(), rate, channels
    return data.astype("<i2").tobytes(), rate, channels


def split_randomly(data: bytes, seed: int, low: int = 1, high: int = 20000) -> list[bytes]:
    """Cut bytes at random places (samples are split across frames on purpose)."""
    rng = np.random.default_rng(seed)
    cuts, pos = [], 0
    while pos < len(data):
        step = int(rng.integers(low, high))
        cuts.append(data[pos:pos + step])
        pos += step
    return cuts


async def receive_json(ws: ClientConnection, timeout: float = 30.0) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def start(ws: ClientConnection, rate: int, channels: int = 1, encoding: str = "pcm_s16le", **extra) -> dict:
    await ws.send(json.dumps({"type": "start", "sample_rate": rate, "encoding": encoding, "channels": channels, **extra}))
    return await receive_json(ws)


async def send_chunks(ws: ClientConnection, chunks: list[bytes]) -> None:
    for chunk in chunks:
        await ws.send(chunk)


async def collect_until(ws: ClientConnection, kind: str, timeout: float = 60.0) -> tuple[list[dict], dict]:
    events = []
    while True:
        message = await receive_json(ws, timeout)
        if message["type"] == kind:
            return events, message
        if message["type"] == "error":
            raise AssertionError(f"server error: {message}")
        if message["type"] in EVENT_KINDS:
            events.append(message)


async def stream_whole(url: str, chunks: list[bytes], rate: int, channels: int,
                       encoding: str = "pcm_s16le") -> tuple[list[dict], dict, dict]:
    """Open a session, send all chunks while reading events concurrently, stop; (events, final, ready)."""
    async with connect(url, max_size=None) as ws:
        ready = await start(ws, rate, channels, encoding)
        assert ready["type"] == "ready", ready
        reader = asyncio.create_task(collect_until(ws, "final"))
        try:  # a server that stops taking audio fails the test here, not at pytest's timeout
            await asyncio.wait_for(send_chunks(ws, chunks), SEND_TIMEOUT)
        except TimeoutError:
            if reader.done() and reader.exception() is not None:
                raise reader.exception() from None
            reader.cancel()
            raise AssertionError(f"the server took no more audio for {SEND_TIMEOUT:g} s") from None
        await ws.send(json.dumps({"type": "stop"}))
        events, final = await reader
        return events, final, ready


def notes_of(messages: list[dict], end_time: float | None = None):
    """Notes rebuilt from received event messages (in seq order)."""
    ordered = sorted(messages, key=lambda m: m["seq"])
    events = [NoteEvent(m["type"], m["time"], m.get("pitch"), m.get("velocity", 0)) for m in ordered]
    return events_to_performance(events, end_time).notes
