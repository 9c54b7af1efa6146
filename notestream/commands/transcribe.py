"""`notestream transcribe INPUT...`: whole recordings to MIDI, note lists and sheet music.

Inputs are audio or video files, or folders searched recursively (other files are skipped with a
warning). Outputs go to OUTDIR, keeping each file's path below the folder it was found in:
`<name>.mid`, `.json`, `.tsv`, `.txt`, `.musicxml`, `-<page>.svg`, `.pdf` and `.synth.wav` (the transcription
played back). Every file of one input appears complete or not at all: a rerun skips the inputs whose
outputs are all there (an interrupted run resumes), refuses to touch partly existing ones, and --force
replaces everything. --tempo and --time-signature tell the sheet music what you know of the piece (its
beat's tempo, its metre) instead of leaving both to the rhythm network. The model loads once per worker:
--jobs N runs N worker processes here, --ray ADDRESS spreads the files over a Ray cluster (`pip install
'notestream[ray]'`; every node must see the input and output folders). A summary (files, hours of audio,
failures, real-time factor) ends the run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from notestream.archive import (
    ArchiveItem,
    InlineExecutor,
    ModelSpec,
    ProcessExecutor,
    outputs_complete,
    run_archive,
)
from notestream.audio import AUDIO_EXTENSIONS
from notestream.cli import UserError
from notestream.exporters import EXPORT_FORMATS, existing_outputs, parse_formats
from notestream.model.arguments import add_precision_argument, view_shifts
from notestream.score.meter import BEAT_SHAPES, RhythmHint

DEFAULT_FORMATS = "mid,json,tsv,txt,musicxml,svg"


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
    p.add_argument("--onset-threshold", type=float, default=None, metavar="P",
                   help="onset probability a note starts from (default: the checkpoint's calibrated one, best note F1); "
                        "lower hears more soft and bass notes and adds more wrong ones (README: the measured trade)")
    p.add_argument("--tempo", type=float, default=None, metavar="BPM",
                   help="the sheet music's tempo in beats per minute, counting the time signature's beat (a "
                        "quarter in 4/4, a dotted quarter in 6/8); default: the rhythm network's")
    p.add_argument("--time-signature", default=None, metavar="N/D",
                   help=f"the sheet music's time signature for the whole piece, one of {', '.join(BEAT_SHAPES)}; "
                        "default: the rhythm network's")
    p.add_argument("--force", action="store_true", help="replace outputs that already exist")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="worker processes on this machine, each with its own model and a share of the cores (default 1)")
    p.add_argument("--ray", metavar="ADDRESS", default=None,
                   help="run on a Ray cluster: its address (host:port) or 'auto' for the one `ray start` made here")
    p.add_argument("--summary-json", type=Path, default=None, metavar="PATH", help="also write the run's summary here")
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


def plan_outputs(
    found: list[tuple[Path, Path]], out_dir: Path, replace: bool = False, hint: RhythmHint | None = None,
) -> list[ArchiveItem]:
    """Each input's output stem: OUTDIR/<relative path without extension>, and the sheet's `hint`.

    Inputs that would share a stem (`take.wav` and `take.mp3`) keep their extension in it (`take.wav.mid`).
    """
    plain = [out_dir / relative.with_suffix("") for _, relative in found]
    clashing = {stem for stem in plain if plain.count(stem) > 1}
    planned = [ArchiveItem(audio, out_dir / relative if stem in clashing else stem, replace, hint)
               for (audio, relative), stem in zip(found, plain, strict=True)]
    stems = [p.stem for p in planned]
    repeated = sorted({str(s) for s in stems if stems.count(s) > 1})
    if repeated:
        sources = [str(p.audio) for p in planned if str(p.stem) == repeated[0]]
        raise UserError(f"{' and '.join(sources)} would both be written to {repeated[0]}.*; "
                        "transcribe them in separate runs or with different -o folders")
    return planned


def sheet_hint(args: argparse.Namespace) -> RhythmHint | None:
    """--tempo and --time-signature as the sheet music's hint (None when neither is given)."""
    try:
        hint = RhythmHint(args.tempo, args.time_signature)
    except ValueError as exc:
        raise UserError(f"--tempo/--time-signature: {exc}") from exc
    return hint or None


def require_pdf() -> None:
    """Say before any transcription, not after, that this machine cannot draw PDFs."""
    from notestream.score.pdf import PdfUnavailable, rsvg_convert

    try:
        rsvg_convert()
    except PdfUnavailable as exc:
        raise UserError(f"--formats pdf: {exc}") from exc


def check_overwrites(planned: list[ArchiveItem], formats: list[str], force: bool) -> None:
    """Refuse, naming the files, when some but not all of an input's outputs exist and --force was not given
    (inputs whose outputs are all there are skipped: that is how a rerun resumes)."""
    if force:
        return
    existing = [path for p in planned if not outputs_complete(p.stem, formats) for path in existing_outputs(p.stem, formats)]
    if existing:
        names = ", ".join(str(p) for p in existing[:3]) + (f" and {len(existing) - 3} more" if len(existing) > 3 else "")
        raise UserError(f"{names} already exist(s); pass --force to replace, or choose another -o folder")


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    formats = parse_formats(args.formats)
    found, skipped = find_audio(args.inputs)
    if skipped:
        examples = ", ".join(str(p) for p in skipped[:3]) + (" ..." if len(skipped) > 3 else "")
        print(f"warning: skipped {len(skipped)} file(s) that are not audio or video ({examples}); "
              f"known extensions: {' '.join(sorted(AUDIO_EXTENSIONS))}", file=sys.stderr)
    if not found:
        raise UserError("no audio or video files among the inputs")
    if "pdf" in formats:
        require_pdf()
    planned = plan_outputs(found, args.out_dir, replace=args.force, hint=sheet_hint(args))
    check_overwrites(planned, formats, args.force)
    summary = run_archive(planned, formats, make_executor(args, formats), show_progress=not args.no_progress,
                          started=started)
    print(summary.text(), file=sys.stderr)
    if args.summary_json:
        summary.write_json(args.summary_json)
    return 1 if summary.failed else 0


def make_executor(args: argparse.Namespace, formats: list[str]):
    """In this process (--jobs 1), in N local processes (--jobs N) or on a Ray cluster (--ray)."""
    if args.onset_threshold is not None and not 0 < args.onset_threshold < 1:
        raise UserError(f"--onset-threshold {args.onset_threshold:g}: expected a probability between 0 and 1")
    spec = ModelSpec(args.checkpoint, args.device, args.views, args.precision, onset_threshold=args.onset_threshold)
    if args.jobs < 1:
        raise UserError("--jobs must be at least 1")
    if args.ray:
        from notestream.archive.ray_cluster import RayExecutor

        try:
            return RayExecutor(spec, formats, args.ray)
        except RuntimeError as exc:
            raise UserError(str(exc)) from exc
    return ProcessExecutor(spec, formats, args.jobs) if args.jobs > 1 else InlineExecutor(spec, formats)
