"""Every protocol violation gets an `error` with a code and a clean close, never a crash or a hang."""

from __future__ import annotations

import asyncio
import dataclasses
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.stream_server.stream_test_client import collect_until, receive_json, start


async def error_and_close(url: str, *messages, **connect_args) -> tuple[dict, int]:
    """Send `messages` (str: text, bytes: binary); return the first error/busy message and the close code."""
    async with connect(url, max_size=None, **connect_args) as ws:
        for message in messages:
            await ws.send(message)
        reply = await receive_json(ws, 10)
        while reply["type"] not in ("error", "busy"):
            reply = await receive_json(ws, 10)
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 10)
        return reply, ws.close_code


def start_text(**fields) -> str:
    return json.dumps({"type": "start", "sample_rate": 16000, "encoding": "pcm_s16le", "channels": 1, **fields})


@pytest.mark.parametrize(
    ("messages", "code", "close"),
    [
        (["not json at all"], "bad_message", 1008),
        (['["a", "list"]'], "bad_message", 1008),
        (['{"type": "hello"}'], "bad_message", 1008),
        ([b"\x00\x01" * 100], "bad_message", 1008),
        (['{"type": "stop"}'], "bad_message", 1008),
        ([start_text(sample_rate=12345)], "unsupported_rate", 1008),
        ([start_text(sample_rate="48000")], "bad_message", 1008),
        ([start_text(encoding="mp3")], "unsupported_encoding", 1008),
        ([start_text(channels=6)], "unsupported_encoding", 1008),
        ([start_text(), start_text()], "bad_message", 1008),
        ([start_text(session="s_nope", token="x")], "unknown_session", 1008),
    ],
)
def test_malformed_or_unsupported_messages_are_refused_with_a_code(server, messages, code, close):
    reply, close_code = asyncio.run(error_and_close(server.ws, *messages))
    assert reply["code"] == code and reply["message"]
    assert close_code == close


def test_message_over_the_size_limit_is_refused_with_1009(server_factory):
    server = server_factory(max_message_bytes=4096)
    reply, close_code = asyncio.run(error_and_close(server.ws, start_text(), b"\x00" * 5000))
    assert (reply["code"], close_code) == ("too_large", 1009)


def test_no_start_message_times_out_with_an_error(server_factory):
    server = server_factory(start_timeout=0.5)

    async def silent():
        async with connect(server.ws) as ws:
            reply = await receive_json(ws, 10)
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 10)
            return reply

    assert asyncio.run(silent())["code"] == "timeout"


def test_full_server_answers_busy_with_a_retry_hint(server_factory):
    server = server_factory(max_sessions=1)

    async def two_clients():
        async with connect(server.ws) as first:
            assert (await start(first, 16000))["type"] == "ready"
            return await error_and_close(server.ws, start_text())

    reply, close_code = asyncio.run(two_clients())
    assert reply["type"] == "busy" and reply["retry_after"] > 0
    assert close_code == 1013


def test_session_longer_than_the_limit_is_finalised_then_refused(server_factory):
    server = server_factory(max_session_seconds=0.5)

    async def long_stream():
        async with connect(server.ws) as ws:
            await start(ws, 16000)
            await ws.send(b"\x00\x00" * 16000)
            kinds = []
            with pytest.raises(ConnectionClosed):
                while True:
                    kinds.append(await receive_json(ws, 30))
            return kinds, ws.close_code

    messages, close_code = asyncio.run(long_stream())
    types = [m["type"] for m in messages if m["type"] != "status"]
    assert types[-2:] == ["final", "error"] and messages[-1]["code"] == "session_too_long"
    assert close_code == 1008


def test_api_key_is_required_on_the_websocket_and_accepted_as_query_parameter(server_factory):
    server = server_factory(api_key="sesame")

    async def attempts():
        with pytest.raises(InvalidStatus) as refused:
            async with connect(server.ws):
                pass
        async with connect(server.ws + "?api_key=sesame") as ws:
            ready = await start(ws, 16000)
        return refused.value.response.status_code, ready

    status, ready = asyncio.run(attempts())
    assert status == 401 and ready["type"] == "ready"


def test_browser_origin_from_another_site_is_refused(server_factory):
    server = server_factory(allowed_origins=["https://piano.example"])

    async def attempts():
        with pytest.raises(InvalidStatus) as refused:
            async with connect(server.ws, origin="https://evil.example"):
                pass
        async with connect(server.ws, origin="https://piano.example") as ws:
            ready = await start(ws, 16000)
        return refused.value.response.status_code, ready

    status, ready = asyncio.run(attempts())
    assert status == 403 and ready["type"] == "ready"


def test_server_keeps_serving_after_abrupt_disconnects(server):
    async def abort_midway():
        ws = await connect(server.ws)
        await start(ws, 16000)
        await ws.send(b"\x01\x00" * 4001)
        ws.transport.abort()  # no close frame: like a crashed client or a dead network

    async def healthy_session():
        async with connect(server.ws) as ws:
            return await start(ws, 16000)

    for _ in range(3):
        asyncio.run(abort_midway())
    assert asyncio.run(healthy_session())["type"] == "ready"


def test_a_stopped_session_answers_pings_while_it_is_finalised(server):
    """Finalising can queue behind other sessions' for seconds (sixteen ending at once did): a client's
    keepalive must not take that for a dead server and drop the connection before `final`."""
    compress = server.state.session_services.compress_audio

    async def slow_compress(record) -> None:
        await asyncio.sleep(3)
        await compress(record)

    server.state.session_services = dataclasses.replace(server.state.session_services, compress_audio=slow_compress)

    async def stop_then_ping() -> tuple[float, dict]:
        async with connect(server.ws, ping_interval=None) as ws:
            await start(ws, 16000)
            await ws.send(b"\x01\x00" * 16000)
            await ws.send(json.dumps({"type": "stop"}))
            pong_after = await asyncio.wait_for(await ws.ping(), 2)
            _, final = await collect_until(ws, "final")
            return pong_after, final

    pong_after, final = asyncio.run(stop_then_ping())
    assert pong_after < 2 and final["type"] == "final"  # answered long before the 3 s finalisation ended
