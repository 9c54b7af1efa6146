"""Sheet-music exports through the optional `score` package (music21 + Verovio)."""

from __future__ import annotations

import shutil
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path

from notestream.notes import Note, note_name

HINTED_SHEETS_KEPT = 8  # sheets of one session in other tempi or metres kept on disk
KEYS_REMEMBERED = 64  # sessions whose sheet key is kept, so polling a finished job analyses it once
_keys: OrderedDict[tuple, object] = OrderedDict()


class SheetMusicUnavailable(RuntimeError):
    """The `score` package (music21 + Verovio engraving) cannot be imported on this server."""


def require_score() -> None:
    """Import the `score` package (music21 and Verovio, which a lean server may lack), or say it is missing."""
    try:
        import notestream.score  # noqa: F401
    except ImportError as exc:
        raise SheetMusicUnavailable(f"sheet music export is not available on this server ({exc})") from exc


def sheet_music_writer() -> Callable:
    """`write_sheet_music(notes, pedals, stem)`, imported lazily: sheet music is optional for the server."""
    require_score()
    from notestream.exporters.sheet import write_sheet_music

    return write_sheet_music


def sheet_hint(query: Mapping[str, str]):
    """The `RhythmHint` of a score export's `?tempo=` and `?time_signature=` (None when neither is given):
    what the user tells the sheet. ValueError names a value the sheet cannot use."""
    require_score()
    from notestream.score.meter import RhythmHint

    hint = RhythmHint.from_text(query.get("tempo"), query.get("time_signature"))
    if hint.tempo_bpm is not None:
        hint = RhythmHint(round(hint.tempo_bpm, 2), hint.time_signature)
    return hint or None


def hint_folder(hint) -> str:
    """The sub-folder a session's score written with `hint` is kept in ('' for the network's own reading)."""
    if hint is None:
        return ""
    tempo = "auto" if hint.tempo_bpm is None else f"{hint.tempo_bpm:.2f}"
    metre = "auto" if hint.time_signature is None else hint.time_signature.replace("/", "-")
    return f"hint-{tempo}-{metre}"


def prune_hinted_sheets(folder: Path, keep: int = HINTED_SHEETS_KEPT) -> None:
    """Remove all but the `keep` most recently made hint folders in `folder`: a user trying tempo after tempo
    does not fill the disk."""
    made = sorted(folder.glob("hint-*"), key=lambda p: p.stat().st_mtime)
    for old in made[: max(0, len(made) - keep)]:
        shutil.rmtree(old, ignore_errors=True)


def names_in_sheet_key(snapshot: tuple, notes: list[Note]) -> tuple[dict | None, list[str]]:
    """The key the sheet of `notes` is written in, as JSON ({'fifths', 'mode', 'name'}), and each note's name
    spelled in it (Eb4 in E-flat major); (None, sharp names) where this server has no `score` package.
    `snapshot` (session id, note count, duration) names these notes, so a finished session is analysed once.
    Runs the rhythm network: call it off the event loop."""
    try:
        from notestream.exporters.text import key_record, spelled_names
        from notestream.score import sheet_key
    except ImportError:
        return None, [note_name(n.pitch) for n in notes]
    if snapshot not in _keys:
        _keys[snapshot] = sheet_key(notes)
        while len(_keys) > KEYS_REMEMBERED:
            _keys.popitem(last=False)
    key = _keys[snapshot]
    return key_record(key), spelled_names(notes, key)
