"""Humanised scores: reproducible, in range, in written order, spread and shaded, pedalled at harmony changes."""

from dataclasses import replace

import mido
import numpy as np

from notestream.model.data.humanize import LEAD_IN_SECONDS, Score, ScoreNote, Style, harmony_changes, humanize, play
from notestream.midi import write_midi
from notestream.notes import MAX_PITCH, MIN_PITCH


def chorale_like(bars: int = 8) -> Score:
    """Four-voice quarter-note chords, a new bass every bar, a staccato last beat, one grace note."""
    notes = []
    for bar in range(bars):
        for beat in range(4):
            q = bar * 4 + beat
            bass = 36 + (bar * 5) % 12
            for pitch in (bass, 55 + beat, 64, 72 + beat):
                notes.append(ScoreNote(q, 1.0, pitch, 1.0 if beat == 0 else 0.25, staccato=beat == 3))
    notes.append(ScoreNote(8.0, 0.0, 84))  # grace note before the third bar's first chord
    return Score(tuple(notes), tuple(float(b * 4) for b in range(bars)), 96.0)


def test_the_same_seed_gives_the_same_performance_and_another_seed_another():
    score = chorale_like()
    assert humanize(score, 5) == humanize(score, 5)
    assert humanize(score, 5).notes != humanize(score, 6).notes


def test_notes_stay_in_range_and_in_written_order():
    score = chorale_like()
    for seed in range(20):
        perf = humanize(score, seed)
        assert len(perf.notes) == len(score.notes)
        assert all(MIN_PITCH <= n.pitch <= MAX_PITCH and 1 <= n.velocity <= 127 for n in perf.notes)
        assert all(0 < n.onset < n.offset for n in perf.notes)
        by_written = {}
        for written, played in zip(sorted(score.notes, key=lambda n: (n.onset, n.pitch)), _in_written_order(score, perf), strict=True):
            if written.duration > 0:
                by_written.setdefault(written.onset, []).append(played.onset)
        times = [by_written[t] for t in sorted(by_written)]
        assert all(max(a) < min(b) for a, b in zip(times, times[1:], strict=False))  # no chord is played before the one written earlier
        for pitch in {n.pitch for n in perf.notes}:
            key = sorted(n for n in perf.notes if n.pitch == pitch)
            assert all(a.offset <= b.onset for a, b in zip(key, key[1:], strict=False))  # a key is released before it is struck again


def test_a_played_score_knows_each_notes_written_note_and_its_tempo_map():
    score = chorale_like()
    notes = (ScoreNote(0.0, 1.0, 12),) + score.notes  # below the piano: not played
    played = play(replace(score, notes=notes), 4)
    assert played.performance == humanize(replace(score, notes=notes), 4)
    written = [notes[i] for i in played.written]
    assert [w.pitch for w in written] == [n.pitch for n in played.performance.notes]
    assert 0 not in played.written
    chords = played.seconds_at(np.array([w.onset for w in written]))
    onsets = np.array([n.onset for n in played.performance.notes])
    assert np.abs(onsets - chords)[[w.duration > 0 for w in written]].max() < 0.1  # jitter and spread only
    assert np.all(np.diff(played.seconds_at(np.arange(0.0, 32.0))) > 0)


def _in_written_order(score, perf):
    """Played notes matched to written ones (same pitch, k-th occurrence), in written order."""
    pools = {}
    for n in sorted(perf.notes):
        pools.setdefault(n.pitch, []).append(n)
    out = []
    seen = {}
    for w in sorted(score.notes, key=lambda n: (n.onset, n.pitch)):
        k = seen.get(w.pitch, 0)
        seen[w.pitch] = k + 1
        out.append(pools[w.pitch][k])
    return out


def test_chords_are_spread_with_the_melody_leading_and_dynamics_vary():
    style = Style(chord_spread_ms=20.0, melody_lead_ms=20.0, jitter_ms=2.0)
    perf = humanize(chorale_like(), 1, style)
    chords = {}
    for n in perf.notes:
        chords.setdefault(round(n.onset * 4) / 4, []).append(n)
    spreads = [max(n.onset for n in c) - min(n.onset for n in c) for c in chords.values() if len(c) == 4]
    assert np.median(spreads) > 0.005
    leads = [min(c, key=lambda n: n.onset).pitch == max(n.pitch for n in c) for c in chords.values() if len(c) == 4]
    assert np.mean(leads) > 0.8
    assert np.std([n.velocity for n in perf.notes]) > 5


def test_staccato_notes_are_shorter_than_legato_ones():
    score = chorale_like()
    perf = humanize(score, 2, Style(legato=1.05))
    lengths = {}
    for written, played in zip(sorted(score.notes, key=lambda n: (n.onset, n.pitch)), _in_written_order(score, perf), strict=True):
        if written.duration > 0:
            lengths.setdefault(written.staccato, []).append(played.offset - played.onset)
    assert np.median(lengths[True]) < 0.5 * np.median(lengths[False])


def test_the_pedal_changes_just_after_the_harmony_changes():
    score = chorale_like()
    perf = humanize(score, 3, Style(pedal=1.0, drift=0.0, ritardando=0.0))
    assert len(perf.pedals) >= len(score.bars) - 1
    change_times = [LEAD_IN_SECONDS + q * 60 / 96 for q in harmony_changes(score)]
    for span in perf.pedals:
        assert any(0.03 <= span.onset - t <= 0.13 for t in change_times)  # pressed again after the new harmony sounds
    assert all(a.offset < b.onset for a, b in zip(perf.pedals, perf.pedals[1:], strict=False))


def test_no_pedal_style_gives_no_pedal_and_a_pedalled_one_writes_cc64(tmp_path):
    score = chorale_like()
    assert humanize(score, 4, Style(pedal=0.0)).pedals == []
    write_midi(humanize(score, 4, replace(Style(), pedal=1.0)), tmp_path / "p.mid")
    values = [m.value for track in mido.MidiFile(tmp_path / "p.mid").tracks for m in track if m.type == "control_change" and m.control == 64]
    assert 127 in values and 0 in values


def test_harmony_changes_are_bar_lines_and_bass_moves():
    notes = (ScoreNote(0, 1, 48), ScoreNote(1, 1, 48), ScoreNote(2, 1, 43), ScoreNote(4, 1, 43), ScoreNote(4, 1, 67))
    assert harmony_changes(Score(notes, (0.0, 4.0), 120.0)) == [0.0, 2.0, 4.0]
