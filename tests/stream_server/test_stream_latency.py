"""A client picks the latency of its session; streaming at a latency equals offline at that window."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from dataclasses import replace

import pytest
from websockets.asyncio.client import connect

from notestream.model.config import LatencyPreset, ViewConfig, WindowConfig
from notestream.model.evaluation import note_metrics
from notestream.model.transcriber import Transcriber
from tests.stream_server.conftest import start_server
from tests.stream_server.stream_test_client import (
    collect_until,
    notes_of,
    pcm_bytes,
    receive_json,
    send_chunks,
    split_randomly,
    start,
)

LOW_WINDOW = WindowConfig(2, 1)


@pytest.fixture(scope="module")
def two_latencies(transcriber) -> Transcriber:
    """The shipped weights with a "low" operating point (one view, blocks of 2, look-ahead 1: 160 ms)."""
    low = LatencyPreset(LOW_WINDOW, ViewConfig((0,)), transcriber.loaded.decoder)
    return Transcriber(replace(transcriber.loaded, latencies={"low": low}))


@pytest.fixture
def low_server(tmp_path, two_latencies):
    from notestream.server.state import ServerConfig

    server = start_server(ServerConfig(data_dir=tmp_path / "data", port=0, status_interval=0.2), two_latencies)
    yield server
    server.stop()


async def stream_at(url: str, chunks: list[bytes], **extra) -> tuple[dict, list[dict]]:
    async with connect(url, max_size=None) as ws:
        ready = await start(ws, 16000, **extra)
        assert ready["type"] == "ready", ready
        reader = asyncio.create_task(collect_until(ws, "final"))
        await send_chunks(ws, chunks)
        await ws.send(json.dumps({"type": "stop"}))
        events, _ = await reader
        return ready, events


def test_a_session_asking_for_low_latency_streams_what_offline_gives_at_that_window(low_server, two_latencies, piano_16k):
    data, _, _ = pcm_bytes(piano_16k)
    ready, events = asyncio.run(stream_at(low_server.ws, split_randomly(data, seed=11), latency="low"))
    assert (ready["latency"], ready["lookahead"]) == ("low", 0.176)
    offline_low = Transcriber(replace(two_latencies.loaded, window=LOW_WINDOW, views=ViewConfig((0,)))).transcribe(piano_16k)
    assert len(offline_low.notes) > 0
    assert note_metrics(notes_of(events), offline_low.notes).note_f1 >= 0.99


def test_sessions_at_both_latencies_run_side_by_side(low_server, two_latencies, piano_16k):
    data, _, _ = pcm_bytes(piano_16k)

    async def both():
        return await asyncio.gather(stream_at(low_server.ws, split_randomly(data, seed=12), latency="low"),
                                    stream_at(low_server.ws, split_randomly(data, seed=13)))

    (low_ready, _), (default_ready, default_events) = asyncio.run(both())
    assert low_ready["latency"] == "low" and default_ready["latency"] == "accurate"
    assert default_ready["lookahead"] == pytest.approx(two_latencies.lookahead_seconds, abs=1e-4)
    offline = two_latencies.transcribe(piano_16k).notes
    assert note_metrics(notes_of(default_events), offline).note_f1 >= 0.99


def test_health_lists_the_latencies_and_an_unknown_one_is_refused(low_server):
    with urllib.request.urlopen(low_server.http + "/healthz", timeout=10) as response:
        health = json.load(response)
    assert health["latencies"] == {"low": 0.176, "accurate": 0.32} and health["default_latency"] == "accurate"

    async def ask_for_instant():
        async with connect(low_server.ws) as ws:
            return await start(ws, 16000, latency="instant")

    reply = asyncio.run(ask_for_instant())
    assert (reply["type"], reply["code"]) == ("error", "unsupported_latency")
    assert "low, accurate" in reply["message"]


def test_a_restarted_server_resumes_a_session_at_the_latency_it_started_with(tmp_path, two_latencies, piano_16k):
    from notestream.server.state import ServerConfig

    data, _, _ = pcm_bytes(piano_16k)
    config = ServerConfig(data_dir=tmp_path / "data", port=0, status_interval=0.2)
    first = start_server(config, two_latencies)

    async def half_then_drop():
        ws = await connect(first.ws, max_size=None)
        ready = await start(ws, 16000, latency="low")
        await send_chunks(ws, [data[: len(data) // 2]])
        while (message := await receive_json(ws))["type"] != "status" or message["audio_frames"] * 4 < len(data):
            pass
        ws.transport.abort()
        return ready

    ready = asyncio.run(half_then_drop())
    first.loop.call_soon_threadsafe(first.loop.stop)  # as a crash: the open session is not finalised
    first.thread.join(10)
    second = start_server(config, two_latencies)
    try:
        async def resume():
            async with connect(second.ws, max_size=None) as ws:
                return await start(ws, 16000, session=ready["session"], token=ready["token"])

        resumed = asyncio.run(resume())
    finally:
        second.stop()
    assert resumed["type"] == "ready" and (resumed["latency"], resumed["lookahead"]) == ("low", 0.176)
