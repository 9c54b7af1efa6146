"""`notestream bench robustness`: accuracy when the audio is not clean — lossy codecs, noise, rooms, a phone.

The benchmark split is clean SoundFont audio; users play into phones in rooms and upload MP3s. Each
condition of `benchmarks.degradations` is applied to the same benchmark segments (seeded per segment, so
every system hears the same audio), written as 16 kHz WAV files and transcribed by every system exactly as
`notestream bench accuracy` does (its runners, its scoring against the untouched references). Training
never sees these conditions: its augmentation has no codecs, and its image-source rooms are random ones,
never these two fixed rooms, so this measures how far the model carries, not what it was taught.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from notestream.model.data.corpus import Segment, data_dir
from notestream.model.validation import segment_audio
from notestream_bench.accuracy_bench import (
    RESULTS_DIR,
    SYSTEMS,
    System,
    add_system_run_arguments,
    benchmark_system,
    check_reusable,
    check_same_run_inputs,
    chosen_names,
    find_system,
    load_benchmark_segments,
    write_segment_wavs,
)
from notestream_bench.degradations import CONDITIONS, Condition
from notestream_bench.paths import portable_path
from notestream_bench.recall_tables import format_recall_tables

SCORES = ("note_f1", "note_offset_f1", "frame_f1")


def degrade_segments(segments: list[Segment], condition: Condition) -> list[Segment]:
    """The segments with their audio put through `condition` (segment k seeded with k), references untouched."""
    degraded = []
    for seed, segment in enumerate(segments):
        audio = condition.apply(segment_audio(segment), segment.sample_rate, seed)
        degraded.append(replace(segment, audio=(np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16)))
    return degraded


def run_robustness_benchmark(root: Path, systems: list[System], conditions: list[Condition], limit: int | None = None,
                             threads: int = 1, checkpoint: Path | None = None, timeout: float = 3600.0,
                             split: str = "benchmark") -> dict:
    """Every system under every condition; returns the JSON-ready report (mean scores and speed per run)."""
    segments = load_benchmark_segments(root, limit, split=split)
    ours = {"checkpoint": str(checkpoint)} if checkpoint else {}
    results = {}
    with tempfile.TemporaryDirectory(prefix="notestream-robustness-") as tmp:
        for condition in conditions:
            work = Path(tmp) / condition.name
            degraded = degrade_segments(segments, condition)
            wavs = write_segment_wavs(degraded, work / "wav")
            runs = {s.name: benchmark_system(s, wavs, degraded, work, threads, ours if s.name == "notestream" else {},
                                             timeout) for s in systems}
            results[condition.name] = {"description": condition.description,
                                       "systems": {name: _summary(run) for name, run in runs.items()}}
    return {"benchmark": "robustness", "data": portable_path(root / split), "segments": [s.segment_id for s in segments],
            "audio_seconds": sum(s.audio.size / s.sample_rate for s in segments), "threads": threads,
            "conditions": results}


def _summary(run: dict) -> dict:
    """A system's result under one condition without its per-segment scores."""
    return {key: value for key, value in run.items() if key != "per_segment"}


def reuse_earlier_conditions(report: dict, earlier: dict) -> dict:
    """Keep an earlier report's results (same segments and threads) for the systems and conditions not run now.

    transkun runs at ~2.7x real time on one CPU thread, so it may be measured under fewer conditions, in a
    run of its own; each reused entry says it is from an earlier run.
    """
    check_same_run_inputs(report, earlier)
    merged = {}
    for name in [n for n in CONDITIONS if n in report["conditions"] or n in earlier["conditions"]]:
        now, before = report["conditions"].get(name), earlier["conditions"].get(name)
        systems = dict(now["systems"]) if now else {}
        for system, result in (before["systems"] if before else {}).items():
            systems.setdefault(system, {**result, "earlier_run": True})
        merged[name] = {"description": (now or before)["description"], "systems": systems}
    return {**report, "conditions": merged}


def format_markdown(report: dict) -> str:
    """One row per condition; per system, note / note+offset / frame F1 (— where it was not run); then the
    recall breakdowns of every condition and system that has one."""
    conditions = report["conditions"]
    seen = dict.fromkeys(s for c in conditions.values() for s in c["systems"])
    systems = sorted(seen, key=lambda s: SYSTEMS.index(s) if s in SYSTEMS else len(SYSTEMS))
    reused = sorted({s for c in conditions.values() for s, r in c["systems"].items() if r.get("earlier_run")})
    runs = f" ({' and '.join(reused)} from an earlier run of the same segments)" if reused else ""
    lines = [f"{len(report['segments'])} benchmark segments, {report['audio_seconds']:.0f} s of audio, each condition "
             f"applied to all of them; {report['threads']} CPU thread(s) per system{runs}. "
             "Cells: note / note+offset / frame F1.",
             "", "| condition | " + " | ".join(systems) + " | what it stands for |", "|---" * (len(systems) + 2) + "|"]
    notes = set()
    for name, condition in conditions.items():
        cells = []
        for system in systems:
            result = condition["systems"].get(system, {"status": "—"})
            if result["status"] == "—":
                cells.append("—")
            elif result["status"] == "ok":
                cells.append(" / ".join(f"{result['mean'][k]:.3f}" for k in SCORES))
            else:
                cells.append(result["status"])
                notes.add(f"- {system}: {result['status']} — {result['reason']}")
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {condition['description']} |")
    tables = format_recall_tables([(f"{name} · {system}", condition["systems"].get(system, {}).get("breakdown"))
                                   for name, condition in conditions.items() for system in systems])
    return "\n".join(lines + ([""] + sorted(notes) if notes else []) + (["", tables] if tables else []))


def register_robustness_bench(bench_subparsers) -> None:
    """Add `robustness` under `notestream bench`."""
    p = bench_subparsers.add_parser("robustness", help="accuracy under codecs, noise, rooms and a phone, beside peers",
                                    description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_system_run_arguments(p, "seconds one system may take for one condition")
    p.add_argument("--conditions", default=",".join(CONDITIONS), help=f"comma-separated, from {', '.join(CONDITIONS)}")
    p.add_argument("--json", type=Path, default=RESULTS_DIR / "robustness.json", help="write the report here")
    p.add_argument("--reuse-others", action="store_true",
                   help="keep the --json report's results of the systems and conditions not run now")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    systems = [find_system(n, args.peers_dir) for n in chosen_names(args.systems, SYSTEMS, "system(s)")]
    conditions = [CONDITIONS[n] for n in chosen_names(args.conditions, CONDITIONS, "condition(s)")]
    root = data_dir(args.data_dir) / "rendered"
    earlier = json.loads(args.json.read_text()) if args.reuse_others and args.json.is_file() else None
    if earlier is not None:
        check_reusable(earlier, root, args.limit, args.threads, args.split)
    report = run_robustness_benchmark(root, systems, conditions, args.limit, args.threads, args.checkpoint,
                                      args.timeout, args.split)
    if earlier is not None:
        report = reuse_earlier_conditions(report, earlier)
    print(format_markdown(report))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1))
    failed = any(r["status"] == "failed" for c in report["conditions"].values() for r in c["systems"].values())
    return 1 if failed else 0
