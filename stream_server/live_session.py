"""One live session: audio in order through its SessionCore (session_core.py), events stored then sent.

`LiveSession` is the asyncio shell around the core: a bounded audio queue, a pump task, and the connection
currently attached (if any). It is given the services it uses (`SessionServices`), not the whole server.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .batching import InferenceBatcher
from .metrics import Metrics
from .protocol import ProtocolError, event_message, session_urls
from .session_core import SessionCore
from .storage import SessionRecord, SessionStore

log = logging.getLogger(__name__)
QUEUE_CHUNKS = 32  # bounded: a client faster than the model is paused by TCP back-pressure
QUEUE_PIECE_SAMPLES = 1 << 15  # larger frames are queued in pieces: at most 32 x 128 KiB of audio waits per session
_STOP = None


Sink = Callable[[dict], Awaitable[None]]


@dataclass(frozen=True)
class SessionServices:
    """What a live session uses of the server."""

    batcher: InferenceBatcher  # runs its model work in rounds with the other sessions'
    store: SessionStore
    stored: Callable[..., Awaitable[Any]]  # runs a store call on the storage thread
    compress_audio: Callable[[SessionRecord], Awaitable[None]]
    metrics: Metrics


class LiveSession:
    """A session in memory: survives its connection dropping, until resumed, stopped or expired."""

    def __init__(self, services: SessionServices, record: SessionRecord, core: SessionCore):
        self.services, self.record, self.core = services, record, core
        self.id = record.id
        self.received_frames = core.input_frames
        self.processed_frames = core.input_frames
        self.event_count = core.next_seq - 1
        self.sink: Sink | None = None
        self.final_message: dict | None = None
        self.failure: str | None = None
        self._queue: asyncio.Queue = asyncio.Queue(maxsize=QUEUE_CHUNKS)
        self._send_lock = asyncio.Lock()
        self._finishing = False
        self._pump = asyncio.create_task(self._run(), name=f"session-{self.id}")

    @property
    def sample_rate(self) -> int:
        return self.core.sample_rate

    @property
    def finishing(self) -> bool:
        return self._finishing

    def status_message(self) -> dict:
        received, processed = self.received_frames / self.sample_rate, self.processed_frames / self.sample_rate
        return {"type": "status", "audio_seconds": round(received, 4), "processed_seconds": round(processed, 4),
                "lag_seconds": round(received - processed, 4), "audio_frames": self.processed_frames,
                "events": self.event_count}

    async def feed(self, interleaved: np.ndarray, arrival: float) -> None:
        """Queue audio for the model (waits while the queue is full; that is the back-pressure)."""
        if self._pump.done() or self._finishing:
            raise ProtocolError("internal", self.failure or "this session is no longer accepting audio", 1011)
        self.received_frames += interleaved.size // self.core.channels
        step = QUEUE_PIECE_SAMPLES - QUEUE_PIECE_SAMPLES % self.core.channels
        for start in range(0, interleaved.size, step):  # queued audio stays under QUEUE_CHUNKS pieces
            await self._put((interleaved[start:start + step], arrival))

    async def _put(self, item: tuple[np.ndarray, float]) -> None:
        if not self._queue.full():
            self._queue.put_nowait(item)
            return
        put = asyncio.ensure_future(self._queue.put(item))
        await asyncio.wait({put, self._pump}, return_when=asyncio.FIRST_COMPLETED)
        if not put.done():  # the pump died while we waited: never hang the connection
            put.cancel()
            raise ProtocolError("internal", self.failure or "the session stopped processing audio", 1011)

    async def settle(self) -> None:
        """Wait until every received chunk is processed and stored: a resuming client resends from there,
        so audio still queued from the dropped connection must not be counted twice."""
        while self.processed_frames < self.received_frames and not self._pump.done():
            await asyncio.sleep(0.01)

    async def attach(self, sink: Sink, after_seq: int) -> None:
        """Send this connection the stored events after `after_seq`, then every new event."""
        async with self._send_lock:
            for seq, event in await self.services.stored(self.services.store.events, self.id, after_seq):
                await sink(event_message(seq, event))
            self.sink = sink

    def detach(self, sink: Sink) -> None:
        if self.sink == sink:  # bound methods compare equal, never identical
            self.sink = None

    async def finish(self) -> dict:
        """Process all queued audio, flush the model's tail, mark the session final; returns `final`."""
        if not self._finishing:
            self._finishing = True
            await self._queue.put(_STOP)
        await asyncio.shield(self._pump)
        if self.final_message is None:
            raise ProtocolError("internal", f"session {self.id} could not be finalised: {self.failure}", 1011)
        return self.final_message

    async def _run(self) -> None:
        try:
            while True:
                chunks, final = await self._next_batch()
                await self._process(chunks, final)
                if final:
                    await self._finalise()
                    return
        except Exception as exc:  # a bug must not hang the connection: report it and stop
            log.exception("session %s failed", self.id)
            self.failure = f"{type(exc).__name__}: {exc}"
            await self._send({"type": "error", "code": "internal", "message": f"transcription failed ({self.failure})"})

    async def _next_batch(self) -> tuple[list, bool]:
        """Everything queued now (coalesced: fewer, larger model calls when the server falls behind)."""
        items = [await self._queue.get()]
        while not self._queue.empty() and items[-1] is not _STOP:
            items.append(self._queue.get_nowait())
        final = items[-1] is _STOP
        return [i for i in items if i is not _STOP], final

    async def _process(self, chunks: list, final: bool) -> None:
        services = self.services
        started = asyncio.get_running_loop().time()
        decided = await services.batcher.process(self.core, chunks, final)
        services.metrics.inference_seconds.inc(asyncio.get_running_loop().time() - started)
        services.metrics.audio_seconds.inc(sum(c.size for c, _ in chunks) / self.core.channels / self.sample_rate)
        frames = self.core.input_frames
        await services.stored(services.store.commit_progress, self.id, [(d.seq, d.event) for d in decided], frames,
                           frames / self.sample_rate)
        self.processed_frames = frames
        async with self._send_lock:
            self.event_count = self.core.next_seq - 1
            for d in decided:
                await self._send(event_message(d.seq, d.event), hold_lock=True)
                if d.anchor_arrival is not None and d.event.kind == "note_on":
                    services.metrics.event_latency.observe(asyncio.get_running_loop().time() - d.anchor_arrival)

    async def _finalise(self) -> None:
        services = self.services
        await services.stored(services.store.set_status, self.id, "final", 1.0, None, self.core.duration)
        await services.compress_audio(self.record)
        count = await services.stored(_count_notes, services.store, self.id)
        self.final_message = {"type": "final", "session": self.id, "notes": count,
                              "duration": round(self.core.duration, 4), "urls": session_urls(self.id)}
        log.info("session %s final: %d notes, %.1f s of audio", self.id, count, self.core.duration)

    async def _send(self, message: dict, hold_lock: bool = False) -> None:
        sink = self.sink
        if sink is None:
            return
        try:
            if hold_lock:
                await sink(message)
            else:
                async with self._send_lock:
                    await sink(message)
        except Exception as exc:  # the client went away; the event is stored and will be replayed on resume
            log.info("session %s: send failed (%s); detaching", self.id, exc)
            self.detach(sink)


def _count_notes(store, session_id: str) -> int:
    return sum(1 for _, e in store.events(session_id) if e.kind == "note_on")
