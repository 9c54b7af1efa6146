"""`notestream serve`: the streaming server (WebSocket /v1/stream, uploads, results, web client)."""

from __future__ import annotations

import argparse
import json
import logging
import os
from pathlib import Path

from notestream.model.arguments import add_precision_argument, view_shifts

DEFAULT_DATA_DIR = Path("notestream-data")


def register(subparsers) -> None:
    p = subparsers.add_parser("serve", help="run the live transcription server", description=__doc__)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--checkpoint", type=Path, default=None, help="model checkpoint (default: the shipped one)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--views", type=view_shifts, default=None, metavar="SHIFTS",
                   help="another of the checkpoint's calibrated pitch-view sets: --views=0 or --views=-1,1 "
                        "serve more streams, a little less accurately; default: the checkpoint's own (five views)")
    add_precision_argument(p)
    p.add_argument("--latency", default="accurate", metavar="NAME",
                   help="the operating point of live sessions that ask for none: 'accurate' (the checkpoint's own "
                        "window) or a shorter one it was calibrated for, e.g. 'low' (see /healthz 'latencies')")
    p.add_argument("--data-dir", type=Path, default=Path(os.environ.get("NOTESTREAM_DATA", DEFAULT_DATA_DIR)),
                   help="where sessions (SQLite + audio) are kept (env NOTESTREAM_DATA)")
    p.add_argument("--api-key", default=os.environ.get("NOTESTREAM_API_KEY"),
                   help="require this key on every /v1/ request (env NOTESTREAM_API_KEY)")
    p.add_argument("--allowed-origins", default=None,
                   help="comma-separated browser origins allowed to stream ('*' = any; default: same host only)")
    p.add_argument("--max-sessions", type=int, default=8, help="live streaming sessions at once")
    p.add_argument("--max-message-kb", type=int, default=1024, help="largest WebSocket message")
    p.add_argument("--max-session-minutes", type=float, default=240.0, help="longest streamed session")
    p.add_argument("--max-upload-mb", type=float, default=200.0, help="largest uploaded file")
    p.add_argument("--resume-window", type=float, default=120.0, help="seconds a dropped session waits for its client")
    p.add_argument("--max-detached-sessions", type=int, default=16,
                   help="dropped sessions waiting for a resume (apart from --max-sessions); over it the oldest is finalised")
    p.add_argument("--max-sessions-per-address", type=int, default=0,
                   help="live sessions (connected or waiting) per client address; 0: no cap")
    p.add_argument("--max-upload-minutes", type=float, default=60.0, help="longest audio an upload may hold")
    p.add_argument("--max-queued-jobs", type=int, default=8, help="upload jobs queued or running; more get 429")
    p.add_argument("--max-jobs-per-address", type=int, default=4, help="of those, from one client address; 0: no cap")
    p.add_argument("--idle-timeout", type=float, default=30.0,
                   help="seconds an HTTP connection may wait without a complete request (headers included)")
    p.add_argument("--workers", type=int, default=1,
                   help="inference threads (live sessions share one batched model round at a time; "
                        "more threads only help replays after a restart)")
    p.add_argument("--replica-id", default=os.environ.get("NOTESTREAM_REPLICA_ID"),
                   help="behind a load balancer: this replica's name (a-z, 0-9), which starts its session ids so "
                        "that resumes reach it (env NOTESTREAM_REPLICA_ID; docs/deploy.md)")
    p.add_argument("--log-format", choices=("json", "text"), default="json", help="json: one object per log line")
    p.set_defaults(func=run)


def config_from_args(args: argparse.Namespace):
    """The ServerConfig for these command-line arguments (validated)."""
    from notestream.server.replica import replica_id
    from notestream.server.state import ServerConfig

    for name in ("port", "max_sessions", "max_message_kb", "workers", "max_detached_sessions", "max_queued_jobs"):
        if getattr(args, name) < (0 if name == "port" else 1):
            raise ValueError(f"--{name.replace('_', '-')} must be positive")
    replica = replica_id(args.replica_id) if args.replica_id else None
    origins = [o.strip() for o in args.allowed_origins.split(",") if o.strip()] if args.allowed_origins else None
    return ServerConfig(
        data_dir=args.data_dir, host=args.host, port=args.port, checkpoint=args.checkpoint, device=args.device, views=args.views,
        precision=args.precision,
        api_key=args.api_key or None, allowed_origins=origins, max_sessions=args.max_sessions,
        max_message_bytes=args.max_message_kb * 1024, max_session_seconds=args.max_session_minutes * 60,
        max_upload_bytes=int(args.max_upload_mb * 1e6), resume_window=args.resume_window, workers=args.workers,
        replica_id=replica,
        latency=args.latency,
        max_detached_sessions=args.max_detached_sessions, max_sessions_per_address=args.max_sessions_per_address,
        max_upload_seconds=args.max_upload_minutes * 60, max_queued_jobs=args.max_queued_jobs,
        max_jobs_per_address=args.max_jobs_per_address, idle_timeout=args.idle_timeout,
    )


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (and the exception, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname,
                 "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def run(args: argparse.Namespace) -> int:
    from notestream.server.app import run_server

    config = config_from_args(args)
    if args.log_format == "json":
        for handler in logging.getLogger().handlers:
            handler.setFormatter(JsonLogFormatter())
    run_server(config)
    return 0
