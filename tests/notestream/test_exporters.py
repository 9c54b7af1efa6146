"""Exports of a transcription: text formats, MIDI, sheet music, resynthesis, and all-or-nothing writing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from notestream.exporters import existing_outputs, export_transcription, parse_formats
from notestream.exporters.resynthesis import rendered_segments
from notestream.exporters.staging import StagedFiles
from notestream.exporters.text import chord_groups, format_clock, listing_lines
from notestream.midi import read_midi
from notestream.model.transcriber import Transcription
from notestream.notes import Note, PedalSpan, Performance

NOTES = [Note(5.60, 6.0, 64, 70), Note(5.62, 6.0, 60, 80), Note(5.70, 6.2, 67, 90), Note(7.25, 7.5, 72, 100)]
PEDALS = [PedalSpan(5.5, 6.5)]


@pytest.fixture
def transcription() -> Transcription:
    return Transcription(NOTES, PEDALS, 8.0, {"model": "test-model", "lookahead_seconds": 0.5})


def test_listing_puts_notes_struck_within_30_ms_on_one_line_low_to_high() -> None:
    assert listing_lines(NOTES) == ["00:05.60  C4 E4", "00:05.70  G4", "00:07.25  C5"]
    assert [len(group) for _, group in chord_groups([Note(0.0, 1, 60), Note(0.03, 1, 64), Note(0.031, 1, 67)])] == [2, 1]


def test_clock_shows_minutes_seconds_and_centiseconds_and_hours_from_an_hour_on() -> None:
    assert format_clock(5.6) == "00:05.60"
    assert format_clock(125.004) == "02:05.00"
    assert format_clock(3725.5) == "1:02:05.50"


def test_text_exports_hold_every_note_and_the_model_metadata(transcription: Transcription, tmp_path: Path) -> None:
    written = export_transcription(transcription, tmp_path / "take", ["json", "tsv", "txt"], source="take.wav",
                                   extra_metadata={"timing": {"speed": 80.0}})
    assert [p.name for p in written] == ["take.json", "take.tsv", "take.txt"]
    record = json.loads((tmp_path / "take.json").read_text())
    assert record["metadata"] == {"model": "test-model", "lookahead_seconds": 0.5, "timing": {"speed": 80.0}}
    assert record["duration"] == 8.0 and record["source"] == "take.wav"
    assert [(n["onset"], n["pitch"], n["name"], n["velocity"]) for n in record["notes"]] == [
        (5.6, 64, "E4", 70), (5.62, 60, "C4", 80), (5.7, 67, "G4", 90), (7.25, 72, "C5", 100)]
    assert record["pedals"] == [{"onset": 5.5, "offset": 6.5}]
    rows = [line.split("\t") for line in (tmp_path / "take.tsv").read_text().splitlines()]
    assert rows[0] == ["onset", "offset", "pitch", "velocity"]
    assert [Note(float(a), float(b), int(c), int(d)) for a, b, c, d in rows[1:]] == sorted(NOTES)
    assert (tmp_path / "take.txt").read_text().splitlines()[1:] == listing_lines(NOTES)


def test_midi_export_keeps_velocity_and_pedal(transcription: Transcription, tmp_path: Path) -> None:
    export_transcription(transcription, tmp_path / "take", ["mid"])
    back = read_midi(tmp_path / "take.mid")
    assert [(n.pitch, n.velocity) for n in back.notes] == [(n.pitch, n.velocity) for n in sorted(NOTES)]
    assert [round(n.onset, 3) for n in back.notes] == [n.onset for n in sorted(NOTES)]
    assert [(round(p.onset, 3), round(p.offset, 3)) for p in back.pedals] == [(5.5, 6.5)]


def test_sheet_music_export_writes_musicxml_and_svg_pages_and_drops_surplus_old_pages(
    transcription: Transcription, tmp_path: Path
) -> None:
    (tmp_path / "take-7.svg").write_text("an old page seven")
    written = export_transcription(transcription, tmp_path / "take", ["musicxml", "svg"], source="take.wav")
    assert tmp_path / "take.musicxml" in written and tmp_path / "take-1.svg" in written
    assert "<score-partwise" in (tmp_path / "take.musicxml").read_text()
    assert "<svg" in (tmp_path / "take-1.svg").read_text()
    assert not (tmp_path / "take-7.svg").exists()


def test_pdf_export_alone_writes_one_pdf_and_no_svg_pages(transcription: Transcription, tmp_path: Path) -> None:
    written = export_transcription(transcription, tmp_path / "take", ["pdf"], source="take.wav")
    assert written == [tmp_path / "take.pdf"]
    assert (tmp_path / "take.pdf").read_bytes().startswith(b"%PDF-")
    assert not list(tmp_path.glob("*.svg")) and not (tmp_path / "take.musicxml").exists()


def test_an_interrupted_export_leaves_previous_files_and_no_partial_ones(tmp_path: Path) -> None:
    (tmp_path / "take.mid").write_bytes(b"the previous transcription")
    with pytest.raises(KeyboardInterrupt), StagedFiles() as staged:
        staged.path(tmp_path / "take.mid").write_bytes(b"new, complete")
        staged.path(tmp_path / "take.json").write_text('{"half": ')
        raise KeyboardInterrupt  # Ctrl-C while the JSON writer was busy
    assert sorted(p.name for p in tmp_path.iterdir()) == ["take.mid"]
    assert (tmp_path / "take.mid").read_bytes() == b"the previous transcription"


def test_existing_outputs_are_found_for_every_chosen_format_only(transcription: Transcription, tmp_path: Path) -> None:
    export_transcription(transcription, tmp_path / "take", ["mid", "txt"])
    assert existing_outputs(tmp_path / "take", ["mid", "json"]) == [tmp_path / "take.mid"]
    assert existing_outputs(tmp_path / "other", parse_formats("all")) == []


def test_format_names_are_checked_and_all_means_every_format() -> None:
    assert parse_formats("MID, json,mid") == ["mid", "json"]
    assert "wav" in parse_formats("all") and "svg" in parse_formats("all") and "pdf" in parse_formats("all")
    with pytest.raises(ValueError, match="unknown output format.*png.*choose from"):
        parse_formats("mid,png")


def _rms(audio: np.ndarray, rate: int, start: float, stop: float) -> float:
    return float(np.sqrt(np.mean(audio[int(start * rate): int(stop * rate)] ** 2)))


def test_resynthesis_in_segments_keeps_notes_ringing_across_segment_boundaries() -> None:
    rate = 16000
    held = Performance([Note(0.2, 2.6, 48, 100), Note(1.4, 1.6, 72, 90)], [PedalSpan(1.3, 2.8)])
    whole = np.concatenate(list(rendered_segments(held, 3.0, sample_rate=rate, segment_seconds=10.0)))
    pieces = list(rendered_segments(held, 3.0, sample_rate=rate, segment_seconds=1.0))
    cut = np.concatenate(pieces)
    assert [p.size for p in pieces] == [rate, rate, rate] and whole.size == 3 * rate
    for start in (1.0, 2.0):  # just after each boundary the held C3 still sounds, as in one pass
        after = _rms(cut, rate, start, start + 0.2)
        assert after > 0.5 * _rms(whole, rate, start, start + 0.2) > 0


def test_the_listing_spells_notes_from_the_key_of_the_piece():
    scale = [63, 65, 67, 68, 70, 72, 74, 75]
    notes = [Note(i * 0.5, i * 0.5 + 0.45, p, 80) for i, p in enumerate(scale + scale[::-1])]
    notes += [Note(0, 3.9, p, 60) for p in (39, 46, 51)]
    names = " ".join(listing_lines(notes))
    assert "Eb4" in names and "Ab4" in names and "Bb4" in names
    assert "D#" not in names and "G#" not in names


def test_note_names_everywhere_follow_the_key_signature_the_sheet_writes(tmp_path: Path):
    scale = [63, 65, 67, 68, 70, 72, 74, 75]
    notes = [Note(i * 0.5, i * 0.5 + 0.45, p, 80) for i, p in enumerate(scale + scale[::-1])]
    notes += [Note(0, 3.9, p, 60) for p in (39, 46, 51)]
    take = Transcription(notes, [], 8.5, {})
    export_transcription(take, tmp_path / "take", ["json", "txt", "musicxml"])
    fifths = int((tmp_path / "take.musicxml").read_text().split("<fifths>")[1].split("<")[0])
    record = json.loads((tmp_path / "take.json").read_text())
    key = record["key"]
    assert key["fifths"] == fifths < 0 and key["name"] == f"{key['name'].split()[0]} {key['mode']}"
    names = {n["name"] for n in record["notes"]}
    assert {"Eb4", "Ab4", "Bb4"} <= names and not any("#" in name for name in names)
    listing = (tmp_path / "take.txt").read_text().splitlines()
    assert listing[0].endswith(key["name"]) and "Eb4" in listing[1]
