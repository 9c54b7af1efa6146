"""Engraved SVG pages -> one A4 PDF document, drawn by librsvg's `rsvg-convert` (Debian: librsvg2-bin).

librsvg draws in native code: the seven pages of a 5-minute piece take under a second of CPU, where the
pure-Python svglib + reportlab path took about 19 s. It cannot use the SMuFL font that Verovio embeds as
an `@font-face` for the note of a tempo mark, so `printable_page` swaps those few text glyphs for the
Unicode musical symbols that the system's fonts draw (FreeSerif, DejaVu).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

RSVG_CONVERT = "rsvg-convert"
A4_OPTIONS = ("--page-width", "210mm", "--page-height", "297mm", "--width", "210mm", "--keep-aspect-ratio")
TIMEOUT_S = 120
# SMuFL metronome-mark glyphs (U+ECA2..) -> Unicode musical symbols; stems up and down look alike there.
METRONOME_GLYPHS = {
    "\ueca2": "\U0001d15d",  # whole
    "\ueca3": "\U0001d15e", "\ueca4": "\U0001d15e",  # half
    "\ueca5": "\u2669", "\ueca6": "\u2669",  # quarter
    "\ueca7": "\u266a", "\ueca8": "\u266a",  # eighth
    "\ueca9": "\U0001d161", "\uecaa": "\U0001d161",  # sixteenth
    "\uecb7": ".",  # augmentation dot
}
SMUFL_TEXT = re.compile(r'<tspan font-family="Leipzig"([^>]*)>([^<]*)</tspan>')
SYMBOL_FONTS = "FreeSerif, DejaVu Sans, serif"  # FreeSerif has the half and whole notes, DejaVu only ♩ and ♪


class PdfUnavailable(RuntimeError):
    """This machine has no `rsvg-convert` to draw the PDF with."""


def printable_page(svg: str) -> str:
    """The SVG page with Verovio's SMuFL text glyphs (the note of a tempo mark) as Unicode symbols in a
    system font, so a renderer without web fonts draws them."""

    def swap(match: re.Match) -> str:
        symbols = "".join(METRONOME_GLYPHS.get(ch, ch) for ch in match.group(2))
        return f'<tspan font-family="{SYMBOL_FONTS}"{match.group(1)}>{symbols}</tspan>'

    return SMUFL_TEXT.sub(swap, svg)


def rsvg_convert() -> str:
    """The path of `rsvg-convert`, or PdfUnavailable saying what to install."""
    program = shutil.which(RSVG_CONVERT)
    if program is None:
        raise PdfUnavailable(f"PDF export needs {RSVG_CONVERT} (Debian package librsvg2-bin); "
                             "the SVG pages and the MusicXML are there without it")
    return program


def svg_pages_to_pdf(pages: list[str]) -> bytes:
    """One A4 PDF page per SVG page (Verovio's A4 pages fill it), as the PDF file's bytes."""
    if not pages:
        raise ValueError("no SVG pages to put in a PDF")
    program = rsvg_convert()
    with tempfile.TemporaryDirectory(prefix="notestream-pdf-") as folder:
        paths = []
        for number, svg in enumerate(pages, start=1):
            paths.append(Path(folder) / f"page-{number}.svg")
            paths[-1].write_text(printable_page(svg), encoding="utf-8")
        out = Path(folder) / "score.pdf"
        done = subprocess.run([program, "--format", "pdf", *A4_OPTIONS, "--output", str(out), *map(str, paths)],
                              capture_output=True, text=True, timeout=TIMEOUT_S)
        if done.returncode != 0 or not out.is_file():
            reason = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
            raise ValueError(f"the SVG pages could not be drawn as a PDF: {reason}")
        return out.read_bytes()


def write_pdf(svg_paths: list[Path], out: Path) -> Path:
    """`svg_pages_to_pdf` from SVG page files to a PDF file, written whole (temp file, then rename)."""
    document = svg_pages_to_pdf([Path(p).read_text(encoding="utf-8") for p in svg_paths])
    partial = out.with_name(out.name + ".part")
    partial.write_bytes(document)
    partial.replace(out)
    return out
