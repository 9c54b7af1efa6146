"""The janitor: open streaming sessions found at startup (left by a crash) are finalised once their resume
window has passed, unless their client came back; their audio is then compressed like any finished session's."""

from __future__ import annotations

import asyncio
import logging

from .protocol import ProtocolError
from .state import ServerState

log = logging.getLogger(__name__)


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
