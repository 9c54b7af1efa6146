"""Limits by duration and by work: vanished clients, detached and per-address budgets, the job queue, job
cancel, audio duration (from the header, and while decoding), damaged files, orphans after a restart."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import av
import numpy as np
from websockets.asyncio.client import connect

from notestream.server.storage import SessionStore
from tests.stream_server.conftest import piano_clip
from tests.stream_server.fuzz_ws_cases import VALID_START
from tests.stream_server.raw_wire import open_raw_websocket, text_frame
from tests.stream_server.stream_test_client import pcm_bytes, start
from tests.stream_server.test_stream_http import fetch, get_json, upload


def write_flac(path: Path, audio: np.ndarray, rate: int, frame_seconds: float = 60.0) -> Path:
    """Mono float audio (or, as int16 zeros, silence) as FLAC."""
    pcm = audio if audio.dtype == np.int16 else (np.clip(audio, -1, 1) * 32767).astype(np.int16)
    with av.open(str(path), "w", format="flac") as container:
        stream = container.add_stream("flac", rate=rate, layout="mono")
        step = int(frame_seconds * rate)
        for begin in range(0, pcm.size, step):
            frame = av.AudioFrame.from_ndarray(pcm[begin:begin + step].reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = rate
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


async def vanish_after_start(port: int) -> None:
    """Send `start`, read `ready`, then drop the TCP connection without a close frame."""
    reader, writer = await open_raw_websocket(port)
    writer.write(text_frame(VALID_START))
    await writer.drain()
    await asyncio.wait_for(reader.read(2), 10)
    writer.transport.abort()


async def ready_or_busy(url: str) -> str:
    async with connect(url) as ws:
        return (await start(ws, 16000))["type"]


def wait_until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def test_eight_vanished_clients_do_not_keep_a_new_client_from_starting(server_factory):
    server = server_factory(max_sessions=8, resume_window=120)
    for _ in range(8):
        asyncio.run(vanish_after_start(server.port))
    wait_until(lambda: len(server.state.limits.detached) == 8)
    assert asyncio.run(ready_or_busy(server.ws)) == "ready"


def test_past_the_detached_budget_the_longest_waiting_session_is_finalised(server_factory):
    server = server_factory(max_detached_sessions=2, resume_window=120)
    for _ in range(3):
        asyncio.run(vanish_after_start(server.port))
        time.sleep(0.05)
    wait_until(lambda: len(server.state.live) == 2)
    statuses = [r.status for r in map(server.state.store.get, server.state.store.ids_where("stream", ("open", "final")))]
    assert sorted(statuses) == ["final", "open", "open"]


def test_per_address_cap_refuses_a_second_connected_session_but_replaces_a_vanished_one(server_factory):
    server = server_factory(max_sessions_per_address=1, resume_window=120)

    async def second_while_first_connected() -> str:
        async with connect(server.ws) as ws:
            assert (await start(ws, 16000))["type"] == "ready"
            return await ready_or_busy(server.ws)

    assert asyncio.run(second_while_first_connected()) == "busy"
    asyncio.run(vanish_after_start(server.port))
    wait_until(lambda: len(server.state.limits.detached) == 1)
    assert asyncio.run(ready_or_busy(server.ws)) == "ready"


def test_resume_accepts_the_token_on_the_url(server):
    async def resume() -> dict:
        async with connect(server.ws) as ws:
            ready = await start(ws, 16000)
        async with connect(f"{server.ws}?token={ready['token']}") as ws:
            return await start(ws, 16000, session=ready["session"])

    assert asyncio.run(resume())["resumed"] is True


def test_full_job_queue_answers_429_with_retry_after_and_a_queued_job_can_be_cancelled(server_factory, piano_16k):
    server = server_factory(max_queued_jobs=1)
    gate = threading.Event()
    server.state.jobs_executor.submit(gate.wait, 60)  # the jobs thread is busy: uploads stay queued
    try:
        status, job = upload(server, "one.wav", piano_16k.read_bytes())
        assert status == 202
        form_status, body, _ = asyncio.run(_upload_with_headers(server, piano_16k))
        assert form_status[0] == 429 and body["error"] == "busy" and int(form_status[1]) > 0
        auth = {"Authorization": f"Bearer {job['token']}"}
        cancelled, _, _ = asyncio.run(fetch("DELETE", server.http + job["status_url"], headers=auth))
        assert cancelled == 200
        assert get_json(server.http + job["status_url"], headers=auth)[1]["status"] == "cancelled"
        assert upload(server, "two.wav", piano_16k.read_bytes())[0] == 202  # the slot is free again
    finally:
        gate.set()


async def _upload_with_headers(server, path: Path) -> tuple[tuple[int, str | None], dict, str]:
    import aiohttp

    form = aiohttp.FormData()
    form.add_field("file", path.read_bytes(), filename="again.wav")
    async with aiohttp.ClientSession() as client, client.post(server.http + "/v1/transcriptions", data=form) as response:
        return (response.status, response.headers.get("Retry-After")), await response.json(), response.content_type


def test_three_hour_flac_bomb_is_refused_in_under_a_second_naming_the_limit(server, tmp_path):
    bomb = write_flac(tmp_path / "bomb.flac", np.zeros(3 * 3600 * 8000, np.int16), 8000)
    assert bomb.stat().st_size < 3_000_000
    began = time.monotonic()
    status, body = upload(server, "bomb.flac", bomb.read_bytes())
    assert time.monotonic() - began < 1.0
    assert status == 413 and body["error"] == "too_long" and "60 min" in body["message"]
    assert not any((server.state.store.data_dir / "incoming").iterdir())


def _finished_job(server, job: dict) -> dict:
    auth = {"Authorization": f"Bearer {job['token']}"}
    result = {}
    wait_until(lambda: result.update(get_json(server.http + job["status_url"], headers=auth)[1])
               or result["status"] in ("done", "failed", "cancelled"), timeout=60)
    return result


def test_audio_longer_than_the_limit_without_a_header_duration_is_stopped_while_decoding(server_factory, tmp_path):
    server = server_factory(max_upload_seconds=2.0)
    flac = bytearray(write_flac(tmp_path / "tone.flac", 0.2 * np.sin(np.arange(12 * 16000) * 0.1), 16000).read_bytes())
    flac[21] &= 0xF0  # STREAMINFO's 36-bit total samples set to 0: "length unknown"
    flac[22:26] = b"\0\0\0\0"
    status, job = upload(server, "liar.flac", bytes(flac))
    assert status == 202
    body = _finished_job(server, job)
    assert body["status"] == "failed" and body["error"].startswith("too_long") and body["processed_seconds"] < 12


def test_damaged_flac_is_transcribed_up_to_the_damage_and_says_where_it_was_cut(server, tmp_path):
    flac = write_flac(tmp_path / "piano.flac", piano_clip(16000), 16000, frame_seconds=1.0).read_bytes()
    status, job = upload(server, "cut.flac", flac[:-1])
    assert status == 202
    body = _finished_job(server, job)
    assert body["status"] == "done" and body["result"]["notes"], body
    assert "cut" in body["warning"] and body["duration"] > 1.5


def test_orphan_left_open_by_a_crash_is_finalised_after_the_resume_window(server_factory, tmp_path, piano_16k):
    store = SessionStore(tmp_path / "data")
    record, _ = store.create("stream", 16000, 1)
    data, _, _ = pcm_bytes(piano_16k)
    audio = (np.frombuffer(data, "<i2") / 32768).astype("<f4")
    audio.tofile(store.raw_audio_path(record.id))
    store.commit_progress(record.id, [], audio.size, audio.size / 16000)
    store.close()
    server = server_factory(resume_window=0.5)
    wait_until(lambda: server.state.store.flac_path(record.id).exists())
    assert server.state.store.get(record.id).status == "final" and not server.state.store.raw_audio_path(record.id).exists()
    assert abs(server.state.store.get(record.id).duration - 3.0) < 0.01
