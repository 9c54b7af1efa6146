"""The recall tables and the per-key confusion plot, from hand-built breakdowns."""

from __future__ import annotations

from notestream.model.breakdown import note_breakdown
from notestream.notes import Note
from notestream_bench.recall_tables import format_recall_tables, plot_key_confusion

# Two soft notes (one found), a loud 5-note chord in the bass and middle (four found), one extra octave.
REFERENCE = [Note(0.0, 0.5, 72, 20), Note(0.5, 1.0, 74, 40)] + [Note(1.0, 2.0, p, 90) for p in (24, 31, 36, 40, 43)]
FOUND_ALL_BUT_ONE_SOFT_AND_THE_LOWEST = [Note(0.5, 1.0, 74, 40)] + [Note(1.0, 2.0, p, 90) for p in (31, 36, 40, 43)]
ESTIMATE = FOUND_ALL_BUT_ONE_SOFT_AND_THE_LOWEST + [Note(1.2, 1.5, 55, 50)]  # an octave over the sounding 43


def test_one_row_per_system_with_pooled_recall_per_bin_and_the_target_groups() -> None:
    perfect = note_breakdown(REFERENCE, REFERENCE).to_dict()
    partial = note_breakdown(ESTIMATE, REFERENCE).to_dict()
    text = format_recall_tables([("perfect", perfect), ("partial", partial), ("not scored", None)])
    assert "| | <32 (n=1) | 32–47 (n=1) | ≥64 (n=5) |" in text  # empty bins are left out
    assert "| partial | 0.000 | 1.000 | 0.800 |" in text
    assert "| | 1 (n=2) | 5 (n=5) |" in text and "| partial | 0.500 | 0.800 |" in text
    assert "| | C1 (n=2) | C2 (n=3) | C5 (n=2) |" in text and "| partial | 0.500 | 1.000 | 0.500 |" in text
    assert "| partial | 0.500 | 0.800 | 0.500 | 0 / 1 / 0 / 0 / 0 / 0 |" in text
    assert "| perfect | 1.000 | 1.000 | 1.000 | 0 / 0 / 0 / 0 / 0 / 0 |" in text
    assert "not scored" not in text


def test_the_velocity_table_gives_per_band_the_mean_output_velocity_and_the_share_counted_right() -> None:
    perfect = note_breakdown(REFERENCE, REFERENCE).to_dict()
    partial = note_breakdown(ESTIMATE, REFERENCE).to_dict()
    older = {k: v for k, v in partial.items() if k not in ("velocity_sums", "velocity_right")}
    text = format_recall_tables([("perfect", perfect), ("partial", partial), ("older run", older)])
    table = text[text.index("Velocity by reference band"):]
    assert "| | <32 | 32–47 | ≥64 |" in table  # bands without reference notes are left out
    assert "| perfect | 20 (20) · 1.00 | 40 (40) · 1.00 | 90 (90) · 1.00 |" in table
    assert "| partial | — | 40 (40) · 1.00 | 90 (90) · 1.00 |" in table  # the pp note was not found
    assert "older run |" not in table.split("The issue's recall targets")[0]


def test_no_breakdowns_make_no_tables() -> None:
    assert format_recall_tables([("transkun", None)]) == ""


def test_the_confusion_plot_is_a_png_with_a_panel_per_system(tmp_path) -> None:
    path = tmp_path / "plots" / "accuracy_keys.png"
    plot_key_confusion([("a", note_breakdown(ESTIMATE, REFERENCE).to_dict()),
                        ("b", note_breakdown([], REFERENCE).to_dict())], path)
    assert path.read_bytes().startswith(b"\x89PNG")
