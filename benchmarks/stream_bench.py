"""`notestream bench load` and the real-time sender that `bench latency` (latency_bench.py) builds on.

A sender streams audio paced by the wall clock like a microphone: each chunk leaves once its last sample
would have been captured. Latency of a `note_on` is measured two ways at the client. As a musician feels
it ("from the strike"): the time the event is received minus the time the key was struck, i.e. the
moment the audio at the note's true onset (the reference notes of the rendered audio) was played into
the sender; a received note_on counts when the same key has a reference onset within 50 ms of the
event's time. And as processing latency (the definition of docs/protocol.md): minus the time the client
sent the audio chunk holding the sample at `event.time + lookahead`, which leaves the model's
algorithmic look-ahead out.

A load level of N streams is *sustained* when the note-on p95 is under the target (250 ms), every
sender kept to its real-time schedule (a late sender means a live source would have dropped audio),
and every session's `final` accounts for all the audio sent.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from notestream.notes import Note, Performance
from notestream.server.process import ServerProcess

RATE = 16000
LATE_SENDER_SECONDS = 0.1


def register_stream_bench(bench_subparsers) -> None:
    """Add `load` to the `notestream bench` subcommands."""
    load = bench_subparsers.add_parser("load", help="how many concurrent real-time streams the server sustains",
                                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common_stream_args(load)
    load.add_argument("--max-streams", type=int, default=16, help="stop the ramp here")
    load.add_argument("--target-p95-ms", type=float, default=250.0)
    load.set_defaults(func=run_load)


def common_stream_args(p: argparse.ArgumentParser) -> None:
    """The options of every real-time streaming bench: audio, server, chunking, output."""
    p.add_argument("--audio", nargs="*", type=Path, default=None,
                   help="audio files or folders (default: piano rendered from random MIDI with FluidSynth)")
    p.add_argument("--server", default=None, help="ws://host:port of a running server (default: start one)")
    p.add_argument("--api-key", default=os.environ.get("NOTESTREAM_API_KEY"))
    p.add_argument("--checkpoint", type=Path, default=None, help="for the server started here")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="for the server started here")
    p.add_argument("--seconds", type=float, default=20.0, help="audio streamed per stream (files loop)")
    p.add_argument("--chunk-ms", type=float, default=20.0, help="audio per WebSocket message, sent in real time")
    p.add_argument("--json", type=Path, default=None, help="write the report here too")


@dataclass
class StreamReport:
    """What one real-time stream measured."""

    latencies: list[float] = field(default_factory=list)
    strike_latencies: list[float] = field(default_factory=list)  # from the reference onset, when one is known
    lookahead: float = 0.0
    started: float = 0.0  # perf_counter() at which the audio's sample 0 was played into the sender
    latency_times: list[float] = field(default_factory=list)  # perf_counter() when each note-on arrived
    max_sender_delay: float = 0.0
    max_lag: float = 0.0
    sent_seconds: float = 0.0
    final_seconds: float = 0.0
    error: str | None = None


async def stream_in_real_time(url: str, audio: np.ndarray, chunk_ms: float, latency: str | None = None,
                              reference: list[Note] | None = None,
                              on_event: Callable[[dict], None] | None = None) -> StreamReport:
    """Send `audio` (mono float32, 16 kHz) paced by the wall clock at the server's operating point `latency`;
    measure note-on latency at the client (also from the `reference` notes' onsets, when given).

    Each chunk is sent once its last sample would have been captured live, so a note waits in its chunk as
    it would in a microphone client's buffer. `on_event(message)` sees every note and pedal event the moment
    it arrives (e.g. to play it on a MIDI port).
    """
    from websockets.asyncio.client import connect

    report = StreamReport(sent_seconds=audio.size / RATE)
    step = max(1, int(RATE * chunk_ms / 1000))
    sent_ends: list[int] = []
    sent_times: list[float] = []
    start_message = {"type": "start", "sample_rate": RATE, "encoding": "f32le", "channels": 1}
    async with connect(url, max_size=None, open_timeout=30) as ws:
        await ws.send(json.dumps({**start_message, **({"latency": latency} if latency else {})}))
        ready = json.loads(await ws.recv())
        if ready["type"] != "ready":
            report.error = f"{ready['type']}: {ready.get('message')}"
            return report
        report.lookahead = ready["lookahead"]
        strikes = StrikeClock(reference or [])
        reader = asyncio.create_task(_read_events(ws, report, sent_ends, sent_times, strikes, on_event))
        start = strikes.started = report.started = time.perf_counter()
        for offset in range(0, audio.size, step):
            delay = time.perf_counter() - (start + min(audio.size, offset + step) / RATE)
            report.max_sender_delay = max(report.max_sender_delay, delay)
            if delay < 0:
                await asyncio.sleep(-delay)
            await ws.send(audio[offset:offset + step].astype("<f4").tobytes())
            sent_ends.append(min(audio.size, offset + step))
            sent_times.append(time.perf_counter())
        await ws.send(json.dumps({"type": "stop"}))
        await asyncio.wait_for(reader, 120)
    return report


class StrikeClock:
    """When each reference note was struck, on the sender's clock: `started` + its onset in the audio."""

    def __init__(self, reference: list[Note], tolerance: float = 0.05):
        self.started = 0.0
        self.tolerance = tolerance
        self.onsets: dict[int, np.ndarray] = {}
        for note in reference:
            self.onsets.setdefault(note.pitch, []).append(note.onset)
        self.onsets = {pitch: np.sort(times) for pitch, times in self.onsets.items()}

    def struck(self, pitch: int, time_in_audio: float) -> float | None:
        """The wall time the reference onset of `pitch` nearest `time_in_audio` was sent (None: no onset near)."""
        times = self.onsets.get(pitch)
        if times is None:
            return None
        nearest = times[np.argmin(np.abs(times - time_in_audio))]
        return self.started + nearest if abs(nearest - time_in_audio) <= self.tolerance else None


async def _read_events(ws, report: StreamReport, sent_ends: list[int], sent_times: list[float],
                       strikes: StrikeClock, on_event: Callable[[dict], None] | None) -> None:
    async for text in ws:
        arrived = time.perf_counter()
        message = json.loads(text)
        kind = message["type"]
        if on_event is not None and (kind.startswith("note_") or kind.startswith("pedal_")):
            on_event(message)
        if kind == "note_on":
            anchor = min(int(np.ceil((message["time"] + report.lookahead) * RATE)), sent_ends[-1])
            index = min(bisect.bisect_left(sent_ends, anchor), len(sent_times) - 1)
            report.latency_times.append(arrived)
            report.latencies.append(arrived - sent_times[index])
            struck = strikes.struck(message["pitch"], message["time"])
            if struck is not None:
                report.strike_latencies.append(arrived - struck)
        elif kind == "status":
            report.max_lag = max(report.max_lag, message["lag_seconds"])
        elif kind == "final":
            report.final_seconds = message["duration"]
            return
        elif kind == "error":
            report.error = f"{message['code']}: {message['message']}"
            return


def percentiles_ms(values: list[float]) -> dict:
    """p50/p95/p99 in milliseconds (None where nothing was measured)."""
    data = np.asarray(values)
    return {f"p{q}_ms": round(float(np.percentile(data, q)) * 1000, 1) if data.size else None for q in (50, 95, 99)}


def strike_row(name: str, lookahead: float, strike_latencies: list[float], reference_notes: int, **extra) -> dict:
    """One operating point's result: latency from the strike (p50/p95/p99, and the range), and how many
    note_ons it covers."""
    span = [round(f(strike_latencies) * 1000, 1) for f in (min, max)] if strike_latencies else None
    return {"latency": name, "lookahead_ms": round(lookahead * 1000, 1), "from_strike": percentiles_ms(strike_latencies),
            "from_strike_range_ms": span, "matched_note_ons": len(strike_latencies), "reference_notes": reference_notes,
            **extra}


def summarise(reports: list[StreamReport], target_p95: float | None = None) -> dict:
    """Percentiles over all streams, and whether the level was sustained."""
    latencies = np.array([x for r in reports for x in r.latencies])
    pct = percentiles_ms(latencies)
    errors = [r.error for r in reports if r.error]
    complete = all(abs(r.final_seconds - r.sent_seconds) < 0.01 for r in reports)
    on_time = max((r.max_sender_delay for r in reports), default=0.0) < LATE_SENDER_SECONDS
    summary = {"streams": len(reports), "note_ons": int(latencies.size), **pct,
               "max_sender_delay_ms": round(max((r.max_sender_delay for r in reports), default=0) * 1000, 1),
               "max_lag_s": round(max((r.max_lag for r in reports), default=0), 3), "all_audio_accounted": complete,
               "errors": errors}
    if target_p95 is not None:
        p95 = pct["p95_ms"]
        summary["sustained"] = bool(not errors and complete and on_time and p95 is not None and p95 < target_p95)
    return summary


async def run_streams(url: str, clips: list[np.ndarray], n: int, seconds: float, chunk_ms: float) -> list[StreamReport]:
    """N concurrent real-time streams, each `seconds` long, cycling through the clips with staggered starts."""
    async def one(i: int) -> StreamReport:
        await asyncio.sleep(i * chunk_ms / 1000 / max(1, n))  # do not send every chunk at the same instant
        try:
            return await stream_in_real_time(url, looped(clips[i % len(clips)], seconds, i), chunk_ms)
        except Exception as exc:  # a refused or dropped stream is a result, not a crash of the benchmark
            return StreamReport(error=f"{type(exc).__name__}: {exc}")

    return list(await asyncio.gather(*(one(i) for i in range(n))))


def looped(clip: np.ndarray, seconds: float, shift: int) -> np.ndarray:
    """`seconds` of the clip, repeated as needed, starting at a different point for each stream."""
    n = int(seconds * RATE)
    start = (shift * RATE * 3) % max(1, clip.size)
    return np.resize(np.roll(clip, -start), n).astype(np.float32)


def load_clips(paths: list[Path] | None) -> list[np.ndarray]:
    """Decode --audio files (folders are searched), or render two piano clips from random MIDI."""
    from notestream.audio import AUDIO_EXTENSIONS, decode_audio

    if not paths:
        return [render_piano_clip(seed) for seed in (0, 1)]
    files = [f for p in paths for f in (sorted(p.rglob("*")) if p.is_dir() else [p]) if f.suffix.lower() in AUDIO_EXTENSIONS]
    if not files:
        raise ValueError(f"no audio files in {', '.join(map(str, paths))}")
    return [decode_audio(f, RATE) for f in files[:32]]


def render_piano_clip(seed: int, seconds: float = 30.0) -> np.ndarray:
    """Random chords and runs (a few notes per second) on the training piano: 16 kHz mono."""
    return reference_clip(seed, seconds)[0]


def reference_clip(seed: int, seconds: float = 30.0, rate: int = RATE) -> tuple[np.ndarray, list[Note]]:
    """Random chords and runs rendered with FluidSynth (mono at `rate`, normalised), and the notes played;
    the same seed plays the same notes at every rate."""
    from notestream.model.data.render import PianoRenderer
    from notestream.model.data.soundfonts import TRAIN_PRESETS

    rng = np.random.default_rng(seed)
    notes, t = [], 0.2
    while t < seconds - 1:
        for pitch in rng.choice(np.arange(36, 90), size=int(rng.integers(1, 4)), replace=False):
            notes.append(Note(t, t + float(rng.uniform(0.2, 1.0)), int(pitch), int(rng.integers(40, 110))))
        t += float(rng.uniform(0.12, 0.5))
    renderer = PianoRenderer()
    try:
        audio = renderer.render(Performance(sorted(notes)), TRAIN_PRESETS[0], rate, seconds)[: int(seconds * rate)]
    finally:
        renderer.close()
    return (0.8 * audio / max(1e-6, float(np.abs(audio).max()))).astype(np.float32), sorted(notes)


@contextlib.contextmanager
def server_url(args: argparse.Namespace, max_sessions: int):
    """The --server URL, or a `notestream serve` subprocess on a free port for the benchmark's duration."""
    suffix = f"?api_key={args.api_key}" if args.api_key else ""
    if args.server:
        yield args.server.rstrip("/") + "/v1/stream" + suffix
        return
    with tempfile.TemporaryDirectory(prefix="notestream-bench-") as data_dir:
        options = ["--device", args.device, "--max-sessions", str(max_sessions), "--log-format", "text"]
        if args.checkpoint:
            options += ["--checkpoint", str(args.checkpoint)]
        try:
            server = ServerProcess.start(Path(data_dir), *options, env={**os.environ, "NOTESTREAM_API_KEY": args.api_key or ""})
        except RuntimeError as exc:
            raise ValueError(f"the benchmark server did not start: {exc}") from exc
        try:
            yield f"{server.url}/v1/stream{suffix}"
        finally:
            server.stop()


def emit_report(report: dict, path: Path | None) -> None:
    """Print the report as JSON (and write it to `path`, when given)."""
    print(json.dumps(report, indent=2))
    if path:
        path.write_text(json.dumps(report, indent=2))


def run_load(args: argparse.Namespace) -> int:
    clips = load_clips(args.audio)
    levels = []
    with server_url(args, args.max_streams) as url:
        for n in range(1, args.max_streams + 1):
            summary = summarise(asyncio.run(run_streams(url, clips, n, args.seconds, args.chunk_ms)), args.target_p95_ms)
            levels.append(summary)
            print(f"{n} stream(s): p95 {summary['p95_ms']} ms, sender late by {summary['max_sender_delay_ms']} ms, "
                  f"sustained: {summary['sustained']}", file=sys.stderr)
            if not summary["sustained"]:
                break
    sustained = max((lvl["streams"] for lvl in levels if lvl["sustained"]), default=0)
    emit_report({"benchmark": "load", "target_p95_ms": args.target_p95_ms, "max_sustained_streams": sustained,
           "cpu_count": os.cpu_count(), "levels": levels}, args.json)
    return 0


def http_base(stream_url: str) -> str:
    """http://host:port of a ws://host:port/v1/stream URL."""
    return stream_url.replace("ws://", "http://").replace("wss://", "https://").split("/v1/stream")[0]
