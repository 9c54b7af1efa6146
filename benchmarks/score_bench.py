"""Sheet-music benchmark on ASAP: beats, downbeats, key, metre, note values and MV2H, ours against the
scores users get elsewhere from the same performance MIDI: music21's import and MuseScore 3's.

For each performance of the chosen works (the validation works unless `--split` names others) every
system's score is read as a `SheetReading` and judged by `score_metrics.score_reading` against ASAP's
annotations and aligned score. Note-value accuracy: each performance note is matched to a score note of
the same pitch whose onset, mapped through the annotated beats into score time, lies within a tenth of a
second; it counts as right when its notated length in quarter notes (ties merged) equals the score
note's. Notes dropped or left unmatched count as wrong.

`--hint tempo|meter|both` measures the sheet a user gets by telling it the piece's tempo and/or time
signature: each performance's (or excerpt's) median annotated beat interval and opening time signature stand
for what the user types. Peers are not given the hint.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from notestream.midi import read_midi, write_midi
from notestream.model.arguments import view_shifts
from notestream.notes import Note, Performance
from notestream.score.asap import Annotations, read_annotations
from notestream.score.meter import BEAT_SHAPES, RhythmHint
from notestream.score.rhythm_decoding import BEAT_SOURCE, METER_CHANGES
from notestream.score.rhythm_net import load_rhythm_net
from notestream.score.voices import TWO_VOICES
from notestream_bench.paths import portable_path
from notestream_bench.score_excerpts import RenderedExcerpt, rendered_excerpts
from notestream_bench.score_metrics import METRICS, SheetReading, score_reading
from notestream_bench.score_peers import musescore_available, musescore_reading, music21_reading

CHECKOUT = Path(__file__).resolve().parent.parent
DEFAULT_ASAP_ROOT = CHECKOUT.parent / "shared" / "data" / "asap"
VALIDATION_SPLIT = CHECKOUT / "model" / "splits" / "validation.txt"
SPEED_TARGET_S = 300.0  # the speed check uses the performance closest to five minutes
PEERS = {"music21": music21_reading, "musescore": musescore_reading}
AUDIO_VIEWS = (0,)  # one pitch view: ~5x faster than the shipped five, a little less accurate
AUDIO_INPUTS = {"transcribed": "our transcription", "reference_notes": "the excerpt's MIDI"}
HINTS = ("tempo", "meter", "both")
log = logging.getLogger(__name__)


def benchmark_works(split_file: Path | None, asap_root: Path) -> list[str]:
    """ASAP folders to evaluate: the validation split if present, else the first ten folders."""
    if split_file is not None and split_file.exists():
        return [w.strip() for w in split_file.read_text().splitlines() if w.strip()]
    with open(asap_root / "metadata.csv") as f:
        return sorted({row["folder"] for row in csv.DictReader(f)})[:10]


def performances(asap_root: Path, works: list[str], limit: int | None) -> list[dict]:
    """metadata.csv rows of the works, taken round-robin across works so a limit still spans pieces."""
    with open(asap_root / "metadata.csv") as f:
        rows = [r for r in csv.DictReader(f) if r["folder"] in set(works)]
    by_work: dict[str, list[dict]] = {}
    for row in sorted(rows, key=lambda r: r["midi_performance"]):
        by_work.setdefault(row["folder"], []).append(row)
    ordered = [
        q[i]
        for i in range(max(map(len, by_work.values()), default=0))
        for q in by_work.values()
        if i < len(q)
    ]
    return ordered[:limit] if limit else ordered


def our_reading(notes: list, pedals: list, options: dict | None = None) -> tuple[SheetReading, float]:
    """Our notation of a performance (`notate` with `options`, e.g. {'voices': False}) as a SheetReading,
    and the seconds `notate` took."""
    from notestream.score.notation import notate

    start = time.perf_counter()
    notation = notate(notes, pedals, **(options or {}))
    seconds = time.perf_counter() - start
    index = {note: i for i, note in enumerate(notes)}
    lengths, hands = {}, {}
    for chord in notation.chords:
        for k in chord.sources:
            lengths[index[notation.notes[k]]] = chord.length
            hands[index[notation.notes[k]]] = chord.hand
    reading = SheetReading(notation.beats, notation.downbeat_times(), notation.meter.time_signature,
                           notation.key.fifths, lengths, hands, notation.signature_times())
    return reading, seconds


def evaluate_row(row: dict, asap_root: Path, peers: list[str], options: dict | None = None) -> dict:
    """Every system's metrics on one performance."""
    path = asap_root / row["midi_performance"]
    ann = read_annotations(asap_root / row["performance_annotations"])
    return evaluate_notes(read_midi(path), path, row, asap_root, ann, peers, options=options)


def annotated_hint(ann: Annotations, parts: str, window: tuple[float, float] | None = None) -> RhythmHint:
    """What a user who knows the piece would tell the sheet (`parts`: one of HINTS): the tempo of the median
    annotated beat interval and the time signature in force, over the `window` (seconds) or the whole
    performance. A signature the sheet cannot write is left to the network."""
    start, end = window or (-np.inf, np.inf)
    beats = ann.beats[(ann.beats >= start) & (ann.beats <= end)]
    tempo = 60.0 / float(np.median(np.diff(beats))) if len(beats) > 2 and parts in ("tempo", "both") else None
    signature = None
    if parts in ("meter", "both") and ann.signatures:
        signature = ([s for t, s in ann.signatures if t <= start] or [ann.signatures[0][1]])[-1]
    return RhythmHint(tempo, signature if signature in BEAT_SHAPES else None)


def evaluate_notes(
    perf: Performance, midi_path: Path, row: dict, asap_root: Path, ann: Annotations, peers: list[str],
    window: tuple[float, float] | None = None, options: dict | None = None,
) -> dict:
    """Every system's metrics on one note list (`midi_path` holds the same notes, for the peers); ours is
    `notate` with `options` (a 'hint' among them names the HINTS part taken from the annotations).

    With a `window` the notes are an excerpt's, in its own time from 0: each reading is moved to the
    window's start in the performance and judged on that span (score_metrics.score_reading).
    """
    offset = window[0] if window else 0.0
    placed = [Note(n.onset + offset, n.offset + offset, n.pitch, n.velocity) for n in perf.notes]
    options = dict(options or {})
    if options.get("hint"):
        options["hint"] = annotated_hint(ann, options["hint"], window)
    reading, seconds = our_reading(perf.notes, perf.pedals, options)
    ours = score_reading(reading.shifted(offset), placed, row, asap_root, ann, window)
    results = {"ours": {**ours, "notate_seconds": seconds}}
    for name in peers:
        peer = PEERS[name](midi_path, perf.notes).shifted(offset)
        results[name] = score_reading(peer, placed, row, asap_root, ann, window)
    return results


def cpu_with_children() -> float:
    """CPU seconds of this process and of its finished children (the PDF is drawn by rsvg-convert)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def time_engraving(midi_path: Path, label: str | None = None) -> dict:
    """Seconds for each step from a performance MIDI to MusicXML text and SVG pages; the PDF (an export made
    on request, not with every score) is timed apart."""
    from notestream.score.engrave import render_svg_pages
    from notestream.score.musicxml import notation_to_musicxml
    from notestream.score.notation import notate
    from notestream.score.pdf import svg_pages_to_pdf

    perf = read_midi(midi_path)
    cpu_start, clock = time.process_time(), [time.perf_counter()]
    notation = notate(perf.notes, perf.pedals)
    clock.append(time.perf_counter())
    text = notation_to_musicxml(notation)
    clock.append(time.perf_counter())
    pages = render_svg_pages(text)
    clock.append(time.perf_counter())
    cpu_seconds = time.process_time() - cpu_start
    steps = np.diff(clock)
    pdf_cpu_start = cpu_with_children()
    svg_pages_to_pdf(pages)
    pdf_cpu_seconds = cpu_with_children() - pdf_cpu_start
    return {
        "file": label or midi_path.name,
        "performance_seconds": perf.duration,
        "notes": len(perf.notes),
        "pages": len(pages),
        "notate_s": steps[0],
        "musicxml_s": steps[1],
        "svg_s": steps[2],
        "total_s": float(steps.sum()),
        "total_cpu_s": cpu_seconds,  # what the wall time would be on an otherwise idle core
        "pdf_cpu_s": pdf_cpu_seconds,
    }


def beat_source(text: str) -> float | None:
    """--beat-source: 'tracker' or the network's beat threshold (a number in (0, 1))."""
    if text == "tracker":
        return None
    try:
        threshold = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give 'tracker' or a threshold between 0 and 1") from None
    if not 0 < threshold < 1:
        raise argparse.ArgumentTypeError(f"{threshold}: a beat threshold lies between 0 and 1")
    return threshold


def notation_options(args: argparse.Namespace) -> dict:
    """`notate`'s keyword arguments from the command line (another rhythm network's weights among them)."""
    options = {"meter_changes": args.meter_changes, "voices": args.voices, "beat_source": args.beat_source,
               "hint": args.hint}
    if args.rhythm_weights is not None:
        options["net"] = load_rhythm_net(args.rhythm_weights)
    return options


def described(options: dict | None) -> dict:
    """The options as the JSON report records them (a network given by --rhythm-weights: see the report's
    'rhythm_weights')."""
    return {k: v for k, v in (options or {}).items() if k != "net"}


def _mean(results: list[dict]) -> dict:
    return {m: float(np.mean([r[m] for r in results])) if results else 0.0 for m in METRICS}


def run_score_benchmark(
    asap_root: Path, split_works: list[str] | None, limit: int | None, peers: list[str] | None = None,
    options: dict | None = None,
) -> dict:
    """Evaluate ours (`notate` with `options`) and the peers on the works' performances, plus one timed
    engraving."""
    asap_root = Path(asap_root)
    works = split_works or benchmark_works(VALIDATION_SPLIT, asap_root)
    rows = performances(asap_root, works, limit)
    if not rows:
        raise ValueError(f"no ASAP performances of the given works under {asap_root}")
    if peers is None:
        peers = ["music21"] + (["musescore"] if musescore_available() else [])
    per_performance = {}
    for number, row in enumerate(rows, start=1):
        log.info("score bench %d/%d: %s", number, len(rows), row["midi_performance"])
        per_performance[row["midi_performance"]] = evaluate_row(row, asap_root, peers, options)
    durations = {r["midi_performance"]: read_midi(asap_root / r["midi_performance"]).duration for r in rows}
    closest = min(durations, key=lambda k: abs(durations[k] - SPEED_TARGET_S))
    return {
        "works": works,
        "notation_options": described(options),
        "performances": per_performance,
        "mean": {name: _mean([p[name] for p in per_performance.values()]) for name in ["ours", *peers]},
        "speed": time_engraving(asap_root / closest, f"asap:{closest}"),
    }


def _evaluate_excerpt(
    perf: Performance, excerpt: RenderedExcerpt, asap_root: Path, peers: list[str], options: dict | None,
) -> dict:
    """Every system's metrics on one excerpt's notes, judged on the excerpt's span of the performance."""
    ann = read_annotations(asap_root / excerpt.row["performance_annotations"])
    with tempfile.TemporaryDirectory() as tmp:
        midi_path = Path(tmp) / f"{excerpt.segment.segment_id}.mid"
        write_midi(perf, midi_path)
        return evaluate_notes(perf, midi_path, excerpt.row, asap_root, ann, peers, excerpt.window, options)


def run_audio_benchmark(
    folder: Path, asap_root: Path, limit: int | None, peers: list[str], views: tuple[int, ...] = AUDIO_VIEWS,
    options: dict | None = None,
) -> dict:
    """Ours (`notate` with `options`) and the peers on our transcription of rendered ASAP excerpts (the shipped model with `views`),
    and, for comparison on the same spans, on the notes each excerpt plays."""
    from notestream.model.evaluation import mean_scores, performance_metrics
    from notestream.model.transcriber import Transcriber

    excerpts = rendered_excerpts(folder, asap_root, limit)
    transcriber = Transcriber.from_checkpoint(views=views)
    per_excerpt, accuracy = {}, []
    for number, excerpt in enumerate(excerpts, start=1):
        log.info("score bench from audio %d/%d: %s", number, len(excerpts), excerpt.segment.segment_id)
        transcribed = transcriber.transcribe(excerpt.audio).performance
        accuracy.append(performance_metrics(transcribed, excerpt.played))
        per_excerpt[excerpt.segment.segment_id] = {
            "transcription": accuracy[-1].to_dict(),
            "transcribed": _evaluate_excerpt(transcribed, excerpt, asap_root, peers, options),
            "reference_notes": _evaluate_excerpt(excerpt.played, excerpt, asap_root, peers, options),
        }
    means = {
        notes: {name: _mean([e[notes][name] for e in per_excerpt.values()]) for name in ["ours", *peers]}
        for notes in AUDIO_INPUTS
    }
    return {"folder": portable_path(folder), "views": list(views), "excerpts": per_excerpt, "mean": means,
            "transcription": mean_scores(accuracy).to_dict()}


def format_audio_markdown(report: dict) -> str:
    """The from-audio means as one table: each system on the transcription and on the excerpt's own notes."""
    accuracy = report["transcription"]
    lines = [
        f"Excerpts: {len(report['excerpts'])} rendered segments from {report['folder']}, transcribed with views "
        f"{','.join(map(str, report['views']))} (note F1 {accuracy['note_f1']:.3f}, with offsets "
        f"{accuracy['note_offset_f1']:.3f}).",
        "",
        "| system | notes | " + " | ".join(METRICS) + " |",
        "|---|---" + "|---" * len(METRICS) + "|",
    ]
    for notes, label in AUDIO_INPUTS.items():
        for system, means in report["mean"][notes].items():
            lines.append(f"| {system} | {label} | " + " | ".join(f"{means[m]:.3f}" for m in METRICS) + " |")
    return "\n".join(lines)


def format_markdown(report: dict) -> str:
    """The mean scores as a markdown table, and the speed check as one line."""
    lines = [
        f"Performances: {len(report['performances'])} from {len(report['works'])} works.",
        "",
        "| system | " + " | ".join(METRICS) + " |",
        "|---" * (len(METRICS) + 1) + "|",
    ]
    for system, means in report["mean"].items():
        lines.append(f"| {system} | " + " | ".join(f"{means[m]:.3f}" if m in means else "—" for m in METRICS) + " |")
    speed = report["speed"]
    lines += [
        "",
        f"Speed: {speed['performance_seconds']:.0f} s performance ({speed['notes']} notes, {speed['file']}) -> "
        f"MusicXML + {speed['pages']} SVG pages in {speed['total_s']:.2f} s (notate {speed['notate_s']:.2f}, "
        f"MusicXML {speed['musicxml_s']:.2f}, SVG {speed['svg_s']:.2f}); "
        f"{speed['total_cpu_s']:.2f} s of CPU time. The PDF of those pages (on request): "
        f"{speed.get('pdf_cpu_s', float('nan')):.2f} s of CPU time more.",
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    split = args.split if args.split is not None else VALIDATION_SPLIT
    works = benchmark_works(split, args.asap_root)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # pretty_midi on ASAP's meta events in track 1
        peers = [p for p in args.peers.split(",") if p]
        unknown = sorted(set(peers) - set(PEERS))
        if unknown:
            raise SystemExit(f"--peers: unknown {', '.join(unknown)}; choose from {', '.join(PEERS)}")
        options = notation_options(args)
        if args.from_audio:
            report = {"from_audio": run_audio_benchmark(args.from_audio, args.asap_root, args.limit, peers, args.views,
                                                        options)}
            table = format_audio_markdown(report["from_audio"])
        else:
            report = run_score_benchmark(args.asap_root, works, args.limit, peers, options)
            table = format_markdown(report)
    if args.rhythm_weights is not None:
        report["rhythm_weights"] = portable_path(args.rhythm_weights)
    print(table)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=float))
    if args.markdown:
        args.markdown.write_text(table + "\n")
    return 0


def register_score_bench(bench_subparsers) -> None:
    """Add `score` under `notestream bench`: the sheet-music benchmark above."""
    p = bench_subparsers.add_parser("score", help="sheet-music benchmark on ASAP", description=__doc__)
    p.add_argument(
        "--asap-root", type=Path, default=DEFAULT_ASAP_ROOT, help="ASAP folder (with metadata.csv)"
    )
    p.add_argument(
        "--split", type=Path, default=None, help="file of ASAP work folders (default: validation split)"
    )
    p.add_argument("--peers", default=",".join(PEERS) if musescore_available() else "music21",
                   help="comma-separated peers to run beside ours (music21, musescore)")
    p.add_argument("--limit", type=int, default=None, help="evaluate at most N performances (or excerpts)")
    p.add_argument("--from-audio", type=Path, default=None, metavar="DIR",
                   help="instead of ASAP's MIDI, transcribe the rendered segments in DIR (e.g. "
                        "<data>/rendered/validation) with the shipped model and score each on its span; "
                        "results under the JSON key 'from_audio'")
    p.add_argument("--views", type=view_shifts, default=AUDIO_VIEWS,
                   help="with --from-audio: the model's pitch views (default 0, one view, for speed)")
    p.add_argument("--meter-changes", action=argparse.BooleanOptionalAction, default=METER_CHANGES,
                   help="whether ours writes changes of metre where the rhythm network hears them "
                        f"(default: {'on' if METER_CHANGES else 'off'}, as the sheet-music writer does)")
    p.add_argument("--voices", action=argparse.BooleanOptionalAction, default=TWO_VOICES,
                   help="whether ours writes a note a hand holds while it moves on in a second voice "
                        f"(default: {'on' if TWO_VOICES else 'off'}, as the sheet-music writer does)")
    p.add_argument("--beat-source", type=beat_source, default=BEAT_SOURCE, metavar="tracker|THRESHOLD",
                   help="where ours takes beats from: the onset-envelope tracker or the rhythm network at this "
                        f"threshold (default: {BEAT_SOURCE or 'tracker'}, as the sheet-music writer does)")
    p.add_argument("--rhythm-weights", type=Path, default=None,
                   help="a rhythm network checkpoint to use instead of the shipped score/weights/rhythm.pt")
    p.add_argument("--hint", choices=HINTS, default=None,
                   help="tell ours each performance's annotated tempo, time signature or both, as a user can "
                        "(transcribe --tempo/--time-signature); the peers get no hint")
    p.add_argument("--json", type=Path, default=None, help="write per-performance and mean results here")
    p.add_argument("--markdown", type=Path, default=None, help="write the results table here")
    p.set_defaults(func=run)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="score_bench")
    register_score_bench(parser.add_subparsers(dest="command", required=True))
    arguments = parser.parse_args()
    raise SystemExit(arguments.func(arguments))
