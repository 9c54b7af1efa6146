"""`notestream bench soak`: many real-time streams for many minutes, plus a trickle of bad requests and abrupt
disconnects, against a real `notestream serve` process.

It checks what a long-running service must keep: no dropped audio (every `final` accounts for all audio
sent, every sender on its real-time schedule), note-on latency held (p95 minute by minute), memory flat
(the RSS slope after the first minute, the median RSS of the load's last minute against its second, and RSS back
near its idle level a minute after the load), and
nothing leaked at the end (live sessions, connections, jobs, file descriptors, threads).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from notestream.server.process import ServerProcess
from notestream_bench.soak_probes import HOSTILE_ACTIONS, ServerSample, sample_server
from notestream_bench.stream_bench import StreamReport, load_clips, run_streams, summarise

SAMPLE_SECONDS = 5.0
RECOVERY_SECONDS = 15.0  # "a minute after the load": the samples of its last 15 s


def register_soak_bench(bench_subparsers) -> None:
    """Add `soak` to the `notestream bench` subcommands."""
    p = bench_subparsers.add_parser("soak", help="16 real-time streams for 10 minutes with bad requests: memory, "
                                                 "latency, leaks", description=__doc__,
                                    formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--streams", type=int, default=16, help="concurrent real-time streams")
    p.add_argument("--minutes", type=float, default=10.0, help="how long each stream lasts")
    p.add_argument("--idle-seconds", type=float, default=60.0, help="how long to watch the server after the load")
    p.add_argument("--bad-every", type=float, default=2.0, help="seconds between bad requests / abrupt disconnects")
    p.add_argument("--chunk-ms", type=float, default=20.0, help="audio per WebSocket message")
    p.add_argument("--audio", nargs="*", type=Path, default=None, help="audio files (default: rendered piano)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--checkpoint", type=Path, default=None)
    p.add_argument("--json", type=Path, default=None, help="write the report here too")
    p.add_argument("--note", default="", help="what else ran on the machine, for the report")
    p.set_defaults(func=run_soak)


async def watch(server: ServerProcess, samples: list[ServerSample], stop: asyncio.Event) -> None:
    """Sample the server every SAMPLE_SECONDS until `stop` is set."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        samples.append(await loop.run_in_executor(None, sample_server, server))
        try:
            await asyncio.wait_for(stop.wait(), SAMPLE_SECONDS)
        except TimeoutError:
            pass


async def trickle(server: ServerProcess, every: float, stop: asyncio.Event) -> dict[str, list[int]]:
    """One hostile action every `every` seconds, in turn; per action: [sent, answered as documented]."""
    counts = {name: [0, 0] for name, _ in HOSTILE_ACTIONS}
    i = 0
    while not stop.is_set():
        name, action = HOSTILE_ACTIONS[i % len(HOSTILE_ACTIONS)]
        counts[name][0] += 1
        try:
            counts[name][1] += int(await asyncio.wait_for(action(server), 30))
        except Exception as exc:  # noqa: BLE001 — a failed probe is a result, not a crash of the bench
            print(f"hostile action {name}: {type(exc).__name__}: {exc}", file=sys.stderr)
        i += 1
        try:
            await asyncio.wait_for(stop.wait(), every)
        except TimeoutError:
            pass
    return counts


async def soak(server: ServerProcess, clips: list[np.ndarray], args: argparse.Namespace) -> dict:
    samples: list[ServerSample] = []
    stop_watch, stop_trickle = asyncio.Event(), asyncio.Event()
    watcher = asyncio.create_task(watch(server, samples, stop_watch))
    await asyncio.sleep(2 * SAMPLE_SECONDS)
    load_start = time.perf_counter()
    hostile = asyncio.create_task(trickle(server, args.bad_every, stop_trickle))
    reports = await run_streams(f"{server.url}/v1/stream", clips, args.streams, args.minutes * 60, args.chunk_ms)
    stop_trickle.set()
    counts = await hostile
    load_end = time.perf_counter()
    await asyncio.sleep(args.idle_seconds)
    stop_watch.set()
    await watcher
    return analyse(samples, reports, counts, load_start, load_end)


def analyse(samples: list[ServerSample], reports: list[StreamReport], counts: dict, load_start: float, load_end: float) -> dict:
    """The report: stream summary, p95 per minute, RSS trend and recovery, leaks, hostile answers."""
    idle = [s for s in samples if s.time < load_start]
    during = [s for s in samples if load_start + 60 <= s.time <= load_end]
    after = samples[-1]
    idle_rss = float(np.median([s.rss_mb for s in idle]))
    minutes = (np.array(during_t := [s.time for s in during]) - load_start) / 60
    slope = float(np.polyfit(minutes, [s.rss_mb for s in during], 1)[0]) if len(during_t) > 2 else None
    first, last = (during[0], during[-1]) if during else (after, after)
    first_rss = _median_rss(during, load_start + 60, load_start + 120) or first.rss_mb
    last_rss = _median_rss(during, load_end - 60, load_end) or last.rss_mb
    after_rss = _median_rss(samples, after.time - RECOVERY_SECONDS, after.time)
    return {
        "benchmark": "soak", **summarise(reports), "minutes": round((load_end - load_start) / 60, 2),
        "p95_ms_by_minute": p95_by_minute(reports, load_start),
        "rss_idle_mb": round(idle_rss, 1), "rss_after_1_min_mb": round(first_rss, 1),
        "rss_end_of_load_mb": round(last_rss, 1), "rss_max_mb": round(max(s.rss_mb for s in samples), 1),
        "rss_slope_mb_per_min": None if slope is None else round(slope, 2),
        "rss_growth_after_1_min_pct": round(100 * (last_rss - first_rss) / first_rss, 2),
        "rss_after_idle_mb": round(after_rss, 1), "rss_after_idle_vs_idle_pct": round(100 * (after_rss - idle_rss) / idle_rss, 2),
        "rss_samples": [[round(s.time - load_start, 1), round(s.rss_mb, 1)] for s in samples],  # (s from the load's start, MB)
        "leaks": {"live_sessions": after.live_sessions, "connections": after.connections, "jobs": after.jobs,
                  "fds_idle": idle[-1].fds, "fds_end": after.fds, "threads_after_1_min": first.threads,
                  "threads_end": after.threads},
        "hostile": {name: {"sent": sent, "as_documented": ok} for name, (sent, ok) in counts.items()},
        "server_cpu_seconds_per_stream_minute": _cpu_per_stream_minute(samples, reports, load_start, load_end),
        "tracebacks_in_log": after.tracebacks, "load_average_during": round(float(np.mean([s.load_average for s in samples])), 2),
        "cpu_count": os.cpu_count(),
    }


def _cpu_per_stream_minute(samples: list[ServerSample], reports: list[StreamReport], load_start: float,
                           load_end: float) -> float | None:
    """The server's CPU seconds per minute of one stream's audio, between the samples around the load: a steadier
    measure of the model's cost than latency percentiles on a shared machine."""
    before = [s for s in samples if s.time <= load_start]
    until = [s for s in samples if s.time <= load_end]
    audio_minutes = sum(r.sent_seconds for r in reports) / 60
    if not before or not until or audio_minutes <= 0:
        return None
    return round((until[-1].cpu_seconds - before[-1].cpu_seconds) / audio_minutes, 3)


def _median_rss(samples: list[ServerSample], start: float, end: float) -> float | None:
    """Median RSS (MB) of the samples in [start, end]: RSS swings by tens of MB within seconds as rounds allocate
    and free, so one sample is no level."""
    window = [s.rss_mb for s in samples if start <= s.time <= end]
    return float(np.median(window)) if window else None


def p95_by_minute(reports: list[StreamReport], load_start: float) -> list[float | None]:
    """Note-on latency p95 (ms) in each minute of the load."""
    pairs = [(t - load_start, lat) for r in reports for t, lat in zip(r.latency_times, r.latencies, strict=True)]
    if not pairs:
        return []
    buckets: dict[int, list[float]] = {}
    for t, latency in pairs:
        buckets.setdefault(int(t // 60), []).append(latency)
    return [round(float(np.percentile(buckets[m], 95)) * 1000, 1) if m in buckets else None for m in range(max(buckets) + 1)]


def run_soak(args: argparse.Namespace) -> int:
    clips = load_clips(args.audio)
    with tempfile.TemporaryDirectory(prefix="notestream-soak-") as data_dir:
        options = ["--device", args.device, "--max-sessions", str(args.streams + 4), "--resume-window", "20",
                   "--log-format", "text"]
        if args.checkpoint:
            options += ["--checkpoint", str(args.checkpoint)]
        server = ServerProcess.start(Path(data_dir) / "data", *options, log=Path(data_dir) / "server.log")
        try:
            report = asyncio.run(soak(server, clips, args))
        finally:
            server.stop()
    report["note"] = args.note
    report["targets"] = {"no_dropped_audio": bool(report["all_audio_accounted"] and report["max_sender_delay_ms"] < 100
                                                  and not report["errors"]),
                         "rss_growth_under_5_pct": report["rss_growth_after_1_min_pct"] < 5,
                         "rss_back_within_10_pct": report["rss_after_idle_vs_idle_pct"] < 10,
                         "no_leaks": _no_leaks(report["leaks"]), "no_tracebacks": report["tracebacks_in_log"] == 0}
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


def _no_leaks(leaks: dict) -> bool:
    """Nothing left that the load opened; thread pools grow to their bound in the first minute, then must not grow."""
    return (leaks["live_sessions"] == leaks["connections"] == leaks["jobs"] == 0 and leaks["fds_end"] <= leaks["fds_idle"]
            and leaks["threads_end"] <= leaks["threads_after_1_min"])


def format_markdown(report: dict) -> str:
    """The RESULTS.md section."""
    leaks, targets = report["leaks"], report["targets"]
    hostile = ", ".join(f"{name} {v['as_documented']}/{v['sent']}" for name, v in report["hostile"].items())
    lines = [f"{report['streams']} real-time streams for {report['minutes']:g} min on {report['cpu_count']} CPU(s) "
             f"(load average {report['load_average_during']:g} while running), plus one bad request or abrupt disconnect "
             f"every 2 s. {report.get('note', '')}".rstrip(), "",
             "| measure | value | target | met |", "|---|---|---|---|",
             f"| audio accounted in every `final`; sender late by (ms) | {report['all_audio_accounted']}; {report['max_sender_delay_ms']} "
             f"| all; < 100 | {targets['no_dropped_audio']} |",
             f"| note-on p50 / p95 / p99 (ms) | {report['p50_ms']} / {report['p95_ms']} / {report['p99_ms']} | held | — |",
             f"| server CPU per minute of one stream's audio (s) | {report.get('server_cpu_seconds_per_stream_minute', '—')} "
             f"| | |",
             f"| RSS idle → 2nd minute → last minute of load (MB, medians) | {report['rss_idle_mb']} → {report['rss_after_1_min_mb']} → "
             f"{report['rss_end_of_load_mb']} | | |",
             f"| RSS growth after the first minute; slope | {report['rss_growth_after_1_min_pct']} %; "
             f"{report['rss_slope_mb_per_min']} MB/min | < 5 % | {targets['rss_growth_under_5_pct']} |",
             f"| RSS a minute after the load vs idle | {report['rss_after_idle_mb']} MB ({report['rss_after_idle_vs_idle_pct']:+g} %) "
             f"| within 10 % | {targets['rss_back_within_10_pct']} |",
             f"| left at the end: sessions, connections, jobs | {leaks['live_sessions']}, {leaks['connections']}, {leaks['jobs']} "
             f"| 0 | {leaks['live_sessions'] == leaks['connections'] == leaks['jobs'] == 0} |",
             f"| file descriptors idle → end; threads after 1 min → end | {leaks['fds_idle']} → {leaks['fds_end']}; "
             f"{leaks['threads_after_1_min']} → {leaks['threads_end']} | no growth "
             f"| {leaks['fds_end'] <= leaks['fds_idle'] and leaks['threads_end'] <= leaks['threads_after_1_min']} |",
             f"| tracebacks in the server log | {report['tracebacks_in_log']} | 0 | {targets['no_tracebacks']} |", "",
             f"p95 by minute (ms): {', '.join(str(v) for v in report['p95_ms_by_minute'])}.", "",
             f"Bad requests answered as documented (answered/sent): {hostile}."]
    if report.get("errors"):
        lines.append(f"\nStream errors: {'; '.join(report['errors'][:5])}")
    return "\n".join(lines)

