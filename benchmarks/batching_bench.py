"""`notestream bench batching`: what batching live streams saves, measured at the model.

N streams get the same piano audio in real-time-sized chunks (20 ms by default, what the web client
sends), either one `TranscriptionStream.push` per stream per chunk (how a server without batching
works) or one `advance_streams` call for all of them per chunk (what the server's InferenceBatcher does).
Reported: process CPU time per second of streamed audio per stream, and the streams one core could
keep up with at that cost. CPU time, not wall time, so a busy shared machine still gives fair numbers;
`bench load` measures the whole server end to end.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from notestream.audio import decode_audio
from notestream.model.inference import TranscriptionStream, advance_streams
from notestream.model.transcriber import Transcriber

from .speed_bench import write_piano_wav


def register_batching_bench(bench_subparsers) -> None:
    """Add `batching` to the `notestream bench` subcommands."""
    p = bench_subparsers.add_parser("batching", help="CPU cost per live stream, batched vs one by one",
                                    description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--streams", type=int, nargs="+", default=[1, 4, 8, 16], help="numbers of concurrent streams")
    p.add_argument("--seconds", type=float, default=8.0, help="audio streamed per stream")
    p.add_argument("--chunk-ms", type=float, default=20.0, help="audio per push, per stream")
    p.add_argument("--checkpoint", type=Path, default=None, help="model checkpoint (default: the shipped one)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--json", type=Path, default=None, help="write the report here too")
    p.set_defaults(func=run_batching)


def cpu_per_stream_second(streams: list[TranscriptionStream], audio: np.ndarray, chunk: int, batched: bool) -> float:
    """Process CPU seconds spent per second of audio per stream, feeding `audio` to every stream chunk by chunk."""
    started = time.process_time()
    for start in range(0, audio.size, chunk):
        part = audio[start:start + chunk]
        if batched:
            advance_streams(streams, [part] * len(streams))
        else:
            for stream in streams:
                stream.push(part)
    spent = time.process_time() - started
    return spent / (len(streams) * audio.size / streams[0].sample_rate)


def batching_report(transcriber: Transcriber, audio: np.ndarray, counts: list[int], chunk: int) -> list[dict]:
    rows = []
    for n in counts:
        row = {"streams": n}
        for mode in ("one_by_one", "batched"):
            cost = cpu_per_stream_second([transcriber.stream() for _ in range(n)], audio, chunk, mode == "batched")
            row[f"{mode}_cpu_ms_per_s"] = round(1000 * cost, 1)
            row[f"{mode}_streams_per_core"] = round(1 / cost, 1)
        rows.append(row)
    return rows


def format_markdown(report: dict) -> str:
    lines = [f"{report['seconds']} s of rendered piano per stream in {report['chunk_ms']} ms chunks, "
             f"{report['threads']} torch thread(s), process CPU time; load average {report['load_average']} while measuring.",
             "", "| streams | one by one: CPU ms per stream-second | streams per core | batched: CPU ms per stream-second "
             "| streams per core |", "|---|---|---|---|---|"]
    lines += [f"| {r['streams']} | {r['one_by_one_cpu_ms_per_s']} | {r['one_by_one_streams_per_core']} | "
              f"{r['batched_cpu_ms_per_s']} | {r['batched_streams_per_core']} |" for r in report["rows"]]
    return "\n".join(lines)


def run_batching(args: argparse.Namespace) -> int:
    torch.set_num_threads(args.threads)
    transcriber = Transcriber.from_checkpoint(args.checkpoint, "cpu")
    with tempfile.TemporaryDirectory() as tmp:
        wav = write_piano_wav(Path(tmp) / "piano.wav", args.seconds)
        audio = decode_audio(wav, transcriber.sample_rate)
    chunk = int(round(args.chunk_ms / 1000 * transcriber.sample_rate))
    report = {"seconds": args.seconds, "chunk_ms": args.chunk_ms, "threads": args.threads,
              "rows": batching_report(transcriber, audio, args.streams, chunk),
              "load_average": round(os.getloadavg()[0], 2)}
    print(format_markdown(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1))
    return 0
