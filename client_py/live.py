"""Running one live session end to end: audio from a source into a `StreamClient`, events out to sinks.

This is what `notestream stream` does, as a function apps can call too.
"""

from __future__ import annotations

import asyncio
import logging

from .audio_format import level_dbfs
from .client import StreamClient
from .events import StreamFinal
from .sinks import EventSink, TerminalView
from .sources import AudioSource

log = logging.getLogger(__name__)


async def run_live(
    client: StreamClient,
    source: AudioSource,
    sinks: list[EventSink],
    view: TerminalView | None = None,
    stop: asyncio.Event | None = None,
) -> StreamFinal | None:
    """Stream `source` through a connected `client` until the source ends (or `stop` is set), deliver
    every event to `sinks` as it arrives, and return the server's final summary.

    Sinks are closed in every case (a MIDI file is written even after an error); errors from the
    source or the client propagate.
    """
    stop = stop or asyncio.Event()
    sinks = [*sinks, view] if view is not None else list(sinks)
    final: StreamFinal | None = None

    async def feed() -> None:
        frame_bytes = client.format.frame_bytes
        async for chunk in source.chunks():
            await client.send_audio(chunk)
            if view is not None:
                whole = chunk[: len(chunk) - len(chunk) % frame_bytes]
                view.show_input(level_dbfs(client.format.decode(whole)), client.audio_seconds)
            if stop.is_set():
                break
        await client.stop(wait=False)

    async def deliver() -> None:
        nonlocal final
        async for event in client.events():
            for sink in sinks:
                sink.handle(event)
            if isinstance(event, StreamFinal):
                final = event

    feeder = asyncio.create_task(feed(), name="notestream-feed")
    consumer = asyncio.create_task(deliver(), name="notestream-deliver")
    try:
        done, _ = await asyncio.wait({feeder, consumer}, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            task.result()  # raise the first failure
        await asyncio.gather(feeder, consumer)
    finally:
        for task in (feeder, consumer):
            task.cancel()
        await asyncio.gather(feeder, consumer, return_exceptions=True)
        _close_sinks(sinks, final)
    return final


def _close_sinks(sinks: list[EventSink], final: StreamFinal | None) -> None:
    for sink in sinks:
        try:
            sink.close(final)
        except Exception:  # one broken sink must not keep the others (e.g. the MIDI file) from closing
            log.exception("closing %s failed", type(sink).__name__)
