"""What a server holds from its start: every worker thread running, the model warmed for a full house. Memory and
threads then stay at their working level under load (bench soak measures that), instead of growing in steps; and
what it does not hold per connection."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter

from websockets.asyncio.client import connect


def test_every_thread_pool_runs_all_its_threads_before_the_first_request(server):
    pools = Counter(thread.name.rsplit("_", 1)[0] for thread in threading.enumerate())
    for name, threads in (("inference", server.state.config.workers), ("storage", 1), ("jobs", 1), ("engraving", 1),
                          ("blocking", 2)):
        assert pools[name] >= threads, name


def test_the_model_is_warmed_for_every_batch_size_a_full_house_pads_to(server_factory):
    server = server_factory(max_sessions=5)
    assert server.state.transcriber.warm_batches["accurate"] >= {1, 2, 3, 4, 6}


def test_streams_are_not_deflated_even_when_the_client_offers_it(server):
    async def extensions() -> str | None:
        async with connect(server.ws, compression="deflate") as ws:  # browsers always offer it
            return ws.response.headers.get("Sec-WebSocket-Extensions")

    assert asyncio.run(extensions()) is None  # audio barely compresses; each connection's zlib state costs ~270 kB
