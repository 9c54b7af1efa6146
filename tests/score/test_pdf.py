"""Engraved pages as a PDF: every page present and the music as wide as on screen."""

from __future__ import annotations

import io
import re

import pytest
from svglib.svglib import svg2rlg

from notestream.notes import Note
from notestream.score import render_svg_pages, score_musicxml, svg_pages_to_pdf
from notestream.score.pdf import flatten_page, write_pdf


def scale_and_chords() -> list[Note]:
    """Two bars of quarter notes over a held chord at 120 bpm."""
    right = [Note(i * 0.5, i * 0.5 + 0.45, p, 80) for i, p in enumerate([60, 62, 64, 65, 67, 69, 71, 72])]
    return right + [Note(0.0, 3.9, p, 64) for p in (48, 52, 55)]


def pdf_page_count(document: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", document))


@pytest.fixture(scope="module")
def two_pages() -> list[str]:
    """A long enough right-hand line that Verovio needs more than one page."""
    notes = [Note(i * 0.25, i * 0.25 + 0.2, 60 + (i * 5) % 24, 80) for i in range(1200)]
    pages = render_svg_pages(score_musicxml(notes))
    assert len(pages) >= 2
    return pages[:2]


def test_flattened_page_keeps_the_music_as_wide_as_the_page(two_pages):
    raw, flat = (svg2rlg(io.BytesIO(svg.encode())) for svg in (two_pages[0], flatten_page(two_pages[0])))
    x0, _, x1, _ = flat.getBounds()
    assert (x1 - x0) > 0.9 * flat.width  # the systems span the page between Verovio's margins
    raw_x0, _, raw_x1, _ = raw.getBounds()
    assert (raw_x1 - raw_x0) < 0.8 * raw.width  # what svglib makes of the nested viewport unflattened
    assert "<svg" not in flatten_page(two_pages[0])[10:]  # only the outer element is left


def test_pdf_has_one_page_per_svg_page_and_the_title(two_pages):
    document = svg_pages_to_pdf(two_pages, title="Prelude")
    assert document.startswith(b"%PDF-")
    assert pdf_page_count(document) == 2
    assert b"Prelude" in document


def test_no_pages_is_an_error():
    with pytest.raises(ValueError, match="no SVG pages"):
        svg_pages_to_pdf([])


def test_write_pdf_reads_page_files_and_leaves_only_the_whole_pdf(two_pages, tmp_path):
    paths = []
    for number, svg in enumerate(two_pages, start=1):
        paths.append(tmp_path / f"score-{number}.svg")
        paths[-1].write_text(svg, encoding="utf-8")
    out = write_pdf(paths, tmp_path / "score.pdf")
    assert pdf_page_count(out.read_bytes()) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["score-1.svg", "score-2.svg", "score.pdf"]
