"""Who may hold a live session: connected sessions, detached ones (waiting for a resume) and each address.

A client that sends `start` and vanishes leaves a detached session behind. Detached sessions have their
own budget (`max_detached_sessions`), so they never take a connected performer's slot; past the budget the
one waiting longest is finalised early. `max_sessions_per_address` caps one address's sessions, finalising
its longest-waiting detached session first. Orphans (open sessions found after a restart) are finalised by
`finalise_orphans` once their resume window has passed. See docs/operations.md.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from .protocol import CLOSE_TRY_LATER, ProtocolError

if TYPE_CHECKING:
    from .state import ServerState

log = logging.getLogger(__name__)


class SessionLimits:
    """Detached sessions and client addresses of the live sessions of one server."""

    def __init__(self, state: ServerState):
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


def schedule_orphans(state: ServerState) -> None:
    """At startup: open streaming sessions not in memory get the resume window to come back, then are finalised."""
    orphans = state.store.ids_where("stream", ("open",))
    if orphans:
        log.info("%d open session(s) from before the restart: finalised in %g s unless resumed", len(orphans),
                 state.config.resume_window)
    for session_id in orphans:
        handle = asyncio.get_running_loop().call_later(
            state.config.resume_window, lambda sid=session_id: _track(state, finalise_orphan(state, sid)))
        state.orphan_timers.append(handle)


def _track(state: ServerState, coroutine) -> None:
    task = asyncio.ensure_future(coroutine)
    state.tasks.add(task)
    task.add_done_callback(state.tasks.discard)


async def finalise_orphan(state: ServerState, session_id: str) -> None:
    """Rebuild a session left open by a crash (replaying its stored audio) and finalise it: flush, compress."""
    if session_id in state.live or state.stopping:
        return
    record = await state.stored(state.store.get, session_id)
    if record is None or record.finished:
        return
    try:
        session = await state.restore(record)
    except ProtocolError as exc:  # being resumed right now: the resume wins
        log.info("orphan %s: %s", session_id, exc.message)
        return
    await state.finalise(session, "orphan: its client did not resume after the restart")
