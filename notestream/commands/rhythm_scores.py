"""Humanised performances of written scores, labelled for the rhythm network: the music21 corpus (model
layer) played and the written beats, metre, key and hands turned into RhythmExamples (score layer).
The two layers meet here, above both."""

from __future__ import annotations

import logging
import pickle
from dataclasses import replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from notestream.model.data.humanize import play
from notestream.model.data.music21_corpus import SATB, Music21Work, performance_seed, read_score, rhythm_works
from notestream.model.data.splits import read_splits
from notestream.score.meter import beat_quarters
from notestream.score.rhythm_data import IGNORE, RhythmExample, example_from_score
from notestream.score.rhythm_net import sort_notes

log = logging.getLogger(__name__)
MIN_NOTES = 40  # a fragment shorter than this says nothing about metre
BEATS_PER_MINUTE = (45.0, 150.0)  # each performance's tempo, drawn in beats of its written metre


def score_examples(work: Music21Work, count: int, seed: int, root: Path | None = None) -> list[RhythmExample]:
    """`count` labelled performances of a work (in the corpus at `root`, default music21's), each at a tempo
    drawn from BEATS_PER_MINUTE; none if the work has too few playable notes or a bar without a time signature."""
    score = read_score(work, root)
    if len(score.notes) < MIN_NOTES or not score.written_bars:
        return []
    beat = beat_quarters(score.written_bars[len(score.written_bars) // 2].time_signature)
    examples = []
    for k in range(count):
        performance_seed_k = performance_seed(seed, work, k)
        bpm = np.random.default_rng(performance_seed_k + 1).uniform(*BEATS_PER_MINUTE)
        played = play(replace(score, quarter_bpm=float(bpm * beat)), performance_seed_k)
        if len(played.written) < MIN_NOTES:
            return []
        order = sort_notes(played.performance.notes)
        origin = [score.notes[i] for i in played.written[order]]
        examples.append(example_from_score(
            [played.performance.notes[i] for i in order], played.performance.pedals,
            np.array([n.onset for n in origin]), np.array([IGNORE if n.hand is None else n.hand for n in origin]),
            score.written_bars, played.seconds_at,
        ))
    return examples


def write_rhythm_scores(out: Path, performances: int, seed: int) -> tuple[int, int]:
    """Label every rhythm work (evaluation twins left out; chorales once) and pickle the examples to `out`:
    (examples, notes). A work music21 cannot read is skipped with a warning."""
    evaluation = [w for split in ("validation", "benchmark") for w in read_splits()[split]]
    examples: list[RhythmExample] = []
    for work in tqdm(rhythm_works(evaluation), desc="rhythm scores", unit="work"):
        try:
            examples += score_examples(work, 1 if work.parts == SATB else performances, seed)
        except Exception as error:  # noqa: BLE001 - a corpus file music21 cannot read costs one work
            log.warning("%s: skipped (%s: %s)", work.path, type(error).__name__, error)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".tmp").write_bytes(pickle.dumps(examples))
    out.with_suffix(".tmp").replace(out)
    return len(examples), sum(len(e.onset) for e in examples)
