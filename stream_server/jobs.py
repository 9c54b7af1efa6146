"""Upload jobs: `POST /v1/transcriptions` stores a file, checks it decodes, and transcribes it off the loop.

A job is a session of kind 'upload' (same store, same token, same exports). Progress lives in memory
while running; status changes are stored, so jobs interrupted by a restart are run again at startup.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from notestream.audio import AUDIO_EXTENSIONS, AudioDecodeError, audio_duration, iter_audio_chunks
from notestream.notes import notes_to_events

from .auth import json_error, require_token
from .results import session_json, session_performance
from .state import STATE_KEY, ServerState
from .storage import TERMINAL_STATUSES

log = logging.getLogger(__name__)
CHUNK_BYTES = 1 << 16
SSE_POLL_SECONDS = 0.25


class JobInterrupted(Exception):
    """The server is stopping; the job stays 'running' in the store and is run again at startup."""


@dataclass
class JobProgress:
    processed_seconds: float = 0.0
    duration: float | None = None


async def upload_handler(request: web.Request) -> web.Response:
    """Receive the multipart field `file` (size-limited), check it is audio, queue the job; 202."""
    state: ServerState = request.app[STATE_KEY]
    limit = state.config.max_upload_bytes
    if request.content_length is not None and request.content_length > limit + (1 << 16):
        raise _too_large(state, limit)
    tmp = await _receive_file(request, state, limit)
    try:
        await asyncio.get_running_loop().run_in_executor(None, _check_decodes, tmp)
    except AudioDecodeError as exc:
        tmp.unlink(missing_ok=True)
        state.metrics.refusals.inc(reason="not_audio")
        raise json_error(415, "unsupported_media", f"the upload is not audio this server can decode: {exc}") from exc
    record, token = await state.stored(state.store.create, "upload", None, None, tmp.name.split("-", 1)[1])
    upload_path = state.store.session_dir(record.id) / ("upload" + tmp.suffix.lower())
    shutil.move(tmp, upload_path)
    start_job(state, record.id, upload_path)
    status_url = f"/v1/transcriptions/{record.id}"
    return web.json_response({"job": record.id, "token": token, "status_url": status_url,
                              "events_url": f"{status_url}/events"}, status=202)


def _too_large(state: ServerState, limit: int) -> web.HTTPException:
    state.metrics.refusals.inc(reason="upload_too_large")
    return json_error(413, "too_large", f"uploads are limited to {limit / 1e6:g} MB")


async def _receive_file(request: web.Request, state: ServerState, limit: int) -> Path:
    if not request.content_type.startswith("multipart/"):
        raise json_error(400, "bad_request", "send the audio as multipart/form-data in a field named 'file'")
    reader = await request.multipart()
    field = await reader.next()
    while field is not None and field.name != "file":
        field = await reader.next()
    if field is None or not field.filename:
        raise json_error(400, "bad_request", "the form has no file field named 'file'")
    suffix = Path(field.filename).suffix.lower()
    if suffix not in AUDIO_EXTENSIONS:
        raise json_error(415, "unsupported_media", f"{field.filename}: {suffix or 'no extension'} is not an audio format "
                         f"this server reads ({', '.join(sorted(AUDIO_EXTENSIONS))})")
    folder = state.store.data_dir / "incoming"
    folder.mkdir(exist_ok=True)
    tmp = folder / f"{secrets.token_hex(6)}-{Path(field.filename).name}"
    size = 0
    with open(tmp, "wb") as out:
        while chunk := await field.read_chunk(CHUNK_BYTES):
            size += len(chunk)
            if size > limit:
                out.close()
                tmp.unlink(missing_ok=True)
                raise _too_large(state, limit)
            out.write(chunk)
    return tmp


def _check_decodes(path: Path) -> None:
    """Decode the first chunk: a file that is not audio fails here, with PyAV's reason."""
    next(iter(iter_audio_chunks(path, 16000, chunk_seconds=1.0)))


def start_job(state: ServerState, job_id: str, path: Path) -> None:
    """Queue the transcription of `path` in the jobs executor; progress is readable while it runs."""
    progress = JobProgress(duration=audio_duration(path))
    state.job_progress[job_id] = progress
    task = asyncio.get_running_loop().create_task(_run_job(state, job_id, path, progress), name=f"job-{job_id}")
    state.tasks.add(task)
    task.add_done_callback(state.tasks.discard)


async def _run_job(state: ServerState, job_id: str, path: Path, progress: JobProgress) -> None:
    loop = asyncio.get_running_loop()

    def on_progress(seconds: float) -> None:
        progress.processed_seconds = seconds
        if state.stopping:
            raise JobInterrupted(f"job {job_id} interrupted by shutdown; it runs again at the next start")

    try:
        await state.stored(state.store.set_status, job_id, "running")
        result = await loop.run_in_executor(state.jobs_executor, lambda: state.transcriber.transcribe(path, progress=on_progress))
        events = list(enumerate(notes_to_events(result.notes, result.pedals), start=1))
        await state.stored(state.store.commit_progress, job_id, events, 0, result.duration)
        await state.stored(state.store.set_status, job_id, "done", 1.0, None, result.duration)
        state.metrics.jobs.inc(status="done")
        log.info("job %s done: %d notes in %.1f s of audio", job_id, len(result.notes), result.duration)
    except JobInterrupted as exc:
        log.info("%s", exc)
    except Exception as exc:  # a failed job is reported through its status, never lost silently
        log.exception("job %s failed", job_id)
        await state.stored(state.store.set_status, job_id, "failed", None, f"{type(exc).__name__}: {exc}")
        state.metrics.jobs.inc(status="failed")


def resume_unfinished_jobs(state: ServerState) -> None:
    """At startup: jobs that were queued or running when the server stopped are run again."""
    for job_id in state.store.ids_where("upload", ("queued", "running")):
        uploads = sorted(state.store.session_dir(job_id).glob("upload.*"))
        if uploads:
            log.info("job %s: running again after a restart", job_id)
            start_job(state, job_id, uploads[0])


async def _job_status(state: ServerState, request: web.Request) -> dict:
    job_id = request.match_info["job"]
    record = require_token(request, await state.stored(state.store.get, job_id), job_id)
    if record.kind != "upload":
        raise json_error(404, "unknown_job", f"{job_id} is a streaming session, not a job; read /v1/sessions/{job_id}")
    progress = state.job_progress.get(job_id, JobProgress())
    duration = record.duration if record.status == "done" else progress.duration
    fraction = 1.0 if record.status == "done" else min(0.99, progress.processed_seconds / duration) if duration else 0.0
    body = {"job": job_id, "status": record.status, "progress": round(fraction, 4),
            "processed_seconds": round(record.duration if record.status == "done" else progress.processed_seconds, 3),
            "duration": duration, "error": record.error, "result": None}
    if record.status == "done":
        body["result"] = session_json(record, await state.stored(session_performance, state, record))
    return body


async def job_handler(request: web.Request) -> web.Response:
    """`GET /v1/transcriptions/{job}`: status, progress (0..1) and, when done, the notes."""
    return web.json_response(await _job_status(request.app[STATE_KEY], request))


async def job_events_handler(request: web.Request) -> web.StreamResponse:
    """`GET /v1/transcriptions/{job}/events`: Server-Sent Events `progress` until `done` or `failed`."""
    state: ServerState = request.app[STATE_KEY]
    body = await _job_status(state, request)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    last = None
    while True:
        if body["status"] in TERMINAL_STATUSES:
            await response.write(f"event: {body['status']}\ndata: {json.dumps(body)}\n\n".encode())
            break
        snapshot = (body["status"], body["progress"])
        if snapshot != last:
            await response.write(f"event: progress\ndata: {json.dumps(body)}\n\n".encode())
            last = snapshot
        await asyncio.sleep(SSE_POLL_SECONDS)
        body = await _job_status(state, request)
    await response.write_eof()
    return response
