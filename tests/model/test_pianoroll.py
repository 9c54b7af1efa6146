"""Piano rolls over the 88 keys A0-C8 and the frame labels the network learns from."""

from __future__ import annotations

import numpy as np
import pytest

from notestream.model.features import FeatureConfig
from notestream.model.pianoroll import frame_index, frame_labels, key_index, piano_roll
from notestream.notes import Note, PedalSpan

RATE = 100.0  # frames per second: frame i is centred on i * 10 ms


def test_roll_columns_run_from_a0_to_c8() -> None:
    roll = piano_roll([Note(0.0, 0.1, 21), Note(0.0, 0.1, 108), Note(0.0, 0.1, 60)], n_frames=20, frame_rate=RATE)
    assert roll.shape == (20, 88) and roll.dtype == bool
    assert np.flatnonzero(roll.any(axis=0)).tolist() == [0, 39, 87]
    assert (key_index(21), key_index(60), key_index(108)) == (0, 39, 87)


@pytest.mark.parametrize("pitch", [20, 109, 0, 127])
def test_pitches_off_the_keyboard_are_refused_not_wrapped(pitch: int) -> None:
    with pytest.raises(ValueError, match=f"pitch {pitch}"):
        piano_roll([Note(0.0, 0.1, pitch)], n_frames=20, frame_rate=RATE)


def test_a_note_sounds_from_its_onset_frame_up_to_its_offset_frame() -> None:
    roll = piano_roll([Note(0.104, 0.296, 60)], n_frames=40, frame_rate=RATE)
    assert np.flatnonzero(roll[:, key_index(60)]).tolist() == list(range(10, 30))


def test_a_note_shorter_than_a_frame_still_sounds_in_one_frame() -> None:
    roll = piano_roll([Note(0.100, 0.102, 60)], n_frames=40, frame_rate=RATE)
    assert np.flatnonzero(roll[:, key_index(60)]).tolist() == [10]


def test_notes_beyond_the_roll_are_cropped() -> None:
    roll = piano_roll([Note(0.15, 0.5, 60), Note(0.5, 0.6, 62)], n_frames=20, frame_rate=RATE)
    assert np.flatnonzero(roll[:, key_index(60)]).tolist() == list(range(15, 20))
    assert not roll[:, key_index(62)].any()


def test_frame_index_rounds_to_the_nearest_frame_at_the_model_rate() -> None:
    rate = FeatureConfig().frame_rate  # 62.5 frames per second: 16 ms per frame
    assert [frame_index(t, rate) for t in (0.0, 0.0079, 0.0081, 0.016, 1.0)] == [0, 0, 1, 1, 62]


def test_frame_labels_mark_onset_offset_velocity_and_pedal_frames() -> None:
    notes = [Note(0.10, 0.30, 60, 127), Note(0.20, 0.25, 64, 64)]
    labels = frame_labels(notes, [PedalSpan(0.22, 0.50)], n_frames=60, frame_rate=RATE)
    c4, e4 = key_index(60), key_index(64)
    for array in (labels.onset, labels.offset, labels.frame, labels.velocity):
        assert array.shape == (60, 88) and array.dtype == np.float32
    assert np.flatnonzero(labels.onset[:, c4]).tolist() == [10]
    assert np.flatnonzero(labels.onset[:, e4]).tolist() == [20]
    assert labels.velocity[10, c4] == pytest.approx(1.0)
    assert labels.velocity[20, e4] == pytest.approx(64 / 127)
    assert labels.velocity.sum() == pytest.approx(1.0 + 64 / 127)
    # C4 is released at 0.30 while the pedal is down (until 0.50), so it sounds until frame 50.
    assert np.flatnonzero(labels.frame[:, c4]).tolist() == list(range(10, 50))
    assert np.flatnonzero(labels.offset[:, c4]).tolist() == [50]
    assert np.flatnonzero(labels.frame[:, e4]).tolist() == list(range(20, 50))
    assert np.flatnonzero(labels.pedal).tolist() == list(range(22, 50))
    assert labels.pedal.shape == (60,)


def test_frame_labels_without_pedal_follow_the_played_offsets() -> None:
    labels = frame_labels([Note(0.10, 0.30, 60, 90)], [], n_frames=60, frame_rate=RATE)
    assert np.flatnonzero(labels.frame[:, key_index(60)]).tolist() == list(range(10, 30))
    assert np.flatnonzero(labels.offset[:, key_index(60)]).tolist() == [30]
    assert not labels.pedal.any()


def test_labels_at_the_edges_of_the_excerpt_are_dropped_not_wrapped() -> None:
    labels = frame_labels([Note(-0.05, 0.05, 60, 90), Note(0.15, 0.4, 62, 90)], [], n_frames=20, frame_rate=RATE)
    assert labels.onset.sum() == 1.0 and labels.onset[15, key_index(62)] == 1.0
    assert labels.offset.sum() == 1.0 and labels.offset[5, key_index(60)] == 1.0
    assert np.flatnonzero(labels.frame[:, key_index(60)]).tolist() == list(range(0, 5))


def test_crop_cuts_every_label_to_the_same_frames() -> None:
    labels = frame_labels([Note(0.10, 0.30, 60, 90)], [PedalSpan(0.0, 0.2)], n_frames=60, frame_rate=RATE)
    cropped = labels.crop(5, 25)
    for name in ("onset", "offset", "frame", "velocity", "pedal"):
        np.testing.assert_array_equal(getattr(cropped, name), getattr(labels, name)[5:25])
    assert cropped.onset[5, key_index(60)] == 1.0
