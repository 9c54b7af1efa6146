"""SessionStore: every session's metadata and events in SQLite, its audio in files, under --data-dir.

Synchronous on purpose (simple, testable); the server calls it from one dedicated thread. Events are
committed before they are sent, so what a client has seen survives a crash.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from notestream.notes import NoteEvent

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, token_hash TEXT NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL,
    created REAL NOT NULL, updated REAL NOT NULL, sample_rate INTEGER, channels INTEGER,
    input_frames INTEGER NOT NULL DEFAULT 0, duration REAL NOT NULL DEFAULT 0,
    progress REAL NOT NULL DEFAULT 0, error TEXT, filename TEXT, latency TEXT
);
CREATE TABLE IF NOT EXISTS events (
    session TEXT NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, time REAL NOT NULL,
    pitch INTEGER, velocity INTEGER NOT NULL, PRIMARY KEY (session, seq)
);
"""
TERMINAL_STATUSES = ("final", "done", "failed", "cancelled")


@dataclass
class SessionRecord:
    """One row of `sessions`: a live stream (kind 'stream') or an upload job (kind 'upload')."""

    id: str
    token_hash: str
    kind: str
    status: str
    created: float
    updated: float
    sample_rate: int | None
    channels: int | None
    input_frames: int
    duration: float
    progress: float
    error: str | None
    filename: str | None
    latency: str | None = None  # a stream's named operating point (None: the checkpoint's own, "accurate")

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def token_matches(self, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(self.token_hash, hash_token(token))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore:
    """SQLite database `notestream.db` plus one folder of audio per session in `data_dir/sessions/`."""

    def __init__(self, data_dir: str | Path, id_prefix: str = ""):
        self.data_dir = Path(data_dir)
        self.id_prefix = id_prefix  # a replica's id: its balancer routes a session's requests on it (replica.py)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.data_dir / "notestream.db", check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes, the failure we guard
        self._db.executescript(SCHEMA)
        if "latency" not in {row[1] for row in self._db.execute("PRAGMA table_info(sessions)")}:
            self._db.execute("ALTER TABLE sessions ADD COLUMN latency TEXT")  # a data dir from before latencies

    def close(self) -> None:
        self._db.close()

    def create(self, kind: str, sample_rate: int | None = None, channels: int | None = None,
               filename: str | None = None, latency: str | None = None) -> tuple[SessionRecord, str]:
        """A new session with a fresh id and secret token (returned once; only its hash is stored)."""
        session_id, token, now = self.id_prefix + "s_" + secrets.token_hex(8), secrets.token_urlsafe(24), time.time()
        status = "open" if kind == "stream" else "queued"
        self._db.execute(
            "INSERT INTO sessions (id, token_hash, kind, status, created, updated, sample_rate, channels, filename,"
            " latency) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (session_id, hash_token(token), kind, status, now, now, sample_rate, channels, filename, latency),
        )
        self.session_dir(session_id).mkdir(parents=True, exist_ok=True)
        return self.get(session_id), token

    def get(self, session_id: str) -> SessionRecord | None:
        row = self._db.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return SessionRecord(*row) if row else None

    def ids_where(self, kind: str, statuses: tuple[str, ...]) -> list[str]:
        """Ids of sessions of `kind` in any of `statuses`, oldest first (e.g. upload jobs to resume)."""
        marks = ", ".join("?" * len(statuses))
        rows = self._db.execute(f"SELECT id FROM sessions WHERE kind = ? AND status IN ({marks}) ORDER BY created",
                                (kind, *statuses))
        return [r[0] for r in rows]

    def commit_progress(self, session_id: str, events: list[tuple[int, NoteEvent]], input_frames: int,
                        duration: float) -> None:
        """Store decided events and the audio position they follow from, in one transaction."""
        with self._transaction():
            self._db.executemany(
                "INSERT INTO events (session, seq, kind, time, pitch, velocity) VALUES (?, ?, ?, ?, ?, ?)",
                [(session_id, seq, e.kind, e.time, e.pitch, e.velocity) for seq, e in events],
            )
            self._db.execute(
                "UPDATE sessions SET input_frames = ?, duration = ?, updated = ? WHERE id = ?",
                (input_frames, duration, time.time(), session_id),
            )

    def set_status(self, session_id: str, status: str, progress: float | None = None, error: str | None = None,
                   duration: float | None = None) -> None:
        self._db.execute(
            "UPDATE sessions SET status = ?, progress = COALESCE(?, progress), error = COALESCE(?, error),"
            " duration = COALESCE(?, duration), updated = ? WHERE id = ?",
            (status, progress, error, duration, time.time(), session_id),
        )

    def events(self, session_id: str, after_seq: int = 0) -> list[tuple[int, NoteEvent]]:
        rows = self._db.execute(
            "SELECT seq, kind, time, pitch, velocity FROM events WHERE session = ? AND seq > ? ORDER BY seq",
            (session_id, after_seq),
        )
        return [(seq, NoteEvent(kind, t, pitch, velocity)) for seq, kind, t, pitch, velocity in rows]

    def session_dir(self, session_id: str) -> Path:
        return self.data_dir / "sessions" / session_id

    def raw_audio_path(self, session_id: str) -> Path:
        """Interleaved float32 at the session's input rate, appended as audio is processed."""
        return self.session_dir(session_id) / "input.f32"

    def flac_path(self, session_id: str) -> Path:
        return self.session_dir(session_id) / "audio.flac"

    def _transaction(self):
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN")

    def __exit__(self, exc_type, exc, tb) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")


class RawAudioFile:
    """Append-only interleaved float32 audio of one session; cut back to the committed position on resume."""

    def __init__(self, path: Path, channels: int):
        self.path, self.channels = path, channels
        self._file = open(path, "ab")  # noqa: SIM115 - lives as long as the session

    def append(self, interleaved: np.ndarray) -> None:
        self._file.write(np.asarray(interleaved, dtype="<f4").tobytes())
        self._file.flush()  # in the OS before the events that follow from it are committed

    def close(self) -> None:
        self._file.close()

    @staticmethod
    def read(path: Path, channels: int, frames: int) -> np.ndarray:
        """The first `frames` frames (interleaved float32); the file is truncated to them."""
        with open(path, "r+b") as f:
            f.truncate(frames * channels * 4)
        return np.fromfile(path, dtype="<f4")


def compress_to_flac(raw_path: Path, flac_path: Path, sample_rate: int, channels: int) -> None:
    """Encode the raw float32 audio as 16-bit FLAC (written to a temp name, then renamed) and delete the raw file.

    Read one second at a time: a long session's raw audio (4 bytes per sample) never sits in memory whole."""
    tmp = flac_path.with_suffix(".flac.tmp")
    layout = "mono" if channels == 1 else "stereo"
    step = sample_rate * channels  # one second per frame
    with av.open(str(tmp), "w", format="flac") as container:
        stream = container.add_stream("flac", rate=sample_rate, layout=layout)
        with open(raw_path, "rb") if raw_path.exists() else open(os.devnull, "rb") as raw:
            while (block := np.frombuffer(raw.read(step * 4), dtype="<f4")).size:
                pcm = (np.clip(block, -1.0, 1.0) * 32767).astype(np.int16)
                frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout=layout)
                frame.sample_rate = sample_rate
                container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    tmp.replace(flac_path)
    raw_path.unlink(missing_ok=True)
