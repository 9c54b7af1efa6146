"""Sheet-music benchmark on ASAP: beats, downbeats, key, meter and note values, ours against music21.

For each performance of the chosen works, `score.notate` is compared with the ASAP annotations and the
aligned score, beside the baseline a user gets for free: music21's plain import of the performance MIDI
with `quantizePost` (its beats are the file's 120-bpm grid, its meter the file's 4/4, its key
music21's own Krumhansl analysis).

Note-value accuracy: each performance note is matched to a score note of the same pitch whose onset,
mapped through the annotated beats into score time, lies within a tenth of a second (a fifth of a quarter
at the score MIDI's 120 bpm); it counts as right when its notated length in quarter notes (ties merged)
equals the score note's length exactly. Notes that were dropped or left unmatched count as wrong.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import time
import warnings
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import mir_eval
import numpy as np
import pretty_midi

from notestream.midi import read_midi
from notestream.model.data.splits import default_asap_root
from notestream.notes import Note

DEFAULT_ASAP_ROOT = default_asap_root()
VALIDATION_SPLIT = Path(__file__).resolve().parent.parent / "model" / "splits" / "validation.txt"
MATCH_TOLERANCE_S = 0.1  # in score time (score MIDI at 120 bpm)
SPEED_TARGET_S = 300.0  # the speed check uses the performance closest to five minutes
log = logging.getLogger(__name__)
METRICS = ("beat_f", "downbeat_f", "key_accuracy", "time_signature_accuracy", "note_value_accuracy")


@dataclass(frozen=True)
class Annotations:
    """One ASAP annotation file: beat and downbeat times, the first time signature and key (in fifths)."""

    beats: np.ndarray
    downbeats: np.ndarray
    time_signature: str
    key_fifths: int


def read_annotations(path: Path) -> Annotations:
    """Parse `<time>\\t<time>\\t<b|db|bR>[,<time signature>[,<key in sharps>]]` lines."""
    beats, downbeats, signature, fifths = [], [], None, None
    for line in path.read_text().splitlines():
        fields = line.split("\t")
        if len(fields) < 3:
            continue
        time_s, (kind, *extra) = float(fields[0]), fields[2].split(",")
        beats.append(time_s)
        if kind == "db":
            downbeats.append(time_s)
        if signature is None and len(extra) > 0 and extra[0]:
            signature = extra[0]
        if fifths is None and len(extra) > 1 and extra[1]:
            fifths = int(extra[1])
    return Annotations(np.array(beats), np.array(downbeats), signature or "4/4", fifths or 0)


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


def score_note_values(score_midi: Path) -> tuple[list[Note], list[Fraction]]:
    """Score notes (times in the score MIDI's seconds) and their lengths in quarter notes."""
    pm = pretty_midi.PrettyMIDI(str(score_midi))
    notes, lengths = [], []
    for inst in pm.instruments:
        for n in inst.notes:
            notes.append(Note(n.start, n.end, n.pitch, n.velocity))
            ticks = pm.time_to_tick(n.end) - pm.time_to_tick(n.start)
            lengths.append(Fraction(ticks, pm.resolution).limit_denominator(48))
    return notes, lengths


def match_to_score(
    onsets_in_score_time: np.ndarray, pitches: list[int], sheet_notes: list[Note]
) -> list[int | None]:
    """For each performance note, the index of the unused same-pitch score note nearest in time, if close."""
    by_pitch: dict[int, list[int]] = {}
    for j, n in enumerate(sheet_notes):
        by_pitch.setdefault(n.pitch, []).append(j)
    used: set[int] = set()
    matches: list[int | None] = []
    for onset, pitch in zip(onsets_in_score_time, pitches, strict=True):
        candidates = [j for j in by_pitch.get(pitch, []) if j not in used]
        best = min(candidates, key=lambda j: abs(sheet_notes[j].onset - onset), default=None)
        if best is not None and abs(sheet_notes[best].onset - onset) <= MATCH_TOLERANCE_S:
            used.add(best)
            matches.append(best)
        else:
            matches.append(None)
    return matches


def note_value_accuracy(
    notes: list[Note], notated: dict[Note, Fraction], row: dict, asap_root: Path, perf_ann: Annotations
) -> float:
    """Share of score-matched performance notes whose notated length equals the score's (see module doc)."""
    score_ann = read_annotations(asap_root / row["midi_score_annotations"])
    sheet_notes, score_lengths = score_note_values(asap_root / row["midi_score"])
    n_beats = min(len(perf_ann.beats), len(score_ann.beats))
    mapped = np.interp([n.onset for n in notes], perf_ann.beats[:n_beats], score_ann.beats[:n_beats])
    matches = match_to_score(mapped, [n.pitch for n in notes], sheet_notes)
    judged = [(n, j) for n, j in zip(notes, matches, strict=True) if j is not None]
    right = sum(1 for n, j in judged if n in notated and notated[n] == score_lengths[j])
    return right / len(judged) if judged else 0.0


def same_key(fifths: int, reference: int) -> bool:
    """Key signatures agree, counting enharmonic ones (6 sharps = 6 flats) as the same."""
    return (fifths - reference) % 12 == 0


def evaluate_ours(row: dict, asap_root: Path) -> dict:
    from notestream.score.notation import notate

    perf = read_midi(asap_root / row["midi_performance"])
    ann = read_annotations(asap_root / row["performance_annotations"])
    start = time.perf_counter()
    notation = notate(perf.notes, perf.pedals)
    seconds = time.perf_counter() - start
    lengths = notation.note_lengths()
    notated = {notation.notes[i]: length for i, length in lengths.items()}
    return {
        "beat_f": mir_eval.beat.f_measure(ann.beats, notation.beats),
        "downbeat_f": mir_eval.beat.f_measure(ann.downbeats, notation.downbeat_times()),
        "key_accuracy": float(same_key(notation.key.fifths, ann.key_fifths)),
        "time_signature_accuracy": float(notation.meter.time_signature == ann.time_signature),
        "note_value_accuracy": note_value_accuracy(perf.notes, notated, row, asap_root, ann),
        "estimated": {"key_fifths": notation.key.fifths, "time_signature": notation.meter.time_signature},
        "notate_seconds": seconds,
    }


def evaluate_music21_baseline(row: dict, asap_root: Path) -> dict:
    """music21's plain MIDI import with quantizePost, read as a score."""
    from music21 import converter, meter

    path = asap_root / row["midi_performance"]
    ann = read_annotations(asap_root / row["performance_annotations"])
    perf = read_midi(path)
    pm = pretty_midi.PrettyMIDI(str(path))
    parsed = converter.parse(str(path), quantizePost=True).stripTies()
    signature = parsed.recurse().getElementsByClass(meter.TimeSignature).first()
    notated: dict[tuple[int, int], Fraction] = {}
    for element in parsed.flatten().notes:
        onset_s = pm.tick_to_time(int(round(float(element.offset) * pm.resolution)))
        for p in element.pitches:
            notated[(p.midi, int(round(onset_s * 20)))] = Fraction(element.quarterLength).limit_denominator(
                48
            )
    # A performance note reads the length notated at its own pitch within one 50 ms slot of its onset.
    lengths = {}
    for n in perf.notes:
        slot = int(round(n.onset * 20))
        found = next(
            (notated[(n.pitch, s)] for s in (slot, slot - 1, slot + 1) if (n.pitch, s) in notated), None
        )
        if found is not None:
            lengths[n] = found
    end = perf.duration
    return {
        "beat_f": mir_eval.beat.f_measure(ann.beats, pm.get_beats()[pm.get_beats() <= end]),
        "downbeat_f": mir_eval.beat.f_measure(ann.downbeats, pm.get_downbeats()[pm.get_downbeats() <= end]),
        "key_accuracy": float(same_key(parsed.analyze("key").sharps, ann.key_fifths)),
        "time_signature_accuracy": float(
            signature is not None and signature.ratioString == ann.time_signature
        ),
        "note_value_accuracy": note_value_accuracy(perf.notes, lengths, row, asap_root, ann),
    }


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
    pdf_cpu_start = time.process_time()
    svg_pages_to_pdf(pages)
    pdf_cpu_seconds = time.process_time() - pdf_cpu_start
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


def _mean(results: list[dict]) -> dict:
    return {m: float(np.mean([r[m] for r in results])) if results else 0.0 for m in METRICS}


def run_score_benchmark(asap_root: Path, split_works: list[str] | None, limit: int | None) -> dict:
    """Evaluate ours and the music21 baseline on the works' performances, plus one timed engraving."""
    asap_root = Path(asap_root)
    works = split_works or benchmark_works(VALIDATION_SPLIT, asap_root)
    rows = performances(asap_root, works, limit)
    if not rows:
        raise ValueError(f"no ASAP performances of the given works under {asap_root}")
    per_performance = {}
    for number, row in enumerate(rows, start=1):
        log.info("score bench %d/%d: %s", number, len(rows), row["midi_performance"])
        per_performance[row["midi_performance"]] = {
            "ours": evaluate_ours(row, asap_root),
            "music21": evaluate_music21_baseline(row, asap_root),
        }
    durations = {r["midi_performance"]: read_midi(asap_root / r["midi_performance"]).duration for r in rows}
    closest = min(durations, key=lambda k: abs(durations[k] - SPEED_TARGET_S))
    return {
        "works": works,
        "performances": per_performance,
        "mean": {
            "ours": _mean([p["ours"] for p in per_performance.values()]),
            "music21": _mean([p["music21"] for p in per_performance.values()]),
        },
        "speed": time_engraving(asap_root / closest, f"asap:{closest}"),
    }


def format_markdown(report: dict) -> str:
    """The mean scores as a markdown table, and the speed check as one line."""
    lines = [
        f"Performances: {len(report['performances'])} from {len(report['works'])} works.",
        "",
        "| system | " + " | ".join(METRICS) + " |",
        "|---" * (len(METRICS) + 1) + "|",
    ]
    for system, means in report["mean"].items():
        lines.append(f"| {system} | " + " | ".join(f"{means[m]:.3f}" for m in METRICS) + " |")
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
        report = run_score_benchmark(args.asap_root, works, args.limit)
    table = format_markdown(report)
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
    p.add_argument("--limit", type=int, default=None, help="evaluate at most N performances")
    p.add_argument("--json", type=Path, default=None, help="write per-performance and mean results here")
    p.add_argument("--markdown", type=Path, default=None, help="write the results table here")
    p.set_defaults(func=run)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="score_bench")
    register_score_bench(parser.add_subparsers(dest="command", required=True))
    arguments = parser.parse_args()
    raise SystemExit(arguments.func(arguments))
