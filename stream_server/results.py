"""`GET /v1/sessions/{id}[.mid|.musicxml|.svg|.pdf|.flac]`: a session's notes and its exports (the sheet in
the user's tempo and time signature with `?tempo=&time_signature=`)."""

from __future__ import annotations

import asyncio
import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from notestream.midi import write_midi
from notestream.notes import Performance, events_to_performance

from .auth import json_error, require_token
from .exports import (
    SheetMusicUnavailable,
    hint_folder,
    names_in_sheet_key,
    prune_hinted_sheets,
    sheet_hint,
    sheet_music_writer,
)
from .protocol import session_urls
from .state import STATE_KEY, ServerState
from .storage import SessionRecord

if TYPE_CHECKING:
    from notestream.score.meter import RhythmHint

EXPORT_TYPES = {".mid": "audio/midi", ".musicxml": "application/vnd.recordare.musicxml+xml", ".svg": "image/svg+xml",
                ".pdf": "application/pdf", ".flac": "audio/flac"}
SCORE_FILES = {".musicxml": "score.musicxml", ".pdf": "score.pdf"}  # and ".svg": score-<page>.svg
SHEET_SUFFIXES = {".musicxml", ".svg", ".pdf"}


def session_performance(state: ServerState, record: SessionRecord) -> Performance:
    """Notes and pedal of a session from its stored events; notes still sounding end at the audio processed."""
    return events_to_performance([e for _, e in state.store.events(record.id)], end_time=record.duration)


async def session_body(state: ServerState, record: SessionRecord) -> dict:
    """The JSON body of `GET /v1/sessions/{id}`, its notes named in the key its sheet is written in."""
    performance = await state.stored(session_performance, state, record)
    snapshot = (record.id, len(performance.notes), record.duration)
    key, names = await asyncio.get_running_loop().run_in_executor(
        state.engraving, names_in_sheet_key, snapshot, performance.notes)
    return session_json(record, performance, key, names)


def session_json(record: SessionRecord, performance: Performance, key: dict | None, names: list[str]) -> dict:
    """The JSON body of `GET /v1/sessions/{id}` (docs/protocol.md): `key` and the note `names` as
    `names_in_sheet_key` gives them."""
    urls = session_urls(record.id)
    if record.kind != "stream":
        urls.pop("audio")
    created = datetime.datetime.fromtimestamp(record.created, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "session": record.id, "kind": record.kind, "status": record.status, "duration": round(record.duration, 4),
        "created": created, "sample_rate": record.sample_rate, "channels": record.channels,
        "notes": [{"onset": round(n.onset, 6), "offset": round(n.offset, 6), "pitch": n.pitch, "name": name,
                   "velocity": n.velocity} for n, name in zip(performance.notes, names, strict=True)],
        "pedals": [{"onset": round(p.onset, 6), "offset": round(p.offset, 6)} for p in performance.pedals],
        "key": key,
        "urls": urls,
    }


async def session_handler(request: web.Request) -> web.StreamResponse:
    """Route `/v1/sessions/{name}`, where name is an id with an optional export suffix."""
    state: ServerState = request.app[STATE_KEY]
    name = request.match_info["name"]
    session_id, dot, suffix = name.partition(".")
    suffix = dot + suffix
    if suffix and suffix not in EXPORT_TYPES:
        raise json_error(404, "unknown_export", f"no export {suffix!r}; use one of {', '.join(EXPORT_TYPES)}")
    record = require_token(request, await state.stored(state.store.get, session_id), session_id)
    if not suffix:
        return web.json_response(await session_body(state, record))
    if suffix == ".flac":
        return _audio_response(state, record)
    path = await _export(state, record, suffix, _page(request), _hint(request) if suffix in SHEET_SUFFIXES else None)
    return web.FileResponse(path, headers={"Content-Type": EXPORT_TYPES[suffix]})


def _page(request: web.Request) -> int:
    try:
        page = int(request.query.get("page", "1"))
    except ValueError:
        page = 0
    if page < 1:
        raise json_error(400, "bad_request", "?page= must be a page number from 1")
    return page


def _score_unavailable(exc: SheetMusicUnavailable) -> web.HTTPException:
    return json_error(503, "score_unavailable", f"{exc}; the .mid export and the JSON notes are")


def _hint(request: web.Request) -> RhythmHint | None:
    """The sheet's `?tempo=` and `?time_signature=` as a RhythmHint (None: the rhythm network decides)."""
    try:
        return sheet_hint(request.query)
    except SheetMusicUnavailable as exc:
        raise _score_unavailable(exc) from exc
    except ValueError as exc:
        raise json_error(400, "bad_hint", f"{exc} (?tempo= and ?time_signature= may also be left out or 'auto')") from exc


def _audio_response(state: ServerState, record: SessionRecord) -> web.FileResponse:
    path = state.store.flac_path(record.id)
    if record.kind != "stream" or not path.exists():
        raise json_error(404, "no_audio", f"session {record.id} has no FLAC audio yet (it is written when the session is final)")
    return web.FileResponse(path, headers={"Content-Type": EXPORT_TYPES[".flac"]})


async def _export(
    state: ServerState, record: SessionRecord, suffix: str, page: int, hint: RhythmHint | None = None,
) -> Path:
    """Write the export (cached in the session folder once the session is final, a sheet with a `hint` in a
    folder of its own) and return its path."""
    final = record.finished
    folder = state.store.session_dir(record.id) / ("" if final else "provisional") / hint_folder(hint)
    if hint is not None and not folder.exists():
        folder.mkdir(parents=True)
        prune_hinted_sheets(folder.parent)
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / "score"
    target = folder / "notes.mid" if suffix == ".mid" else folder / SCORE_FILES.get(suffix, f"score-{page}.svg")
    if final and target.exists():
        return target
    performance = await state.stored(session_performance, state, record)
    if suffix == ".mid":
        await asyncio.get_running_loop().run_in_executor(None, write_midi, performance, target)
        return target
    try:
        write_sheet_music = sheet_music_writer()
    except SheetMusicUnavailable as exc:
        raise _score_unavailable(exc) from exc
    loop = asyncio.get_running_loop()
    written = await loop.run_in_executor(
        state.engraving, partial(write_sheet_music, hint=hint), performance.notes, performance.pedals, stem)
    if suffix == ".pdf":
        from notestream.score.pdf import PdfUnavailable, write_pdf

        try:
            await loop.run_in_executor(state.engraving, write_pdf, written["svg"], target)
        except PdfUnavailable as exc:
            raise json_error(503, "pdf_unavailable", str(exc)) from exc
    if not target.exists():
        raise json_error(404, "no_page", f"the score of session {record.id} has no page {page}")
    return target
