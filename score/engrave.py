"""Sheet music out: MusicXML written by music21 and SVG pages engraved by Verovio.

`engrave(notes, pedals, out_stem)` is the one call `notestream transcribe` and the streaming service use;
`build_score`, `write_musicxml` and `render_svg_pages` are the steps, for callers that want one of them.
"""

from __future__ import annotations

import re
from pathlib import Path

import verovio
from music21 import stream
from music21.musicxml.m21ToXml import GeneralObjectExporter

from model.notes import Note, PedalSpan

from .notation import notate
from .staves import PEDAL_DOWN_TEXT, PEDAL_UP_TEXT, notation_to_score

VEROVIO_OPTIONS = {
    "pageWidth": 2100,  # A4 portrait, in Verovio's tenths of a millimetre
    "pageHeight": 2970,
    "scale": 40,
    "adjustPageHeight": False,
    "breaks": "auto",
    "footer": "none",
}


def build_score(
    notes: list[Note], pedals: list[PedalSpan] | None = None, title: str | None = None
) -> stream.Score:
    """Performed notes (and sustain-pedal spans) -> a two-staff piano score.

    Beats, meter and key are estimated from the notes. No notes (or only spurious ones) give a valid
    score of one bar's rest, so a silent session still yields a page.
    """
    return notation_to_score(notate(notes, pedals), title)


def musicxml_text(score: stream.Score) -> str:
    """The score as a MusicXML document (the score is already well-formed, so no makeNotation pass)."""
    exporter = GeneralObjectExporter(score)
    exporter.makeNotation = False
    return pedal_words_to_marks(exporter.parse().decode("utf-8"))


def pedal_words_to_marks(musicxml: str) -> str:
    """Replace the 'Ped.' / '*' text directions written by `notation_to_score` with MusicXML pedal marks."""
    for text, kind in ((PEDAL_DOWN_TEXT, "start"), (PEDAL_UP_TEXT, "stop")):
        words = re.compile(rf"<words([^>]*)>{re.escape(text)}</words>")
        musicxml = words.sub(f'<pedal type="{kind}" line="no" sign="yes" />', musicxml)
    return musicxml


def write_musicxml(score: stream.Score, path: str | Path) -> Path:
    """Write the score as uncompressed MusicXML; returns the path."""
    path = Path(path)
    path.write_text(musicxml_text(score), encoding="utf-8")
    return path


def render_svg_pages(musicxml: str, options: dict | None = None) -> list[str]:
    """Engrave MusicXML text into one SVG document per page with Verovio."""
    toolkit = verovio.toolkit()
    toolkit.setOptions({**VEROVIO_OPTIONS, **(options or {})})
    if not toolkit.loadData(musicxml):
        raise ValueError("Verovio could not read the MusicXML (is it a score-partwise document?)")
    return [toolkit.renderToSVG(page) for page in range(1, toolkit.getPageCount() + 1)]


def engrave(
    notes: list[Note], pedals: list[PedalSpan] | None, out_stem: str | Path, title: str | None = None
) -> dict[str, list[Path]]:
    """Write `<stem>.musicxml` and `<stem>-<page>.svg` files; returns {'musicxml': [...], 'svg': [...]}."""
    out_stem = Path(out_stem)
    out_stem.parent.mkdir(parents=True, exist_ok=True)
    text = musicxml_text(build_score(notes, pedals, title))
    xml_path = out_stem.with_name(out_stem.name + ".musicxml")
    xml_path.write_text(text, encoding="utf-8")
    svg_paths = []
    for page, svg in enumerate(render_svg_pages(text), start=1):
        svg_path = out_stem.with_name(f"{out_stem.name}-{page}.svg")
        svg_path.write_text(svg, encoding="utf-8")
        svg_paths.append(svg_path)
    return {"musicxml": [xml_path], "svg": svg_paths}
