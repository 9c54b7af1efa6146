"""Upload jobs: `POST /v1/transcriptions` stores a file, checks it decodes, and transcribes it off the loop.

A job is a session of kind 'upload' (same store, same token, same exports). Progress lives in memory
while running; status changes are stored, so jobs interrupted by a restart are run again at startup.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from notestream.audio import audio_duration
from notestream.notes import notes_to_events

from .auth import json_error, require_token
from .results import session_body
from .state import STATE_KEY, ServerState
from .storage import TERMINAL_STATUSES
from .uploads import UploadAborted, receive_upload, too_long_error, upload_too_large

log = logging.getLogger(__name__)
SSE_POLL_SECONDS = 0.25
BUSY_RETRY_SECONDS = 30


class JobInterrupted(Exception):
    """The server is stopping; the job stays 'running' in the store and is run again at startup."""


class JobStopped(Exception):
    """The job was cancelled, or its audio ran past the duration limit while decoding."""


@dataclass
class JobProgress:
    processed_seconds: float = 0.0
    duration: float | None = None
    address: str = ""
    stop_reason: str | None = None  # set from the loop; the job's thread stops at its next chunk
    damage: str | None = None  # where a damaged file was cut
    task: asyncio.Task | None = field(default=None, repr=False)


async def upload_handler(request: web.Request) -> web.Response:
    """Receive the multipart field `file` (size- and duration-limited), queue the job; 202 (429 when the queue is full)."""
    state: ServerState = request.app[STATE_KEY]
    limit = state.config.max_upload_bytes
    if request.content_length is not None and request.content_length > limit + (1 << 16):
        raise upload_too_large(state, limit)
    _check_queue(state, request.remote or "")
    try:
        upload = await receive_upload(request, state)
    except UploadAborted as exc:
        raise json_error(400, "bad_request", f"the upload was cut off before its end ({exc})") from exc
    record, token = await state.stored(state.store.create, "upload", None, None, upload.filename)
    upload_path = state.store.session_dir(record.id) / ("upload" + upload.path.suffix)
    upload.path.replace(upload_path)
    start_job(state, record.id, upload_path, request.remote or "")
    status_url = f"/v1/transcriptions/{record.id}"
    return web.json_response({"job": record.id, "token": token, "status_url": status_url,
                              "events_url": f"{status_url}/events"}, status=202)


def _check_queue(state: ServerState, address: str) -> None:
    """Refuse (429, Retry-After) when the job queue, or this address's share of it, is full."""
    config, jobs = state.config, state.job_progress.values()
    if len(state.job_progress) >= config.max_queued_jobs:
        why = f"the server already has {len(state.job_progress)} jobs queued or running, its limit"
    elif config.max_jobs_per_address and sum(p.address == address for p in jobs) >= config.max_jobs_per_address:
        why = f"{address} already has {config.max_jobs_per_address} jobs queued or running, the limit per address"
    else:
        return
    state.metrics.refusals.inc(reason="jobs_busy")
    raise json_error(429, "busy", f"{why}; try again later", headers={"Retry-After": str(BUSY_RETRY_SECONDS)})


def start_job(state: ServerState, job_id: str, path: Path, address: str = "") -> None:
    """Queue the transcription of `path` in the jobs executor; progress is readable while it runs."""
    progress = JobProgress(duration=audio_duration(path), address=address)
    state.job_progress[job_id] = progress
    task = asyncio.get_running_loop().create_task(_run_job(state, job_id, path, progress), name=f"job-{job_id}")
    progress.task = task
    state.tasks.add(task)
    task.add_done_callback(state.tasks.discard)


async def _run_job(state: ServerState, job_id: str, path: Path, progress: JobProgress) -> None:
    loop = asyncio.get_running_loop()
    limit = state.config.max_upload_seconds

    def on_progress(seconds: float) -> None:
        progress.processed_seconds = seconds
        if state.stopping:
            raise JobInterrupted(f"job {job_id} interrupted by shutdown; it runs again at the next start")
        if seconds > limit:
            progress.stop_reason = too_long_error(limit)
        if progress.stop_reason:
            raise JobStopped(progress.stop_reason)

    def on_damage(message: str) -> None:
        progress.damage = message

    try:
        await state.stored(state.store.set_status, job_id, "running")
        result = await loop.run_in_executor(
            state.jobs_executor, lambda: state.transcriber.transcribe(path, progress=on_progress, damaged=on_damage))
        events = list(enumerate(notes_to_events(result.notes, result.pedals), start=1))
        await state.stored(state.store.commit_progress, job_id, events, 0, result.duration)
        await state.stored(state.store.set_status, job_id, "done", 1.0, progress.damage, result.duration)
        state.metrics.jobs.inc(status="done")
        log.info("job %s done: %d notes in %.1f s of audio%s", job_id, len(result.notes), result.duration,
                 f" ({progress.damage})" if progress.damage else "")
    except JobInterrupted as exc:
        log.info("%s", exc)
    except (JobStopped, asyncio.CancelledError):
        if progress.stop_reason is None:  # the loop is closing: the job stays 'running' and runs again at startup
            raise
        await _stopped(state, job_id, progress)
    except Exception as exc:  # a failed job is reported through its status, never lost silently
        log.exception("job %s failed", job_id)
        await state.stored(state.store.set_status, job_id, "failed", None, f"{type(exc).__name__}: {exc}")
        state.metrics.jobs.inc(status="failed")
    finally:
        state.job_progress.pop(job_id, None)


async def _stopped(state: ServerState, job_id: str, progress: JobProgress) -> None:
    status = "cancelled" if progress.stop_reason == "cancelled" else "failed"
    error = "cancelled by the client" if status == "cancelled" else progress.stop_reason
    await asyncio.shield(state.stored(state.store.set_status, job_id, status, None, error))
    state.metrics.jobs.inc(status=status)
    log.info("job %s %s: %s", job_id, status, error)


async def cancel_handler(request: web.Request) -> web.Response:
    """`DELETE /v1/transcriptions/{job}`: stop a queued or running job (its thread stops at its next chunk)."""
    state: ServerState = request.app[STATE_KEY]
    job_id = request.match_info["job"]
    record = require_token(request, await state.stored(state.store.get, job_id), job_id)
    progress = state.job_progress.get(job_id)
    if record.kind != "upload" or record.finished or progress is None:
        raise json_error(409, "not_running", f"{job_id} is not a queued or running job (status {record.status})")
    progress.stop_reason = "cancelled"
    if progress.task is not None:
        progress.task.cancel()
        await asyncio.wait({progress.task}, timeout=10)
    return web.json_response({"job": job_id, "status": "cancelled"})


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
    done = record.status == "done"
    duration = record.duration if done else progress.duration
    fraction = 1.0 if done else min(0.99, progress.processed_seconds / duration) if duration else 0.0
    body = {"job": job_id, "status": record.status, "progress": round(fraction, 4),
            "processed_seconds": round(record.duration if done else progress.processed_seconds, 3),
            "duration": duration, "error": None if done else record.error, "warning": record.error if done else None,
            "result": None}
    if record.status == "done":
        body["result"] = await session_body(state, record)
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
