"""Engraved SVG pages -> one PDF document, in pure Python (svglib reads the SVG, reportlab writes the PDF).

Verovio draws each page inside a nested `<svg viewBox=...>` without its own size; svglib scales such a
nested viewport by the px-to-pt factor a second time, so the music would come out at three quarters of
the page. `flatten_page` replaces that nested viewport with the plain scale it stands for.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

PAGE_SIZE = re.compile(r'<svg\b[^>]*?\bwidth="([\d.]+)(?:px)?"[^>]*?\bheight="([\d.]+)(?:px)?"')
NESTED_VIEWPORT = re.compile(r'<svg\b[^>]*\bviewBox="0 0 ([\d.]+) ([\d.]+)"[^>]*>')


def flatten_page(svg: str) -> str:
    """An SVG page whose nested viewBox viewport is replaced by the equivalent `<g transform=scale()>`."""
    size = PAGE_SIZE.search(svg)
    nested = NESTED_VIEWPORT.search(svg, size.end()) if size else None
    if size is None or nested is None:
        return svg
    width, height = map(float, size.groups())
    view_width, view_height = map(float, nested.groups())
    opened = (svg[: nested.start()] + f'<g transform="scale({width / view_width:.8g},{height / view_height:.8g})">'
              + svg[nested.end():])
    outer_close = opened.rfind("</svg>")
    nested_close = opened.rfind("</svg>", 0, outer_close)
    if nested_close < 0:
        raise ValueError("SVG page: the nested <svg> viewport is not closed")
    return opened[:nested_close] + "</g>" + opened[nested_close + len("</svg>"):]


def svg_pages_to_pdf(pages: list[str], title: str | None = None) -> bytes:
    """One PDF page per SVG page, each scaled to fit the PDF page (A4 for Verovio's A4 pages)."""
    from reportlab.graphics import renderPDF
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas
    from svglib.svglib import svg2rlg

    if not pages:
        raise ValueError("no SVG pages to put in a PDF")
    out = io.BytesIO()
    document = canvas.Canvas(out, pagesize=A4, invariant=True)
    if title:
        document.setTitle(title)
    document.setCreator("notestream")
    for number, svg in enumerate(pages, start=1):
        drawing = svg2rlg(io.BytesIO(flatten_page(svg).encode("utf-8")))
        if drawing is None or not drawing.width or not drawing.height:
            raise ValueError(f"SVG page {number} could not be read")
        scale = min(A4[0] / drawing.width, A4[1] / drawing.height)
        drawing.scale(scale, scale)
        renderPDF.draw(drawing, document, 0, A4[1] - drawing.height * scale)
        document.showPage()
    document.save()
    return out.getvalue()


def write_pdf(svg_paths: list[Path], out: Path, title: str | None = None) -> Path:
    """`svg_pages_to_pdf` from SVG files to a PDF file, written whole (temp file, then rename)."""
    document = svg_pages_to_pdf([Path(p).read_text(encoding="utf-8") for p in svg_paths], title)
    partial = out.with_name(out.name + ".part")
    partial.write_bytes(document)
    partial.replace(out)
    return out
