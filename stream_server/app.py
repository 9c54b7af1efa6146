"""The aiohttp application: routes, startup and graceful shutdown. `run_server` is what `notestream serve` calls."""

from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import web

from notestream.model.transcriber import Transcriber

from .auth import api_key_middleware, json_error
from .client_faults import install_client_fault_filter
from .janitor import schedule_orphans
from .jobs import cancel_handler, job_events_handler, job_handler, resume_unfinished_jobs, upload_handler
from .memory import bound_native_caches, free_math_library_buffers, release_freed_memory, release_periodically
from .results import session_handler
from .state import STATE_KEY, ServerConfig, ServerState, started_threads
from .stream_handler import stream_handler

log = logging.getLogger(__name__)
STARTED_KEY = web.AppKey("started", float)
TRIMMER_KEY = web.AppKey("trimmer", asyncio.Task)
BLOCKING_THREADS = 2


def create_app(config: ServerConfig, transcriber: Transcriber | None = None) -> web.Application:
    """Build the application (loads the checkpoint unless a Transcriber is given)."""
    transcriber = transcriber or Transcriber.from_checkpoint(config.checkpoint, config.device, views=config.views,
                                                            precision=config.precision)
    if config.latency not in transcriber.latencies:
        raise ValueError(f"--latency {config.latency}: this checkpoint offers {', '.join(transcriber.latencies)}")
    transcriber.warm_up_streams(config.max_sessions, config.latency)
    # the warm-up's GEMM buffers and transient maps: idle RSS is the working level, not the warm-up's high-water mark
    free_math_library_buffers()
    release_freed_memory()
    state = ServerState(config, transcriber)
    install_client_fault_filter()
    app = web.Application(middlewares=[api_key_middleware(config.api_key)], client_max_size=config.max_upload_bytes + (1 << 20))
    app[STATE_KEY] = state
    app[STARTED_KEY] = time.time()
    app.router.add_get("/v1/stream", stream_handler)
    app.router.add_get("/v1/sessions/{name}", session_handler)
    app.router.add_post("/v1/transcriptions", upload_handler)
    app.router.add_get("/v1/transcriptions/{job}", job_handler)
    app.router.add_delete("/v1/transcriptions/{job}", cancel_handler)
    app.router.add_get("/v1/transcriptions/{job}/events", job_events_handler)
    app.router.add_get("/healthz", health_handler)
    app.router.add_get("/metrics", metrics_handler)
    app.router.add_get("/", static_handler)
    app.router.add_get("/static/{path:.*}", static_handler)
    app.on_startup.append(_on_startup)
    app.on_shutdown.append(_on_shutdown)
    _register_gauges(state)
    return app


def _register_gauges(state: ServerState) -> None:
    metrics = state.metrics
    metrics.gauge("notestream_sessions_live", "Streaming sessions in memory (connected or awaiting resume).", lambda: len(state.live))
    metrics.gauge("notestream_connections", "Open streaming WebSocket connections.", lambda: len(state.connections))
    metrics.gauge("notestream_inference_rounds", "Batched model rounds run for live sessions.", lambda: state.batcher.rounds)
    metrics.gauge("notestream_inference_round_sessions", "Session steps those rounds served (sessions per round = this / rounds).",
                  lambda: state.batcher.items)
    metrics.gauge("notestream_jobs_running", "Upload jobs queued or running.", lambda: len(state.job_progress))


def model_work(state: ServerState) -> tuple[int, float]:
    """A value that changes whenever the model works: the count of live rounds, and the clock while a job runs."""
    return state.batcher.rounds, time.monotonic() if state.job_progress else 0.0


async def _on_startup(app: web.Application) -> None:
    state: ServerState = app[STATE_KEY]
    # file probes, MIDI writing, FLAC encoding, malloc_trim: few and short, so two threads; asyncio's own default
    # would grow a thread at a time up to cores + 4 as bursts arrive, which a soak cannot tell from a leak
    asyncio.get_running_loop().set_default_executor(started_threads(BLOCKING_THREADS, "blocking"))
    resume_unfinished_jobs(state)
    schedule_orphans(state)
    app[TRIMMER_KEY] = asyncio.get_running_loop().create_task(
        release_periodically(lambda: model_work(state), state.infer), name="memory-release")
    config = state.config
    log.info("notestream server on http://%s:%d (device %s, data in %s, model %s)", config.host, config.port,
             state.transcriber.loaded.device, config.data_dir, state.transcriber.describe().get("model"))


async def _on_shutdown(app: web.Application) -> None:
    log.info("shutting down: finalising %d live session(s)", len(app[STATE_KEY].live))
    app[TRIMMER_KEY].cancel()
    await app[STATE_KEY].shutdown()


async def health_handler(request: web.Request) -> web.Response:
    """Liveness plus a few facts an operator checks first."""
    state: ServerState = request.app[STATE_KEY]
    return web.json_response({"status": "ok", "replica": state.config.replica_id, "live_sessions": len(state.live), "max_sessions": state.config.max_sessions,
                              "device": str(state.transcriber.loaded.device), "model": state.transcriber.describe(),
                              "latencies": {name: round(state.transcriber.latency_seconds(name), 4)
                                            for name in state.transcriber.latencies},
                              "default_latency": state.config.latency,
                              "uptime_seconds": round(time.time() - request.app[STARTED_KEY], 1)})


async def metrics_handler(request: web.Request) -> web.Response:
    return web.Response(text=request.app[STATE_KEY].metrics.render(), content_type="text/plain", charset="utf-8")


async def static_handler(request: web.Request) -> web.FileResponse:
    """The browser app (notestream.web, client_web/; '/' is its index.html); only its own files, else 404."""
    root = request.app[STATE_KEY].config.static_dir.resolve()
    target = (root / request.match_info.get("path", "index.html")).resolve()
    if not target.is_relative_to(root) or not target.is_file() or target.suffix in (".py", ".pyc", ".md"):
        raise json_error(404, "not_found", f"{request.path} is not part of the web client")
    return web.FileResponse(target)


def run_server(config: ServerConfig) -> None:
    """Serve until SIGINT/SIGTERM, then finalise open sessions and exit."""
    bound_native_caches()
    app = create_app(config)
    web.run_app(app, host=config.host, port=config.port, print=None, shutdown_timeout=30.0,
                keepalive_timeout=config.idle_timeout, access_log_format='%a "%r" %s %b %Tfs')
