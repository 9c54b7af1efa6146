"""Sheet music from a performance: notes in, a two-staff MusicXML score and engraved SVG pages out."""

from .engrave import build_score, engrave, musicxml_text, render_svg_pages, write_musicxml
from .notation import NotatedChord, Notation, notate

__all__ = [
    "NotatedChord",
    "Notation",
    "build_score",
    "engrave",
    "musicxml_text",
    "notate",
    "render_svg_pages",
    "write_musicxml",
]
