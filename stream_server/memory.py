"""Handing freed memory back to the system, so RSS follows the load down instead of only growing.

Two ratchets made RSS grow in steps and never fall: oneDNN (PyTorch's CPU kernels) caches a primitive,
with its reordered weights, for every input shape it meets (each new number of sessions in a round, each
new chunk length: tens of MB each, up to 1024 of them); and glibc keeps freed memory in per-thread arenas.
A bounded primitive cache, two arenas, and `malloc_trim` every 30 s return what is free.

A third, glibc's own, stays by default: its mmap threshold rises (up to 32 MB) as mapped blocks are freed,
after which a round's buffers come from the heap between small long-lived objects, whose pages cannot be
returned. `NOTESTREAM_MMAP_THRESHOLD=<bytes>` fixes the threshold and returns them, at a cost in note latency
(docs/operations.md has the numbers). Elsewhere (musl, macOS) the allocator calls are no-ops.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import os

log = logging.getLogger(__name__)
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
ARENAS = 2
MMAP_THRESHOLD_BYTES = 0  # 0: glibc's own, adaptive; NOTESTREAM_MMAP_THRESHOLD fixes it (see above)
TRIM_INTERVAL_SECONDS = 30.0
ONEDNN_CACHE_ENTRIES = "128"  # the operator's ONEDNN_PRIMITIVE_CACHE_CAPACITY wins


def _libc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None
    except OSError:
        return None


LIBC = _libc()


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


async def trim_periodically(interval: float = TRIM_INTERVAL_SECONDS) -> None:
    """Run `release_freed_memory` every `interval` seconds, off the event loop, until cancelled."""
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(interval)
        await loop.run_in_executor(None, release_freed_memory)
