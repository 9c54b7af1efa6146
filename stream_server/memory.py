"""Handing freed memory back to the system, so RSS follows the load down instead of only growing.

glibc keeps memory that model rounds, decoders and large frames freed in per-thread arenas; with a pool
of worker threads the process's RSS then ratchets up with each burst and never comes back. Two arenas
bound that ratchet, and `malloc_trim` after each burst returns what is free. Elsewhere (musl, macOS)
these are no-ops.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)
M_ARENA_MAX = -8
ARENAS = 2
TRIM_INTERVAL_SECONDS = 30.0


def _libc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None
    except OSError:
        return None


LIBC = _libc()


def limit_arenas() -> None:
    """At startup, before worker threads allocate: at most ARENAS malloc arenas."""
    if LIBC is not None:
        LIBC.mallopt(M_ARENA_MAX, ARENAS)


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
