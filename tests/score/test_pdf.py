"""Engraved pages as an A4 PDF: every page present, the tempo mark's note drawn, clear errors."""

from __future__ import annotations

import re

import pytest

from notestream.notes import Note
from notestream.score import pdf as pdf_module
from notestream.score import render_svg_pages, score_musicxml, svg_pages_to_pdf
from notestream.score.meter import RhythmHint
from notestream.score.musicxml import notation_to_musicxml
from notestream.score.notation import notate
from notestream.score.pdf import PdfUnavailable, printable_page, write_pdf

A4_MEDIA_BOX = (595.28, 841.89)  # points


def scale_and_chords() -> list[Note]:
    """Two bars of quarter notes over a held chord at 120 bpm."""
    right = [Note(i * 0.5, i * 0.5 + 0.45, p, 80) for i, p in enumerate([60, 62, 64, 65, 67, 69, 71, 72])]
    return right + [Note(0.0, 3.9, p, 64) for p in (48, 52, 55)]


def pdf_page_count(document: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", document))


def media_boxes(document: bytes) -> list[tuple[float, float]]:
    return [(float(w), float(h)) for w, h in re.findall(rb"/MediaBox \[ ?0 0 ([\d.]+) ([\d.]+) ?\]", document)]


@pytest.fixture(scope="module")
def two_pages() -> list[str]:
    """A long enough right-hand line that Verovio needs more than one page."""
    notes = [Note(i * 0.25, i * 0.25 + 0.2, 60 + (i * 5) % 24, 80) for i in range(1200)]
    pages = render_svg_pages(score_musicxml(notes))
    assert len(pages) >= 2
    return pages[:2]


def tempo_page(time_signature: str) -> str:
    """The first page of an even line told its tempo and metre, so Verovio writes a tempo mark."""
    notes = [Note(i * 0.5, i * 0.5 + 0.4, 60 + i % 8, 80) for i in range(24)]
    notation = notate(notes, [], hint=RhythmHint(120.0, time_signature))
    return render_svg_pages(notation_to_musicxml(notation))[0]


def tempo_text(page: str) -> str:
    """The characters of the page's tempo mark, without markup or spaces."""
    tempo = re.search(r'class="tempo">.*?<text[^>]*>(.*?)</text>', page, re.S)
    assert tempo is not None
    return re.sub(r"<[^>]+>|\s", "", tempo.group(1))


def test_pdf_has_one_a4_page_per_svg_page(two_pages):
    document = svg_pages_to_pdf(two_pages)
    assert document.startswith(b"%PDF-")
    assert pdf_page_count(document) == 2
    boxes = media_boxes(document)
    assert len(boxes) == 2
    assert all(box == pytest.approx(A4_MEDIA_BOX, abs=0.5) for box in boxes)


@pytest.mark.parametrize(("time_signature", "glyphs"), [("3/4", 1), ("6/8", 2), ("2/2", 1)])
def test_the_tempo_marks_note_is_drawn_from_verovios_outlines(time_signature, glyphs):
    page = tempo_page(time_signature)
    assert 'font-family="Leipzig"' in page  # Verovio writes the note in its embedded SMuFL font
    printable = printable_page(page)
    assert 'font-family="Leipzig"' not in printable
    tempo = printable[printable.index('class="tempo"'):]
    outline = re.match(r'class="tempo">\s*<g transform="translate\(([\d.]+),[\d.]+\) scale\([\d.]+\)">(.*?)</g><text x="([\d.]+)"',
                       tempo, re.S)
    assert outline is not None
    assert outline.group(2).count("<path") == glyphs  # the note (and its dot in 6/8) as outlines
    assert float(outline.group(3)) > float(outline.group(1))  # the text moved past them
    assert tempo_text(printable) == "=120"


def test_no_pages_is_an_error():
    with pytest.raises(ValueError, match="no SVG pages"):
        svg_pages_to_pdf([])


def test_a_page_rsvg_cannot_read_is_a_clear_error(two_pages):
    with pytest.raises(ValueError, match="could not be drawn as a PDF"):
        svg_pages_to_pdf([two_pages[0], "<svg this is not"])


def test_without_rsvg_convert_the_error_names_the_package(two_pages, monkeypatch):
    monkeypatch.setattr(pdf_module, "RSVG_CONVERT", "rsvg-convert-not-installed")
    with pytest.raises(PdfUnavailable, match="librsvg2-bin"):
        svg_pages_to_pdf(two_pages)


def test_write_pdf_reads_page_files_and_leaves_only_the_whole_pdf(two_pages, tmp_path):
    paths = []
    for number, svg in enumerate(two_pages, start=1):
        paths.append(tmp_path / f"score-{number}.svg")
        paths[-1].write_text(svg, encoding="utf-8")
    out = write_pdf(paths, tmp_path / "score.pdf")
    assert pdf_page_count(out.read_bytes()) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["score-1.svg", "score-2.svg", "score.pdf"]
