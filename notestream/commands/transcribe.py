"""`notestream transcribe INPUT...`: whole recordings to MIDI, note lists and sheet music.

Inputs are audio or video files, or folders searched recursively (other files are skipped with a
warning). Outputs go to OUTDIR, keeping each file's path below the folder it was found in:
`<name>.mid`, `.json`, `.tsv`, `.txt`, `.musicxml`, `-<page>.svg`, `.pdf` and `.synth.wav` (the transcription
played back). Every file of one input appears complete or not at all, and existing outputs are only
replaced with --force.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from notestream.audio import AUDIO_EXTENSIONS, AudioDecodeError, audio_duration
from notestream.cli import UserError
from notestream.exporters import EXPORT_FORMATS, existing_outputs, export_transcription, parse_formats
from notestream.model.arguments import add_precision_argument, view_shifts
from notestream.model.transcriber import Transcriber

DEFAULT_FORMATS = "mid,json,tsv,txt,musicxml,svg"


@dataclass(frozen=True)
class PlannedInput:
    """One audio file to transcribe and the stem its outputs are written to."""

    audio: Path
    stem: Path


def register(subparsers) -> None:
    p = subparsers.add_parser("transcribe", help="transcribe recordings to MIDI, note lists and sheet music",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="audio/video files or folders")
    p.add_argument("-o", "--out-dir", type=Path, default=Path("."), help="where outputs go (default: here)")
    p.add_argument("--formats", default=DEFAULT_FORMATS,
                   help=f"comma-separated, from {','.join(EXPORT_FORMATS)} or 'all' (default: {DEFAULT_FORMATS})")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--checkpoint", type=Path, default=None, help="model checkpoint (default: the shipped one)")
    p.add_argument("--views", type=view_shifts, default=None, metavar="SHIFTS",
                   help="another of the checkpoint's calibrated pitch-view sets, e.g. --views=-1,1 or --views=0 "
                        "(faster, a little less accurate); default: the checkpoint's own (five views)")
    add_precision_argument(p)
    p.add_argument("--force", action="store_true", help="replace outputs that already exist")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def find_audio(inputs: list[Path]) -> tuple[list[tuple[Path, Path]], list[Path]]:
    """(audio file, its path below the folder it was found in) for every input, and the skipped files.

    Hidden files and folders (names starting with '.') are passed over silently.
    """
    found: list[tuple[Path, Path]] = []
    skipped: list[Path] = []
    for given in inputs:
        if given.is_dir():
            candidates = [(p, p.relative_to(given)) for p in sorted(given.rglob("*"))
                          if p.is_file() and not any(part.startswith(".") for part in p.relative_to(given).parts)]
        elif given.is_file():
            candidates = [(given, Path(given.name))]
        else:
            raise UserError(f"{given}: no such file or folder")
        for path, relative in candidates:
            (found if path.suffix.lower() in AUDIO_EXTENSIONS else skipped).append((path, relative))
    return found, [path for path, _ in skipped]


def plan_outputs(found: list[tuple[Path, Path]], out_dir: Path) -> list[PlannedInput]:
    """Each input's output stem: OUTDIR/<relative path without extension>.

    Inputs that would share a stem (`take.wav` and `take.mp3`) keep their extension in it (`take.wav.mid`).
    """
    plain = [out_dir / relative.with_suffix("") for _, relative in found]
    clashing = {stem for stem in plain if plain.count(stem) > 1}
    planned = [PlannedInput(audio, out_dir / relative if stem in clashing else stem)
               for (audio, relative), stem in zip(found, plain, strict=True)]
    stems = [p.stem for p in planned]
    repeated = sorted({str(s) for s in stems if stems.count(s) > 1})
    if repeated:
        sources = [str(p.audio) for p in planned if str(p.stem) == repeated[0]]
        raise UserError(f"{' and '.join(sources)} would both be written to {repeated[0]}.*; "
                        "transcribe them in separate runs or with different -o folders")
    return planned


def check_overwrites(planned: list[PlannedInput], formats: list[str], force: bool) -> None:
    """Refuse, naming the files, when outputs exist and --force was not given."""
    if force:
        return
    existing = [path for p in planned for path in existing_outputs(p.stem, formats)]
    if existing:
        names = ", ".join(str(p) for p in existing[:3]) + (f" and {len(existing) - 3} more" if len(existing) > 3 else "")
        raise UserError(f"{names} already exist(s); pass --force to replace, or choose another -o folder")


def run(args: argparse.Namespace) -> int:
    formats = parse_formats(args.formats)
    found, skipped = find_audio(args.inputs)
    if skipped:
        examples = ", ".join(str(p) for p in skipped[:3]) + (" ..." if len(skipped) > 3 else "")
        print(f"warning: skipped {len(skipped)} file(s) that are not audio or video ({examples}); "
              f"known extensions: {' '.join(sorted(AUDIO_EXTENSIONS))}", file=sys.stderr)
    if not found:
        raise UserError("no audio or video files among the inputs")
    planned = plan_outputs(found, args.out_dir)
    check_overwrites(planned, formats, args.force)
    transcriber = Transcriber.from_checkpoint(args.checkpoint, args.device, views=args.views, precision=args.precision)
    failed = transcribe_all(transcriber, planned, formats, show_progress=not args.no_progress)
    if failed:
        print(f"{failed} of {len(planned)} input(s) could not be transcribed (see above)", file=sys.stderr)
    return 1 if failed else 0


def transcribe_all(transcriber: Transcriber, planned: list[PlannedInput], formats: list[str], show_progress: bool = True) -> int:
    """Transcribe and export each input under one progress bar (audio seconds, with ETA); returns failures."""
    from tqdm import tqdm

    durations = [audio_duration(p.audio) for p in planned]
    total = sum(d for d in durations if d) if all(durations) else None
    failed = 0
    bar_format = "{l_bar}{bar}| {n:.0f}/{total:.0f} s of audio [{elapsed}<{remaining}]{postfix}" if total else None
    disable = None if show_progress else True  # None: shown on a terminal only
    with tqdm(total=total, unit="s", desc="transcribing", disable=disable, bar_format=bar_format) as bar:
        for item in planned:
            bar.set_postfix_str(item.audio.name)
            try:
                written, speed = transcribe_one(transcriber, item, formats, bar)
            except AudioDecodeError as exc:
                failed += 1
                bar.write(f"error: {exc}", file=sys.stderr)
                continue
            bar.write(f"{item.audio} -> {', '.join(str(p) for p in written)} ({speed:.0f}x real time)", file=sys.stderr)
    return failed


def transcribe_one(transcriber: Transcriber, item: PlannedInput, formats: list[str], bar) -> tuple[list[Path], float]:
    """One input: transcribe (advancing `bar`), then write every format; returns the files and the speed."""
    start_n, start = bar.n, time.perf_counter()

    def advance(seconds: float) -> None:
        bar.update(start_n + seconds - bar.n)

    transcription = transcriber.transcribe(item.audio, progress=advance)
    seconds = time.perf_counter() - start
    speed = transcription.duration / max(seconds, 1e-9)
    timing = {"transcribe_seconds": round(seconds, 3), "speed": round(speed, 1)}
    written = export_transcription(transcription, item.stem, formats, source=str(item.audio), extra_metadata={"timing": timing})
    return written, speed
