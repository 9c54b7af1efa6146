"""Handing freed memory back to the system, so RSS follows the load down instead of only growing.

Four ratchets made RSS grow in steps and never fall: oneDNN (PyTorch's CPU kernels) caches a primitive,
with its reordered weights, for every input shape it meets (each new number of sessions in a round, each
new chunk length: tens of MB each, up to 1024 of them); glibc keeps freed memory in per-thread arenas;
MKL (PyTorch's float32 GEMMs, in the GRU) keeps the packing buffers of each OpenMP thread for its next call,
sized by the largest batch it met; and the reference cycles of finished connections and sessions wait in
Python's oldest generation, which an idle server may not collect for hours. A bounded primitive cache, two
arenas, `malloc_trim` every 30 s, and a full collection and MKL's buffers freed once the live rounds stop
return what is free.

glibc's mmap threshold rises (up to 32 MB) as mapped blocks are freed, after which a round's buffers come
from the heap; `NOTESTREAM_MMAP_THRESHOLD=<bytes>` fixes it, for less memory under load at a cost in note
latency (docs/operations.md has the numbers). Elsewhere (musl, macOS, builds without MKL) these calls are
no-ops.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import functools
import gc
import logging
import os
from collections.abc import Awaitable, Callable, Hashable

log = logging.getLogger(__name__)
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
ARENAS = 2
MMAP_THRESHOLD_BYTES = 0  # 0: glibc's own, adaptive; NOTESTREAM_MMAP_THRESHOLD fixes it (see above)
CHECK_SECONDS = 10.0  # how often the releaser looks for work since its last look
TRIM_EVERY_CHECKS = 3  # malloc_trim every 30 s, busy or not
ONEDNN_CACHE_ENTRIES = "128"  # the operator's ONEDNN_PRIMITIVE_CACHE_CAPACITY wins


def _libc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None
    except OSError:
        return None


LIBC = _libc()


@functools.cache
def _mkl():
    """PyTorch's CPU library where it carries MKL (x86 builds), else None; looked up on first use, after torch loads."""
    import torch

    try:
        library = ctypes.CDLL(os.path.join(os.path.dirname(torch.__file__), "lib", "libtorch_cpu.so"))
    except OSError:
        return None
    return library if hasattr(library, "mkl_serv_free_buffers") else None


def free_math_library_buffers() -> None:
    """Free the buffers MKL keeps for its next GEMM (tens of MB after a load of many streams). Call it only while
    no model work runs: the next GEMM allocates them again."""
    if (mkl := _mkl()) is not None:
        mkl.mkl_serv_free_buffers()


def bound_native_caches() -> None:
    """At startup, before the model's first kernel runs and before worker threads allocate: a bounded oneDNN
    primitive cache, at most ARENAS malloc arenas and, where the operator asks for one, a fixed mmap threshold."""
    os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", ONEDNN_CACHE_ENTRIES)
    if LIBC is not None:
        LIBC.mallopt(M_ARENA_MAX, ARENAS)
        threshold = int(os.environ.get("NOTESTREAM_MMAP_THRESHOLD", MMAP_THRESHOLD_BYTES))
        if threshold > 0:
            LIBC.mallopt(M_MMAP_THRESHOLD, threshold)


def release_freed_memory() -> None:
    """Return free heap pages to the system (a few milliseconds)."""
    if LIBC is not None:
        LIBC.malloc_trim(0)


async def release_periodically(
    activity: Callable[[], Hashable], between_rounds: Callable[[Callable[[], None]], Awaitable[None]],
    interval: float = CHECK_SECONDS,
) -> None:
    """Until cancelled: `release_freed_memory` every TRIM_EVERY_CHECKS looks, off the event loop; and at the first
    look that finds `activity()` (e.g. the count of model rounds) unchanged since the one before, a full garbage
    collection (tens of ms, while no stream waits for the model), MKL's buffers freed through `between_rounds`
    (which runs a function where no model work can overlap it), then a trim.
    A load keeps its buffers while it lasts and hands them back within two looks of its end."""
    loop = asyncio.get_running_loop()
    last, looks, freed = activity(), 0, True
    while True:
        await asyncio.sleep(interval)
        looks, now = looks + 1, activity()
        if now != last:
            freed = False
        elif not freed:
            gc.collect()
            await between_rounds(free_math_library_buffers)
            freed = True
            looks = 0
        if looks % TRIM_EVERY_CHECKS == 0:
            await loop.run_in_executor(None, release_freed_memory)
        last = now
