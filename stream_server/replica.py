"""Running as one of several replicas behind a load balancer (deploy/haproxy.cfg, docs/deploy.md).

A replica started with `--replica-id ID` puts its id in front of every session id it makes
(`r1-s_3f9a...`), so that the balancer can send a session's later requests (a resume carries
`?session=ID` on the WebSocket URL, results carry the id in the path) to the replica that holds its data.
A request the balancer marks with BALANCER_HEADER that would open a new stream on a full replica is
refused with HTTP 503 before the WebSocket upgrade, which the balancer can still retry on another replica.
"""

from __future__ import annotations

import json
import re

from aiohttp import web

BALANCER_HEADER = "X-Notestream-Balancer"
REPLICA_ID = re.compile(r"[a-z0-9]{1,16}")
BUSY_RETRY_SECONDS = 5


def replica_id(text: str) -> str:
    """`--replica-id`, checked: lower-case letters and digits (it becomes part of session ids and URLs)."""
    if not REPLICA_ID.fullmatch(text):
        raise ValueError(f"--replica-id {text!r}: use 1 to 16 lower-case letters and digits, e.g. r1")
    return text


def session_id_prefix(replica: str | None) -> str:
    """What a replica's session ids start with ('' for a server that is no replica)."""
    return f"{replica}-" if replica else ""


def refuse_new_stream_when_full(request: web.Request, live_sessions: int, max_sessions: int) -> None:
    """Behind a balancer: a new stream on a full replica is an HTTP 503 (retried elsewhere), not an
    in-band `busy` after the upgrade. Direct clients and resumes are unaffected."""
    if BALANCER_HEADER not in request.headers or "session" in request.query or live_sessions < max_sessions:
        return
    text = json.dumps({"error": "busy", "message": f"this replica is at its limit of {max_sessions} live sessions"})
    raise web.HTTPServiceUnavailable(text=text, content_type="application/json",
                                     headers={"Retry-After": str(BUSY_RETRY_SECONDS)})
