"""`notestream stream SOURCE`: live transcription through a notestream server.

SOURCE is an audio file (sent in real time, or as fast as possible with --fast), `-` for raw PCM on
stdin (--rate, --encoding, --channels), or `mic` for a sound card input (--input-device). Notes are
shown as they arrive, and can go to a MIDI port (--midi-port / --virtual-port), a MIDI file (--save)
and JSON lines on stdout (--json).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path

from notestream.cli import UserError
from notestream.client import AudioFormat, StreamClient, StreamClientError
from notestream.client.live import run_live
from notestream.client.midi_out import list_output_ports, open_midi_output
from notestream.client.sinks import JsonLinesSink, MidiFileRecorder, MidiPortSink, TerminalView
from notestream.client.sources import (
    FileSource,
    MicrophoneSource,
    StreamSource,
    describe_input_devices,
    input_devices,
    resolve_input_device,
)

DEFAULT_SERVER = "ws://localhost:8000"


def register(subparsers) -> None:
    p = subparsers.add_parser("stream", help="transcribe live audio through a notestream server",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", nargs="?", help="audio file, '-' for raw PCM on stdin, or 'mic'")
    p.add_argument("--server", default=os.environ.get("NOTESTREAM_SERVER", DEFAULT_SERVER),
                   help="server address (default $NOTESTREAM_SERVER or %(default)s)")
    p.add_argument("--api-key", default=os.environ.get("NOTESTREAM_API_KEY"), help="the server's API key, if it has one")
    p.add_argument("--latency", default=None, metavar="NAME",
                   help="the server's operating point for this stream: 'low' (notes sooner) or 'accurate' "
                        "(default: the server's choice; its /healthz lists the names)")
    p.add_argument("--fast", action="store_true", help="send a file as fast as the server takes it, not in real time")
    p.add_argument("--rate", type=int, default=None, help="sample rate of stdin or mic audio (mic: the device's default)")
    p.add_argument("--encoding", choices=("pcm_s16le", "f32le"), default="pcm_s16le", help="stdin sample encoding")
    p.add_argument("--channels", type=int, choices=(1, 2), default=1, help="stdin or mic channels")
    p.add_argument("--input-device", default=None, help="microphone: device index or part of its name")
    p.add_argument("--list-devices", action="store_true", help="list audio input devices and exit")
    p.add_argument("--midi-port", default=None, help="send notes to this existing MIDI output port")
    p.add_argument("--virtual-port", default=None, help="create a virtual MIDI port with this name for synths/DAWs")
    p.add_argument("--midi-backend", default=None,
                   help="mido backend, e.g. mido.backends.rtmidi/UNIX_JACK (default $MIDO_BACKEND or rtmidi)")
    p.add_argument("--list-midi-ports", action="store_true", help="list MIDI output ports and exit")
    p.add_argument("--save", type=Path, default=None, help="write the notes to this MIDI file at the end")
    p.add_argument("--json", action="store_true", help="print events as JSON lines on stdout instead of the live view")
    p.add_argument("--reconnect-seconds", type=float, default=30.0,
                   help="how long to keep trying to resume after a dropped connection (default %(default)s)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        if args.list_devices:
            print(describe_input_devices())
            return 0
        if args.list_midi_ports:
            print("\n".join(list_output_ports(args.midi_backend)) or "no MIDI output ports found")
            return 0
        if not args.source:
            raise UserError("give a SOURCE: an audio file, '-' for stdin, or 'mic'")
        if args.midi_port and args.virtual_port:
            raise UserError("use --midi-port or --virtual-port, not both")
        return asyncio.run(_stream(args))
    except StreamClientError as exc:
        raise UserError(str(exc)) from exc


def build_source(args: argparse.Namespace):
    """The audio source SOURCE names, with the format it sends."""
    if args.source == "-":
        if args.rate is None:
            raise UserError("raw PCM on stdin needs --rate (and --encoding/--channels if not pcm_s16le mono)")
        return StreamSource(sys.stdin.buffer, AudioFormat(args.rate, args.encoding, args.channels))
    path = Path(args.source)
    if args.source == "mic" and not path.exists():
        rate = args.rate or _device_rate(args.input_device)
        return MicrophoneSource(args.input_device, rate, args.channels)
    if not path.is_file():
        raise UserError(f"{path}: no such audio file (use '-' for stdin or 'mic' for a microphone)")
    return FileSource(path, realtime=not args.fast)


def _device_rate(device: str | None) -> int:
    """The chosen (or default) input device's own rate, when the server accepts it; else 48000."""
    index = resolve_input_device(device)
    for i, _name, _channels, rate in input_devices():
        if index is None or i == index:
            return int(rate) if int(rate) in (16000, 22050, 24000, 32000, 44100, 48000) else 48000
    raise UserError("no audio input devices found; see --list-devices")


def build_sinks(args: argparse.Namespace) -> tuple[list, TerminalView | None]:
    """The sinks the options ask for; MIDI ports are opened here, before connecting, to fail early."""
    sinks: list = []
    if args.midi_port or args.virtual_port:
        sinks.append(MidiPortSink(open_midi_output(args.midi_port, args.virtual_port, args.midi_backend)))
    if args.save:
        if not args.save.parent.is_dir():
            raise UserError(f"{args.save.parent}: no such folder for --save")
        sinks.append(MidiFileRecorder(args.save))
    if args.json:
        sinks.append(JsonLinesSink(sys.stdout))
    view = None if args.json else TerminalView(sys.stdout)
    return sinks, view


async def _stream(args: argparse.Namespace) -> int:
    source = build_source(args)
    sinks, view = build_sinks(args)
    stop = asyncio.Event()
    _stop_on_interrupt(stop)
    client = StreamClient(args.server, source.format, api_key=args.api_key, reconnect_seconds=args.reconnect_seconds,
                          latency=args.latency)
    try:
        await client.connect()
    except BaseException:
        for sink in sinks:
            if isinstance(sink, MidiPortSink):
                sink.close(None)
        raise
    try:
        final = await run_live(client, source, sinks, view, stop)
    finally:
        await client.close()
    if final is None:
        raise UserError("the stream ended without the server's final summary")
    if args.save:
        print(f"saved {args.save}", file=sys.stderr)
    return 0


def _stop_on_interrupt(stop: asyncio.Event) -> None:
    """First Ctrl-C: stop sending and let the server finish (notes are kept); a second one quits."""
    loop = asyncio.get_running_loop()

    def first() -> None:
        print("\nstopping: waiting for the last notes (Ctrl-C again to quit now)", file=sys.stderr)
        stop.set()
        loop.remove_signal_handler(signal.SIGINT)

    try:
        loop.add_signal_handler(signal.SIGINT, first)
    except (NotImplementedError, RuntimeError):
        pass  # not the main thread, or a platform without signal handlers: Ctrl-C just interrupts
