"""Model work of all live sessions in rounds: whatever queued while one round ran goes into the next, as one batch.

A lone session is never kept waiting for company (a round starts as soon as the previous one ends), so
batching costs no latency; with many sessions one batched forward pass replaces one small pass each,
which is where a CPU (and even more a GPU) spends less per session.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Executor
from dataclasses import dataclass, field

import numpy as np

from notestream.model.inference import advance_streams, finish_streams

from .session_core import DecidedEvent, SessionCore

log = logging.getLogger(__name__)
ROUND_SAMPLES = 5 * 16000  # model input per stream per network pass: 5 s at the model's 16 kHz


@dataclass
class RoundItem:
    """One session's share of a round: its new audio chunks, whether they end it, and where its result goes."""

    core: SessionCore
    chunks: list[tuple[np.ndarray, float]]
    final: bool
    future: asyncio.Future = field(repr=False)
    outcome: list[DecidedEvent] | BaseException | None = None


def run_round(items: list[RoundItem]) -> None:
    """Store and resample each session's audio, run the model once for all of them (once more for all that end
    here), number each one's events.

    A session whose own step fails (its disk write, say) gets that error; the others go on.
    """
    ready, audio = [], []
    for item in items:
        try:
            audio.append(item.core.take(item.chunks, item.final))
            ready.append(item)
        except Exception as exc:  # noqa: BLE001 — handed to that session's coroutine
            item.outcome = exc
    try:
        events = _advance_in_slices([item.core.stream for item in ready], audio)
        if ending := [i for i, item in enumerate(ready) if item.final]:
            for i, closing in zip(ending, finish_streams([ready[i].core.stream for i in ending]), strict=True):
                events[i] = events[i] + closing
    except Exception as exc:  # noqa: BLE001 — the batched pass failed: every session in it hears why
        for item in ready:
            item.outcome = exc
        return
    for item, decided in zip(ready, events, strict=True):
        try:
            item.outcome = item.core.number(decided, item.final)
        except Exception as exc:  # noqa: BLE001
            item.outcome = exc


def _advance_in_slices(streams: list, audio: list[np.ndarray]) -> list[list]:
    """`advance_streams` over at most ROUND_SAMPLES per stream at a time: a client sending minutes of audio at once
    costs the same memory as one sending it in real time (the model's transient maps grow with the slice)."""
    events: list[list] = [[] for _ in streams]
    longest = max((a.size for a in audio), default=0)
    for start in range(0, max(longest, 1), ROUND_SAMPLES):
        for found, more in zip(events, advance_streams(streams, [a[start:start + ROUND_SAMPLES] for a in audio]), strict=True):
            found.extend(more)
    return events


class InferenceBatcher:
    """Collects sessions' model work and runs it round by round in `executor`."""

    def __init__(self, executor: Executor):
        self._executor = executor
        self._pending: list[RoundItem] = []
        self._runner: asyncio.Task | None = None
        self.rounds = 0
        self.items = 0

    async def process(self, core: SessionCore, chunks: list[tuple[np.ndarray, float]], final: bool) -> list[DecidedEvent]:
        """The events `core` decides from `chunks`, computed in the next round with every other waiting session."""
        future = asyncio.get_running_loop().create_future()
        self._pending.append(RoundItem(core, chunks, final, future))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run(), name="inference-rounds")
        return await future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            items, self._pending = self._pending, []
            try:
                await loop.run_in_executor(self._executor, run_round, items)
            except asyncio.CancelledError:
                _fail(items + self._pending, RuntimeError("inference stopped: the server is shutting down"))
                raise
            except Exception as exc:  # noqa: BLE001 — e.g. the executor was shut down: those sessions hear why
                _fail(items, RuntimeError(f"inference failed: {exc!r}"))
            self.rounds += 1
            self.items += len(items)
            _settle(items)


def _fail(items: list[RoundItem], error: BaseException) -> None:
    """Settle `items`; those the round did not reach get `error` (results already made are still delivered)."""
    for item in items:
        if item.outcome is None:
            item.outcome = error
    _settle(items)


def _settle(items: list[RoundItem]) -> None:
    for item in items:
        if item.future.done():
            continue
        if isinstance(item.outcome, BaseException):
            item.future.set_exception(item.outcome)
        else:
            item.future.set_result(item.outcome)
