"""`notestream bench batches`: training-batch speed on a real (tiny) rendered corpus, as a table and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from notestream.cli import main
from notestream_bench.report import results_markdown
from tests.model.data.tiny_corpus import write_tiny_corpus


def test_batches_bench_times_real_batches_and_sizes_the_workers(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    write_tiny_corpus(tmp_path / "rendered")
    out = tmp_path / "batches.json"
    assert main(["bench", "batches", "--data-dir", str(tmp_path), "--splits", "train,missing", "--batch-size", "4",
                 "--crop-frames", "64", "--batches", "2", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["splits"] == ["train"] and report["segments"] == 3
    assert report["seconds_per_batch"] > 0 and report["cpu_seconds_per_batch"] > 0
    assert report["crops_per_second"] == pytest.approx(4 / report["seconds_per_batch"])
    assert report["workers_for_steps_per_second"]["20"] >= report["workers_for_steps_per_second"]["10"] >= 1
    assert 0 < report["augment_on_device"]["seconds_per_batch"]
    assert "crops per second" in capsys.readouterr().out
    assert "data workers needed" in results_markdown(tmp_path)


def test_batches_bench_without_data_says_how_to_make_it(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["bench", "batches", "--data-dir", str(tmp_path)]) == 2
    assert "notestream data render" in capsys.readouterr().err
