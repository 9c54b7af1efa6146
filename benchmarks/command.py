"""`notestream bench`: accuracy beside peers, the streaming trade-off, speed, live latency and load, sheet
music; `bench report` rewrites benchmarks/RESULTS.md from their JSON and `bench all` runs them, then that."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from notestream_bench.accuracy_bench import RESULTS_DIR, register_accuracy_bench
from notestream_bench.archive_bench import register_archive_bench
from notestream_bench.batches_bench import register_batches_bench
from notestream_bench.batching_bench import register_batching_bench
from notestream_bench.latency_bench import register_latency_bench
from notestream_bench.latency_curve_bench import register_latency_curve_bench
from notestream_bench.lookahead_bench import register_lookahead_bench
from notestream_bench.process_speed_bench import register_process_speed_bench
from notestream_bench.replicas_bench import register_replicas_bench
from notestream_bench.report import RESULTS_MD, register_report, write_results
from notestream_bench.robustness_bench import register_robustness_bench
from notestream_bench.score_bench import register_score_bench
from notestream_bench.soak_bench import register_soak_bench
from notestream_bench.speed_bench import register_speed_bench
from notestream_bench.stream_bench import register_stream_bench

log = logging.getLogger(__name__)

BENCH_REGISTRIES = (
    register_accuracy_bench, register_lookahead_bench, register_report, register_speed_bench,
    register_stream_bench, register_score_bench, register_batching_bench, register_robustness_bench,
    register_batches_bench, register_replicas_bench, register_archive_bench, register_soak_bench,
    register_latency_curve_bench, register_latency_bench, register_process_speed_bench,
)
# What `bench all` runs by default; `load` ramps up to many minutes of streaming, so it is opt-in.
DEFAULT_ALL = ("accuracy", "lookahead", "speed", "latency", "score")


def register(subparsers) -> None:
    p = subparsers.add_parser("bench", help="benchmarks: accuracy, robustness, look-ahead, speed, latency, load, "
                                            "batching, batches, score, replicas, archive, soak, latency-curve",
                              description=__doc__)
    sub = p.add_subparsers(dest="bench_command", metavar="BENCH", required=True)
    for register_bench in BENCH_REGISTRIES:
        register_bench(sub)
    a = sub.add_parser("all", help="run the benches (default: " + ", ".join(DEFAULT_ALL) + "), then `report`")
    a.add_argument("--benches", default=",".join(DEFAULT_ALL), help="comma-separated bench names")
    a.add_argument("--limit", type=int, default=None, help="passed to the benches that take --limit")
    a.add_argument("--data-dir", default=None, help="passed to the benches that take --data-dir")
    a.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="each bench writes <name>.json here")
    a.add_argument("--out", type=Path, default=RESULTS_MD, help="the markdown file to write at the end")
    a.set_defaults(func=lambda args: run_all(args, sub))


def bench_argv(name: str, parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    """Arguments for one bench: its JSON (and plot) into the results folder; limit and data dir if it takes them."""
    accepts = parser._option_string_actions  # the options this bench defines
    argv = []
    if "--json" in accepts:
        argv += ["--json", str(args.results_dir / f"{name}.json")]
    if "--plot" in accepts:
        argv += ["--plot", str(args.results_dir / f"{name}.png")]
    for option, value in (("--limit", args.limit), ("--data-dir", args.data_dir)):
        if value is not None and option in accepts:
            argv += [option, str(value)]
    return argv


def run_all(args: argparse.Namespace, sub: argparse._SubParsersAction) -> int:
    """Run each chosen bench in turn (a failing one does not stop the rest), then write RESULTS.md."""
    names = [n.strip() for n in args.benches.split(",") if n.strip()]
    unknown = [n for n in names if n not in sub.choices or n in ("all", "report")]
    if unknown:
        available = sorted(set(sub.choices) - {"all", "report"})
        raise ValueError(f"unknown or unavailable bench(es) {', '.join(unknown)}; available: {', '.join(available)}")
    failed = []
    for name in names:
        parser = sub.choices[name]
        bench_args = parser.parse_args(bench_argv(name, parser, args))
        print(f"== bench {name}", file=sys.stderr)
        try:
            code = int(bench_args.func(bench_args) or 0)
        except (ValueError, FileNotFoundError) as exc:
            log.error("bench %s: %s", name, exc)
            code = 2
        if code:
            failed.append(name)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    write_results(args.results_dir, args.out)
    print(f"wrote {args.out}" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0
