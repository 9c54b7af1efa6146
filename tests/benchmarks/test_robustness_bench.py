"""`notestream bench robustness` on the tiny split: every condition run and scored, unknown ones refused."""

from __future__ import annotations

import json

from benchmarks.robustness_bench import format_markdown
from notestream.cli import main


def test_our_model_is_scored_under_each_chosen_condition(tiny_split, tmp_path, capsys):
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
        assert condition["systems"]["transkun"]["status"] == "skipped"
    printed = capsys.readouterr().out
    assert printed.startswith(format_markdown(report))
    assert "| phone | " in printed and "transkun: skipped" in printed


def test_unknown_conditions_are_refused_with_the_known_ones(tiny_split, capsys):
    assert main(["bench", "robustness", "--data-dir", str(tiny_split.data_dir), "--conditions", "clean,underwater"]) == 2
    err = capsys.readouterr().err
    assert "underwater" in err and "mp3-128k" in err
