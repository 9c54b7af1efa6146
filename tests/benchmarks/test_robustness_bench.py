"""`notestream bench robustness` on the tiny split: every condition run and scored, unknown ones refused."""

from __future__ import annotations

import json

import pytest

from notestream.cli import main
from notestream_bench.robustness_bench import format_markdown, reuse_earlier_conditions


def test_our_model_is_scored_and_broken_down_under_each_chosen_condition(tiny_split, tmp_path, capsys):
    out = tmp_path / "robustness.json"
    code = main(["bench", "robustness", "--data-dir", str(tiny_split.data_dir), "--systems", "notestream,transkun",
                 "--peers-dir", str(tmp_path / "no-peers"), "--conditions", "clean,phone", "--json", str(out)])
    assert code == 0
    report = json.loads(out.read_text())
    assert report["segments"] == tiny_split.segment_ids and list(report["conditions"]) == ["clean", "phone"]
    for condition in report["conditions"].values():
        ours = condition["systems"]["notestream"]
        assert ours["status"] == "ok" and "per_segment" not in ours
        assert all(0.0 <= ours["mean"][k] <= 1.0 for k in ("note_f1", "note_offset_f1", "frame_f1"))
        assert ours["breakdown"]["velocity"]["≥64"][1] == 4  # the tiny split's loud reference notes, every condition
        assert condition["systems"]["transkun"]["status"] == "skipped"
    printed = capsys.readouterr().out
    assert printed.startswith(format_markdown(report))
    assert "| phone | " in printed and "transkun: skipped" in printed
    assert "| clean · notestream |" in printed and "| phone · notestream |" in printed


def test_unknown_conditions_are_refused_with_the_known_ones(tiny_split, capsys):
    assert main(["bench", "robustness", "--data-dir", str(tiny_split.data_dir), "--conditions", "clean,underwater"]) == 2
    err = capsys.readouterr().err
    assert "underwater" in err and "mp3-128k" in err


def _report(systems: dict[str, dict[str, float]], conditions: tuple[str, ...]) -> dict:
    ok = lambda f1: {"status": "ok", "mean": {"note_f1": f1, "note_offset_f1": f1 / 2, "frame_f1": f1}}  # noqa: E731
    return {"segments": ["a", "b"], "threads": 1, "audio_seconds": 60.0,
            "conditions": {c: {"description": c, "systems": {s: ok(scores[c]) for s, scores in systems.items()}}
                           for c in conditions}}


def test_a_slow_peer_measured_under_fewer_conditions_is_merged_and_marked():
    ours = _report({"notestream": {"clean": 0.9, "hall": 0.8, "phone": 0.7}}, ("clean", "hall", "phone"))
    earlier = _report({"transkun": {"clean": 0.99, "phone": 0.95}}, ("clean", "phone"))
    merged = reuse_earlier_conditions(earlier, ours)  # run order reversed: transkun now, ours reused
    assert merged["conditions"]["hall"]["systems"]["notestream"]["earlier_run"] is True
    merged = reuse_earlier_conditions(ours, earlier)
    assert list(merged["conditions"]) == ["clean", "hall", "phone"]
    assert merged["conditions"]["phone"]["systems"]["transkun"]["earlier_run"] is True
    assert "transkun" not in merged["conditions"]["hall"]["systems"]
    text = format_markdown(merged)
    assert "| hall | 0.800 / 0.400 / 0.800 | — |" in text and "transkun from an earlier run" in text
    assert "| condition | notestream | transkun |" in text  # the usual column order, whichever run came first
    with pytest.raises(ValueError, match="other segments"):
        reuse_earlier_conditions(ours, {**earlier, "segments": ["a"]})
    with pytest.raises(ValueError, match="another split"):  # the same segment ids, heard on another piano
        reuse_earlier_conditions({**ours, "data": "data/rendered/benchmark-salamander"}, {**earlier, "data": "data/rendered/benchmark"})
