"""`notestream bench`: every bench registered under one command, and `bench all` ending in RESULTS.md."""

from __future__ import annotations

from notestream.cli import build_parser, main


def bench_names() -> set[str]:
    bench = build_parser()._subparsers._group_actions[0].choices["bench"]
    return set(bench._subparsers._group_actions[0].choices)


def test_every_bench_is_registered_under_bench():
    expected = {"accuracy", "lookahead", "report", "all", "latency", "load", "score", "speed", "robustness",
                "batching", "batches"}
    assert expected <= bench_names()


def test_bench_all_runs_the_chosen_benches_then_writes_results_md(tiny_split, tmp_path):
    results, out = tmp_path / "results", tmp_path / "RESULTS.md"
    code = main(["bench", "all", "--benches", "lookahead", "--data-dir", str(tiny_split.data_dir), "--limit", "1",
                 "--results-dir", str(results), "--out", str(out)])
    assert code == 0
    assert (results / "lookahead.json").is_file() and (results / "lookahead.png").is_file()
    text = out.read_text()
    assert "| 8 | 16 |" in text and "![note F1 against latency](results/lookahead.png)" in text
    assert "Not measured yet." in text.split("## Accuracy")[1].split("##")[0]


def test_bench_all_refuses_unknown_benches(capsys):
    assert main(["bench", "all", "--benches", "lookahead,nonesuch"]) == 2
    assert "nonesuch" in capsys.readouterr().err
