"""InferenceBatcher: sessions' model work shares rounds; one session's failure stays its own."""

from __future__ import annotations

import asyncio
import errno
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from notestream.server.batching import InferenceBatcher
from notestream.server.live_session import SessionCore
from tests.stream_server.conftest import piano_clip


def test_a_full_disk_fails_only_its_own_session_and_the_others_get_their_events(tmp_path, transcriber):
    audio = piano_clip(16000)
    cores = [SessionCore(transcriber, 16000, 1, tmp_path / f"s{i}.raw") for i in range(3)]

    def disk_full(_):
        raise OSError(errno.ENOSPC, "No space left on device")

    cores[1].audio_file.append = disk_full
    chunks = [(part, 0.0) for part in np.array_split(audio, 6)]

    async def run():
        batcher = InferenceBatcher(ThreadPoolExecutor(1))
        results = await asyncio.gather(*(batcher.process(core, chunks, True) for core in cores), return_exceptions=True)
        return batcher, results

    batcher, results = asyncio.run(run())
    assert isinstance(results[1], OSError) and results[1].errno == errno.ENOSPC
    assert len(results[0]) > 0 and [d.event for d in results[0]] == [d.event for d in results[2]]
    assert [d.seq for d in results[0]] == list(range(1, len(results[0]) + 1))
    assert batcher.rounds == 1 and batcher.items == 3  # all three in one round


def test_a_batcher_whose_executor_is_gone_fails_its_sessions_cleanly(tmp_path, transcriber):
    executor = ThreadPoolExecutor(1)
    executor.shutdown()
    core = SessionCore(transcriber, 16000, 1, tmp_path / "s.raw")

    async def run():
        return await InferenceBatcher(executor).process(core, [(np.zeros(1600, np.float32), 0.0)], False)

    with pytest.raises(RuntimeError, match="inference failed"):
        asyncio.run(run())
