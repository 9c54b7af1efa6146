"""`notestream bench speed`: offline transcription speed (audio seconds per wall second) and peak memory.

Inputs are piano pieces generated here (a seeded random piece rendered once with FluidSynth at 32 kHz,
then repeated to the asked length and written as WAV), or your own files with `--audio`. Each input is
measured in a fresh Python process so its peak RSS is its own: the model is loaded first (not timed; loading ends with a short warm-up transcription),
then `Transcriber.transcribe(path)` is timed, decoding and resampling of the file included.
Speed = audio seconds / wall seconds; CPU seconds are reported beside it, since on a shared machine
the wall clock also measures the neighbours.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np

from notestream.model.arguments import add_precision_argument, view_shifts
from notestream.notes import Note, PedalSpan, Performance

REPO_ROOT = Path(__file__).resolve().parents[1]
TARGET_SPEED = 50.0
RENDER_RATE = 32000  # the renderer synthesises at 32 kHz; the transcriber resamples to its own rate
PIECE_SECONDS = 60.0

# Run in the child process: load the model, then time one transcription (see `measure_file`).
_CHILD = "import json, sys; from notestream_bench.speed_bench import measure_file; print(json.dumps(measure_file(*json.loads(sys.argv[1]))))"


def register_speed_bench(bench_subparsers) -> None:
    """Add `speed` to the `notestream bench` subcommands."""
    p = bench_subparsers.add_parser("speed", help="offline transcription speed (x real time) and peak memory",
                                    description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, nargs="+", default=[1.0, 30.0], help="lengths of the generated inputs")
    p.add_argument("--audio", type=Path, nargs="+", default=None, help="measure these files instead")
    p.add_argument("--checkpoint", type=Path, default=None, help="model checkpoint (default: the shipped one)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    add_precision_argument(p)
    p.add_argument("--views", type=view_shifts, default=None, metavar="SHIFTS",
                   help="another of the checkpoint's calibrated pitch-view sets (see transcribe)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--work-dir", type=Path, default=None, help="keep generated inputs here (default: a temp folder)")
    p.add_argument("--json", type=Path, default=None, help="write the report here too")
    p.set_defaults(func=run_speed)


def generated_piece(seconds: float, seed: int = 0) -> Performance:
    """A seeded piano texture, about 8 notes a second: a melody over broken chords, pedalled per bar."""
    rng = np.random.default_rng(seed)
    notes: list[Note] = []
    pedals: list[PedalSpan] = []
    beat, melody, root = 0.5, 72, 48
    for bar_start in np.arange(0.0, seconds - 4 * beat - 0.3, 4 * beat):  # whole bars, within `seconds`
        root = int(np.clip(root + rng.choice([-5, -3, 0, 2, 5, 7]), 40, 55))
        chord = [root, root + 7, root + 12 + int(rng.choice([3, 4]))]
        for i in range(8):  # broken chord in eighths
            t = bar_start + i * beat / 2
            notes.append(Note(float(t), float(t + beat), chord[i % 3], int(rng.integers(45, 80))))
        for i in range(int(rng.integers(3, 7))):  # melody
            melody = int(np.clip(melody + rng.integers(-4, 5), 62, 90))
            t = bar_start + i * 4 * beat / 6
            notes.append(Note(float(t), float(t + 0.6 * beat), melody, int(rng.integers(60, 110))))
        pedals.append(PedalSpan(float(bar_start + 0.05), float(bar_start + 4 * beat - 0.05)))
    return Performance(sorted(notes), pedals)


def write_piano_wav(path: Path, seconds: float, seed: int = 0, piece_seconds: float = PIECE_SECONDS) -> Path:
    """Render `generated_piece` once and repeat it to `seconds`, written a piece at a time (memory stays flat)."""
    from notestream.model.data.render import PianoRenderer
    from notestream.model.data.soundfonts import TRAIN_PRESETS

    renderer = PianoRenderer()
    try:
        piece = renderer.render(generated_piece(piece_seconds, seed), TRAIN_PRESETS[0], RENDER_RATE, piece_seconds)
    finally:
        renderer.close()
    pcm = (np.clip(piece, -1.0, 1.0) * 32767).astype(np.int16)
    remaining = int(round(seconds * RENDER_RATE))
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RENDER_RATE)
        while remaining > 0:
            part = pcm[:remaining]
            out.writeframes(part.tobytes())
            remaining -= part.size
    return path


def measure_file(path: str, checkpoint: str | None, device: str, threads: int | None, precision: str = "auto",
                 views: list[int] | None = None) -> dict:
    """In this process: load the model, transcribe `path` once, report time, CPU and peak RSS."""
    import resource
    import time

    import torch

    from notestream.model.transcriber import Transcriber

    if threads:
        torch.set_num_threads(threads)
    transcriber = Transcriber.from_checkpoint(checkpoint, device, views=None if views is None else tuple(views),
                                              precision=precision)
    described = transcriber.describe()
    rss_loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    wall, cpu = time.perf_counter(), time.process_time()
    result = transcriber.transcribe(path)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "input": Path(path).name, "audio_seconds": round(result.duration, 2), "wall_seconds": round(wall, 3),
        "cpu_seconds": round(cpu, 3), "speed": round(result.duration / wall, 1),
        "cpu_speed": round(result.duration / max(cpu, 1e-9), 1), "peak_rss_mb": round(peak, 1),
        "rss_after_load_mb": round(rss_loaded, 1), "notes": len(result.notes),
        "device": str(transcriber.loaded.device), "threads": torch.get_num_threads(),
        "views": described["pitch_views"], "precision": described["compute_precision"],
    }


def measure_in_child(path: Path, checkpoint: Path | None, device: str, threads: int | None, precision: str = "auto",
                     views: tuple[int, ...] | None = None) -> dict:
    """`measure_file` in a fresh interpreter, so peak RSS belongs to this input alone."""
    spec = json.dumps([str(path), None if checkpoint is None else str(checkpoint), device, threads, precision,
                       None if views is None else list(views)])
    done = subprocess.run([sys.executable, "-c", _CHILD, spec], cwd=REPO_ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ValueError(f"{path}: measuring failed ({last})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def speed_report(inputs: list[Path], checkpoint: Path | None = None, device: str = "auto",
                 threads: int | None = None, precision: str = "auto", views: tuple[int, ...] | None = None) -> dict:
    """Measure each input; the report says whether every one reached the target speed."""
    results = [measure_in_child(path, checkpoint, device, threads, precision, views) for path in inputs]
    return {
        "target_speed": TARGET_SPEED, "cpu_count": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "results": results, "meets_target": all(r["speed"] >= TARGET_SPEED for r in results),
    }


COLUMNS = (("input", "input", "{}"), ("audio_seconds", "audio (s)", "{:.1f}"), ("wall_seconds", "wall (s)", "{:.2f}"),
           ("speed", "x real time", "{:.1f}"), ("cpu_seconds", "CPU (s)", "{:.2f}"),
           ("peak_rss_mb", "peak RSS (MB)", "{:.0f}"), ("notes", "notes", "{}"))


def format_table(report: dict) -> str:
    """A plain-text table of the results, one row per input."""
    rows = [[fmt.format(r[key]) for key, _, fmt in COLUMNS] for r in report["results"]]
    widths = [max(len(title), *(len(row[i]) for row in rows)) for i, (_, title, _) in enumerate(COLUMNS)]
    line = "  ".join(title.rjust(w) for (_, title, _), w in zip(COLUMNS, widths, strict=True))
    body = ["  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join([line, "-" * len(line), *body])


def format_markdown(report: dict) -> str:
    """The RESULTS.md section: the table, the target and the machine's load while measuring."""
    header = "| " + " | ".join(title for _, title, _ in COLUMNS) + " |"
    rows = ["| " + " | ".join(fmt.format(r[key]) for key, _, fmt in COLUMNS) + " |" for r in report["results"]]
    first = report["results"][0] if report["results"] else {}
    verdict = "met" if report["meets_target"] else "not met"
    views = ",".join(f"{s:+d}" for s in first.get("views", [])) or "?"
    notes = (f"Target {report['target_speed']:g}x real time: **{verdict}**. Device {first.get('device')}, "
             f"pitch views {views}, CNN and GRU projection in {first.get('precision', 'float32')}, "
             f"{first.get('threads')} torch thread(s), {report['cpu_count']} CPU(s), load average "
             f"{report['load_average'][0]} while measuring; model loading (it ends with a 6 s warm-up) not timed; peak RSS per input.")
    return "\n".join([header, "|" + "---|" * len(COLUMNS), *rows, "", notes])


def run_speed(args: argparse.Namespace) -> int:
    if args.audio:
        missing = [str(p) for p in args.audio if not p.is_file()]
        if missing:
            raise ValueError(f"no such audio file(s): {', '.join(missing)}")
        report = speed_report(list(args.audio), args.checkpoint, args.device, args.threads, args.precision, args.views)
    else:
        with tempfile.TemporaryDirectory(prefix="notestream-speed-") as tmp:
            folder = args.work_dir or Path(tmp)
            inputs = [folder / f"piano-{m:g}min.wav" for m in args.minutes]
            for path, minutes in zip(inputs, args.minutes, strict=True):
                if not path.is_file():
                    write_piano_wav(path, minutes * 60)
            report = speed_report(inputs, args.checkpoint, args.device, args.threads, args.precision, args.views)
    print(format_table(report))
    print(f"target {TARGET_SPEED:g}x real time: {'met' if report['meets_target'] else 'NOT met'} "
          f"(load average {report['load_average'][0]})")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    return 0
