"""`notestream bench accuracy`: our model beside transkun 2.0.1 and basic-pitch 0.4.0 on the benchmark split.

Every system gets the same thing: the benchmark segments (works held out from training, rendered with a
held-out SoundFont) written as 16 kHz WAV files. Each system runs as a subprocess in its own Python
(peers in the virtualenvs that `benchmarks/peers/setup.sh` makes under .peers/), loads its model once,
writes one MIDI per file and times each file (see benchmarks/peers/runner_protocol.py). We read the MIDI
with `model.midi.read_midi` and score it with `model.evaluation.performance_metrics`: mir_eval's standard
settings, the sustain-pedal rule applied alike to the reference and to every system (a system that
outputs no pedal is scored on its notes as written).

Speed is measured in the same run: real-time factor (transcription wall time / audio time, and the
same with CPU time, which contention on a shared machine distorts less), the model load time, and the
peak resident memory of each system's process (`os.wait4`'s rusage of that one child). Peers that are not
installed are reported as skipped, not as failures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from notestream.audio import write_wav
from notestream.midi import read_midi
from notestream.model.arguments import add_precision_argument
from notestream.model.breakdown import performance_breakdown, sum_breakdowns
from notestream.model.data.corpus import Segment, data_dir, load_segment
from notestream.model.evaluation import mean_scores, pedal_metrics, performance_metrics
from notestream.model.validation import reference_performance, segment_audio
from notestream_bench.paths import portable_path
from notestream_bench.recall_tables import format_recall_tables, plot_key_confusion

REPO_ROOT = Path(__file__).resolve().parent.parent
PEER_RUNNERS = REPO_ROOT / "benchmarks" / "peers"
DEFAULT_PEERS_DIR = REPO_ROOT / ".peers"
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
SYSTEMS = ("notestream", "transkun", "basic-pitch")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS")
SCORE_KEYS = ("note_f1", "note_offset_f1", "note_offset_velocity_f1", "frame_f1")
PEDAL_KEYS = ("pedal_onset_f1", "pedal_offset_f1")


@dataclass(frozen=True)
class System:
    """A transcriber to benchmark: its runner script and the Python it runs in (None: not installed)."""

    name: str
    runner: Path
    python: Path | None

    @property
    def installed(self) -> bool:
        return self.python is not None


def find_system(name: str, peers_dir: Path) -> System:
    """Ours runs in this Python; a peer in `peers_dir/<name>/bin/python` when that exists."""
    runner = PEER_RUNNERS / f"run_{name.replace('-', '_')}.py"
    if name == "notestream":
        return System(name, runner, Path(sys.executable))
    python = peers_dir / name / "bin" / "python"
    return System(name, runner, python if python.exists() else None)


def work_of(segment_id: str) -> str:
    """The work a segment comes from: its id is `<work>__<performer>__<k>` (see model.data.corpus)."""
    return segment_id.rsplit("__", 2)[0]


def benchmark_segment_paths(root: Path, limit: int | None, split: str = "benchmark") -> list[Path]:
    """A split's segment files (the benchmark's by default) taken round-robin across works, so a `limit` still
    spans as many pieces as it can."""
    folder = root / split
    if not folder.is_dir():
        raise ValueError(f"{folder}: no rendered data; run `notestream data render --splits {split}`")
    by_work: dict[str, list[Path]] = {}
    for path in sorted(p for p in folder.glob("*.npz") if not p.name.endswith(".tmp.npz")):
        by_work.setdefault(work_of(path.stem), []).append(path)
    queues = list(by_work.values())
    ordered = [q[i] for i in range(max(map(len, queues), default=0)) for q in queues if i < len(q)]
    if not ordered:
        raise ValueError(f"{folder}: no rendered segments; run `notestream data render --splits benchmark`")
    return ordered[:limit]


def load_benchmark_segments(root: Path, limit: int | None, sample_rate: int = 16000, split: str = "benchmark") -> list[Segment]:
    """The segments of `benchmark_segment_paths`, loaded."""
    return [load_segment(path, sample_rate) for path in benchmark_segment_paths(root, limit, split)]


def check_reusable(earlier: dict, root: Path, limit: int | None, threads: int, split: str) -> None:
    """`check_same_run_inputs` before anything runs: a run that cannot be merged fails at once, not after an hour."""
    planned = {"data": portable_path(root / split), "threads": threads,
               "segments": [path.stem for path in benchmark_segment_paths(root, limit, split)]}
    check_same_run_inputs(planned, earlier)


def write_segment_wavs(segments: list[Segment], folder: Path) -> list[Path]:
    """Each segment's audio as `<segment id>.wav`, the input every system reads."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for segment in segments:
        path = folder / f"{segment.segment_id}.wav"
        write_wav(path, segment_audio(segment), segment.sample_rate)
        paths.append(path)
    return paths


@dataclass
class RunOutcome:
    """What one system's subprocess left: its timing report, its peak memory and CPU time, or an error."""

    report: dict | None
    peak_rss_mb: float
    process_cpu_seconds: float
    error: str | None = None


def run_system(system: System, wavs: list[Path], out_dir: Path, threads: int, options: dict[str, str],
               timeout: float) -> RunOutcome:
    """Run the system's runner on the WAVs; rusage comes from waiting on that one child (`os.wait4`)."""
    report_path = out_dir / "report.json"
    log_path = out_dir / "log.txt"
    command = [str(system.python), str(system.runner), "--out-dir", str(out_dir), "--report", str(report_path),
               "--threads", str(threads), *(f"--option={k}={v}" for k, v in options.items()), *map(str, wavs)]
    env = {**os.environ, **dict.fromkeys(THREAD_VARIABLES, str(threads)), "PYTHONUNBUFFERED": "1"}
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO_ROOT)
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:  # interrupted: leave no runner behind
            process.kill()
            process.wait()
            raise
        finally:
            timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
    peak_mb, cpu = usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime
    if process.returncode != 0 or not report_path.is_file():
        tail = log_path.read_text(errors="replace").strip().splitlines()[-5:]
        reason = f"exit code {process.returncode}" + (" (timed out)" if process.returncode == -9 else "")
        return RunOutcome(None, peak_mb, cpu, f"{reason}: " + " | ".join(tail))
    return RunOutcome(json.loads(report_path.read_text()), peak_mb, cpu)


def system_metrics(midi_dir: Path, segments: list[Segment]) -> dict:
    """Mean and per-segment scores of the MIDI files a system wrote, one per segment, with the recall breakdown
    pooled over them; sustain-pedal press and release F1 too when the system writes pedal at all."""
    per_segment, pedal, breakdowns, writes_pedal = {}, [], [], False
    for segment in segments:
        midi = midi_dir / f"{segment.segment_id}.mid"
        if not midi.is_file():
            raise ValueError(f"{midi}: the system wrote no MIDI for this segment")
        est, ref = read_midi(midi), reference_performance(segment)
        per_segment[segment.segment_id] = performance_metrics(est, ref)
        breakdowns.append(performance_breakdown(est, ref))
        pedal.append(pedal_metrics(est.pedals, ref.pedals, duration=segment.audio.size / segment.sample_rate))
        writes_pedal |= bool(est.pedals)
    result = {"mean": mean_scores(list(per_segment.values())).to_dict(),
              "per_segment": {k: v.to_dict() for k, v in per_segment.items()},
              "breakdown": sum_breakdowns(breakdowns).to_dict()}
    if writes_pedal:
        result["pedal"] = {key: float(np.mean([getattr(p, key) for p in pedal])) for key in PEDAL_KEYS}
    return result


def speed_summary(outcome: RunOutcome, audio_seconds: float) -> dict:
    """Real-time factors (wall and CPU, transcription only), load time, peak memory."""
    files = outcome.report["files"].values()
    wall, cpu = sum(f["seconds"] for f in files), sum(f["cpu_seconds"] for f in files)
    return {"transcribe_seconds": wall, "transcribe_cpu_seconds": cpu, "rtf": wall / audio_seconds,
            "cpu_rtf": cpu / audio_seconds, "load_seconds": outcome.report["load_seconds"],
            "peak_rss_mb": outcome.peak_rss_mb, "process_cpu_seconds": outcome.process_cpu_seconds}


def benchmark_system(system: System, wavs: list[Path], segments: list[Segment], work_dir: Path, threads: int,
                     options: dict[str, str], timeout: float) -> dict:
    """One system's entry in the report: scores and speed, or why it was skipped or failed."""
    if not system.installed:
        return {"status": "skipped", "reason": "not installed (run `bash benchmarks/peers/setup.sh`)"}
    outcome = run_system(system, wavs, work_dir / system.name, threads, options, timeout)
    if outcome.error:
        return {"status": "failed", "reason": outcome.error, "peak_rss_mb": outcome.peak_rss_mb}
    try:
        scores = system_metrics(work_dir / system.name, segments)
    except ValueError as exc:  # a missing or unreadable MIDI file
        return {"status": "failed", "reason": str(exc), "peak_rss_mb": outcome.peak_rss_mb}
    audio_seconds = sum(s.audio.size / s.sample_rate for s in segments)
    return {"status": "ok", "version": outcome.report["version"], **scores, "speed": speed_summary(outcome, audio_seconds)}


def run_accuracy_benchmark(root: Path, systems: list[System], limit: int | None = None, threads: int = 1,
                           checkpoint: Path | None = None, timeout: float = 3600.0, split: str = "benchmark",
                           precision: str = "auto", latency: str = "accurate") -> dict:
    """Benchmark every system on the same WAVs in one run (ours at its named `latency`); the JSON-ready report."""
    segments = load_benchmark_segments(root, limit, split=split)
    ours = {"checkpoint": str(checkpoint)} if checkpoint else {}
    if precision != "auto":
        ours["precision"] = precision
    if latency != "accurate":
        ours["latency"] = latency
    with tempfile.TemporaryDirectory(prefix="notestream-accuracy-") as tmp:
        wavs = write_segment_wavs(segments, Path(tmp) / "wav")
        results = {s.name: benchmark_system(s, wavs, segments, Path(tmp), threads,
                                            ours if s.name == "notestream" else {}, timeout) for s in systems}
    return {"benchmark": "accuracy", "data": portable_path(root / split), "segments": [s.segment_id for s in segments],
            "audio_seconds": sum(s.audio.size / s.sample_rate for s in segments), "threads": threads,
            "systems": results}


def reuse_earlier_results(report: dict, earlier: dict) -> dict:
    """Take the systems this run left out from an earlier report of the same segments and threads.

    Peers are deterministic and slow (transkun needs minutes per minute of audio on a CPU), so a run
    that re-scores only our model can keep their numbers; each reused entry says it is from an earlier run.
    """
    check_same_run_inputs(report, earlier)
    systems = dict(report["systems"])
    for name, result in earlier["systems"].items():
        if name not in systems:
            systems[name] = {**result, "earlier_run": True}
    return {**report, "systems": systems}


def report_split(report: dict) -> str:
    """The rendered split a report scored (reports from before `--split` existed scored the benchmark)."""
    return Path(report.get("data", "benchmark")).name


def check_same_run_inputs(report: dict, earlier: dict) -> None:
    """Results may be merged only across runs of the same split, segments and threads."""
    if ((report_split(earlier), earlier.get("segments"), earlier.get("threads"))
            != (report_split(report), report["segments"], report["threads"])):
        raise ValueError("the earlier report is of another split, other segments or threads; run every system again")


def format_markdown(report: dict) -> str:
    """The side-by-side table: accuracy, speed and memory per system; skipped or failed systems say why."""
    reused = [name for name, result in report["systems"].items() if result.get("earlier_run")]
    runs = (f"{' and '.join(reused)} from an earlier run of the same segments, the others from this one" if reused
            else "all systems in the same run")
    lines = [f"{len(report['segments'])} {report_split(report)} segments, {report['audio_seconds']:.0f} s of audio, "
             f"{report['threads']} CPU thread(s) per system, {runs}.", "",
             "| system | version | note F1 | note+offset F1 | note+offset+vel F1 | frame F1 | pedal press F1 "
             "| pedal release F1 | RTF (wall) | RTF (CPU) | load (s) | peak RSS (MB) |", "|---" * 12 + "|"]
    notes = []
    for name, result in report["systems"].items():
        if result["status"] != "ok":
            notes.append(f"- {name}: {result['status']} — {result['reason']}")
            continue
        mean, speed, pedal = result["mean"], result["speed"], result.get("pedal")
        pedal_cells = " | ".join(f"{pedal[k]:.3f}" if pedal else "—" for k in PEDAL_KEYS)
        lines.append(f"| {name} | {result['version']} | " + " | ".join(f"{mean[k]:.3f}" for k in SCORE_KEYS)
                     + f" | {pedal_cells} | {speed['rtf']:.3f} | {speed['cpu_rtf']:.3f} | {speed['load_seconds']:.1f} "
                       f"| {speed['peak_rss_mb']:.0f} |")
    legend = ["", "Scores: mir_eval (onset 50 ms; offsets 20 % or 50 ms), sustain pedal applied to reference and output "
              "alike. Pedal: presses and releases matched within 50 ms, mean over segments, events cut by a segment's "
              "edges left out; — where a system writes no pedal. RTF: transcription time / audio time (lower is "
              "faster), with wall time and with the process's CPU time; load: model load plus a 2 s warm-up, not in "
              "the RTF; peak RSS: the system's whole process."]
    tables = format_recall_tables([(name, r.get("breakdown")) for name, r in report["systems"].items()])
    return "\n".join(lines + legend + ([""] + notes if notes else []) + (["", tables] if tables else []))


def breakdown_panels(report: dict) -> list[tuple[str, dict]]:
    """(title, breakdown) of each system scored with a breakdown, for the per-key confusion plot."""
    return [(f"{name} on {report_split(report)}", r["breakdown"]) for name, r in report["systems"].items()
            if r.get("breakdown")]


def key_confusion_plot(report_json: Path) -> Path:
    """Where a report's per-key confusion plot goes: beside its JSON, `<stem>_keys.png`."""
    return report_json.with_name(f"{report_json.stem}_keys.png")


def add_system_run_arguments(p: argparse.ArgumentParser, timeout_help: str) -> None:
    """The options of a bench that runs the systems on benchmark segments (accuracy, robustness)."""
    p.add_argument("--data-dir", default=None, help="data folder holding rendered/ (default $NOTESTREAM_DATA or ./data)")
    p.add_argument("--limit", type=int, default=None, help="use the first N benchmark segments")
    p.add_argument("--split", default="benchmark",
                   help="rendered split to score, e.g. benchmark-salamander (held-out works on a sampled grand)")
    p.add_argument("--systems", default=",".join(SYSTEMS), help=f"comma-separated, from {', '.join(SYSTEMS)}")
    p.add_argument("--peers-dir", type=Path, default=DEFAULT_PEERS_DIR, help="where setup.sh put the peers' venvs")
    p.add_argument("--checkpoint", type=Path, default=None, help="our checkpoint (default: the shipped one)")
    p.add_argument("--threads", type=int, default=1, help="CPU threads each system may use")
    p.add_argument("--timeout", type=float, default=3600.0, help=timeout_help)


def chosen_names(names: str, known: Iterable[str], what: str) -> list[str]:
    """The comma-separated `names`, each one of `known`; a clear error otherwise."""
    known = list(known)
    chosen = [n.strip() for n in names.split(",") if n.strip()]
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        raise ValueError(f"unknown {what} {', '.join(unknown)}; choose from {', '.join(known)}")
    if not chosen:
        raise ValueError(f"no {what} given; choose from {', '.join(known)}")
    return chosen


def register_accuracy_bench(bench_subparsers) -> None:
    """Add `accuracy` under `notestream bench`."""
    p = bench_subparsers.add_parser("accuracy", help="accuracy, speed and memory beside transkun and basic-pitch",
                                    description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_system_run_arguments(p, "seconds one system may take for all files")
    p.add_argument("--json", type=Path, default=RESULTS_DIR / "accuracy.json", help="write the report here")
    add_precision_argument(p)  # our model's
    p.add_argument("--latency", default="accurate", metavar="NAME",
                   help="our model at one of its named latencies (e.g. low: its window, views and decoder)")
    p.add_argument("--reuse-others", action="store_true",
                   help="keep the --json report's results of the systems not run now (same segments and threads)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    systems = [find_system(n, args.peers_dir) for n in chosen_names(args.systems, SYSTEMS, "system(s)")]
    root = data_dir(args.data_dir) / "rendered"
    earlier = json.loads(args.json.read_text()) if args.reuse_others and args.json.is_file() else None
    if earlier is not None:
        check_reusable(earlier, root, args.limit, args.threads, args.split)
    report = run_accuracy_benchmark(root, systems, args.limit, args.threads, args.checkpoint, args.timeout, args.split,
                                    args.precision, args.latency)
    if earlier is not None:
        report = reuse_earlier_results(report, earlier)
    print(format_markdown(report))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1))
    if breakdown_panels(report):
        plot_key_confusion(breakdown_panels(report), key_confusion_plot(args.json))
    return 0 if all(r["status"] != "failed" for r in report["systems"].values()) else 1
