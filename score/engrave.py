"""Sheet music out: MusicXML written straight from the Notation, SVG pages engraved by Verovio, and
optionally those pages as one PDF.

`score_musicxml`, `render_svg_pages` and `build_score` (a music21 Score, for callers that want to edit
the music) are the steps; notestream.exporters.sheet writes their files. music21 is imported only by
the functions that hand out or take a Score.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

import verovio

from notestream.notes import Note, PedalSpan

from .musicxml import notation_to_musicxml
from .notation import notate

if TYPE_CHECKING:
    from music21 import stream

VEROVIO_OPTIONS = {
    "pageWidth": 2100,  # A4 portrait, in Verovio's tenths of a millimetre
    "pageHeight": 2970,
    "scale": 40,
    "adjustPageHeight": False,
    "breaks": "auto",
    "footer": "none",
}


def score_musicxml(notes: list[Note], pedals: list[PedalSpan] | None = None, title: str | None = None) -> str:
    """Performed notes (and sustain-pedal spans) -> a two-staff piano score as MusicXML text.

    Beats, meter and key are estimated from the notes. No notes (or only spurious ones) give a valid
    score of one bar's rest, so a silent session still yields a page.
    """
    return notation_to_musicxml(notate(notes, pedals), title)


def build_score(
    notes: list[Note], pedals: list[PedalSpan] | None = None, title: str | None = None
) -> stream.Score:
    """The same score as a music21 Score (two PartStaffs), parsed from `score_musicxml`."""
    from music21 import converter

    return converter.parse(score_musicxml(notes, pedals, title), format="musicxml")


def musicxml_text(score: stream.Score) -> str:
    """A music21 Score as a MusicXML document (music21's own exporter, for edited scores)."""
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    return GeneralObjectExporter(score).parse().decode("utf-8")


def write_musicxml(score: stream.Score, path: str | Path) -> Path:
    """Write a music21 Score as uncompressed MusicXML; returns the path."""
    path = Path(path)
    path.write_text(musicxml_text(score), encoding="utf-8")
    return path


def render_svg_pages(musicxml: str, options: dict | None = None) -> list[str]:
    """Engrave MusicXML text into one SVG document per page with Verovio."""
    # Verovio keeps its font path per thread and sets it only in the importing one: set it on every call.
    verovio.setDefaultResourcePath(str(files("verovio") / "data"))
    toolkit = verovio.toolkit()
    toolkit.setOptions({**VEROVIO_OPTIONS, **(options or {})})
    if not toolkit.loadData(musicxml):
        raise ValueError("Verovio could not read the MusicXML (is it a score-partwise document?)")
    return [toolkit.renderToSVG(page) for page in range(1, toolkit.getPageCount() + 1)]
