"""The one sheet writer: MusicXML, one SVG per page and an optional PDF, moved into place together."""

from __future__ import annotations

from notestream.exporters.sheet import write_sheet_music
from notestream.notes import PedalSpan
from tests.score.test_engrave import c_major_performance
from tests.score.test_pdf import pdf_page_count, scale_and_chords


def test_the_sheet_writer_writes_a_pdf_only_when_asked(tmp_path):
    plain = write_sheet_music(scale_and_chords(), None, tmp_path / "a")
    assert plain["pdf"] == [] and not (tmp_path / "a.pdf").exists()
    paths = write_sheet_music(scale_and_chords(), None, tmp_path / "b", title="Scale", pdf=True)
    assert paths["pdf"] == [tmp_path / "b.pdf"]
    assert pdf_page_count(paths["pdf"][0].read_bytes()) == len(paths["svg"])


def test_the_sheet_writer_writes_musicxml_and_one_svg_per_page(tmp_path):
    paths = write_sheet_music(c_major_performance(), [PedalSpan(0.0, 1.9)], tmp_path / "out" / "take1")
    assert paths["musicxml"][0].name == "take1.musicxml"
    assert "<pedal" in paths["musicxml"][0].read_text()
    assert [p.name for p in paths["svg"]] == [f"take1-{i + 1}.svg" for i in range(len(paths["svg"]))]
    assert all(p.read_text().lstrip().startswith(("<?xml", "<svg")) for p in paths["svg"])
