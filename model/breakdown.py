"""Where a transcription misses and adds notes: recall by velocity band, register and chord size, and
missed and extra notes per key, with what each extra note is relative to a reference note sounding then;
and whether velocities mean something: per band, the found notes' mean output velocity, and the share of
notes whose velocity mir_eval counts right.

Notes are matched exactly as `evaluation.note_metrics` scores note F1: mir_eval's `match_notes` on onsets
(50 ms) and pitch, offsets ignored; the velocity test as it scores note+offset+velocity F1. Every count is a
plain integer, so breakdowns of many segments add up (`sum_breakdowns`) and a recall is pooled over all
reference notes, not averaged over segments.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import mir_eval
import numpy as np

from notestream.notes import Note, Performance, extend_with_pedal

from .evaluation import OFFSET_MATCHING, ONSET_TOLERANCE, note_arrays

LOWEST_KEY, N_KEYS = 21, 88
CHORD_WINDOW = 0.03
VELOCITY_BANDS = (("<32", 0, 32), ("32–47", 32, 48), ("48–63", 48, 64), ("≥64", 64, 128))
CHORD_SIZES = ("1", "2", "3", "4", "5", "6+")
REGISTERS = tuple(f"{name}{octave}" for octave, name in [(0, "A")] + [(o, "C") for o in range(1, 9)])
# An extra note's pitch above or below a sounding reference note, in semitones, by name; checked in this order.
RELATIONS = (("unison", (0,)), ("octave", (12, 24, 36)), ("twelfth", (19,)), ("fifth", (7,)), ("semitone", (1,)))
RELATION_NAMES = tuple(name for name, _ in RELATIONS) + ("none",)
# The recall groups the issue sets targets on: (label, breakdown group, the group's bins pooled).
TARGET_GROUPS = (("velocity <48", "velocity", ("<32", "32–47")), ("chords of 5+", "chord_size", ("5", "6+")),
                 ("MIDI 21–35", "register", ("A0", "C1")))


def velocity_band(velocity: int) -> str:
    """The band of a MIDI velocity: <32 (pp), 32–47 (p), 48–63 (mp) or ≥64."""
    return next(name for name, low, high in VELOCITY_BANDS if low <= velocity < high)


def register(pitch: int) -> str:
    """The octave a key sits in, named by its lowest key: A0 (MIDI 21–23), C1 (24–35), …, C8 (108)."""
    return "A0" if pitch < 24 else f"C{min(pitch, 108) // 12 - 1}"


def chord_sizes(onsets: list[float] | np.ndarray, window: float = CHORD_WINDOW) -> np.ndarray:
    """The size of the chord each onset belongs to (same order as `onsets`).

    Onsets are grouped from the earliest: a chord takes every onset within `window` of its first one, so
    all its notes start within `window` of each other, and the next onset not taken starts the next chord.
    """
    onsets = np.asarray(onsets, dtype=float)
    order = np.argsort(onsets, kind="stable")
    sizes = np.zeros(len(onsets), dtype=int)
    start = 0
    while start < len(order):
        end = start
        while end < len(order) and onsets[order[end]] - onsets[order[start]] <= window + 1e-9:
            end += 1
        sizes[order[start:end]] = end - start
        start = end
    return sizes


def chord_size_label(size: int) -> str:
    return str(size) if size < 6 else "6+"


def relation_to_reference(note: Note, reference: list[Note], tolerance: float = ONSET_TOLERANCE) -> str:
    """What an extra note is relative to the reference notes sounding at its onset (struck up to `tolerance`
    after it, or still held): unison, octave, twelfth, fifth, semitone (above or below), else none."""
    sounding = {r.pitch for r in reference if r.onset - tolerance <= note.onset <= r.offset}
    intervals = {abs(note.pitch - p) for p in sounding}
    return next((name for name, steps in RELATIONS if intervals.intersection(steps)), "none")


def match_onsets(est: list[Note], ref: list[Note]) -> list[tuple[int, int]]:
    """(reference, estimate) index pairs that mir_eval matches on onset (50 ms) and pitch."""
    if not (ref and est):
        return []
    (ri, rp, _), (ei, ep, _) = note_arrays(ref), note_arrays(est)
    return mir_eval.transcription.match_notes(ri, rp, ei, ep, onset_tolerance=ONSET_TOLERANCE, offset_ratio=None)


def velocity_matches(est: list[Note], ref: list[Note]) -> tuple[list[int], set[int]]:
    """Reference notes matched with their offsets, and those of them whose velocity mir_eval also counts right
    (after its per-excerpt linear rescaling of the estimate's velocities), as note+offset+velocity F1 scores."""
    if not (ref and est):
        return [], set()
    (ri, rp, rv), (ei, ep, ev) = note_arrays(ref), note_arrays(est)
    with_offsets = mir_eval.transcription.match_notes(ri, rp, ei, ep, **OFFSET_MATCHING)
    right = mir_eval.transcription_velocity.match_notes(ri, rp, rv, ei, ep, ev, **OFFSET_MATCHING)
    return [r for r, _ in with_offsets], {r for r, _ in right}


def _zero_keys() -> list[int]:
    return [0] * N_KEYS


def _tallies(labels: tuple[str, ...]) -> dict[str, list[int]]:
    return {label: [0, 0] for label in labels}


def _band_tallies() -> dict[str, list[int]]:
    return _tallies(tuple(b[0] for b in VELOCITY_BANDS))


@dataclass
class NoteBreakdown:
    """Counts behind the recall breakdown and the per-key confusion.

    `velocity`, `register`, `chord_size`: bin → [reference notes found, reference notes]. Per key (88 lists,
    index 0 = A0): reference notes, missed ones, extra estimated notes, and extra notes by RELATION_NAMES.
    `velocity_sums`: band → [sum of the output velocities, sum of the reference velocities] of the notes found;
    `velocity_right`: band → [notes whose velocity is counted right, notes matched with their offsets].
    """

    velocity: dict[str, list[int]] = field(default_factory=_band_tallies)
    register: dict[str, list[int]] = field(default_factory=lambda: _tallies(REGISTERS))
    chord_size: dict[str, list[int]] = field(default_factory=lambda: _tallies(CHORD_SIZES))
    reference_by_key: list[int] = field(default_factory=_zero_keys)
    missed_by_key: list[int] = field(default_factory=_zero_keys)
    extra_by_key: list[int] = field(default_factory=_zero_keys)
    extra_relation_by_key: dict[str, list[int]] = field(
        default_factory=lambda: {name: _zero_keys() for name in RELATION_NAMES})
    velocity_sums: dict[str, list[int]] = field(default_factory=_band_tallies)
    velocity_right: dict[str, list[int]] = field(default_factory=_band_tallies)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> NoteBreakdown:
        return cls(**data)

    def recall(self, group: str, bins: tuple[str, ...] | None = None) -> tuple[float | None, int]:
        """Pooled recall of `bins` of a group ("velocity", "register", "chord_size"; all bins if None) and the
        number of reference notes behind it; recall is None where there are none."""
        tallies = getattr(self, group)
        found = sum(tallies[b][0] for b in bins or tallies)
        total = sum(tallies[b][1] for b in bins or tallies)
        return (found / total if total else None), total

    def mean_velocities(self, band: str) -> tuple[float, float] | None:
        """(mean output velocity, mean reference velocity) of the notes found in a reference velocity band."""
        found = self.velocity[band][0]
        output, reference = self.velocity_sums[band]
        return (output / found, reference / found) if reference else None  # none found, or not counted

    def velocity_right_share(self, band: str) -> tuple[float | None, int]:
        """The share of a band's notes matched with their offsets whose velocity is counted right, and how many."""
        right, total = self.velocity_right[band]
        return (right / total if total else None), total


def _key_index(pitch: int) -> int | None:
    index = pitch - LOWEST_KEY
    return index if 0 <= index < N_KEYS else None


def note_breakdown(est: list[Note], ref: list[Note]) -> NoteBreakdown:
    """The breakdown of one estimate against its reference (notes as given; see `performance_breakdown`)."""
    pairs = match_onsets(est, ref)
    ref_hit, est_hit = np.zeros(len(ref), bool), np.zeros(len(est), bool)
    out = NoteBreakdown()
    for r, e in pairs:
        ref_hit[r], est_hit[e] = True, True
        sums = out.velocity_sums[velocity_band(ref[r].velocity)]
        sums[0] += est[e].velocity
        sums[1] += ref[r].velocity
    with_offsets, right = velocity_matches(est, ref)
    for r in with_offsets:
        tally = out.velocity_right[velocity_band(ref[r].velocity)]
        tally[0] += int(r in right)
        tally[1] += 1
    sizes = chord_sizes([n.onset for n in ref])
    for note, hit, size in zip(ref, ref_hit, sizes, strict=True):
        for tally in (out.velocity[velocity_band(note.velocity)], out.register[register(note.pitch)],
                      out.chord_size[chord_size_label(int(size))]):
            tally[0] += int(hit)
            tally[1] += 1
        key = _key_index(note.pitch)
        if key is not None:
            out.reference_by_key[key] += 1
            out.missed_by_key[key] += int(not hit)
    for note, hit in zip(est, est_hit, strict=True):
        key = _key_index(note.pitch)
        if not hit and key is not None:
            out.extra_by_key[key] += 1
            out.extra_relation_by_key[relation_to_reference(note, ref)][key] += 1
    return out


def performance_breakdown(est: Performance, ref: Performance) -> NoteBreakdown:
    """The breakdown with the pedal rule applied to both sides, as `evaluation.performance_metrics` scores."""
    return note_breakdown(extend_with_pedal(est.notes, est.pedals), extend_with_pedal(ref.notes, ref.pedals))


def _add_keys(a: list[int], b: list[int]) -> list[int]:
    return [x + y for x, y in zip(a, b, strict=True)]


def sum_breakdowns(breakdowns: list[NoteBreakdown]) -> NoteBreakdown:
    """All counts added: the breakdown of the segments together."""
    total = NoteBreakdown()
    for part in breakdowns:
        for group in ("velocity", "register", "chord_size", "velocity_sums", "velocity_right"):
            for label, (found, count) in getattr(part, group).items():
                getattr(total, group)[label][0] += found
                getattr(total, group)[label][1] += count
        for name in ("reference_by_key", "missed_by_key", "extra_by_key"):
            setattr(total, name, _add_keys(getattr(total, name), getattr(part, name)))
        for relation, counts in part.extra_relation_by_key.items():
            total.extra_relation_by_key[relation] = _add_keys(total.extra_relation_by_key[relation], counts)
    return total


def target_recalls(breakdown: NoteBreakdown) -> dict[str, tuple[float | None, int]]:
    """The pooled recalls the issue sets targets on (velocity <48, chords of 5+ notes, MIDI 21–35)."""
    return {label: breakdown.recall(group, bins) for label, group, bins in TARGET_GROUPS}
