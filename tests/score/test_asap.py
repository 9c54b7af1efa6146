"""Reading ASAP annotations and matching performed notes to score notes."""

from __future__ import annotations

import numpy as np

from notestream.notes import Note
from notestream.score.asap import match_to_score, read_annotations, value_at


def test_annotations_give_beats_downbeats_and_every_meter_and_key_change(tmp_path):
    path = tmp_path / "Performer_annotations.txt"
    path.write_text("0.5\t0.5\tb,,0\n1.0\t1.0\tdb,3/4,-3\n1.5\t1.5\tb\n2.0\t2.0\tb\n2.5\t2.5\tdb,6/8\n")
    ann = read_annotations(path)
    assert ann.beats.tolist() == [0.5, 1.0, 1.5, 2.0, 2.5]
    assert ann.downbeats.tolist() == [1.0, 2.5]
    assert ann.time_signature == "3/4" and ann.key_fifths == 0
    assert ann.signatures == ((1.0, "3/4"), (2.5, "6/8"))
    assert value_at(ann.signatures, np.array([0.0, 2.0, 3.0])) == ["3/4", "3/4", "6/8"]


def test_notes_match_the_nearest_unused_score_note_of_the_same_pitch():
    score = [Note(0.0, 0.5, 60), Note(0.5, 1.0, 60), Note(0.5, 1.0, 64)]
    matches = match_to_score(np.array([0.04, 0.06, 0.52, 2.0]), [60, 60, 64, 64], score)
    assert matches == [0, None, 2, None]
