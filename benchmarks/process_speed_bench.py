"""`notestream bench process-speed`: whole processes on the same recording, ours beside basic-pitch's.

What a user waits for: `notestream transcribe FILE` from launch to exit (Python and torch imports, model
load and warm-up, decoding, the model, every output written), with its default outputs (MIDI, note lists,
MusicXML and SVG sheet music) and with MIDI only, beside `basic-pitch OUT FILE` (its own command line, MIDI
out, the ONNX model of the .peers venv that `benchmarks/peers/setup.sh` makes). The input is the speed
bench's generated piano piece (`speed_bench.write_piano_wav`), five minutes by default. The commands take
turns for `--rounds` rounds, so they meet the same machine; the report gives each one's median wall time and
its CPU time (user + system of the child).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from notestream.audio import audio_duration
from notestream_bench.accuracy_bench import DEFAULT_PEERS_DIR
from notestream_bench.speed_bench import write_piano_wav

OURS_DEFAULT, OURS_MIDI, BASIC_PITCH = "notestream transcribe", "notestream transcribe --formats mid", "basic-pitch"


def register_process_speed_bench(bench_subparsers) -> None:
    """Add `process-speed` to the `notestream bench` subcommands."""
    p = bench_subparsers.add_parser("process-speed", help="whole-process time of transcribe beside basic-pitch's",
                                    description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=5.0, help="length of the generated recording")
    p.add_argument("--audio", type=Path, default=None, help="time this file instead")
    p.add_argument("--rounds", type=int, default=2, help="times each command runs, in turns")
    p.add_argument("--peers-dir", type=Path, default=DEFAULT_PEERS_DIR, help="where setup.sh put the peers' venvs")
    p.add_argument("--json", type=Path, default=None, help="write the report here too")
    p.set_defaults(func=run_process_speed)


def commands(audio: Path, out: Path, peers_dir: Path) -> dict[str, tuple[list[str], Path]]:
    """Each system's command line on `audio` and the folder it writes (basic-pitch: only where it is installed)."""
    ours = [sys.executable, "-m", "notestream", "transcribe", str(audio), "--no-progress", "--force", "-o"]
    found = {OURS_DEFAULT: (ours + [str(out / "ours")], out / "ours"),
             OURS_MIDI: (ours + [str(out / "ours-mid"), "--formats", "mid"], out / "ours-mid")}
    basic_pitch = peers_dir / "basic-pitch" / "bin" / "basic-pitch"
    if basic_pitch.exists():
        found[BASIC_PITCH] = ([str(basic_pitch), str(out / "basic-pitch"), str(audio)], out / "basic-pitch")
    return found


def timed_run(command: list[str], out: Path) -> dict:
    """Run one command to its exit: wall seconds and the child's CPU seconds; an error if it failed."""
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.iterdir():  # basic-pitch refuses to overwrite its MIDI
        stale.unlink() if stale.is_file() else shutil.rmtree(stale)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    # this process imported notestream, which sets GOMP_SPINCOUNT for itself: each child starts from a user's shell
    env = {k: v for k, v in os.environ.items() if k != "GOMP_SPINCOUNT"} | {"TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({done.returncode}): {done.stderr[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_seconds": round(wall, 2), "cpu_seconds": round(cpu, 2)}


def run_process_speed(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="notestream-process-speed-") as work:
        work = Path(work)
        audio = args.audio or write_piano_wav(work / f"piano-{args.minutes:g}min.wav", args.minutes * 60)
        found = commands(audio, work / "out", args.peers_dir)
        runs: dict[str, list[dict]] = {name: [] for name in found}
        for _ in range(args.rounds):
            for name, (command, out) in found.items():
                runs[name].append(timed_run(command, out))
        report = summarise(runs, audio_duration(audio), args.rounds)
    report["input"] = audio.name if args.audio else f"generated piano, {args.minutes:g} min"
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


def summarise(runs: dict[str, list[dict]], seconds: float, rounds: int) -> dict:
    """Median wall and CPU time per command, and how ours compare with basic-pitch's wall time."""
    systems = {name: {"wall_seconds": round(float(np.median([r["wall_seconds"] for r in rs])), 2),
                      "cpu_seconds": round(float(np.median([r["cpu_seconds"] for r in rs])), 2), "runs": rs}
               for name, rs in runs.items()}
    report = {"benchmark": "process_speed", "audio_seconds": round(seconds, 2), "rounds": rounds, "systems": systems,
              "cpu_count": os.cpu_count(), "load_average": round(os.getloadavg()[0], 2)}
    if BASIC_PITCH in systems:
        peer = systems[BASIC_PITCH]["wall_seconds"]
        report["faster_than_basic_pitch"] = {name: round(peer / s["wall_seconds"], 2) for name, s in systems.items()
                                             if name != BASIC_PITCH}
    return report


def format_markdown(report: dict) -> str:
    """The RESULTS.md section."""
    lines = [f"{report['input']} ({report['audio_seconds']:g} s of audio), each command {report['rounds']}× in turns "
             f"on {report['cpu_count']} CPU(s) (load average {report['load_average']:g} at the end); medians.", "",
             "| command | wall (s) | CPU (s) | × real time | basic-pitch's wall / this one's |", "|---|---|---|---|---|"]
    ratio = report.get("faster_than_basic_pitch", {})
    for name, s in report["systems"].items():
        lines.append(f"| `{name}` | {s['wall_seconds']} | {s['cpu_seconds']} | "
                     f"{report['audio_seconds'] / s['wall_seconds']:.1f} | {ratio.get(name, '—')} |")
    if OURS_DEFAULT in ratio:
        verdict = "met" if ratio[OURS_DEFAULT] > 1 else "missed"
        lines += ["", f"Target (issue 31): the default `transcribe` faster than basic-pitch as a whole process: **{verdict}**."]
    return "\n".join(lines)
