"""Choose how readily the score changes metre (rhythm_decoding.decode_meter_changes) on ASAP performances of
the validation works: for each (minimum run of bars, probability margin) the downbeat F and the beat-level
time-signature agreement against the annotations, beside one metre for the whole piece.

Only the bar lines move with these settings (beats, key, hands and note values do not), so each performance
is analysed once and every setting only re-walks its bars.

    python -m notestream_bench.meter_change_sweep --limit 30
"""

from __future__ import annotations

import argparse
import json
import warnings
from itertools import product
from pathlib import Path

import mir_eval
import numpy as np

from notestream.midi import read_midi
from notestream.score.asap import read_annotations
from notestream.score.beats import beat_times
from notestream.score.cleaning import drop_spurious_notes
from notestream.score.rhythm_decoding import decode_meter, decode_meter_changes, shipped_rhythm_net
from notestream.score.rhythm_net import predict_rhythm
from notestream_bench.score_bench import DEFAULT_ASAP_ROOT, VALIDATION_SPLIT, benchmark_works, performances
from notestream_bench.score_metrics import SheetReading, _signature_agreement

MIN_BARS = (2, 4, 8, 16)
MARGINS = (0.05, 0.1, 0.2, 0.3)


def _scores(meter, beats: np.ndarray, ann) -> tuple[float, float]:
    """Downbeat F and beat-level time-signature agreement of one metre reading."""
    origin = meter.first_downbeat - meter.beats_per_bar if meter.first_downbeat > 0 else 0
    downbeats = beats[[b for b, _ in meter.bar_starts(origin, len(beats)) if 0 <= b < len(beats)]]
    changes = ((float(beats[0]), meter.time_signature),) + tuple((float(beats[b]), s) for b, s in meter.changes)
    reading = SheetReading(beats, downbeats, meter.time_signature, 0, signatures=changes)
    return mir_eval.beat.f_measure(ann.downbeats, downbeats), _signature_agreement(reading, ann)


def sweep(asap_root: Path, limit: int | None) -> dict:
    """Mean (downbeat F, time-signature agreement) per setting, and with one metre ('none')."""
    net = shipped_rhythm_net()
    rows = performances(asap_root, benchmark_works(VALIDATION_SPLIT, asap_root), limit)
    results: dict[str, list[tuple[float, float]]] = {}
    for row in rows:
        notes = drop_spurious_notes(read_midi(asap_root / row["midi_performance"]).notes)
        ann = read_annotations(asap_root / row["performance_annotations"])
        prediction, beats = predict_rhythm(net, notes), beat_times(notes)
        meter = decode_meter(notes, prediction, beats)
        results.setdefault("none", []).append(_scores(meter, beats, ann))
        for bars, margin in product(MIN_BARS, MARGINS):
            changed = decode_meter_changes(notes, prediction, beats, meter, bars, margin)
            results.setdefault(f"{bars} bars, margin {margin}", []).append(_scores(changed, beats, ann))
    return {"performances": len(rows), "mean": {k: np.mean(v, axis=0).tolist() for k, v in results.items()}}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="meter_change_sweep", description=__doc__)
    parser.add_argument("--asap-root", type=Path, default=DEFAULT_ASAP_ROOT)
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        report = sweep(args.asap_root, args.limit)
    print(json.dumps(report, indent=1))
