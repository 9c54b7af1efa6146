"""`notestream bench lookahead`: what streaming costs in accuracy — note F1 against latency.

The same weights are run with several windows (`model.config.WindowConfig(hop, lookahead)`): outputs
come in blocks of `hop` frames and the backward recurrence sees `lookahead` frames past each block. The
algorithmic latency of a window is `Transcriber.lookahead_seconds`: (hop + lookahead + 3 CNN frames + the
frames the decoder holds back) frames plus the STFT window's future part (half a Hann), the audio that must
arrive before a frame is decided. Each window is
scored on the benchmark split with `model.validation.segment_metrics` (the streaming path that offline
transcription also uses), and timed, since short windows run the backward recurrence more often.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from notestream.model.checkpoint import LoadedModel, load_checkpoint
from notestream.model.config import WindowConfig
from notestream.model.data.corpus import Segment, data_dir
from notestream.model.transcriber import Transcriber
from notestream.model.validation import segment_metrics
from notestream_bench.accuracy_bench import RESULTS_DIR, SCORE_KEYS, load_benchmark_segments

DEFAULT_LOOKAHEADS = (4, 8, 16, 32)
DEFAULT_HOP = 8


def measure_window(loaded: LoadedModel, segments: list[Segment], window: WindowConfig) -> dict:
    """Mean scores, algorithmic latency and real-time factor of one window on the segments."""
    start = time.process_time()
    mean, _ = segment_metrics(loaded, segments, window)
    cpu_seconds = time.process_time() - start
    audio_seconds = sum(s.audio.size / s.sample_rate for s in segments)
    return {"hop": window.hop, "lookahead": window.lookahead,
            "latency_seconds": Transcriber(loaded, window).lookahead_seconds,
            "cpu_rtf": cpu_seconds / audio_seconds, **mean.to_dict()}


def run_lookahead_benchmark(loaded: LoadedModel, segments: list[Segment], hop: int = DEFAULT_HOP,
                            lookaheads: tuple[int, ...] = DEFAULT_LOOKAHEADS) -> dict:
    """Every window on the same segments with the same weights; returns the JSON-ready report."""
    if not lookaheads:
        raise ValueError("give at least one look-ahead")
    rows = [measure_window(loaded, segments, WindowConfig(hop, la)) for la in sorted(set(lookaheads))]
    trained = loaded.window
    return {"benchmark": "lookahead", "segments": [s.segment_id for s in segments],
            "audio_seconds": sum(s.audio.size / s.sample_rate for s in segments),
            "checkpoint_window": {"hop": trained.hop, "lookahead": trained.lookahead},
            "checkpoint_steps": loaded.metadata.get("steps"), "windows": rows}


def plot_tradeoff(report: dict, path: Path) -> None:
    """Note F1 (and note+offset F1) against latency in milliseconds, each point labelled by its look-ahead."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = report["windows"]
    latency_ms = [r["latency_seconds"] * 1000 for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    ax.plot(latency_ms, [r["note_f1"] for r in rows], "o-", label="note F1")
    ax.plot(latency_ms, [r["note_offset_f1"] for r in rows], "s--", label="note+offset F1")
    for x, r in zip(latency_ms, rows, strict=True):
        ax.annotate(f"la {r['lookahead']}", (x, r["note_f1"]), textcoords="offset points", xytext=(4, 6), fontsize=8)
    window = report["checkpoint_window"]
    ax.set_title(f"Streaming trade-off (hop {rows[0]['hop']}; trained with look-ahead {window['lookahead']})")
    ax.set_xlabel("algorithmic latency (ms)")
    ax.set_ylabel(f"F1 on the {report.get('split', 'benchmark')} split")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def format_markdown(report: dict, plot: str | None = None) -> str:
    """One row per window; `plot` is a relative link to the PNG, if there is one."""
    window = report["checkpoint_window"]
    lines = [f"Same weights ({report['checkpoint_steps'] or 0} training steps, shipped with hop {window['hop']} "
             f"look-ahead {window['lookahead']}) on {len(report['segments'])} {report.get('split', 'benchmark')} segments "
             f"({report['audio_seconds']:.0f} s).", "",
             "| hop | look-ahead (frames) | latency (ms) | note F1 | note+offset F1 | note+offset+vel F1 | frame F1 "
             "| RTF (CPU) |", "|---" * 8 + "|"]
    for r in report["windows"]:
        lines.append(f"| {r['hop']} | {r['lookahead']} | {r['latency_seconds'] * 1000:.0f} | "
                     + " | ".join(f"{r[k]:.3f}" for k in SCORE_KEYS) + f" | {r['cpu_rtf']:.3f} |")
    lines += ["", "Latency: (hop + look-ahead + 3 CNN frames + the frames the decoder holds back) frames plus the STFT "
              "window's future part (half a Hann window) — the audio that must arrive after a note before it can be "
              "reported; the server's processing time comes on top."]
    if plot:
        lines += ["", f"![note F1 against latency]({plot})"]
    return "\n".join(lines)


def register_lookahead_bench(bench_subparsers) -> None:
    """Add `lookahead` under `notestream bench`."""
    p = bench_subparsers.add_parser("lookahead", help="note F1 against streaming latency, same weights",
                                    description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None, help="data folder holding rendered/ (default $NOTESTREAM_DATA or ./data)")
    p.add_argument("--limit", type=int, default=None, help="use the first N benchmark segments")
    p.add_argument("--split", default="benchmark",
                   help="rendered split; validation (or validation-salamander, or validation-freepats-grand: a piano "
                        "never trained on): choose the shipped look-ahead or compare runs without looking at the benchmark")
    p.add_argument("--hop", type=int, default=DEFAULT_HOP, help="output block, in frames")
    p.add_argument("--lookaheads", default=",".join(map(str, DEFAULT_LOOKAHEADS)), help="comma-separated, in frames")
    p.add_argument("--checkpoint", type=Path, default=None, help="default: the shipped checkpoint")
    p.add_argument("--threads", type=int, default=1, help="CPU threads for torch")
    p.add_argument("--json", type=Path, default=RESULTS_DIR / "lookahead.json", help="write the report here")
    p.add_argument("--plot", type=Path, default=None, help="write the PNG plot here (default: beside the JSON)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    torch.set_num_threads(args.threads)
    lookaheads = tuple(int(x) for x in args.lookaheads.split(",") if x.strip())
    if not lookaheads or min(lookaheads) < 0 or args.hop < 1:
        raise ValueError("give at least one look-ahead (frames >= 0) and a hop of at least 1 frame")
    segments = load_benchmark_segments(data_dir(args.data_dir) / "rendered", args.limit, split=args.split)
    report = run_lookahead_benchmark(load_checkpoint(args.checkpoint, "cpu"), segments, args.hop, lookaheads)
    report["split"] = args.split
    plot_tradeoff(report, args.plot or args.json.with_suffix(".png"))
    print(format_markdown(report))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1))
    return 0
