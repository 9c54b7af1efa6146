"""Receiving an upload: the one error path from a multipart body to a checked audio file in incoming/.

Every way a body can be wrong (no or wrong boundary, nested multipart, a hostile file name, a body cut
off, too large, too long, not audio) ends here as one JSON error, and never leaves bytes behind. The
client's file name is only ever data (cleaned, stored in the database), never a name on disk.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from aiohttp import BodyPartReader, ClientPayloadError, web
from aiohttp.http_exceptions import HttpProcessingError

from notestream.audio import AUDIO_EXTENSIONS, AudioDecodeError, audio_duration, iter_audio_chunks

from .auth import json_error
from .state import ServerState

log = logging.getLogger(__name__)
CHUNK_BYTES = 1 << 16
MAX_NAME_CHARS = 200
MALFORMED = (ValueError, TypeError, RuntimeError, LookupError, HttpProcessingError, ClientPayloadError)


@dataclass(frozen=True)
class ReceivedUpload:
    """An uploaded file, stored under a server-chosen name, with its cleaned client name and duration."""

    path: Path
    filename: str
    duration: float | None


class UploadAborted(Exception):
    """The client went away mid-body; nothing is kept."""


async def receive_upload(request: web.Request, state: ServerState) -> ReceivedUpload:
    """Store the multipart field `file` in incoming/ and check it is audio within the limits; raise a JSON error."""
    folder = state.store.data_dir / "incoming"
    folder.mkdir(exist_ok=True)
    part, filename = folder / f"{secrets.token_hex(8)}.part", "the upload"
    try:
        filename, suffix = await _store_file_field(request, part, state)
        path = part.rename(part.with_suffix(suffix))
        part = path
        duration = await asyncio.get_running_loop().run_in_executor(None, _probe, path)
        _check_duration(state, duration)
        return ReceivedUpload(path, filename, duration)
    except web.HTTPException:
        part.unlink(missing_ok=True)
        raise
    except (ConnectionError, asyncio.IncompleteReadError) as exc:
        part.unlink(missing_ok=True)
        log.warning("upload from %s aborted by the client (%s)", request.remote, type(exc).__name__)
        raise UploadAborted(str(exc)) from exc
    except AudioDecodeError as exc:
        part.unlink(missing_ok=True)
        state.metrics.refusals.inc(reason="not_audio")
        reason = str(exc).replace(str(part), filename)  # the client's name for its file, not our path
        raise json_error(415, "unsupported_media", f"the upload is not audio this server can decode: {reason}") from exc
    except MALFORMED as exc:
        part.unlink(missing_ok=True)
        state.metrics.refusals.inc(reason="bad_upload")
        raise json_error(400, "bad_request", "the upload is not well-formed multipart/form-data with a field 'file' "
                         f"({type(exc).__name__}: {str(exc)[:200]})") from exc
    except BaseException:
        part.unlink(missing_ok=True)
        raise


async def _store_file_field(request: web.Request, target: Path, state: ServerState) -> tuple[str, str]:
    """Write the `file` field's bytes to `target` (size-limited); return the cleaned client name and suffix."""
    if not request.content_type.startswith("multipart/"):
        raise json_error(400, "bad_request", "send the audio as multipart/form-data in a field named 'file'")
    reader = await request.multipart()
    field = await reader.next()
    while field is not None and isinstance(field, BodyPartReader) and field.name != "file":
        field = await reader.next()
    if field is None:
        raise json_error(400, "bad_request", "the form has no file field named 'file'")
    if not isinstance(field, BodyPartReader):
        raise json_error(400, "bad_request", "the form holds a nested multipart body; send the file as a plain field 'file'")
    if not field.filename:
        raise json_error(400, "bad_request", "the field 'file' carries no filename (its extension names the format)")
    filename = clean_filename(field.filename)
    suffix = Path(filename).suffix.lower()
    if not filename or suffix not in AUDIO_EXTENSIONS:
        raise json_error(415, "unsupported_media", f"{filename or 'a file without a name'}: {suffix or 'no extension'} is "
                         f"not an audio format this server reads ({', '.join(sorted(AUDIO_EXTENSIONS))})")
    limit, size = state.config.max_upload_bytes, 0
    with open(target, "wb") as out:
        while chunk := await field.read_chunk(CHUNK_BYTES):
            size += len(chunk)
            if size > limit:
                raise upload_too_large(state, limit)
            out.write(chunk)
    return filename, suffix


def clean_filename(name: str | None) -> str:
    """The client's file name as safe text: its last path part, control characters removed, at most 200 characters
    (keeping the extension)."""
    if not name:
        return ""
    name = name.encode("utf-8", "replace").decode("utf-8", "replace").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    if len(name) > MAX_NAME_CHARS:
        suffix = Path(name).suffix[:16]
        name = name[:MAX_NAME_CHARS - len(suffix)] + suffix
    return name


def upload_too_large(state: ServerState, limit: int) -> web.HTTPException:
    state.metrics.refusals.inc(reason="upload_too_large")
    return json_error(413, "too_large", f"uploads are limited to {limit / 1e6:g} MB (--max-upload-mb)")


def _probe(path: Path) -> float | None:
    """The duration the container declares (None: it does not say); decoding its first second proves it is audio."""
    next(iter(iter_audio_chunks(path, 16000, chunk_seconds=1.0)))
    return audio_duration(path)


def _check_duration(state: ServerState, duration: float | None) -> None:
    limit = state.config.max_upload_seconds
    if duration is not None and duration > limit:
        state.metrics.refusals.inc(reason="upload_too_long")
        raise json_error(413, "too_long", f"the audio lasts {duration / 60:.1f} min; uploads are limited to "
                         f"{limit / 60:g} min of audio (--max-upload-minutes)")


def too_long_error(limit: float) -> str:
    """The job error for audio that turns out longer than its header said, while decoding."""
    return f"too_long: the audio goes on past the limit of {limit / 60:g} min (--max-upload-minutes); transcription stopped"
