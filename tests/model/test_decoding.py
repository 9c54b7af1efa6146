"""The note decoder: peak picking, frame continuation, re-strikes, pedal, and incremental == offline."""

from dataclasses import replace

import numpy as np
import pytest

from notestream.model.config import DecoderConfig
from notestream.model.decoding import Activations, NoteDecoder, decode
from notestream.notes import Note, PedalSpan

RATE = 10.0  # frames per second: frame t is at t / 10 s


def acts(frames: int) -> Activations:
    z = np.zeros((frames, 88), dtype=np.float32)
    return Activations(z.copy(), z.copy(), z.copy(), z.copy(), np.zeros(frames, dtype=np.float32))


def test_an_onset_peak_starts_a_note_that_lasts_while_the_frame_is_active():
    a = acts(10)
    a.onset[2:5, 39] = [0.6, 0.9, 0.7]  # peak at frame 3
    a.frame[3:7, 39] = 0.8
    a.velocity[3, 39] = 0.5
    notes, _ = decode(a, DecoderConfig(), RATE)
    assert notes == [Note(0.3, 0.7, 60, 64)]


def test_a_new_onset_on_a_sounding_key_ends_the_old_note():
    a = acts(12)
    a.onset[2, 40] = 0.9
    a.onset[6, 40] = 0.9
    a.frame[2:10, 40] = 0.9
    a.velocity[[2, 6], 40] = [0.2, 0.8]
    notes, _ = decode(a, DecoderConfig(), RATE)
    assert [(n.onset, n.offset, n.velocity) for n in notes] == [(0.2, 0.6, 25), (0.6, 1.0, 102)]


def test_an_offset_peak_ends_a_note_even_if_the_frame_is_still_active():
    a = acts(10)
    a.onset[1, 0] = 0.9
    a.frame[1:9, 0] = 0.9
    a.offset[5, 0] = 0.8
    notes, _ = decode(a, DecoderConfig(), RATE)
    assert notes == [Note(0.1, 0.5, 21, 1)]


def test_without_an_offset_threshold_only_the_frame_activation_ends_a_note():
    a = acts(10)
    a.onset[1, 0] = 0.9
    a.frame[1:9, 0] = 0.9
    a.offset[5, 0] = 0.99
    notes, _ = decode(a, DecoderConfig(offset_threshold=None), RATE)
    assert notes == [Note(0.1, 0.9, 21, 1)]


def test_notes_still_open_at_the_end_close_there_and_pedal_spans_are_found():
    a = acts(8)
    a.onset[6, 87] = 0.9
    a.frame[6:, 87] = 0.9
    a.pedal[2:5] = 0.9
    notes, pedals = decode(a, DecoderConfig(), RATE)
    assert notes == [Note(0.6, 0.8, 108, 1)]
    assert pedals == [PedalSpan(0.2, 0.5)]


def test_below_threshold_onsets_make_no_notes():
    a = acts(6)
    a.onset[2, 10] = 0.4
    a.frame[2:5, 10] = 0.9
    assert decode(a, DecoderConfig(), RATE) == ([], [])


def test_another_onset_threshold_moves_the_weak_onsets_along_and_only_probabilities_are_taken():
    config = DecoderConfig(onset_threshold=0.5, weak_onset_threshold=0.35)
    lower = config.with_onset_threshold(0.3)
    assert (lower.onset_threshold, lower.weak_onset_threshold) == (0.3, pytest.approx(0.15))
    assert replace(lower, onset_threshold=0.5, weak_onset_threshold=0.35) == config
    assert DecoderConfig(weak_onset_threshold=None).with_onset_threshold(0.3).weak_onset_threshold is None
    a = acts(6)
    a.onset[2, 10] = 0.4
    a.frame[2:5, 10] = 0.9
    plain = DecoderConfig(onset_threshold=0.5)
    assert decode(a, plain, RATE) == ([], [])
    assert [n.pitch for n in decode(a, plain.with_onset_threshold(0.3), RATE)[0]] == [31]
    for bad in (0.0, 1.0):
        with pytest.raises(ValueError, match="between 0 and 1"):
            config.with_onset_threshold(bad)


def test_pedal_hysteresis_holds_the_pedal_through_a_wavering_activation():
    a = acts(10)
    a.pedal[:] = [0.1, 0.7, 0.55, 0.45, 0.58, 0.5, 0.3, 0.45, 0.62, 0.2]
    assert decode(a, DecoderConfig(), RATE)[1] == [PedalSpan(0.1, 0.3), PedalSpan(0.4, 0.6), PedalSpan(0.8, 0.9)]
    hysteresis = DecoderConfig(pedal_threshold=0.6, pedal_release_threshold=0.4)
    assert decode(a, hysteresis, RATE)[1] == [PedalSpan(0.1, 0.6), PedalSpan(0.8, 0.9)]


def test_a_dip_shorter_than_end_frames_does_not_end_a_note():
    a = acts(40)
    a.onset[5, 40] = 0.9
    a.frame[5:30, 40] = 0.9
    a.frame[12:14, 40] = 0.1  # two frames low
    a.frame[20:23, 40] = 0.1  # three frames low
    ends = {k: [(n.onset, n.offset) for n in decode(a, DecoderConfig(offset_threshold=None, end_frames=k), RATE)[0]]
            for k in (1, 2, 3, 4)}
    assert ends == {1: [(0.5, 1.2)], 2: [(0.5, 1.2)], 3: [(0.5, 2.0)], 4: [(0.5, 3.0)]}
    with pytest.raises(ValueError, match="end_frames"):
        DecoderConfig(end_frames=0)


def test_a_weak_onset_counts_where_the_frame_activation_rises_across_it():
    a = acts(30)
    a.onset[5, 40] = a.onset[15, 41] = a.onset[25, 42] = 0.4  # under the onset threshold of 0.5
    a.frame[6:12, 40] = 0.9  # key 40 starts sounding: confirmed
    a.frame[10:20, 41] = 0.9  # key 41 was already sounding: not a new strike
    a.frame[26:29, 42] = 0.5  # key 42 rises too little
    config = DecoderConfig(offset_threshold=None, weak_onset_threshold=0.35, onset_rise=0.6)
    assert [n.pitch - 21 for n in decode(a, config, RATE)[0]] == [40]
    assert decode(a, DecoderConfig(offset_threshold=None), RATE)[0] == []


def test_on_its_rise_an_onset_starts_a_note_at_its_first_strong_frame_and_is_sent_without_waiting():
    a = acts(12)
    a.onset[2:7, 39] = [0.6, 0.9, 0.55, 0.8, 0.7]  # one run over the threshold with two peaks
    a.onset[9, 39] = 0.7  # a second run: a second strike
    a.frame[2:12, 39] = 0.8
    a.velocity[2, 39], a.velocity[9, 39] = 0.5, 0.25
    rise = DecoderConfig(offset_threshold=None, onset_on_rise=True)
    assert decode(a, rise, RATE)[0] == [Note(0.2, 0.9, 60, 64), Note(0.9, 1.2, 60, 32)]
    assert [n.onset for n in decode(a, replace(rise, onset_on_rise=False), RATE)[0]] == [0.3, 0.5, 0.9]
    decoder = NoteDecoder(rise, RATE)
    assert decoder.push(a.slice(0, 2)) == []
    assert [(e.kind, e.time) for e in decoder.push(a.slice(2, 3))] == [("note_on", 0.2)]  # the peak decoder waits


def test_onsets_on_their_rise_hold_back_no_frame_unless_the_end_rule_needs_one():
    assert DecoderConfig().frames_ahead == 1
    assert [DecoderConfig(onset_on_rise=True, end_frames=k).frames_ahead for k in (1, 2, 3, 4)] == [0, 0, 1, 2]


def test_a_weak_onset_on_its_rise_counts_where_the_frame_activation_rises_into_it():
    a = acts(30)
    a.onset[5, 40] = a.onset[15, 41] = 0.4  # under the onset threshold of 0.5
    a.frame[5:12, 40] = 0.9  # key 40 starts sounding on the onset's frame: confirmed
    a.frame[10:20, 41] = 0.9  # key 41 was already sounding: not a new strike
    config = DecoderConfig(offset_threshold=None, weak_onset_threshold=0.35, onset_rise=0.6, onset_on_rise=True)
    assert [n.pitch - 21 for n in decode(a, config, RATE)[0]] == [40]


def test_a_pedal_press_moves_back_along_the_rise_of_the_activation():
    a = acts(40)
    a.pedal[2:8] = 0.9  # a first press, released at frame 8
    a.pedal[8:20] = [0.45, 0.45, 0.1, 0.2, 0.42, 0.44, 0.5, 0.55, 0.7, 0.9, 0.9, 0.9]  # crosses 0.6 at frame 16
    a.pedal[20:] = 0.0
    config = DecoderConfig(pedal_threshold=0.6, pedal_release_threshold=0.5)
    assert decode(a, config, RATE)[1] == [PedalSpan(0.2, 0.8), PedalSpan(1.6, 2.0)]
    moved = {n: decode(a, replace(config, pedal_snap_frames=n), RATE)[1][1].onset for n in (2, 8)}
    assert moved == {2: 1.4, 8: 1.2}  # back to frame 12, where the rise passes the floor of 0.4
    bounded = decode(a, replace(config, pedal_snap_frames=8, pedal_snap_floor=0.05), RATE)[1][1]
    assert bounded.onset == 1.0  # down the rise to its trough at frame 10, not over the bump before


def test_an_end_snaps_back_to_the_offset_peak_just_before_it():
    a = acts(40)
    a.onset[5, 40] = a.onset[20, 41] = 0.9
    a.frame[5:15, 40] = a.frame[20:30, 41] = 0.9  # both end at frame 15 / 30 on the frame activation
    a.offset[12, 40] = 0.6  # three frames before the end: moves it
    a.offset[22, 41] = 0.6  # eight frames before: outside a window of four, stays
    a.offset[27, 41] = 0.15  # within the window but under the floor
    ends = {n: [(note.onset, note.offset) for note in decode(a, DecoderConfig(offset_threshold=None, offset_snap_frames=n), RATE)[0]]
            for n in (0, 4, 10)}
    assert ends == {0: [(0.5, 1.5), (2.0, 3.0)], 4: [(0.5, 1.2), (2.0, 3.0)], 10: [(0.5, 1.2), (2.0, 2.2)]}
    with pytest.raises(ValueError, match="snap frames"):
        DecoderConfig(offset_snap_frames=-1)


@pytest.mark.parametrize("config", [DecoderConfig(), DecoderConfig(0.3, 0.4, 0.6, None, 0.4),
                                    DecoderConfig(0.3, 0.6, 0.6, None, 0.4, end_frames=2),
                                    DecoderConfig(0.3, 0.6, 0.6, None, 0.4, end_frames=3, offset_snap_frames=6),
                                    DecoderConfig(0.3, 0.6, 0.6, 0.9, 0.4, end_frames=4, offset_snap_frames=2),
                                    DecoderConfig(0.6, 0.5, 0.6, None, end_frames=3, weak_onset_threshold=0.2, onset_rise=0.1,
                                                  pedal_snap_frames=6, pedal_snap_floor=0.05),
                                    DecoderConfig(0.3, 0.5, 0.6, 0.7, offset_snap_frames=30, offset_snap_floor=0.05),
                                    DecoderConfig(0.3, 0.6, 0.6, None, 0.4, end_frames=3),
                                    DecoderConfig(0.3, 0.5, 0.6, 0.5, end_frames=5),
                                    DecoderConfig(0.3, 0.6, 0.6, None, 0.4, onset_on_rise=True),
                                    DecoderConfig(0.3, 0.6, 0.6, 0.5, 0.4, end_frames=2, onset_on_rise=True),
                                    DecoderConfig(0.6, 0.5, 0.6, None, end_frames=3, weak_onset_threshold=0.2,
                                                  onset_rise=0.1, offset_snap_frames=4, onset_on_rise=True)])
@pytest.mark.parametrize("chunks", [25, 299])  # random chunk lengths; one frame at a time
def test_incremental_decoding_in_any_chunks_equals_offline_decoding(config, chunks):
    rng = np.random.default_rng(3)
    a = Activations(*(rng.random((300, 88)).astype(np.float32) ** 3 for _ in range(4)), rng.random(300).astype(np.float32))
    offline = decode(a, config, RATE)
    decoder = NoteDecoder(config, RATE)
    bounds = np.sort(rng.choice(np.arange(1, 300), chunks, replace=False))
    events = []
    for lo, hi in zip([0, *bounds], [*bounds, 300], strict=True):
        events += decoder.push(a.slice(lo, hi))
    events += decoder.flush()
    assert (sorted(decoder.notes), sorted(decoder.pedals)) == offline
    assert sum(e.kind == "note_off" for e in events) == len(offline[0])
    sent_before = np.maximum.accumulate([e.time for e in events])
    assert all(e.time >= sent - config.backdate_frames / RATE - 1e-9 for e, sent in zip(events, sent_before, strict=True))
    backdated = ("note_off", "pedal_on")
    assert all(e.time >= sent - 1e-9 for e, sent in zip(events, sent_before, strict=True) if e.kind not in backdated)
