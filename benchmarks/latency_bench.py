"""`notestream bench latency`: note-on latency from the key strike to where a musician meets the note.

The audio is piano rendered from known notes (the reference), streamed in real time at each latency the
server offers (`--latencies`), and each note_on is matched to the reference onset of its key (within
50 ms). Latency = the note_on's arrival minus the moment the audio of that onset was played, through
each chosen path (`--via`, comma-separated):

* `python`: the bench's own WebSocket client sending 16 kHz float32 chunks (`--chunk-ms`).
* `browser`: the real browser app in Debian's headless Chromium, its fake microphone playing the clip
  as a 44.1 kHz WAV once; the page captures it through its AudioWorklet (40 ms packets) and streams it.
  Arrival: the note_on reaching the page's WebSocket. See browser_latency.py for the clock origin.
* `jack`: the Python client's MIDI output (notestream.client MidiPortSink, as `notestream stream
  --midi-port` uses) into a JACK MIDI port on a dummy-driver jackd (`--jack-period` frames at 48 kHz);
  arrival: the note_on at a JACK MIDI input port, as a synth would receive it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

from notestream_bench.stream_bench import (
    common_stream_args,
    emit_report,
    http_base,
    reference_clip,
    server_url,
    stream_in_real_time,
    strike_row,
    summarise,
)

PATHS = ("python", "browser", "jack")


def register_latency_bench(bench_subparsers) -> None:
    """Add `latency` to the `notestream bench` subcommands."""
    latency = bench_subparsers.add_parser("latency", help="note-on latency of real-time streams (p50/p95/p99)",
                                          description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common_stream_args(latency)
    latency.add_argument("--streams", type=int, default=1, help="concurrent Python streams while measuring")
    latency.add_argument("--latencies", default=None, metavar="NAMES",
                         help="comma-separated operating points to measure (default: every one the server offers)")
    latency.add_argument("--via", default="python", metavar="PATHS",
                         help="comma-separated paths to measure: python, browser, jack (default: python)")
    latency.add_argument("--lead-in", type=float, default=2.0, metavar="SECONDS",
                         help="browser: silence before the clip in the microphone WAV, so capture start-up loses no note")
    latency.add_argument("--jack-period", type=int, default=256, metavar="FRAMES",
                         help="jack: frames per JACK cycle at 48 kHz (256: 5.3 ms, a common live setting)")
    latency.add_argument("--note", default="", help="a sentence on the machine's state, kept with the results")
    latency.set_defaults(func=run_latency)


def chosen_paths(text: str) -> list[str]:
    """The --via list, checked."""
    paths = [p.strip() for p in text.split(",") if p.strip()]
    unknown = [p for p in paths if p not in PATHS]
    if unknown or not paths:
        raise ValueError(f"--via: unknown path(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(PATHS)}")
    return paths


def python_rows(url: str, clips: list, names: list[str], chunk_ms: float) -> list[dict]:
    """Latency through the bench's WebSocket client, one concurrent stream per clip, at each operating point."""
    rows = []
    for name in names:
        async def streams(name=name):
            return await asyncio.gather(*(stream_in_real_time(url, audio, chunk_ms, name, notes) for audio, notes in clips))

        reports = asyncio.run(streams())
        rows.append(strike_row(name, reports[0].lookahead, [x for r in reports for x in r.strike_latencies],
                               sum(len(notes) for _, notes in clips), **summarise(reports)))
        print(f"python, {name}: from the strike {rows[-1]['from_strike']}", file=sys.stderr)
    return rows


def run_latency(args: argparse.Namespace) -> int:
    """Note-on latency at each operating point through each chosen path; JSON out, with the load average.

    A path that fails is reported with its error (the others still run); the exit status is then 1."""
    paths = chosen_paths(args.via)
    clips = [reference_clip(seed, args.seconds) for seed in range(args.streams)]
    report = {"benchmark": "latency", "seconds_per_stream": args.seconds, "chunk_ms": args.chunk_ms,
              "streams": args.streams, "client": "Python (websockets), 16 kHz float32", "note": args.note,
              "sender": "each chunk sent once its last sample exists",
              "load_average_1min": {}}
    failed = []
    with server_url(args, max(8, args.streams)) as url:
        names = args.latencies.split(",") if args.latencies else offered_latencies(url)
        for path in paths:
            before = os.getloadavg()[0]
            try:
                key, result = measure_path(path, url, names, clips, args)
            except Exception as exc:  # a path that cannot run is a result; the other paths' numbers stay
                key, result = REPORT_KEYS[path], {"error": f"{type(exc).__name__}: {exc}"}
                failed.append(path)
                print(f"{path}: failed: {result['error']}", file=sys.stderr)
            report[key] = result
            report["load_average_1min"][path] = [round(before, 2), round(os.getloadavg()[0], 2)]
    emit_report(report, args.json)
    return 1 if failed else 0


REPORT_KEYS = {"python": "latencies", "browser": "via_browser", "jack": "via_jack"}


def measure_path(path: str, url: str, names: list[str], clips: list, args: argparse.Namespace) -> tuple[str, object]:
    """One path's results under its report key."""
    if path == "python":
        return REPORT_KEYS[path], python_rows(url, clips, names, args.chunk_ms)
    if path == "browser":
        from notestream_bench.browser_latency import MIC_RATE, measure_browser

        clip = reference_clip(0, args.seconds, MIC_RATE)  # the first Python stream's notes
        return REPORT_KEYS[path], measure_browser(url, names, clip, args.lead_in)
    from notestream_bench.jack_latency import measure_jack

    return REPORT_KEYS[path], measure_jack(url, clips[0], names, args.chunk_ms, args.jack_period)


def offered_latencies(stream_url: str) -> list[str]:
    """The operating points the server lists in /healthz (an older server: just its default)."""
    import urllib.request

    with urllib.request.urlopen(http_base(stream_url) + "/healthz", timeout=30) as response:
        return list(json.load(response).get("latencies", {"accurate": None}))


def format_markdown(report: dict) -> str:
    """The latency section of RESULTS.md: a table per path measured, the load while measuring, what each adds."""
    parts = []
    if report.get("note"):
        parts.append(report["note"])
    loads = report.get("load_average_1min") or {}
    if loads:
        parts.append("Load average (1 min) at the start and end of each path: "
                     + "; ".join(f"{path} {a:g} → {b:g}" for path, (a, b) in loads.items()) + ".")
    tables = (("latencies", "Python client", lambda: _python_table(report)),
              ("via_browser", "Browser", lambda: _browser_table(report["via_browser"])),
              ("via_jack", "JACK", lambda: _jack_table(report["via_jack"])))
    for key, label, table in tables:
        if isinstance(report.get(key), dict) and "error" in report[key]:
            parts.append(f"{label}: not measured ({report[key]['error']}).")
        elif key in report:
            parts.append(table())
    if "via_browser" in report or "via_jack" in report:
        parts.append(WHAT_EACH_PATH_ADDS)
    return "\n\n".join(parts)


WHAT_EACH_PATH_ADDS = (
    "What each path adds. The Python client sends 20 ms chunks, each once its last sample exists: a note waits "
    "up to one chunk before it leaves. The browser's AudioWorklet gathers 40 ms packets before the page sends "
    "one (a note waits up to 40 ms, 20 on average), the audio thread hands over 128-frame quanta, and the "
    "page's main thread delivers both packets and events between its own work (the waterfall redraws every "
    "frame); its times are lower bounds by the fake microphone's own minimum capture delay (browser_latency.py), "
    "and stop at the event's arrival: the page then lights the key in its next 40 ms DOM batch and draws the "
    "waterfall on the next frame. "
    "The JACK path adds the MIDI sink's writer thread (paced to 5 messages per 5 ms so bursts are not "
    "dropped) and the wait for the next JACK cycle (at most one period).")


EARLY_SENDER = (" Measured before the sender waited for each chunk to fill: a chunk left when its first sample was "
                "due, so these times leave out up to one chunk of buffering (half a chunk on average).")


def _strike(row: dict, key: str = "from_strike") -> str:
    p = row[key]
    return f"{p['p50_ms']} / {p['p95_ms']} / {p['p99_ms']}"


def _python_table(report: dict) -> str:
    lines = [f"Python client: {report['streams']} real-time stream(s) of {report['seconds_per_stream']:g} s per "
             f"operating point, {report['chunk_ms']:g} ms chunks, {report['client']}, server on this machine. From "
             "the strike: the event's arrival minus the moment the audio of the key's true onset was played into "
             "the sender (what a musician feels); processing: minus the moment the audio the model needed was "
             "sent (the look-ahead left out)." + ("" if "sender" in report else EARLY_SENDER),
             "", "| latency | look-ahead (ms) | from the strike p50 / p95 / p99 (ms) | processing p50 / p95 / p99 (ms) "
                 "| note-ons matched / reference notes | all audio accounted |", "|---|---|---|---|---|---|"]
    late = max(row.get("max_sender_delay_ms", 0.0) for row in report["latencies"])
    if late > report["chunk_ms"]:
        lines[0] += f" The sender fell behind its real-time schedule by up to {late:g} ms (the machine was too busy)."
    for row in report["latencies"]:
        errors = "; ".join(row.get("errors") or [])
        lines.append(f"| {row['latency']} | {row['lookahead_ms']} | {_strike(row)} | {row['p50_ms']} / {row['p95_ms']} / "
                     f"{row['p99_ms']} | {row['matched_note_ons']} / {row['reference_notes']} | {row['all_audio_accounted']}"
                     f"{' (errors: ' + errors + ')' if errors else ''} |")
    return "\n".join(lines)


def _browser_table(result: dict) -> str:
    lines = [f"Browser: {result['client']}; the microphone WAV ({result['microphone_rate']} Hz) has "
             f"{result['lead_in_s']:g} s of silence, then the same clip. From the strike: the note_on's arrival at "
             "the page's WebSocket minus the moment the fake microphone played the onset.",
             "", "| latency | look-ahead (ms) | from the strike p50 / p95 / p99 (ms) | note-ons matched / reference "
                 "notes | capture began at (s of the WAV) | packet delay above the least p50 / p95 (ms) |",
             "|---|---|---|---|---|---|"]
    for row in result["latencies"]:
        spread = row["packet_delay_above_least"]
        lines.append(f"| {row['latency']} | {row['lookahead_ms']} | {_strike(row)} | {row['matched_note_ons']} / "
                     f"{row['reference_notes']} | {row['capture_started_s']} | {spread['p50_ms']} / {spread['p95_ms']} |")
    return "\n".join(lines)


def _jack_table(result: dict) -> str:
    lines = [f"JACK: {result['client']}; jackd (dummy driver) at {result['jack_rate']} Hz, {result['jack_period_frames']}"
             f"-frame cycles ({result['jack_cycle_ms']} ms). From the strike: the note_on's arrival at a JACK MIDI "
             "input port minus the moment the onset's audio was played into the sender; beside it, the same "
             "note_ons at the Python client.",
             "", "| latency | look-ahead (ms) | at the JACK port p50 / p95 / p99 (ms) | at the client p50 / p95 / p99 (ms) "
                 "| note-ons matched / reference notes | note-ons played / lost before the port |", "|---|---|---|---|---|---|"]
    for row in result["latencies"]:
        lines.append(f"| {row['latency']} | {row['lookahead_ms']} | {_strike(row)} | "
                     f"{_strike(row, 'python_client_from_strike')} | {row['matched_note_ons']} / {row['reference_notes']} | "
                     f"{row['note_ons']} / {row['note_ons_lost_on_the_port']} |")
    return "\n".join(lines)
