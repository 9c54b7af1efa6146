"""Engraved SVG pages -> one A4 PDF document, drawn by librsvg's `rsvg-convert` (Debian: librsvg2-bin).

librsvg draws in native code: the seven pages of a 5-minute piece take under a second of CPU, where the
pure-Python svglib + reportlab path took about 19 s. It cannot use the SMuFL font that Verovio embeds as
an `@font-face` for the note of a tempo mark, so `printable_page` draws those glyphs from Verovio's own
outlines instead.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

RSVG_CONVERT = "rsvg-convert"
A4_OPTIONS = ("--page-width", "210mm", "--page-height", "297mm", "--width", "210mm", "--keep-aspect-ratio")
TIMEOUT_S = 120
VEROVIO_DATA = files("verovio") / "data"  # the outlines and metrics of the font Verovio engraves with
# A text that opens with SMuFL glyphs (a tempo mark's note): its position, the tags before the glyphs, their size.
SMUFL_OPENING = re.compile(r'<text x="([\d.]+)" y="([\d.]+)"([^>]*)>((?:\s*<tspan[^>]*>)*\s*)'
                           r'<tspan font-family="Leipzig" font-size="([\d.]+)px">([^<]*)</tspan>')
SPACE_EM = 0.125  # the gap a space leaves between a metronome note and its dot


class PdfUnavailable(RuntimeError):
    """This machine has no `rsvg-convert` to draw the PDF with."""


@lru_cache(maxsize=1)
def glyph_advances() -> dict[str, float]:
    """Advance width (font units, 1000 an em) of every glyph in Verovio's Leipzig metrics."""
    metrics = (VEROVIO_DATA / "Leipzig.xml").read_text(encoding="utf-8")
    return {code: float(width) for code, width in re.findall(r'<g c="([0-9A-F]+)"[^>]*?h-a-x="([\d.]+)"', metrics)}


@lru_cache(maxsize=64)
def glyph_outline(code: str) -> str:
    """The SVG group Verovio keeps for one SMuFL glyph (font units, y up, flipped by its own transform)."""
    group = (VEROVIO_DATA / "Leipzig" / f"{code}.xml").read_text(encoding="utf-8").strip()
    return re.sub(r'^<g id="[^"]*">', "<g>", group)  # a page may use a glyph twice: no repeated ids


def printable_page(svg: str) -> str:
    """The SVG page with the SMuFL glyphs that open a text (the note of a tempo mark) drawn as outlines and the
    rest of the text moved past them: Verovio writes them in a web font no renderer outside a browser reads."""

    def outline(match: re.Match) -> str:
        x, y, attributes, opening, size, glyphs = match.groups()
        if re.search(r'text-anchor="(middle|end)"', attributes):
            return match.group(0)  # the glyphs' place depends on the whole text's width: left as it is
        scale, pen, drawn = float(size) / 1000, 0.0, []
        for ch in glyphs:
            code = f"{ord(ch):04X}"
            if ch.isspace():
                pen += SPACE_EM * 1000
            elif code in glyph_advances():
                drawn.append(f'<g transform="translate({pen:g},0)">{glyph_outline(code)}</g>')
                pen += glyph_advances()[code]
            else:
                return match.group(0)  # not a glyph Verovio has an outline for: leave the text as it is
        return (f'<g transform="translate({x},{y}) scale({scale:g})">{"".join(drawn)}</g>'
                f'<text x="{float(x) + pen * scale:g}" y="{y}"{attributes}>{opening}')

    return SMUFL_OPENING.sub(outline, svg)


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
