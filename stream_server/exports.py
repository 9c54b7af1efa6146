"""Sheet-music exports through the optional `score` package (music21 + Verovio)."""

from __future__ import annotations

from collections.abc import Callable


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
