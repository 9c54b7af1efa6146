"""The sheet-music benchmark's reading of ASAP files and its command-line hook."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from notestream.notes import Note
from notestream.score.asap import Annotations
from notestream.score.meter import RhythmHint
from notestream.score.rhythm_net import RhythmConfig, RhythmNet, save_rhythm_checkpoint
from notestream_bench.score_bench import annotated_hint, described, notation_options, register_score_bench
from notestream_bench.score_metrics import key_score, same_key, voice_connections


def test_enharmonic_key_signatures_count_as_the_same():
    assert same_key(6, -6) and same_key(0, 0) and not same_key(1, -1)


def test_mv2h_harmony_gives_half_credit_a_fifth_away():
    assert key_score(-3, -3) == 1.0 and key_score(-2, -3) == 0.5 and key_score(2, -3) == 0.0


def test_voice_connections_link_each_note_to_the_next_in_its_hand():
    notes = [Note(0.0, 1, 40), Note(0.0, 1, 72), Note(0.5, 1, 74), Note(1.0, 1, 43)]
    assert voice_connections(notes, {0: 0, 1: 1, 2: 1, 3: 0}) == {(0, 3), (1, 2)}


def test_register_adds_a_score_subcommand_with_a_limit():
    parser = argparse.ArgumentParser()
    register_score_bench(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["score", "--limit", "3"])
    assert args.limit == 3 and callable(args.func)


def test_beat_source_and_rhythm_weights_reach_notate(tmp_path, capsys):
    net = RhythmNet(RhythmConfig(hidden=8, layers=1))
    save_rhythm_checkpoint(tmp_path / "candidate.pt", net)
    parser = argparse.ArgumentParser()
    register_score_bench(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["score", "--beat-source", "0.4", "--rhythm-weights", str(tmp_path / "candidate.pt")])
    options = notation_options(args)
    assert options["beat_source"] == 0.4 and options["net"].config.hidden == 8
    assert "net" not in described(options)
    assert parser.parse_args(["score", "--beat-source", "tracker"]).beat_source is None
    for wrong in ("1.5", "network"):
        with pytest.raises(SystemExit):
            parser.parse_args(["score", "--beat-source", wrong])
    assert "threshold" in capsys.readouterr().err


def test_the_hint_a_user_would_give_is_the_annotated_tempo_and_metre_in_force():
    beats = np.concatenate([np.arange(0, 10, 0.5), 10 + np.arange(0, 10, 0.75)])  # 120 bpm, then 80
    annotations = Annotations(beats, beats[::3], ((0.0, "3/4"), (10.0, "6/8")), ((0.0, 0),))
    assert annotated_hint(annotations, "both", (0.0, 9.0)) == RhythmHint(120.0, "3/4")
    assert annotated_hint(annotations, "meter", (11.0, 19.0)) == RhythmHint(None, "6/8")
    assert annotated_hint(annotations, "tempo", (11.0, 19.0)) == RhythmHint(80.0, None)
    odd = Annotations(beats, beats[::7], ((0.0, "7/8"),), ((0.0, 0),))
    assert annotated_hint(odd, "meter") == RhythmHint(None, None)  # a metre the sheet cannot write
    for only_a_user_gives in ("4/2", "12/16"):
        given = Annotations(beats, beats[::4], ((0.0, only_a_user_gives),), ((0.0, 0),))
        assert annotated_hint(given, "meter") == RhythmHint(None, only_a_user_gives)
    parser = argparse.ArgumentParser()
    register_score_bench(parser.add_subparsers(dest="command"))
    assert notation_options(parser.parse_args(["score", "--hint", "both"]))["hint"] == "both"
    assert notation_options(parser.parse_args(["score"]))["hint"] is None
