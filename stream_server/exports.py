"""Sheet-music exports through the optional `score` package (music21 + Verovio)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from notestream.notes import Note, note_name

KEYS_REMEMBERED = 64  # sessions whose sheet key is kept, so polling a finished job analyses it once
_keys: OrderedDict[tuple, object] = OrderedDict()


class SheetMusicUnavailable(RuntimeError):
    """The `score` package (music21 + Verovio engraving) cannot be imported on this server."""


def sheet_music_writer() -> Callable:
    """`write_sheet_music(notes, pedals, stem)`, imported lazily: sheet music is optional for the server."""
    try:
        import notestream.score  # noqa: F401  (music21 and Verovio, which a lean server may lack)
        from notestream.exporters.sheet import write_sheet_music
    except ImportError as exc:
        raise SheetMusicUnavailable(f"sheet music export is not available on this server ({exc})") from exc
    return write_sheet_music


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
