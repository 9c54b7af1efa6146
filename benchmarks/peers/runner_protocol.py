"""The contract every transcriber runner follows, so all systems are timed the same way.

A runner is a script run in its system's own Python (a peer's virtualenv, or ours):

    python run_<system>.py --out-dir DIR --report REPORT.json WAV [WAV ...]

It loads its model once, transcribes each WAV to `DIR/<stem>.mid`, and writes REPORT.json:
`{"system", "version", "load_seconds", "files": {stem: {"seconds", "cpu_seconds"}}}`. Per-file times
cover decoding the WAV, the model and writing the MIDI. Not timed per file: the model load and one
warm-up run on the first two seconds of the first WAV (JIT compilation, lazy imports, allocator
growth), which `load_seconds` includes. Standard library only: this
file is imported inside the peers' virtualenvs, which do not have notestream installed.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import wave
from collections.abc import Callable
from pathlib import Path

# transcribe(model, wav_path, midi_path) -> None
TranscribeFile = Callable[[object, Path, Path], None]
WARMUP_SECONDS = 2.0


def parse_runner_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="transcribe WAV files to MIDI, timing each file")
    parser.add_argument("--out-dir", type=Path, required=True, help="MIDI files go here as <wav stem>.mid")
    parser.add_argument("--report", type=Path, required=True, help="timings are written here as JSON")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads the model may use")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE", help="system-specific setting")
    parser.add_argument("wavs", nargs="+", type=Path)
    return parser.parse_args(argv)


def options(args: argparse.Namespace) -> dict[str, str]:
    """--option KEY=VALUE pairs as a dict."""
    return dict(item.split("=", 1) for item in args.option)


def write_clip(source: Path, clip: Path, seconds: float) -> None:
    """The first `seconds` of a WAV file as another WAV file."""
    with wave.open(str(source), "rb") as src:
        params = src.getparams()
        frames = src.readframes(int(seconds * src.getframerate()))
    with wave.open(str(clip), "wb") as dst:
        dst.setparams(params)
        dst.writeframes(frames)


def run_runner(system: str, version: str | Callable[[object], str], load: Callable[[argparse.Namespace], object],
               transcribe: TranscribeFile, argv: list[str] | None = None) -> None:
    """Load once, transcribe every WAV with wall and CPU time per file, write the report.

    `version` may be a function of the loaded model, for systems whose weights vary (our checkpoints).
    """
    args = parse_runner_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    model = load(args)
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "warmup.wav"
        write_clip(args.wavs[0], clip, WARMUP_SECONDS)
        transcribe(model, clip, Path(tmp) / "warmup.mid")
    load_seconds = time.perf_counter() - start
    files = {}
    for wav in args.wavs:
        wall, cpu = time.perf_counter(), time.process_time()
        transcribe(model, wav, args.out_dir / f"{wav.stem}.mid")
        files[wav.stem] = {"seconds": time.perf_counter() - wall, "cpu_seconds": time.process_time() - cpu}
    if callable(version):
        version = version(model)
    report = {"system": system, "version": version, "load_seconds": load_seconds, "files": files}
    args.report.write_text(json.dumps(report, indent=1))
