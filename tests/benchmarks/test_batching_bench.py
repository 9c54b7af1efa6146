"""`notestream bench batching`: CPU cost per stream, one by one and batched, as a table and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from notestream.cli import main
from notestream_bench.report import results_markdown


def test_batching_bench_reports_both_modes_for_each_stream_count(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "results" / "batching.json"
    assert main(["bench", "batching", "--streams", "1", "3", "--seconds", "1.0", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert [row["streams"] for row in report["rows"]] == [1, 3]
    for row in report["rows"]:
        for mode in ("one_by_one", "batched"):
            assert row[f"{mode}_cpu_ms_per_s"] > 0
            assert row[f"{mode}_streams_per_core"] == pytest.approx(1000 / row[f"{mode}_cpu_ms_per_s"], rel=0.05)
    assert "| 3 |" in capsys.readouterr().out
    assert "What batching live streams saves" in results_markdown(out.parent)
