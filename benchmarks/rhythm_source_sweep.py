"""Choose where the sheet takes its beats and its key from, on the validation works only: ASAP performance MIDI
and, with --from-audio, our transcription of rendered excerpts of them (judged on each excerpt's span).

Beats: the onset-envelope tracker against the rhythm network's beats at several thresholds (beat F). Key: the
Albrecht-Shanahan profiles over pitch classes weighted by duration with several caps on one note's weight
(a small cap counts notes, which a transcription's pedal-long notes cannot sway), against the network's key
head (key accuracy). Each performance or excerpt is analysed once; every candidate only re-decodes it.

    python -m notestream_bench.rhythm_source_sweep --rhythm-weights W --limit 30 \
        --from-audio $NOTESTREAM_DATA/rendered/validation --audio-limit 40
"""

from __future__ import annotations

import argparse
import json
import warnings
from collections.abc import Iterator
from pathlib import Path

import mir_eval
import numpy as np

from notestream.midi import read_midi
from notestream.notes import Note
from notestream.score.asap import Annotations, read_annotations
from notestream.score.beats import beat_times
from notestream.score.cleaning import drop_spurious_notes
from notestream.score.key import estimate_key
from notestream.score.rhythm_decoding import decode_beats, decode_key, shipped_rhythm_net
from notestream.score.rhythm_net import RhythmModel, load_rhythm_net, predict_rhythm
from notestream_bench.score_bench import DEFAULT_ASAP_ROOT, VALIDATION_SPLIT, benchmark_works, performances
from notestream_bench.score_excerpts import rendered_excerpts
from notestream_bench.score_metrics import annotations_within, same_key

BEAT_THRESHOLDS = (0.3, 0.4, 0.5, 0.6)
KEY_CAPS_S = (2.0, 1.0, 0.5, 0.25, 0.001)


def candidate_scores(
    net: RhythmModel, notes: list[Note], ann: Annotations, window: tuple[float, float] | None = None,
) -> dict[str, float]:
    """Beat F of each beat source and key accuracy of each key source on one note list; an excerpt's notes
    are in its own time and judged inside its `window` of the annotated performance, as `bench score` does."""
    notes = drop_spurious_notes(notes)
    prediction = predict_rhythm(net, notes)
    beats = {"beats: tracker": beat_times(notes)}
    beats |= {f"beats: network {t}": decode_beats(notes, prediction, t) for t in BEAT_THRESHOLDS}
    start, end = window or (0.0, np.inf)
    placed = {name: b[(b + start >= start) & (b + start < end)] + start for name, b in beats.items()}
    scores = {name: mir_eval.beat.f_measure(ann.beats, b) for name, b in placed.items()}
    keys = {f"key: profiles, cap {cap} s": estimate_key(notes, cap).fifths for cap in KEY_CAPS_S}
    keys["key: network"] = decode_key(notes, prediction).fifths
    return scores | {name: float(same_key(fifths, ann.key_fifths)) for name, fifths in keys.items()}


def midi_cases(asap_root: Path, limit: int | None) -> Iterator[tuple[list[Note], Annotations, None]]:
    """(notes, annotations, no window) of validation performances, round-robin across works."""
    for row in performances(asap_root, benchmark_works(VALIDATION_SPLIT, asap_root), limit):
        yield read_midi(asap_root / row["midi_performance"]).notes, read_annotations(
            asap_root / row["performance_annotations"]), None


def audio_cases(
    folder: Path, asap_root: Path, limit: int | None,
) -> Iterator[tuple[list[Note], Annotations, tuple[float, float]]]:
    """(transcribed notes, the excerpt span's annotations, its window) of rendered validation excerpts."""
    from notestream.model.transcriber import Transcriber

    transcriber = Transcriber.from_checkpoint(views=(0,))
    for excerpt in rendered_excerpts(folder, asap_root, limit):
        ann = annotations_within(read_annotations(asap_root / excerpt.row["performance_annotations"]), *excerpt.window)
        yield transcriber.transcribe(excerpt.audio).performance.notes, ann, excerpt.window


def sweep(net: RhythmModel, cases: dict[str, Iterator]) -> dict:
    """Mean score of every candidate per kind of input, and over all inputs together."""
    results: dict[str, list[dict[str, float]]] = {kind: [candidate_scores(net, *case) for case in found]
                                                  for kind, found in cases.items()}
    every = [r for rows in results.values() for r in rows]
    means = {kind: {k: float(np.mean([r[k] for r in rows])) for k in rows[0]} for kind, rows in results.items() if rows}
    means["all"] = {k: float(np.mean([r[k] for r in every])) for k in every[0]}
    return {"counts": {kind: len(rows) for kind, rows in results.items()}, "mean": means}


def main() -> None:
    parser = argparse.ArgumentParser(prog="rhythm_source_sweep", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--asap-root", type=Path, default=DEFAULT_ASAP_ROOT)
    parser.add_argument("--rhythm-weights", type=Path, default=None, help="default: the shipped network")
    parser.add_argument("--limit", type=int, default=30, help="validation performances (MIDI)")
    parser.add_argument("--from-audio", type=Path, default=None, metavar="DIR", help="rendered validation excerpts")
    parser.add_argument("--audio-limit", type=int, default=40)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if args.from_audio is not None and "validation" not in args.from_audio.name:
        raise SystemExit(f"{args.from_audio}: choices are made on validation excerpts only")
    net = load_rhythm_net(args.rhythm_weights) if args.rhythm_weights else shipped_rhythm_net()
    cases = {"midi": midi_cases(args.asap_root, args.limit)}
    if args.from_audio is not None:
        cases["audio"] = audio_cases(args.from_audio, args.asap_root, args.audio_limit)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        report = sweep(net, cases) | {"rhythm_weights": str(args.rhythm_weights or "shipped")}
    text = json.dumps(report, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
