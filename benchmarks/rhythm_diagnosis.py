"""Where the sheet's beat F is lost, on the validation works only: the rhythm network's note labels, its beat
period, or the decoder.

Each performance is decoded four times by the same `decode_beats`, swapping in ASAP's annotations for the
network's outputs: the network's beat probabilities and periods (what the sheet does), the annotated beat
notes with the network's periods, the network's beat probabilities with the annotated periods, and both
annotated. Beside them: the F1 of the network's beat notes, how the decoded beats' median interval compares
with the annotated one (a ratio far from 1 is a beat at the wrong metrical level), and how often the network's
time-signature vote, and a constant 4/4, name the annotated time signature.

    python -m notestream_bench.rhythm_diagnosis --cache data/rhythm [--rhythm-weights W] [--stride 3]
"""

from __future__ import annotations

import argparse
import json
import warnings
from dataclasses import replace
from pathlib import Path

import mir_eval
import numpy as np

from notestream.score.asap import read_annotations
from notestream.score.rhythm_data import RhythmExample, split_rows
from notestream.score.rhythm_decoding import (
    BEAT_SOURCE,
    decode_beats,
    shipped_rhythm_net,
    voted_time_signature,
)
from notestream.score.rhythm_net import RhythmPrediction, load_rhythm_net, predict_rhythm
from notestream.score.rhythm_training import SPLITS_DIR, load_examples
from notestream_bench.score_bench import DEFAULT_ASAP_ROOT

LEVEL_SLACK = 1.25  # a decoded median beat interval this many times off the annotated one is another level


def diagnose(
    example: RhythmExample, prediction: RhythmPrediction, beats: np.ndarray, signature: str,
    threshold: float = BEAT_SOURCE or 0.5,
) -> dict[str, float]:
    """The diagnosis of one performance: `example` holds its notes and note labels, `beats` ASAP's beat
    times, `signature` its opening time signature."""
    notes = example.notes()
    labels = replace(prediction, beat=example.beat.astype(float))
    periods = np.exp(example.log_period.astype(float))
    decoded = decode_beats(notes, prediction, threshold)
    found, labelled = prediction.beat >= threshold, example.beat > 0.5
    return {
        "beat_f": mir_eval.beat.f_measure(beats, decoded),
        "beat_f_annotated_notes": mir_eval.beat.f_measure(beats, decode_beats(notes, labels, 0.5)),
        "beat_f_annotated_period": mir_eval.beat.f_measure(
            beats, decode_beats(notes, replace(prediction, period=periods), threshold)),
        "beat_f_both_annotated": mir_eval.beat.f_measure(
            beats, decode_beats(notes, replace(labels, period=periods), 0.5)),
        "note_beat_f1": 2 * float((found & labelled).sum()) / max(1, int(found.sum() + labelled.sum())),
        "interval_ratio": float(np.median(np.diff(decoded)) / np.median(np.diff(beats))),
        "time_signature_vote": float(voted_time_signature(prediction) == signature),
        "time_signature_4_4": float(signature == "4/4"),
    }


def summary(rows: list[dict[str, float]]) -> dict[str, float]:
    """Means over performances, and the shares whose decoded beats are at a faster or slower level."""
    mean = {k: round(float(np.mean([r[k] for r in rows])), 4) for k in rows[0] if k != "interval_ratio"}
    ratios = np.array([r["interval_ratio"] for r in rows])
    return mean | {
        "share_faster_level": round(float(np.mean(ratios < 1 / LEVEL_SLACK)), 4),
        "share_slower_level": round(float(np.mean(ratios > LEVEL_SLACK)), 4),
        "performances": len(rows),
    }


def run(asap_root: Path, cache: Path, weights: Path | None, stride: int) -> dict:
    net = load_rhythm_net(weights) if weights else shipped_rhythm_net()
    rows = split_rows(asap_root, SPLITS_DIR / "validation.txt")
    examples = load_examples(asap_root, "validation", cache)
    results = []
    for row, example in list(zip(rows, examples, strict=True))[::stride]:
        ann = read_annotations(asap_root / row["performance_annotations"])
        results.append(diagnose(example, predict_rhythm(net, example.notes()), ann.beats, ann.time_signature))
    return {"weights": str(weights or "shipped"), "stride": stride, "mean": summary(results)}


def main() -> None:
    parser = argparse.ArgumentParser(prog="rhythm_diagnosis", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--asap-root", type=Path, default=DEFAULT_ASAP_ROOT)
    parser.add_argument("--cache", type=Path, default=Path("data/rhythm"),
                        help="folder of rhythm_training's cached examples (built there when missing)")
    parser.add_argument("--rhythm-weights", type=Path, default=None)
    parser.add_argument("--stride", type=int, default=1, help="every Nth validation performance")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print(json.dumps(run(args.asap_root, args.cache, args.rhythm_weights, args.stride), indent=1))


if __name__ == "__main__":
    main()
