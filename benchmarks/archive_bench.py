"""`notestream bench archive`: whole-process speed of `notestream transcribe` on many small files (one call,
model loaded once per worker: --jobs 1 and --jobs 2), and Ray scaling: the same files on a local Ray
cluster of one one-CPU node, then two. Every run is a real `notestream transcribe` process, timed from
its start to its exit; the machine's load average is recorded beside each number (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from notestream.archive.local_cluster import LocalRayCluster
from notestream.audio import write_wav

RATE = 16000


def write_archive(folder: Path, files: int, seconds: float) -> None:
    """`files` recordings of `seconds` each: rendered piano clips, each file starting at another point."""
    from notestream_bench.stream_bench import looped, render_piano_clip

    folder.mkdir(parents=True, exist_ok=True)
    clips = [render_piano_clip(seed, 60.0) for seed in (0, 1, 2)]
    for i in range(files):
        write_wav(folder / f"take{i:03d}.wav", looped(clips[i % len(clips)], seconds, i), RATE)


def time_transcribe(archive: Path, out: Path, *options: str) -> dict:
    """One whole `notestream transcribe` process: wall seconds from its start, its summary, the load average."""
    summary_path = out.with_suffix(".summary.json")
    command = [sys.executable, "-m", "notestream", "transcribe", str(archive), "-o", str(out), "--formats", "mid,json",
               "--device", "cpu", "--no-progress", "--summary-json", str(summary_path), *options]
    load_before, start = os.getloadavg()[0], time.perf_counter()
    run = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if run.returncode != 0:
        raise ValueError(f"notestream transcribe {' '.join(options)} failed:\n{run.stderr[-2000:]}")
    summary = json.loads(summary_path.read_text())
    return {"options": " ".join(options), "files": summary["files"], "audio_seconds": round(summary["audio_seconds"], 1),
            "process_seconds": round(wall, 2), "real_time_factor": round(summary["audio_seconds"] / wall, 1),
            "steady_real_time_factor": summary["steady_real_time_factor"],
            "failed": len(summary["failed"]), "load_before": round(load_before, 2),
            "load_after": round(os.getloadavg()[0], 2)}


def ray_scaling(archive: Path, work: Path) -> list[dict]:
    """The archive on one one-CPU Ray node, then (a fresh output folder) on two."""
    runs = []
    with LocalRayCluster(work / "ray-logs", cpus=1) as cluster:
        runs.append({"nodes": 1, **time_transcribe(archive, work / "ray1", "--ray", cluster.address)})
        cluster.add_worker_node()
        runs.append({"nodes": 2, **time_transcribe(archive, work / "ray2", "--ray", cluster.address)})
    return runs


def register_archive_bench(bench_subparsers) -> None:
    p = bench_subparsers.add_parser("archive", help="many small files in one transcribe call; Ray scaling over nodes")
    p.add_argument("--files", type=int, default=100)
    p.add_argument("--seconds", type=float, default=30.0, help="length of each file")
    p.add_argument("--jobs", default="1,2", help="comma-separated --jobs values to time on this machine")
    p.add_argument("--ray-files", type=int, default=48, help="files for the Ray scaling runs (0: skip them)")
    p.add_argument("--json", type=Path, default=None)
    p.set_defaults(func=run_archive_bench)


def run_archive_bench(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="notestream-archive-") as tmp:
        work = Path(tmp)
        write_archive(work / "archive", args.files, args.seconds)
        local = [time_transcribe(work / "archive", work / f"jobs{jobs}", "--jobs", jobs)
                 for jobs in args.jobs.split(",") if jobs.strip()]
        scaling = []
        if args.ray_files:
            write_archive(work / "ray-archive", args.ray_files, args.seconds)
            scaling = ray_scaling(work / "ray-archive", work)
    report = {"benchmark": "archive", "cpu_count": os.cpu_count(), "files": args.files, "seconds_per_file": args.seconds,
              "formats": "mid,json", "local": local, "ray": scaling,
              "ray_speedup": round(scaling[1]["real_time_factor"] / scaling[0]["real_time_factor"], 2) if scaling else None,
              "ray_steady_speedup": _ratio(scaling, "steady_real_time_factor")}
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


def _ratio(scaling: list[dict], key: str) -> float | None:
    """Two nodes' rate over one node's, if both runs have it."""
    if len(scaling) < 2 or not scaling[0].get(key) or not scaling[1].get(key):
        return None
    return round(scaling[1][key] / scaling[0][key], 2)


def format_markdown(report: dict) -> str:
    lines = [f"{report['files']} files of {report['seconds_per_file']:g} s in one `notestream transcribe` call "
             f"(formats {report['formats']}), timed from process start to exit on {report['cpu_count']} CPU(s) "
             "(load average = runnable processes, 1-minute, before → after: above the CPU count, other work shared them).", "",
             "| options | files | audio (s) | process (s) | × real time | failed | load average |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['options']} | {r['files']} | {r['audio_seconds']} | {r['process_seconds']} | {r['real_time_factor']} "
              f"| {r['failed']} | {r['load_before']} → {r['load_after']} |" for r in report["local"]]
    if report.get("ray"):
        lines += ["", "Ray scaling: the same kind of files on a local cluster of one-CPU `ray start` nodes. Whole "
                  "process: Ray start-up of the client and model loads included; steady: audio per second from the "
                  "first file done to the last (the pace of a long archive).", "",
                  "| nodes | files | audio (s) | process (s) | × real time, whole process | × real time, steady | load average |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {r['nodes']} | {r['files']} | {r['audio_seconds']} | {r['process_seconds']} | {r['real_time_factor']} "
                  f"| {r.get('steady_real_time_factor', '—')} | {r['load_before']} → {r['load_after']} |" for r in report["ray"]]
        lines += ["", f"Two nodes / one node: **{report['ray_speedup']}×** the audio per second over the whole process, "
                  f"**{report.get('ray_steady_speedup', '—')}×** steady."]
    runs = report["local"] + (report.get("ray") or [])
    if max(r["load_before"] for r in runs) > report["cpu_count"]:
        lines += ["", f"Measured with `--files {report['files']} --ray-files {report['ray'][0]['files'] if report.get('ray') else 0}` "
                  f"while other work kept the load average above the {report['cpu_count']} CPUs: every process got a "
                  "fraction of a core, and two one-CPU Ray nodes on the same two busy cores cannot show scaling. "
                  "These numbers describe that machine, not the targets (≥ 40× for 100 files in one call, ≥ 1.8× "
                  "for two nodes), which need an otherwise idle machine to check."]
    return "\n".join(lines)
