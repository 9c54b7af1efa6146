"""Sheet-music exports through the optional `score` package, on a thread prepared for Verovio."""

from __future__ import annotations

from collections.abc import Callable


class ScoreUnavailable(RuntimeError):
    """The `score` package (music21 + Verovio engraving) cannot be imported on this server."""


def score_engrave() -> Callable:
    """`score.engrave(notes, pedals, out_stem)`, imported lazily: sheet music is optional for the server."""
    try:
        from score import engrave
    except ImportError as exc:
        raise ScoreUnavailable(f"sheet music export is not available on this server ({exc})") from exc
    return engrave


def prepare_engraving_thread() -> None:
    """Verovio keeps its resource (font) path per thread and sets it only in the importing thread.

    The engraving executor's thread calls this first, or every SVG render fails to load its fonts.
    """
    try:
        from importlib.resources import files

        import verovio
    except ImportError:
        return  # engraving will report itself unavailable
    verovio.setDefaultResourcePath(str(files("verovio") / "data"))
