"""`notestream bench report`: benchmarks/RESULTS.md from the JSON every bench leaves in benchmarks/results/.

Each bench writes `benchmarks/results/<bench>.json` (accuracy, robustness, lookahead, speed, latency, latency_paths, load, soak, batching, score, batches, archive, replicas, process_speed);
this module only reads them, so the page can be regenerated at any time without rerunning anything. A
bench that has not been run yet gets a line saying which command produces it. Commentary that no JSON holds
(what a table means, a sweep's choice) lives in `benchmarks/notes/<bench>.md`, after that bench's section.
"""

from __future__ import annotations

import argparse
import importlib
import json
from collections.abc import Callable
from pathlib import Path

from notestream_bench import accuracy_bench, latency_bench, lookahead_bench
from notestream_bench.accuracy_bench import RESULTS_DIR

RESULTS_MD = RESULTS_DIR.parent / "RESULTS.md"


def _lookahead(report: dict, results_dir: Path) -> str:
    plot = results_dir / "lookahead.png"
    return lookahead_bench.format_markdown(report, f"{results_dir.name}/{plot.name}" if plot.is_file() else None)


def _accuracy(stem: str) -> Callable[[dict, Path], str]:
    """The accuracy table and recall breakdowns, with a link to the per-key confusion plot when it is there."""
    def render(report: dict, results_dir: Path) -> str:
        plot = accuracy_bench.key_confusion_plot(results_dir / f"{stem}.json")
        link = f"\n\n![missed and extra notes per key]({results_dir.name}/{plot.name})" if plot.is_file() else ""
        return accuracy_bench.format_markdown(report) + link
    return render


def _latency(report: dict, _: Path) -> str:
    if "note_ons" in report:  # an early report: processing latency only
        return _processing_latency(report)
    return latency_bench.format_markdown(report)


def _processing_latency(report: dict) -> str:
    lines = [f"{report['streams']} real-time stream(s) of {report['seconds_per_stream']:g} s, "
             f"{report['chunk_ms']:g} ms chunks, server on this machine.", "",
             "| note-ons | p50 (ms) | p95 (ms) | p99 (ms) | sender late by (ms) | all audio accounted |",
             "|---|---|---|---|---|---|",
             f"| {report['note_ons']} | {report['p50_ms']} | {report['p95_ms']} | {report['p99_ms']} "
             f"| {report['max_sender_delay_ms']} | {report['all_audio_accounted']} |"]
    return "\n".join(lines + ([f"\nErrors: {'; '.join(report['errors'])}"] if report.get("errors") else []))


def _load(report: dict, _: Path) -> str:
    lines = [f"Sustained: **{report['max_sustained_streams']}** concurrent real-time streams "
             f"(note-on p95 under {report['target_p95_ms']:g} ms, senders on time, all audio accounted) "
             f"on {report['cpu_count']} CPU(s).", "",
             "| streams | p50 (ms) | p95 (ms) | sender late by (ms) | sustained |", "|---|---|---|---|---|"]
    lines += [f"| {lvl['streams']} | {lvl['p50_ms']} | {lvl['p95_ms']} | {lvl['max_sender_delay_ms']} | {lvl['sustained']} |"
              for lvl in report["levels"]]
    return "\n".join(lines)


def _from_module(module: str) -> Callable[[dict, Path], str]:
    """The bench module's own `format_markdown(report)`, or the raw JSON when it has none (or is absent)."""
    def render(report: dict, _: Path) -> str:
        try:
            formatter = getattr(importlib.import_module(module), "format_markdown", None)
        except ModuleNotFoundError:
            formatter = None
        if formatter is None:
            return "```json\n" + json.dumps(report, indent=1)[:4000] + "\n```"
        return formatter(report)
    return render


# (results file stem, section title, command that writes it, formatter)
SECTIONS: tuple[tuple[str, str, str, Callable[[dict, Path], str]], ...] = (
    ("accuracy", "Accuracy, speed and memory beside peers", "notestream bench accuracy --limit 6 --threads 1",
     _accuracy("accuracy")),
    ("accuracy_salamander", "Accuracy on a sampled grand (Salamander Grand Piano) beside peers",
     "notestream bench accuracy --split benchmark-salamander --limit 6 --threads 1", _accuracy("accuracy_salamander")),
    ("accuracy_all", "Our model on all benchmark segments (TimGM6mb)", "notestream bench accuracy --systems notestream",
     _accuracy("accuracy_all")),
    ("accuracy_salamander_all", "Our model on all benchmark segments of the Salamander grand",
     "notestream bench accuracy --systems notestream --split benchmark-salamander", _accuracy("accuracy_salamander_all")),
    ("accuracy_iowa_steinway_all", "Our model on all benchmark segments of the never-heard Iowa Steinway",
     "notestream bench accuracy --systems notestream --split benchmark-iowa-steinway",
     _accuracy("accuracy_iowa_steinway_all")),
    ("robustness", "Accuracy under codecs, noise, rooms and a phone", "notestream bench robustness",
     _from_module("notestream_bench.robustness_bench")),
    ("lookahead", "Streaming trade-off: note F1 against latency", "notestream bench lookahead", _lookahead),
    ("speed", "Speed of our model", "notestream bench speed", _from_module("notestream_bench.speed_bench")),
    ("latency_curve", "Accuracy at each named latency, on pianos never trained on", "notestream bench latency-curve",
     _from_module("notestream_bench.latency_curve_bench")),
    ("latency", "Live note-on latency through the server", "notestream bench latency", _latency),
    ("latency_paths", "Live note-on latency through the Python client, the browser and a JACK MIDI port",
     "notestream bench latency --via python,browser,jack --latencies low,balanced,accurate", _latency),
    ("load", "Concurrent live streams one server sustains", "notestream bench load", _load),
    ("load_low", "Concurrent live streams at the low latency (144 ms)",
     "notestream serve --latency low --max-sessions 16, then notestream bench load --server URL", _load),
    ("soak", "Soak: real-time streams for minutes, with bad requests and abrupt disconnects", "notestream bench soak",
     _from_module("notestream_bench.soak_bench")),
    ("batching", "What batching live streams saves (model CPU per stream)", "notestream bench batching",
     _from_module("notestream_bench.batching_bench")),
    ("score", "Sheet music (ASAP) beside music21 and MuseScore 3", "notestream bench score", _from_module("notestream_bench.score_bench")),
    ("batches", "Training batches: data workers per GPU step rate", "notestream bench batches --batches 20",
     _from_module("notestream_bench.batches_bench")),
    ("archive", "Many files in one transcribe call, and on a Ray cluster", "notestream bench archive",
     _from_module("notestream_bench.archive_bench")),
    ("replicas", "Live sessions over two replicas behind HAProxy, one killed", "notestream bench replicas",
     _from_module("notestream_bench.replicas_bench")),
    ("process_speed", "A whole transcribe process beside basic-pitch's, on the same recording",
     "notestream bench process-speed", _from_module("notestream_bench.process_speed_bench")),
)


def results_markdown(results_dir: Path = RESULTS_DIR) -> str:
    """The whole RESULTS.md text from the JSON files in `results_dir`."""
    parts = ["# Benchmark results", "",
             "Generated by `notestream bench report` from the JSON files in "
             f"`benchmarks/{results_dir.name}/`; each section names the command that measures it. "
             "Audio: the benchmark split (ASAP works held out from training, rendered with the held-out "
             "TimGM6mb SoundFont) unless a section says otherwise."]
    for stem, title, command, formatter in SECTIONS:
        path = results_dir / f"{stem}.json"
        parts += ["", f"## {title}", "", f"Command: `{command} --json benchmarks/{results_dir.name}/{stem}.json`", ""]
        if not path.is_file():
            parts.append("Not measured yet.")
            continue
        parts.append(formatter(json.loads(path.read_text()), results_dir))
        notes = results_dir.parent / "notes" / f"{stem}.md"  # hand-written commentary on that section
        if notes.is_file():
            parts += ["", notes.read_text().strip()]
    return "\n".join(parts) + "\n"


def write_results(results_dir: Path = RESULTS_DIR, out: Path = RESULTS_MD) -> str:
    """Write RESULTS.md and return its text."""
    text = results_markdown(results_dir)
    out.write_text(text)
    return text


def register_report(bench_subparsers) -> None:
    """Add `report` under `notestream bench`."""
    p = bench_subparsers.add_parser("report", help="regenerate benchmarks/RESULTS.md from the results JSON",
                                    description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="where the benches wrote their JSON")
    p.add_argument("--out", type=Path, default=RESULTS_MD, help="the markdown file to write")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.results_dir.is_dir():
        raise ValueError(f"{args.results_dir}: no results folder; run a bench first (e.g. `notestream bench accuracy`)")
    write_results(args.results_dir, args.out)
    print(f"wrote {args.out}")
    return 0
