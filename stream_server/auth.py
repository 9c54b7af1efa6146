"""Access control: the optional service API key, per-session tokens, and the browser Origin check."""

from __future__ import annotations

import hmac
import json
from urllib.parse import urlsplit

from aiohttp import web

from .state import STATE_KEY
from .storage import SessionRecord

OPEN_PATHS = ("/healthz", "/metrics")  # plus the static client (everything outside /v1/)


HTTP_ERRORS = {400: web.HTTPBadRequest, 401: web.HTTPUnauthorized, 403: web.HTTPForbidden, 404: web.HTTPNotFound,
               409: web.HTTPConflict, 413: web.HTTPRequestEntityTooLarge, 415: web.HTTPUnsupportedMediaType,
               429: web.HTTPTooManyRequests, 503: web.HTTPServiceUnavailable}


def json_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.HTTPException:
    """An HTTP error with a JSON body {"error": code, "message": sentence}, ready to raise."""
    text = json.dumps({"error": code, "message": message})
    cls = HTTP_ERRORS[status]
    if cls is web.HTTPRequestEntityTooLarge:
        return cls(max_size=0, actual_size=0, text=text, content_type="application/json", headers=headers)
    return cls(text=text, content_type="application/json", headers=headers)


def api_key_middleware(api_key: str | None):
    """Refuse /v1/ requests without the service key (header X-API-Key or ?api_key=) when one is set."""

    @web.middleware
    async def check_api_key(request: web.Request, handler):
        if api_key and request.path.startswith("/v1/"):
            given = request.headers.get("X-API-Key") or request.query.get("api_key") or ""
            if not hmac.compare_digest(given.encode(), api_key.encode()):
                request.app[STATE_KEY].metrics.refusals.inc(reason="api_key")
                raise json_error(401, "unauthorized", "this server needs an API key: send header X-API-Key or ?api_key=")
        return await handler(request)

    return check_api_key


def request_token(request: web.Request) -> str | None:
    """A session token from `Authorization: Bearer <token>` or `?token=`."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[len("Bearer "):].strip()
    return request.query.get("token")


def require_token(request: web.Request, record: SessionRecord | None, session_id: str) -> SessionRecord:
    """The session's record when the request carries its token; 404 / 403 otherwise."""
    if record is None:
        raise json_error(404, "unknown_session", f"there is no session {session_id!r}")
    if not record.token_matches(request_token(request)):
        request.app[STATE_KEY].metrics.refusals.inc(reason="token")
        raise json_error(403, "forbidden", "this session needs its token: header 'Authorization: Bearer <token>' or ?token=")
    return record


def origin_allowed(origin: str | None, host: str | None, allowed: list[str] | None) -> bool:
    """Browsers send Origin on WebSocket upgrades; allow listed origins, or the same host when none are listed."""
    if origin is None:
        return True  # not a browser
    if allowed is not None:
        return "*" in allowed or origin.rstrip("/") in {a.rstrip("/") for a in allowed}
    return urlsplit(origin).netloc.lower() == (host or "").lower()
