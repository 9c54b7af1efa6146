"""`notestream bench replicas`: real-time streams over two `notestream serve` replicas behind HAProxy
(deploy/haproxy.cfg), one replica SIGKILLed mid-session and restarted on its data folder. Reports
events lost (a gap or repeat in a session's `seq`), each session's note F1 against the same audio
transcribed offline, how the sessions spread and how many had to resume.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from notestream.client import AudioFormat, LiveEvent, StreamClient
from notestream.model.evaluation import note_metrics
from notestream.model.transcriber import Transcriber
from notestream.notes import Note, events_to_performance
from notestream.server.balancer_process import BalancerProcess
from notestream.server.process import ServerProcess, free_port

RATE = 16000
HAPROXY_CONFIG = Path(__file__).resolve().parents[1] / "deploy" / "haproxy.cfg"
REPLICAS = ("r1", "r2")


@dataclass
class SessionRun:
    """One real-time stream through the balancer: its events and how its connection fared."""

    session: str = ""
    token: str = ""
    events: list[LiveEvent] = field(default_factory=list)
    reconnects: int = 0
    finished: bool = False


@contextlib.contextmanager
def replica_cluster(work: Path, max_sessions: int, device: str = "cpu") -> Iterator[tuple[BalancerProcess, dict[str, ServerProcess]]]:
    """Two replicas (r1, r2; own data folders, --max-sessions each) and HAProxy in front of them."""
    replicas: dict[str, ServerProcess] = {}
    balancer = None
    try:
        for name in REPLICAS:
            replicas[name] = ServerProcess(0, work / name, ("--replica-id", name, "--device", device, "--max-sessions",
                                                            str(max_sessions), "--log-format", "text"), log=work / f"{name}.log")
        for server in replicas.values():  # loading in parallel
            server.port = free_port()
            server.spawn()
        for server in replicas.values():
            server.wait_healthy(300)
        balancer = BalancerProcess.start(HAPROXY_CONFIG, {n: s.port for n, s in replicas.items()}, log=work / "haproxy.log")
        yield balancer, replicas
    finally:
        if balancer:
            balancer.stop()
        for server in replicas.values():
            server.stop()


async def stream_session(url: str, audio: np.ndarray, run: SessionRun, chunk_seconds: float = 0.1,
                         reconnect_seconds: float = 300.0) -> None:
    """Send `audio` in real time (kept to schedule), collect the events, stop, and wait for `final`."""
    async with StreamClient(url, AudioFormat(RATE), reconnect_seconds=reconnect_seconds) as client:
        run.session, run.token = client.session, client.ready.token

        async def consume() -> None:
            async for event in client.events():
                if isinstance(event, LiveEvent):
                    run.events.append(event)

        consumer = asyncio.create_task(consume())
        step, start = int(chunk_seconds * RATE), time.monotonic()
        for i, at in enumerate(range(0, audio.size, step)):
            await client.send_audio(audio[at:at + step])
            await asyncio.sleep(max(0.0, start + (i + 1) * chunk_seconds - time.monotonic()))
        final = await asyncio.wait_for(client.stop(), reconnect_seconds)
        await asyncio.wait_for(consumer, 60)
        run.reconnects, run.finished = client.reconnects, final is not None


async def run_with_crash(url: str, audios: list[np.ndarray], victim: ServerProcess, kill_after: float,
                         when_all_ready: Callable[[], Awaitable[None]] | None = None) -> list[SessionRun]:
    """Every stream at once; once all are under way (then `when_all_ready`) and `kill_after` seconds more,
    SIGKILL `victim` and restart it on the same port and data folder."""
    runs = [SessionRun() for _ in audios]
    streams = [asyncio.create_task(stream_session(url, audio, run)) for audio, run in zip(audios, runs, strict=True)]
    async with asyncio.timeout(300):
        while not all(run.session for run in runs):
            if failed := [s for s in streams if s.done()]:
                await failed[0]  # raises what stopped it
            await asyncio.sleep(0.05)
    if when_all_ready:
        await when_all_ready()
    await asyncio.sleep(kill_after)
    await asyncio.to_thread(victim.restart, signal.SIGKILL, 300)
    await asyncio.gather(*streams)
    return runs


def session_report(run: SessionRun, reference: list[Note]) -> dict:
    """Lost or repeated events (gaps in seq) and note F1 of the session against the offline transcription."""
    seqs = [e.seq for e in run.events]
    notes = events_to_performance(run.events).notes
    f1 = note_metrics(notes, reference).note_f1 if reference or notes else 1.0
    return {"session": run.session, "replica": run.session.split("-")[0], "events": len(seqs),
            "lost_or_repeated": len(set(range(1, max(seqs, default=0) + 1)) ^ set(seqs)) + len(seqs) - len(set(seqs)),
            "reconnects": run.reconnects, "finished": run.finished, "note_f1": round(float(f1), 4), "notes": len(notes)}


def register_replicas_bench(bench_subparsers) -> None:
    p = bench_subparsers.add_parser("replicas", help="real-time streams over two replicas behind HAProxy, one SIGKILLed")
    p.add_argument("--streams", type=int, default=16)
    p.add_argument("--seconds", type=float, default=30.0, help="audio per stream")
    p.add_argument("--max-sessions", type=int, default=8, help="per replica")
    p.add_argument("--kill-after", type=float, default=10.0, help="seconds into the streams when r1 is killed")
    p.add_argument("--json", type=Path, default=None)
    p.set_defaults(func=run_replicas_bench)


def run_replicas_bench(args: argparse.Namespace) -> int:
    from notestream_bench.stream_bench import looped, render_piano_clip

    clips = [render_piano_clip(seed) for seed in (0, 1)]
    audios = [looped(clips[i % 2], args.seconds, i) for i in range(args.streams)]
    offline = Transcriber.from_checkpoint(device="cpu")
    references = [offline.transcribe(audio).notes for audio in audios]
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="notestream-replicas-") as work, \
            replica_cluster(Path(work), args.max_sessions) as (balancer, replicas):
        runs = asyncio.run(run_with_crash(f"{balancer.url}/v1/stream", audios, replicas["r1"], args.kill_after))
    load_after = os.getloadavg()[0]
    sessions = [session_report(run, ref) for run, ref in zip(runs, references, strict=True)]
    report = {"benchmark": "replicas", "streams": args.streams, "seconds_per_stream": args.seconds,
              "max_sessions_per_replica": args.max_sessions, "killed": "r1", "kill_after_seconds": args.kill_after,
              "per_replica": {name: sum(s["replica"] == name for s in sessions) for name in REPLICAS},
              "lost_or_repeated_events": sum(s["lost_or_repeated"] for s in sessions),
              "min_note_f1": min(s["note_f1"] for s in sessions), "all_finished": all(s["finished"] for s in sessions),
              "resumed_sessions": sum(s["reconnects"] > 0 for s in sessions),
              "load_before": round(load_before, 2), "load_after": round(load_after, 2), "sessions": sessions}
    print(json.dumps({k: v for k, v in report.items() if k != "sessions"}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0 if report["lost_or_repeated_events"] == 0 and report["all_finished"] else 1



def format_markdown(report: dict) -> str:
    lines = [f"{report['streams']} real-time streams of {report['seconds_per_stream']:g} s through HAProxy "
             f"(deploy/haproxy.cfg) over two replicas of at most {report['max_sessions_per_replica']} sessions each; "
             f"replica {report['killed']} SIGKILLed {report['kill_after_seconds']:g} s after every stream began, then "
             f"restarted on its data folder. Load average (1 min) {report.get('load_before', '?')} → "
             f"{report.get('load_after', '?')} on a machine shared with other work.", "",
             "| sessions per replica | resumed | events lost or repeated | all finished | lowest note F1 vs offline |",
             "|---|---|---|---|---|",
             f"| {', '.join(f'{k}: {v}' for k, v in report['per_replica'].items())} | {report['resumed_sessions']} "
             f"| {report['lost_or_repeated_events']} | {report['all_finished']} | {report['min_note_f1']} |"]
    return "\n".join(lines)
