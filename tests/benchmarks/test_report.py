"""RESULTS.md from the benches' JSON: each section from its file, a pointer where a bench has not run."""

from __future__ import annotations

import json

from notestream.cli import main
from notestream_bench.report import RESULTS_DIR, RESULTS_MD, results_markdown
from notestream_bench.stream_bench import StreamReport, percentiles_ms, summarise

SCORES = {"note_f1": 0.912, "note_offset_f1": 0.7, "note_offset_velocity_f1": 0.6, "frame_f1": 0.85,
          "note_precision": 0.9, "note_recall": 0.92}


def accuracy_report() -> dict:
    ours = {"status": "ok", "version": "0.1.0, 5000 steps", "mean": SCORES, "per_segment": {},
            "speed": {"rtf": 0.05, "cpu_rtf": 0.04, "load_seconds": 1.5, "peak_rss_mb": 310.0}}
    return {"benchmark": "accuracy", "segments": ["a", "b"], "audio_seconds": 60.0, "threads": 1,
            "systems": {"notestream": ours,
                        "transkun": {"status": "skipped", "reason": "not installed (run `bash benchmarks/peers/setup.sh`)"}}}


def lookahead_report() -> dict:
    row = {"hop": 8, "lookahead": 4, "latency_seconds": 0.514, "cpu_rtf": 0.1, **SCORES}
    return {"benchmark": "lookahead", "segments": ["a"], "audio_seconds": 30.0, "checkpoint_steps": 5000,
            "checkpoint_window": {"hop": 8, "lookahead": 16}, "windows": [row]}


def test_sections_come_from_the_json_files_and_missing_benches_say_so(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    (results / "accuracy.json").write_text(json.dumps(accuracy_report()))
    (results / "lookahead.json").write_text(json.dumps(lookahead_report()))
    low = {"latency": "low", "lookahead_ms": 160.0, "from_strike": percentiles_ms([0.15, 0.2, 0.25]),
           "matched_note_ons": 3, "reference_notes": 4, **summarise([StreamReport(latencies=[0.1, 0.2, 0.3])])}
    (results / "latency.json").write_text(json.dumps({"benchmark": "latency", "seconds_per_stream": 20.0, "chunk_ms": 20.0,
                                                      "streams": 1, "client": "Python", "latencies": [low]}))
    text = results_markdown(results)
    assert "| notestream | 0.1.0, 5000 steps | 0.912 | 0.700 | 0.600 | 0.850 | — | — | 0.050 | 0.040 | 1.5 | 310 |" in text
    assert "transkun: skipped" in text
    assert "| 8 | 4 | 514 | 0.912 |" in text
    assert "| low | 160.0 | 200.0 / 245.0 / 249.0 | 200.0 / 290.0 / 298.0 | 3 / 4 | True |" in text
    assert "lookahead.png" not in text  # no plot on disk, no broken image link
    load_section = text.split("## Concurrent live streams")[1].split("##")[0]
    assert "Not measured yet." in load_section


def test_the_plot_is_linked_relative_to_results_md_when_it_exists(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    (results / "lookahead.json").write_text(json.dumps(lookahead_report()))
    (results / "lookahead.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    assert "![note F1 against latency](results/lookahead.png)" in results_markdown(results)


def test_bench_report_writes_the_markdown_file(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    (results / "accuracy.json").write_text(json.dumps(accuracy_report()))
    out = tmp_path / "RESULTS.md"
    assert main(["bench", "report", "--results-dir", str(results), "--out", str(out)]) == 0
    assert out.read_text().startswith("# Benchmark results")
    assert main(["bench", "report", "--results-dir", str(tmp_path / "none"), "--out", str(out)]) == 2


def test_the_latency_curve_section_lists_each_latency_beside_the_published_points(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    row = {"split": "benchmark-salamander", "latency": "low", "segments": 38, "window": {"hop": 1, "lookahead": 1},
           "latency_ms": 144.0, "note_f1": 0.8998, "note_offset_f1": 0.7594, "note_offset_velocity_f1": 0.4723,
           "frame_f1": 0.8437, "status": "ok"}
    (results / "latency_curve.json").write_text(json.dumps(
        {"benchmark": "latency_curve", "rows": [row], "published": [["PARcompact", 160, 0.943]]}))
    text = results_markdown(results)
    assert "| benchmark-salamander | low | 1 + 1 | 144.0 | 0.900 | 0.759 | 0.472 | 0.844 | 38 |" in text
    assert "PARcompact 160 ms 0.943" in text


def test_hand_written_notes_follow_the_section_of_their_bench(tmp_path):
    (tmp_path / "results").mkdir()
    (tmp_path / "notes").mkdir()
    (tmp_path / "results" / "accuracy.json").write_text(json.dumps(accuracy_report()))
    (tmp_path / "notes" / "accuracy.md").write_text("Why the table looks this way.\n")
    section = results_markdown(tmp_path / "results").split("## Accuracy, speed and memory beside peers")[1].split("\n## ")[0]
    assert section.rstrip().endswith("Why the table looks this way.")


def test_the_committed_results_page_is_what_bench_report_makes_of_the_committed_json():
    assert RESULTS_MD.read_text() == results_markdown(RESULTS_DIR), "run `notestream bench report` after a bench"
