"""Talking to the real server the browser tests use (started by conftest with notestream.server.process)."""

from __future__ import annotations

import json
import urllib.request


def get_json(url: str, token: str | None = None) -> dict:
    """GET a JSON document from the server (with the session token as a bearer)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as response:
        return json.load(response)
