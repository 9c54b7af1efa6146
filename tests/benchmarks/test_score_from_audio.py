"""`bench score --from-audio`: rendered excerpts of ASAP performances, transcribed and judged on their span."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from notestream.midi import write_midi
from notestream.notes import Note, Performance
from notestream.score.asap import Annotations
from notestream.score.rhythm_decoding import METER_CHANGES
from notestream.score.voices import TWO_VOICES
from notestream_bench.score_bench import register_score_bench, run_audio_benchmark
from notestream_bench.score_excerpts import rendered_excerpts
from notestream_bench.score_metrics import SheetReading, annotations_within
from tests.conftest import render_piano

BEAT_S = 0.5
SCALE = [60, 62, 64, 65, 67, 69, 71, 72]
EXCERPT_START, EXCERPT_SECONDS = 2.0, 4.0


def _annotation_lines(n_beats: int) -> str:
    """A 4/4 piece in C major with a beat every BEAT_S seconds from BEAT_S on, as ASAP writes them."""
    lines = []
    for k in range(n_beats):
        t = BEAT_S * (k + 1)
        kind = "db" if k % 4 == 0 else "b"
        lines.append(f"{t}\t{t}\t{kind},4/4,0" if k == 0 else f"{t}\t{t}\t{kind}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def tiny_asap(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """An ASAP folder with one 8.5 s performance (quarter notes of a C major scale, its score the same) and a
    rendered split holding the 4 s excerpt from 2 s, with the `meta` record `notestream data render` writes."""
    root = tmp_path_factory.mktemp("asap")
    work = root / "Composer" / "Piece"
    work.mkdir(parents=True)
    notes = [Note(BEAT_S * (k + 1), BEAT_S * (k + 1.9), SCALE[k % 8], 80) for k in range(16)]
    write_midi(Performance(notes), work / "Player01.mid")
    write_midi(Performance(notes), work / "midi_score.mid")
    for name in ("Player01_annotations.txt", "midi_score_annotations.txt"):
        (work / name).write_text(_annotation_lines(16))
    (root / "metadata.csv").write_text(
        "folder,midi_performance,performance_annotations,midi_score,midi_score_annotations\n"
        "Composer/Piece,Composer/Piece/Player01.mid,Composer/Piece/Player01_annotations.txt,"
        "Composer/Piece/midi_score.mid,Composer/Piece/midi_score_annotations.txt\n")
    split = tmp_path_factory.mktemp("rendered") / "validation"
    split.mkdir()
    end = EXCERPT_START + EXCERPT_SECONDS
    played = [Note(n.onset - EXCERPT_START, min(n.offset, end) - EXCERPT_START, n.pitch, n.velocity)
              for n in notes if EXCERPT_START <= n.onset < end]
    audio = render_piano(Performance(played), seconds=EXCERPT_SECONDS)
    meta = {"midi": str(work / "Player01.mid"), "start_seconds": EXCERPT_START, "duration": EXCERPT_SECONDS,
            "source": "asap", "sample_rate": 16000}
    np.savez(split / "Composer__Piece__Player01__0.npz", audio=(audio * 32767).astype(np.int16),
             notes=np.array([[n.onset, n.offset, n.pitch, n.velocity] for n in played]), pedals=np.zeros((0, 2)),
             meta=np.array(json.dumps(meta)))
    return root, split


def test_an_excerpt_is_judged_on_the_annotations_of_its_own_span():
    ann = Annotations(np.arange(1.0, 11.0), np.array([1.0, 5.0, 9.0]), ((1.0, "4/4"), (5.0, "3/4")), ((1.0, -2),))
    inside = annotations_within(ann, 4.0, 8.0)
    assert inside.beats.tolist() == [4.0, 5.0, 6.0, 7.0] and inside.downbeats.tolist() == [5.0]
    assert inside.signatures == ((4.0, "4/4"), (5.0, "3/4")) and inside.keys == ((4.0, -2),)


def test_a_reading_that_follows_a_change_of_metre_reports_it_at_each_time():
    reading = SheetReading(np.zeros(0), np.zeros(0), "4/4", 0, signatures=((0.0, "4/4"), (5.0, "3/4")))
    assert reading.shifted(10.0).signature_at(np.array([12.0, 15.0, 20.0])) == ["4/4", "3/4", "3/4"]


def test_rendered_excerpts_find_their_asap_performance_and_start(tiny_asap):
    root, split = tiny_asap
    (excerpt,) = rendered_excerpts(split, root, None)
    assert excerpt.row["midi_performance"] == "Composer/Piece/Player01.mid"
    assert excerpt.window == (EXCERPT_START, EXCERPT_START + EXCERPT_SECONDS)


def test_a_segment_without_its_meta_record_is_refused_with_the_fix(tiny_asap, tmp_path):
    root, split = tiny_asap
    bare = tmp_path / "validation"
    bare.mkdir()
    with np.load(next(split.glob("*.npz"))) as z:
        np.savez(bare / "Composer__Piece__Player01__0.npz", audio=z["audio"], notes=z["notes"], pedals=z["pedals"])
    with pytest.raises(ValueError, match="render it again"):
        rendered_excerpts(bare, root, None)


def test_transcribed_excerpt_notes_land_on_the_score_notes_of_its_span(tiny_asap):
    root, split = tiny_asap
    report = run_audio_benchmark(split, root, None, peers=[])
    (excerpt,) = report["excerpts"].values()
    assert report["transcription"]["note_f1"] > 0.9
    # every played note matches its score note only if the excerpt's notes were moved to where it starts
    assert excerpt["reference_notes"]["ours"]["mv2h_parts"]["multi_pitch"] == 1.0
    assert excerpt["transcribed"]["ours"]["mv2h_parts"]["multi_pitch"] > 0.9
    assert report["mean"]["transcribed"]["ours"]["key_accuracy"] == 1.0


def test_register_adds_from_audio_with_one_view_by_default():
    parser = argparse.ArgumentParser()
    register_score_bench(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["score", "--from-audio", "rendered/validation"])
    assert args.from_audio == Path("rendered/validation") and args.views == (0,)
    assert (args.meter_changes, args.voices) == (METER_CHANGES, TWO_VOICES)  # ours as the sheet writer makes it
    args = parser.parse_args(["score", "--no-meter-changes", "--voices"])
    assert (args.meter_changes, args.voices) == (False, True)
