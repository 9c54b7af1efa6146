"""Who may hold a live session: connected sessions, detached ones (waiting for a resume) and each address.

A client that sends `start` and vanishes leaves a detached session behind. Detached sessions have their
own budget (`max_detached_sessions`), so they never take a connected performer's slot; past the budget the
one waiting longest is finalised early. `max_sessions_per_address` caps one address's sessions, finalising
its longest-waiting detached session first. See docs/operations.md.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Protocol

from .protocol import CLOSE_TRY_LATER, ProtocolError

log = logging.getLogger(__name__)


class SessionHost(Protocol):
    """What the limits use of the server (state.ServerState)."""

    config: Any
    live: dict
    metrics: Any
    tasks: set

    def cancel_expiry(self, session_id: str) -> None: ...

    async def finalise(self, session: Any, why: str) -> dict | None: ...


class SessionLimits:
    """Detached sessions and client addresses of the live sessions of one server."""

    def __init__(self, state: SessionHost):
        self.state = state
        self.detached: dict[str, float] = {}  # session id -> when its connection ended
        self.closing: set[str] = set()  # detached sessions being finalised (they no longer count as waiting)
        self.addresses: dict[str, str] = {}  # session id -> client address

    @property
    def connected(self) -> int:
        return len(self.state.live) - len(self.detached) - len(self.closing)

    def mark_detached(self, session_id: str) -> None:
        self.detached[session_id] = time.monotonic()

    def mark_closing(self, session_id: str) -> None:
        """A detached session is being finalised: it stays off the connected count until it is gone."""
        if self.detached.pop(session_id, None) is not None:
            self.closing.add(session_id)

    def forget(self, session_id: str) -> None:
        """The session was resumed (it is connected again) or closed."""
        self.detached.pop(session_id, None)
        self.closing.discard(session_id)

    def evict_detached_over_budget(self) -> None:
        """Finalise the longest-waiting detached sessions while there are more than the budget."""
        budget = self.state.config.max_detached_sessions
        waiting = sorted(self.detached, key=self.detached.get)
        for session_id in waiting[:max(0, len(waiting) - budget)]:
            self._evict(session_id, "detached-session budget full")

    async def make_room_for(self, address: str) -> None:
        """Before a new session from `address`: at its cap, finalise its longest-waiting detached session or refuse."""
        cap = self.state.config.max_sessions_per_address
        mine = [sid for sid, a in self.addresses.items() if a == address and sid in self.state.live and sid not in self.closing]
        if not cap or len(mine) < cap:
            return
        waiting = sorted((sid for sid in mine if sid in self.detached), key=self.detached.get)
        if not waiting:
            self.state.metrics.refusals.inc(reason="busy_address")
            raise ProtocolError("busy", f"{address} already streams {len(mine)} sessions, the limit per address",
                                CLOSE_TRY_LATER)
        await self._evict(waiting[0], "per-address cap reached")

    def _evict(self, session_id: str, why: str) -> asyncio.Task:
        session = self.state.live.get(session_id)
        self.mark_closing(session_id)
        self.state.cancel_expiry(session_id)
        log.info("session %s finalised early: %s", session_id, why)
        task = asyncio.ensure_future(self.state.finalise(session, why))
        self.state.tasks.add(task)
        task.add_done_callback(self.state.tasks.discard)
        return task
