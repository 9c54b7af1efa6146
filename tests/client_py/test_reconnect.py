"""A dropped connection or a crashed server loses no audio and no notes: the client resumes its session."""

from __future__ import annotations

import asyncio
import contextlib
import signal

import numpy as np
import pytest

from notestream.client.audio_format import AudioFormat
from notestream.client.client import StreamClient
from notestream.client.events import LiveEvent
from notestream.model.transcriber import Transcriber
from notestream.notes import events_to_performance


class DroppingProxy:
    """A TCP relay between client and server that can cut every connection and refuse new ones for a
    while: a network outage the client cannot tell from a real one."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.refusing_until = 0.0
        self._links: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return f"ws://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    def cut(self, outage_seconds: float = 0.0) -> None:
        """Abort every open connection (both sides see a reset) and refuse new ones for a while."""
        self.refusing_until = asyncio.get_running_loop().time() + outage_seconds
        for writer in list(self._links):
            writer.transport.abort()

    async def close(self) -> None:
        self.cut()
        self._server.close()
        await self._server.wait_closed()

    async def _relay(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if asyncio.get_running_loop().time() < self.refusing_until:
            client_writer.transport.abort()
            return
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._links |= {client_writer, server_writer}
        try:
            await asyncio.gather(self._pipe(client_reader, server_writer), self._pipe(server_reader, client_writer))
        finally:
            for writer in (client_writer, server_writer):
                self._links.discard(writer)
                writer.transport.abort()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.transport.abort()


@pytest.fixture(scope="module")
def piano_notes(piano_audio):
    return Transcriber.from_checkpoint(device="cpu").transcribe(piano_audio).notes


def note_rows(notes) -> list[tuple]:
    return sorted((round(n.onset, 4), round(n.offset, 4), n.pitch, n.velocity) for n in notes)


async def stream_with_interruptions(url: str, audio: np.ndarray, interrupt, at: tuple[int, ...],
                                    reconnect_seconds: float = 20.0) -> tuple[list[LiveEvent], StreamClient]:
    """Send `audio` in 30 pieces; before piece i in `at`, `await interrupt()` (once connected and once
    events have arrived, so that the resume must skip what the client already has)."""
    events: list[LiveEvent] = []
    async with StreamClient(url, AudioFormat(16000), reconnect_seconds=reconnect_seconds) as client:

        async def consume() -> None:
            async for event in client.events():
                if isinstance(event, LiveEvent):
                    events.append(event)

        consumer = asyncio.create_task(consume())
        for i, piece in enumerate(np.array_split(audio, 30)):
            if i in at:
                async with asyncio.timeout(20):
                    while not (events and client.connected):
                        await asyncio.sleep(0.01)
                await interrupt()
            await client.send_audio(piece)
            await asyncio.sleep(0.01)
        final = await asyncio.wait_for(client.stop(), 60)
        await asyncio.wait_for(consumer, 10)
    assert final is not None
    return events, client


def assert_complete(events: list[LiveEvent], notes) -> None:
    assert [e.seq for e in events] == list(range(1, len(events) + 1)), "an event was lost or repeated"
    assert note_rows(events_to_performance(events).notes) == note_rows(notes)


def test_dropped_connections_resume_without_losing_audio_or_notes(notestream_server, piano_audio, piano_notes):
    async def scenario():
        proxy = DroppingProxy(notestream_server.port)
        url = await proxy.start()

        async def drop() -> None:
            proxy.cut(outage_seconds=0.5)  # audio sent during the outage waits in the backlog

        try:
            return await stream_with_interruptions(url, piano_audio, drop, at=(8, 20))
        finally:
            await proxy.close()

    events, client = asyncio.run(scenario())
    assert client.reconnects >= 2
    assert_complete(events, piano_notes)


def test_a_crashed_server_is_resumed_after_its_restart(notestream_server, piano_audio, piano_notes):
    restarts: list[asyncio.Task] = []

    async def crash() -> None:
        # kill -9, and keep sending while the server comes back: that audio waits in the backlog
        restarts.append(asyncio.create_task(asyncio.to_thread(notestream_server.restart, signal.SIGKILL)))
        await asyncio.sleep(0.2)

    async def scenario():
        try:
            return await stream_with_interruptions(notestream_server.url, piano_audio, crash, at=(15,),
                                                   reconnect_seconds=60)
        finally:
            await asyncio.gather(*restarts)

    events, client = asyncio.run(scenario())
    assert client.reconnects == 1
    assert_complete(events, piano_notes)
