"""`notestream bench accuracy` on a tiny rendered split: our model scored and timed, peers skipped or failed."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from notestream.cli import main
from notestream_bench.accuracy_bench import find_system, format_markdown, key_confusion_plot


def test_our_model_is_scored_timed_and_broken_down_and_absent_peers_are_skipped(tiny_split, tmp_path, capsys):
    out = tmp_path / "accuracy.json"
    code = main(["bench", "accuracy", "--data-dir", str(tiny_split.data_dir), "--peers-dir", str(tmp_path / "no-peers"),
                 "--json", str(out)])
    assert code == 0
    report = json.loads(out.read_text())
    assert report["segments"] == tiny_split.segment_ids
    assert report["audio_seconds"] == len(tiny_split.segment_ids) * tiny_split.segment_seconds
    ours = report["systems"]["notestream"]
    assert ours["status"] == "ok"
    assert set(ours["per_segment"]) == set(tiny_split.segment_ids)
    assert all(0.0 <= ours["mean"][k] <= 1.0 for k in ("note_f1", "frame_f1"))
    speed = ours["speed"]
    assert speed["rtf"] > 0 and speed["cpu_rtf"] > 0 and speed["load_seconds"] > 0
    assert 50 < speed["peak_rss_mb"] < 8000  # torch and the model are resident: tens to hundreds of MB
    # The tiny split's six reference notes (one starts before its segment and is not one): 55+59 a chord, the rest alone.
    breakdown = ours["breakdown"]
    assert {b: n for b, (_, n) in breakdown["velocity"].items()} == {"<32": 0, "32–47": 0, "48–63": 2, "≥64": 4}
    assert {b: n for b, (_, n) in breakdown["chord_size"].items() if n} == {"1": 4, "2": 2}
    assert {b: n for b, (_, n) in breakdown["register"].items() if n} == {"C3": 2, "C4": 3, "C5": 1}
    assert all(found <= n for found, n in breakdown["velocity"].values())
    assert sum(breakdown["reference_by_key"]) == 6
    assert key_confusion_plot(out).read_bytes().startswith(b"\x89PNG")
    for peer in ("transkun", "basic-pitch"):
        assert report["systems"][peer]["status"] == "skipped"
        assert "setup.sh" in report["systems"][peer]["reason"]
    printed = capsys.readouterr().out
    assert "| notestream |" in printed and "transkun: skipped" in printed
    assert "| | <32 (n=0) | 32–47 (n=0) |" not in printed and "| | 48–63 (n=2) | ≥64 (n=4) |" in printed


def test_our_model_runs_at_the_asked_precision_and_names_bfloat16(tiny_split, tmp_path):
    versions = {}
    for precision in ("float32", "bfloat16"):
        out = tmp_path / f"{precision}.json"
        code = main(["bench", "accuracy", "--data-dir", str(tiny_split.data_dir), "--systems", "notestream",
                     "--precision", precision, "--json", str(out)])
        assert code == 0
        ours = json.loads(out.read_text())["systems"]["notestream"]
        assert ours["status"] == "ok"
        versions[precision] = ours["version"]
    assert versions["bfloat16"].endswith(", bfloat16") and "bfloat16" not in versions["float32"]


def test_another_rendered_split_is_scored_when_named(tiny_split, tmp_path, capsys):
    """--split scores e.g. benchmark-salamander, the held-out works heard on a sampled grand."""
    import shutil

    rendered = tmp_path / "data" / "rendered"
    shutil.copytree(tiny_split.data_dir / "rendered" / "benchmark", rendered / "benchmark-other-piano")
    out = tmp_path / "accuracy.json"
    code = main(["bench", "accuracy", "--data-dir", str(tmp_path / "data"), "--split", "benchmark-other-piano",
                 "--systems", "notestream", "--json", str(out)])
    assert code == 0
    report = json.loads(out.read_text())
    assert Path(report["data"]).name == "benchmark-other-piano" and report["segments"] == tiny_split.segment_ids
    assert f"{len(tiny_split.segment_ids)} benchmark-other-piano segments" in capsys.readouterr().out


def test_a_peer_whose_runner_crashes_is_reported_as_failed_with_its_error(tiny_split, tmp_path):
    venv_bin = tmp_path / "peers" / "transkun" / "bin"
    venv_bin.mkdir(parents=True)
    os.symlink(sys.executable, venv_bin / "python")  # a Python without transkun: its runner cannot import it
    out = tmp_path / "accuracy.json"
    code = main(["bench", "accuracy", "--data-dir", str(tiny_split.data_dir), "--peers-dir", str(tmp_path / "peers"),
                 "--systems", "transkun", "--limit", "1", "--json", str(out)])
    assert code == 1
    result = json.loads(out.read_text())["systems"]["transkun"]
    assert result["status"] == "failed"
    assert "exit code 1" in result["reason"] and "transkun" in result["reason"]
    assert "transkun: failed" in format_markdown(json.loads(out.read_text()))


def test_unknown_systems_and_missing_data_are_user_errors(tmp_path, capsys):
    assert main(["bench", "accuracy", "--systems", "notestream,magenta", "--data-dir", str(tmp_path)]) == 2
    assert "unknown system(s) magenta" in capsys.readouterr().err
    assert main(["bench", "accuracy", "--data-dir", str(tmp_path), "--json", str(tmp_path / "a.json")]) == 2
    assert "no rendered data" in capsys.readouterr().err


def test_a_peer_counts_as_installed_only_when_its_venv_python_exists(tmp_path):
    assert find_system("notestream", tmp_path).python == Path(sys.executable)
    assert not find_system("basic-pitch", tmp_path).installed
    (tmp_path / "basic-pitch" / "bin").mkdir(parents=True)
    (tmp_path / "basic-pitch" / "bin" / "python").symlink_to(sys.executable)
    system = find_system("basic-pitch", tmp_path)
    assert system.installed and system.runner.name == "run_basic_pitch.py" and system.runner.is_file()


def test_pedal_is_scored_for_systems_that_write_it_and_marked_absent_otherwise(tiny_split, tmp_path):
    from notestream.midi import write_midi
    from notestream.model.validation import reference_performance
    from notestream.notes import Performance
    from notestream_bench.accuracy_bench import load_benchmark_segments, system_metrics

    segments = load_benchmark_segments(tiny_split.data_dir / "rendered", None)
    (tmp_path / "perfect").mkdir()
    (tmp_path / "no-pedal").mkdir()
    for segment in segments:
        reference = reference_performance(segment)
        write_midi(reference, tmp_path / "perfect" / f"{segment.segment_id}.mid")
        write_midi(Performance(reference.notes, []), tmp_path / "no-pedal" / f"{segment.segment_id}.mid")
    perfect, no_pedal = system_metrics(tmp_path / "perfect", segments), system_metrics(tmp_path / "no-pedal", segments)
    assert perfect["mean"]["note_f1"] == 1.0 and perfect["pedal"] == {"pedal_onset_f1": 1.0, "pedal_offset_f1": 1.0}
    assert "pedal" not in no_pedal
    report = {"segments": [s.segment_id for s in segments], "audio_seconds": 4.0, "threads": 1, "systems": {
        name: {"status": "ok", "version": "x", **scores, "speed": {"rtf": 0.1, "cpu_rtf": 0.1, "load_seconds": 1.0,
                                                                   "peak_rss_mb": 100.0}}
        for name, scores in (("perfect", perfect), ("no-pedal", no_pedal))}}
    table = format_markdown(report)
    assert "| perfect | x | 1.000 | 1.000 | 1.000 | 1.000 | 1.000 | 1.000 |" in table
    no_pedal_row = next(line for line in table.splitlines() if line.startswith("| no-pedal |"))
    assert no_pedal_row.split(" | ")[6:8] == ["—", "—"]


def test_a_run_of_our_model_alone_can_keep_the_peers_results_of_an_earlier_run(tiny_split, tmp_path, capsys):
    out = tmp_path / "accuracy.json"
    args = ["bench", "accuracy", "--data-dir", str(tiny_split.data_dir), "--systems", "notestream", "--json", str(out)]
    assert main(args) == 0
    earlier = json.loads(out.read_text())
    peer = {**earlier["systems"]["notestream"], "version": "2.0.1"}  # a complete entry standing in for transkun's
    earlier["systems"]["transkun"] = peer
    out.write_text(json.dumps(earlier))
    capsys.readouterr()
    assert main([*args, "--reuse-others"]) == 0
    report = json.loads(out.read_text())
    assert report["systems"]["transkun"] == {**peer, "earlier_run": True}
    assert report["systems"]["notestream"]["status"] == "ok" and "earlier_run" not in report["systems"]["notestream"]
    assert "transkun from an earlier run" in capsys.readouterr().out

    out.write_text(json.dumps({**earlier, "threads": 2}))
    assert main([*args, "--reuse-others"]) != 0  # other threads: the peers' speed would not compare
    assert "run every system again" in capsys.readouterr().err


def test_a_run_that_could_not_be_merged_fails_before_any_system_starts(tiny_split, tmp_path, capsys):
    venv_bin = tmp_path / "peers" / "transkun" / "bin"
    venv_bin.mkdir(parents=True)
    started = tmp_path / "transkun-started"
    (venv_bin / "python").write_text(f"#!/bin/sh\ntouch {started}\nexit 1\n")  # a peer that leaves a trace when run
    (venv_bin / "python").chmod(0o755)
    out = tmp_path / "accuracy.json"
    earlier = {"benchmark": "accuracy", "data": "$NOTESTREAM_DATA/rendered/benchmark", "segments": tiny_split.segment_ids,
               "audio_seconds": 1.0, "threads": 1, "systems": {}}
    out.write_text(json.dumps(earlier))
    code = main(["bench", "accuracy", "--data-dir", str(tiny_split.data_dir), "--peers-dir", str(tmp_path / "peers"),
                 "--systems", "transkun", "--limit", "1", "--reuse-others", "--json", str(out)])
    assert code != 0 and "run every system again" in capsys.readouterr().err  # one segment, where the earlier run had all
    assert not started.exists() and json.loads(out.read_text()) == earlier
