"""Sessions survive dropped connections, server restarts (crash) and graceful shutdowns."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from notestream.model.evaluation import note_metrics
from notestream.server.process import ServerProcess
from notestream.server.storage import SessionStore
from tests.stream_server.stream_test_client import (
    collect_until,
    notes_of,
    pcm_bytes,
    receive_json,
    send_chunks,
    split_randomly,
    start,
)


async def stream_part_until_acknowledged(url: str, data: bytes, seed: int) -> tuple[dict, list[dict]]:
    """Start a session, send `data`, wait until the server acknowledges all of it, then drop the connection."""
    ws = await connect(url, max_size=None)
    ready = await start(ws, 16000)
    await send_chunks(ws, split_randomly(data, seed))
    events = []
    while True:
        message = await receive_json(ws)
        if message["type"] in ("note_on", "note_off", "pedal_on", "pedal_off"):
            events.append(message)
        if message["type"] == "status" and message["audio_frames"] * 2 >= len(data):
            break
    ws.transport.abort()  # abrupt: no close frame
    return ready, events


async def resume_and_finish(url: str, ready: dict, data: bytes, after_seq: int) -> tuple[dict, list[dict], dict]:
    async with connect(url, max_size=None) as ws:
        resumed = await start(ws, 16000, session=ready["session"], token=ready["token"], after_seq=after_seq)
        assert resumed["type"] == "ready", resumed
        reader = asyncio.create_task(collect_until(ws, "final"))
        await send_chunks(ws, split_randomly(data[resumed["audio_frames"] * 2:], seed=9))
        await ws.send(json.dumps({"type": "stop"}))
        events, final = await reader
        return resumed, events, final


def test_reconnect_with_token_continues_the_same_session(server, piano_16k, transcriber):
    data, _, _ = pcm_bytes(piano_16k)
    half = len(data) // 2
    ready, first = asyncio.run(stream_part_until_acknowledged(server.ws, data[:half], seed=1))
    last_seq = first[-1]["seq"] if first else 0
    resumed, second, final = asyncio.run(resume_and_finish(server.ws, ready, data, last_seq))
    assert resumed["resumed"] and resumed["session"] == ready["session"] and resumed["token"] is None
    assert resumed["audio_frames"] == half // 2
    events = first + second
    assert [m["seq"] for m in events] == list(range(1, len(events) + 1)), "no event lost or repeated"
    offline = transcriber.transcribe(piano_16k).notes
    assert note_metrics(notes_of(events), offline).note_f1 >= 0.99
    assert final["session"] == ready["session"]


def test_resuming_while_the_model_lags_counts_no_audio_twice(server, piano_16k, monkeypatch):
    """Audio still queued from the dropped connection is processed before `ready` tells the client where to resend from."""
    import notestream.server.batching as batching

    def slow_round(items):
        time.sleep(0.5)
        run_round(items)

    run_round = batching.run_round
    monkeypatch.setattr(batching, "run_round", slow_round)
    data, _, _ = pcm_bytes(piano_16k)
    half = len(data) // 2

    async def drop_while_queued() -> dict:
        ws = await connect(server.ws, max_size=None)
        ready = await start(ws, 16000)
        await send_chunks(ws, split_randomly(data[:half], seed=2, high=1200))
        await asyncio.sleep(0.05)
        ws.transport.abort()
        return ready

    async def resume_when_released() -> tuple[dict, list[dict], dict]:
        for _ in range(50):  # the server releases the session once its handler sees the drop
            try:
                return await resume_and_finish(server.ws, ready, data, 0)
            except AssertionError as refused:
                assert "session_in_use" in str(refused)
                await asyncio.sleep(0.2)
        raise AssertionError("the dropped connection never released its session")

    ready = asyncio.run(drop_while_queued())
    resumed, _, final = asyncio.run(resume_when_released())
    assert resumed["audio_frames"] > 0
    assert final["duration"] == pytest.approx(len(data) / 2 / 16000, abs=1e-4)  # every sample once


def test_resume_with_a_wrong_token_is_unauthorized(server, piano_16k):
    data, _, _ = pcm_bytes(piano_16k)
    ready, _ = asyncio.run(stream_part_until_acknowledged(server.ws, data[:8000], seed=2))

    async def hijack():
        async with connect(server.ws) as ws:
            return await start(ws, 16000, session=ready["session"], token="guess")

    reply = asyncio.run(hijack())
    assert (reply["type"], reply["code"]) == ("error", "unauthorized")


def test_graceful_shutdown_finalises_the_open_session_and_tells_the_client(server, piano_16k):
    data, _, _ = pcm_bytes(piano_16k)

    async def stream_then_shutdown():
        async with connect(server.ws, max_size=None) as ws:
            ready = await start(ws, 16000)
            await ws.send(data[:32000])
            await asyncio.sleep(0.3)
            await asyncio.get_running_loop().run_in_executor(None, server.stop)
            messages = []
            with pytest.raises(ConnectionClosed):
                while True:
                    messages.append(await receive_json(ws))
            return ready, [m for m in messages if m["type"] in ("final", "error")], ws.close_code

    ready, endings, close_code = asyncio.run(stream_then_shutdown())
    assert [m["type"] for m in endings] == ["final", "error"] and endings[1]["code"] == "server_shutdown"
    assert close_code == 1012 and endings[0]["duration"] == pytest.approx(1.0)
    reopened = SessionStore(server.state.config.data_dir)
    assert reopened.get(ready["session"]).status == "final"
    assert reopened.flac_path(ready["session"]).stat().st_size > 0


def test_server_crash_mid_session_loses_nothing_acknowledged(tmp_path, piano_16k, transcriber, server_factory):
    """A real `notestream serve` is killed (SIGKILL) mid-session; a new server on its data dir resumes it."""
    data, _, _ = pcm_bytes(piano_16k)
    process = ServerProcess.start(tmp_path / "data", "--device", "cpu", env={**os.environ, "NOTESTREAM_API_KEY": ""})
    try:
        ready, before_crash = asyncio.run(
            stream_part_until_acknowledged(f"{process.url}/v1/stream", data[: len(data) // 2], seed=5))
    finally:
        process.stop(signal.SIGKILL)
    restarted = server_factory()  # same data dir (tmp_path / "data"), in this process to keep the test quick
    resumed, after_restart, final = asyncio.run(resume_and_finish(restarted.ws, ready, data, after_seq=0))
    assert resumed["audio_frames"] >= len(data) // 4, "everything acknowledged before the crash is kept"
    replayed = after_restart[: len(before_crash)]
    assert replayed == before_crash, "every event sent before the crash is stored and replayed unchanged"
    assert [m["seq"] for m in after_restart] == list(range(1, len(after_restart) + 1))
    offline = transcriber.transcribe(piano_16k).notes
    assert note_metrics(notes_of(after_restart), offline).note_f1 >= 0.99
    assert final["duration"] == pytest.approx(3.0)
