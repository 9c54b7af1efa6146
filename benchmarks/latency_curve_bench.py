"""`notestream bench latency-curve`: our model's accuracy at each of its named latencies on pianos it never
trained on, beside the published points of streaming piano transcribers (MAESTRO, quoted from their papers:
another dataset, so a reference line, not a comparison on the same audio)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from notestream.model.checkpoint import algorithmic_latency, latency_names, load_checkpoint, with_latency
from notestream.model.data.corpus import data_dir
from notestream_bench.accuracy_bench import (
    DEFAULT_PEERS_DIR,
    RESULTS_DIR,
    find_system,
    run_accuracy_benchmark,
)

# (system, algorithmic latency in ms, note F1 on MAESTRO) as the issue quotes them
PUBLISHED = (("PARcompact", 128, 0.843), ("PARcompact", 160, 0.943), ("PARcompact", 320, 0.960),
             ("Mobile-AMT", 174, 0.963), ("Wei et al. 2024", 380, 0.965))
SCORES = ("note_f1", "note_offset_f1", "note_offset_velocity_f1", "frame_f1")


def register_latency_curve_bench(bench_subparsers) -> None:
    p = bench_subparsers.add_parser("latency-curve", help="note F1 at each named latency, beside published points",
                                    description=__doc__)
    p.add_argument("--splits", default="benchmark-salamander,benchmark-iowa-steinway", help="rendered splits")
    p.add_argument("--latencies", default=None, metavar="NAMES", help="default: every latency the checkpoint has")
    p.add_argument("--data-dir", default=None, help="data folder holding rendered/ (default $NOTESTREAM_DATA or ./data)")
    p.add_argument("--limit", type=int, default=None, help="the first N segments of each split")
    p.add_argument("--checkpoint", type=Path, default=None, help="our checkpoint (default: the shipped one)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", type=Path, default=RESULTS_DIR / "latency_curve.json", help="write the report here")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    loaded = load_checkpoint(args.checkpoint, device="cpu")
    names = args.latencies.split(",") if args.latencies else latency_names(loaded)
    ours = find_system("notestream", DEFAULT_PEERS_DIR)
    rows = []
    for split in args.splits.split(","):
        for name in names:
            report = run_accuracy_benchmark(data_dir(args.data_dir) / "rendered", [ours], args.limit, args.threads,
                                            args.checkpoint, split=split, latency=name)
            result = report["systems"]["notestream"]
            preset = with_latency(loaded, name)
            window = preset.window
            rows.append({"split": split, "latency": name, "segments": len(report["segments"]),
                         "window": {"hop": window.hop, "lookahead": window.lookahead},
                         "latency_ms": round(algorithmic_latency(loaded.features, window, preset.decoder) * 1000, 1),
                         **{k: round(result["mean"][k], 4) for k in SCORES}, "status": result["status"]})
    report = {"benchmark": "latency_curve", "rows": rows, "published": [list(p) for p in PUBLISHED]}
    print(format_markdown(report))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1))
    return 0


def format_markdown(report: dict) -> str:
    lines = ["| piano (split) | latency | window (block + look-ahead) | algorithmic latency (ms) | note F1 | "
             "note+offset F1 | note+offset+velocity F1 | frame F1 | segments |", "|---|---|---|---|---|---|---|---|---|"]
    for r in report["rows"]:
        lines.append(f"| {r['split']} | {r['latency']} | {r['window']['hop']} + {r['window']['lookahead']} | "
                     f"{r['latency_ms']} | {r['note_f1']:.3f} | {r['note_offset_f1']:.3f} | "
                     f"{r['note_offset_velocity_f1']:.3f} | {r['frame_f1']:.3f} | {r['segments']} |")
    lines += ["", "Published streaming systems (note F1 on MAESTRO, their own papers; other audio than ours): "
              + "; ".join(f"{name} {ms} ms {f1:.3f}" for name, ms, f1 in report["published"]) + "."]
    return "\n".join(lines)
