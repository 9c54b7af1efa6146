"""`notestream eval PRED REF`: hand-scored MIDI files and folders, a table, a JSON report, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from notestream.cli import main
from notestream.midi import write_midi
from notestream.notes import Note, PedalSpan, Performance

FOUR = [Note(0.0, 0.5, 60, 80), Note(1.0, 1.5, 62, 80), Note(2.0, 2.5, 64, 80), Note(3.0, 3.5, 65, 80)]

# name -> (prediction, reference, the scores worked out by hand)
CASES = {
    "onsets": (
        # 30 ms and 20 ms late match, 200 ms late does not, one reference note is missed.
        Performance([Note(0.03, 0.5, 60, 80), Note(1.02, 1.6, 62, 80), Note(2.2, 2.5, 64, 80)]),
        Performance(FOUR),
        {"note_precision": 2 / 3, "note_recall": 1 / 2, "note_f1": 4 / 7},
    ),
    "offsets": (
        # Offset tolerance max(0.2 x duration, 50 ms): 0.15 of 0.2 ok, 0.04 of 0.05 ok, 0.1 of 0.05 and 0.5 of 0.4 not.
        Performance([Note(0.0, 1.15, 60, 80), Note(2.0, 2.14, 62, 80), Note(3.0, 3.2, 64, 80), Note(4.0, 6.5, 65, 80)]),
        Performance([Note(0.0, 1.0, 60, 80), Note(2.0, 2.1, 62, 80), Note(3.0, 3.1, 64, 80), Note(4.0, 6.0, 65, 80)]),
        {"note_f1": 1.0, "note_offset_precision": 1 / 2, "note_offset_recall": 1 / 2, "note_offset_f1": 1 / 2},
    ),
    "velocity": (
        # Reference 40/80/120 -> 0/0.5/1; the fitted estimate 50/50/100 -> 0.25/0.25/1: one within 0.1.
        Performance([Note(0.0, 0.5, 60, 50), Note(1.0, 1.5, 62, 50), Note(2.0, 2.5, 64, 100)]),
        Performance([Note(0.0, 0.5, 60, 40), Note(1.0, 1.5, 62, 80), Note(2.0, 2.5, 64, 120)]),
        {"note_offset_f1": 1.0, "note_offset_velocity_f1": 1 / 3},
    ),
    "frames": (
        # 100 cells of C4 predicted; 50 of C4 and 50 of E4 in the reference: 50 shared.
        Performance([Note(0.0, 1.0, 60, 80)]),
        Performance([Note(0.0, 0.5, 60, 80), Note(0.0, 0.5, 64, 80)]),
        {"frame_precision": 0.5, "frame_recall": 0.5, "frame_f1": 0.5},
    ),
    "pedal": (
        # The reference pedal holds C4 until 1.0 s; the prediction plays it held that long.
        Performance([Note(0.0, 1.0, 60, 80)]),
        Performance([Note(0.0, 0.5, 60, 80)], [PedalSpan(0.25, 1.0)]),
        {"note_offset_f1": 1.0, "frame_f1": 1.0},
    ),
}


def write_case_folders(root: Path, names: list[str]) -> tuple[Path, Path]:
    pred, ref = root / "pred", root / "ref"
    pred.mkdir(exist_ok=True)
    ref.mkdir(exist_ok=True)
    for name in names:
        prediction, reference, _ = CASES[name]
        write_midi(prediction, pred / f"{name}.mid")
        write_midi(reference, ref / f"{name}.mid")
    return pred, ref


def run_eval(*args: str | Path) -> int:
    return main(["eval", *map(str, args)])


@pytest.mark.parametrize("name", list(CASES))
def test_one_pair_of_files_prints_a_table_and_writes_hand_worked_scores(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    pred, ref = write_case_folders(tmp_path, [name])
    report = tmp_path / "scores.json"
    assert run_eval(pred / f"{name}.mid", ref / f"{name}.mid", "--json", report) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["file", "note", "F1"]
    assert table[2].startswith(f"{name}.mid") and table[3].startswith("mean")
    scores = json.loads(report.read_text())
    for key, expected in CASES[name][2].items():
        assert scores["files"][f"{name}.mid"][key] == pytest.approx(expected, abs=1e-9), key
        assert scores["mean"][key] == pytest.approx(expected, abs=1e-9), key


def test_folders_are_matched_by_file_name_and_averaged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pred, ref = write_case_folders(tmp_path, ["onsets", "frames"])
    write_midi(Performance(FOUR), ref / "not_transcribed_yet.mid")  # a reference alone is left out
    report = tmp_path / "scores.json"
    assert run_eval(pred, ref, "--json", report) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[2:]]
    assert [row[0] for row in rows] == ["frames.mid", "onsets.mid", "mean"]
    assert float(rows[1][1]) == pytest.approx(4 / 7, abs=1e-4)  # the printed note F1 of onsets.mid
    scores = json.loads(report.read_text())
    assert sorted(scores["files"]) == ["frames.mid", "onsets.mid"]
    # frames.mid: the C4 onset matches (offsets are ignored for note F1), E4 is missed: P=1, R=1/2, F1=2/3.
    assert scores["files"]["frames.mid"]["note_f1"] == pytest.approx(2 / 3)
    assert scores["mean"]["note_f1"] == pytest.approx((4 / 7 + 2 / 3) / 2)


def test_a_midi_file_ending_in_midi_pairs_with_one_ending_in_mid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pred, ref = write_case_folders(tmp_path, ["onsets"])
    (pred / "onsets.mid").rename(pred / "onsets.midi")
    assert run_eval(pred, ref) == 0
    assert "onsets.midi" in capsys.readouterr().out


def expect_user_error(capsys: pytest.CaptureFixture[str], args: list[str | Path], *mentions: str) -> None:
    assert run_eval(*args) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("notestream eval: error:"), captured.err
    for mention in mentions:
        assert mention in lines[0]
    assert "Traceback" not in captured.err


def test_a_missing_prediction_or_reference_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pred, ref = write_case_folders(tmp_path, ["onsets"])
    expect_user_error(capsys, [tmp_path / "absent.mid", ref / "onsets.mid"], "absent.mid", "no such file")
    expect_user_error(capsys, [pred / "onsets.mid", tmp_path / "gone"], "gone", "no such file")


def test_an_unreadable_midi_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pred, ref = write_case_folders(tmp_path, ["onsets"])
    (pred / "onsets.mid").write_text("not a MIDI file")
    expect_user_error(capsys, [pred / "onsets.mid", ref / "onsets.mid"], "onsets.mid", "not a readable MIDI file")
    (pred / "onsets.mid").write_bytes(b"")
    expect_user_error(capsys, [pred, ref], "onsets.mid", "not a readable MIDI file")


def test_a_file_against_a_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pred, ref = write_case_folders(tmp_path, ["onsets"])
    expect_user_error(capsys, [pred / "onsets.mid", ref], "both be MIDI files or both be folders")
    expect_user_error(capsys, [pred, ref / "onsets.mid"], "both be MIDI files or both be folders")


def test_a_prediction_without_a_reference_of_its_name_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pred, ref = write_case_folders(tmp_path, ["onsets"])
    write_midi(Performance(FOUR), pred / "misspelt.mid")
    expect_user_error(capsys, [pred, ref], "misspelt.mid", "no reference")


def test_a_prediction_folder_without_midi_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, ref = write_case_folders(tmp_path, ["onsets"])
    (tmp_path / "empty").mkdir()
    expect_user_error(capsys, [tmp_path / "empty", ref], "no MIDI files")
