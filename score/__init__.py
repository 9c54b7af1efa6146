"""Sheet music from a performance: notes in, a two-staff MusicXML score, engraved SVG pages and a PDF out."""

from .engrave import build_score, musicxml_text, render_svg_pages, score_musicxml, write_musicxml
from .musicxml import notation_to_musicxml
from .notation import NotatedChord, Notation, notate, sheet_key
from .pdf import svg_pages_to_pdf

__all__ = [
    "NotatedChord",
    "Notation",
    "build_score",
    "musicxml_text",
    "notate",
    "notation_to_musicxml",
    "render_svg_pages",
    "score_musicxml",
    "sheet_key",
    "svg_pages_to_pdf",
    "write_musicxml",
]
