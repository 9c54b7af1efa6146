"""`notestream bench lookahead`: one row per window with the latency formula, and a PNG plot."""

from __future__ import annotations

import json

from notestream.cli import main
from notestream.model.checkpoint import load_checkpoint


def test_each_lookahead_gets_scores_latency_and_a_point_on_the_plot(tiny_split, tmp_path, capsys):
    out, plot = tmp_path / "lookahead.json", tmp_path / "plots" / "lookahead.png"
    code = main(["bench", "lookahead", "--data-dir", str(tiny_split.data_dir), "--lookaheads", "16,4",
                 "--json", str(out), "--plot", str(plot)])
    assert code == 0
    report = json.loads(out.read_text())
    assert [(w["hop"], w["lookahead"]) for w in report["windows"]] == [(8, 4), (8, 16)]
    loaded = load_checkpoint(None, "cpu")
    features = loaded.features
    for window in report["windows"]:
        frames = window["hop"] + window["lookahead"] + 3 + loaded.decoder.frames_ahead
        assert window["latency_seconds"] == frames / features.frame_rate + (features.n_fft // 2) / features.sample_rate
        assert 0.0 <= window["note_f1"] <= 1.0 and window["cpu_rtf"] > 0
    assert report["segments"] == tiny_split.segment_ids
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| 8 | 4 |" in capsys.readouterr().out


def test_no_lookahead_is_a_user_error(tiny_split, tmp_path, capsys):
    code = main(["bench", "lookahead", "--data-dir", str(tiny_split.data_dir), "--lookaheads", ",",
                 "--json", str(tmp_path / "l.json"), "--plot", str(tmp_path / "l.png")])
    assert code == 2
    assert "at least one look-ahead" in capsys.readouterr().err
    assert not (tmp_path / "l.json").exists()


def test_the_look_ahead_can_be_chosen_on_the_validation_split(tiny_split, tmp_path, capsys):
    (tmp_path / "rendered").mkdir()
    (tmp_path / "rendered" / "validation").symlink_to(tiny_split.data_dir / "rendered" / "benchmark")
    out = tmp_path / "lookahead.json"
    assert main(["bench", "lookahead", "--data-dir", str(tmp_path), "--split", "validation", "--lookaheads", "8",
                 "--json", str(out), "--plot", str(tmp_path / "l.png")]) == 0
    report = json.loads(out.read_text())
    assert report["split"] == "validation" and report["segments"] == tiny_split.segment_ids
    assert "validation segments" in capsys.readouterr().out
