"""What the server hands back after a load: MKL's GEMM buffers and the reference cycles of finished sessions once
the model stops working, the heap's free pages on a timer; and while a load lasts it keeps them."""

from __future__ import annotations

import asyncio
import ctypes
import gc
import weakref

import pytest
import torch

from notestream.server import memory
from notestream.server.memory import _mkl, free_math_library_buffers, release_periodically


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def bytes_in_use() -> int:
    """Bytes glibc's malloc has handed out and not had back (heap and mapped blocks)."""
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2
    info = libc.mallinfo2()
    return info.uordblks + info.hblkhd


@pytest.mark.skipif(_mkl() is None, reason="this PyTorch build has no MKL")
def test_mkl_gives_back_the_buffers_it_kept_after_a_gemm():
    a = torch.randn(1536, 1536)
    with torch.inference_mode():
        (a @ a).sum()  # MKL packs the operands into buffers of its own and keeps them for the next call
    held = bytes_in_use()
    free_math_library_buffers()
    assert bytes_in_use() < held - (1 << 20)


def test_a_load_keeps_its_buffers_and_gives_them_back_once_the_model_stops(monkeypatch):
    rounds, freed_at, trimmed_at = [0], [], []
    monkeypatch.setattr(memory, "release_freed_memory", lambda: trimmed_at.append(rounds[0]))

    async def between_rounds(fn) -> None:
        assert fn is free_math_library_buffers
        freed_at.append(rounds[0])

    async def load_then_quiet() -> None:
        releaser = asyncio.create_task(release_periodically(lambda: rounds[0], between_rounds, interval=0.1))
        for _ in range(100):  # a round every 10 ms for a second
            rounds[0] += 1
            await asyncio.sleep(0.01)
        for _ in range(60):  # quiet; the first quiet look's full collection can take long in a big test process
            await asyncio.sleep(0.1)
            if trimmed_at and trimmed_at[-1] == rounds[0]:
                break
        releaser.cancel()

    asyncio.run(load_then_quiet())
    assert freed_at == [100]  # once, after the load, not during it
    assert trimmed_at and trimmed_at[-1] == 100 and any(r < 100 for r in trimmed_at)  # the heap, busy or not


def test_once_the_model_stops_the_cycles_of_finished_sessions_are_collected(monkeypatch):
    monkeypatch.setattr(memory, "release_freed_memory", lambda: None)

    class Session:  # a finished session that points at itself (as connections and their handlers do)
        pass

    async def between_rounds(fn) -> None:
        pass

    async def one_round_then_quiet() -> weakref.ref:
        rounds = [0]
        releaser = asyncio.create_task(release_periodically(lambda: rounds[0], between_rounds, interval=0.1))
        session = Session()
        session.itself = session
        finished = weakref.ref(session)
        del session
        await asyncio.sleep(0.15)
        rounds[0] += 1  # the session's last round
        await asyncio.sleep(0.3)
        releaser.cancel()
        return finished

    gc.disable()  # as if the cycle had reached the oldest generation, which an idle server may not collect for hours
    try:
        finished = asyncio.run(one_round_then_quiet())
    finally:
        gc.enable()
    assert finished() is None
