import numpy as np
import pytest

from notestream.model.data.corpus import Segment
from notestream.model.data.dataset import CropEmphasis, CropSampler, crop_labels, keyboard_shifts, segment_example, shift_ratio
from notestream.model.features import FeatureConfig
from notestream.notes import Note, PedalSpan, extend_with_pedal
from notestream.model.pianoroll import frame_labels
from tests.model.data.tiny_corpus import write_tiny_corpus

FEATURES = FeatureConfig()


def _tone_segment(pitch: int, onset: float, offset: float, seconds: float = 6.0) -> Segment:
    """A sine at `pitch` sounding over [onset, offset), labelled as one note."""
    rate = FEATURES.sample_rate
    t = np.arange(int(seconds * rate)) / rate
    hz = 440.0 * 2 ** ((pitch - 69) / 12)
    audio = np.where((t >= onset) & (t < offset), 0.5 * np.sin(2 * np.pi * hz * t), 0.0)
    return Segment("tone", (audio * 32767).astype(np.int16), [Note(onset, offset, pitch, 80)], [], rate)


def _peak_hz(audio: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(audio.size)))
    return float(np.argmax(spectrum) * FEATURES.sample_rate / audio.size)


@pytest.mark.parametrize("semitones", [-3, -1, 1, 2, 5])
def test_shift_ratio_is_within_two_cents_of_the_semitones(semitones):
    cents = -1200 * np.log2(float(shift_ratio(semitones)))
    assert abs(cents - 100 * semitones) < 2.0


@pytest.mark.parametrize("semitones", [-2, 0, 2])
def test_a_shifted_crop_sounds_and_is_labelled_the_shifted_key_at_the_scaled_times(semitones):
    seg = _tone_segment(60, onset=1.0, offset=2.0)
    n_frames = 4 * int(FEATURES.frame_rate)
    example = segment_example(seg, 0, n_frames, FEATURES, semitones)
    assert example["audio"].shape == ((n_frames - 1) * FEATURES.hop_length,)
    expected_hz = 440.0 * 2 ** ((60 + semitones - 69) / 12)
    assert _peak_hz(example["audio"]) == pytest.approx(expected_hz, rel=0.01)
    key = 60 + semitones - 21
    onset_frames = np.flatnonzero(example["onset"][:, key])
    scale = float(shift_ratio(semitones))
    assert onset_frames.tolist() == [round(1.0 * scale * FEATURES.frame_rate)]
    sounding = np.flatnonzero(example["frame"][:, key])
    assert sounding[0] == onset_frames[0] and sounding[-1] == pytest.approx(2.0 * scale * FEATURES.frame_rate, abs=1.5)
    assert example["onset"].sum() == 1 and example["velocity"][onset_frames[0], key] == pytest.approx(80 / 127)
    # the audio follows the labels: the tone starts where the onset label is
    hop = FEATURES.hop_length
    assert np.abs(example["audio"][: (onset_frames[0] - 1) * hop]).max() < 0.01
    assert np.abs(example["audio"][onset_frames[0] * hop: (onset_frames[0] + 2) * hop]).max() > 0.3


def test_keyboard_shifts_keep_the_crops_notes_on_the_88_keys():
    notes = [Note(0.0, 1.0, 106, 64), Note(2.0, 3.0, 23, 64), Note(20.0, 21.0, 108, 64)]
    assert keyboard_shifts(notes, 0.0, 4.0, 3) == range(-2, 3)
    assert keyboard_shifts(notes, 1.5, 4.0, 3) == range(-2, 3)  # the top note may still be held by the pedal
    assert keyboard_shifts(notes, 9.5, 12.0, 3) == range(-2, 4)  # long released; the bass note may be held
    assert keyboard_shifts(notes, 12.0, 16.0, 3) == range(-3, 4)  # nothing sounds: every shift
    assert keyboard_shifts(notes, 19.0, 23.0, 3) == range(-3, 1)


def test_notes_shifted_off_the_keyboard_outside_the_crop_are_dropped_not_an_error():
    seg = _tone_segment(60, onset=1.0, offset=2.0)
    seg.notes.append(Note(5.5, 5.9, 107, 64))  # after the 2 s crop; shifted up 2 it would be off the keyboard
    example = segment_example(seg, 0, 2 * int(FEATURES.frame_rate), FEATURES, 2)
    assert example["onset"].sum() == 1


def test_a_sampler_with_pitch_shifts_draws_varied_shifts_whose_labels_stay_on_the_keyboard(tmp_path):
    write_tiny_corpus(tmp_path)
    sampler = CropSampler(tmp_path, "train", FEATURES, crop_frames=64, seed=5)
    plain = CropSampler(tmp_path, "train", FEATURES, crop_frames=64, seed=5).batch(8)
    shifted = sampler.batch(8, max_semitones=3)
    assert shifted.onset.shape == plain.onset.shape and shifted.audio.shape == plain.audio.shape
    assert not np.array_equal(shifted.onset.numpy(), plain.onset.numpy())
    assert shifted.onset.sum() > 0


@pytest.mark.parametrize("semitones", [-2, 0, 1])
def test_crop_labels_from_the_whole_segment_equal_labelling_the_crop_from_scratch(semitones):
    rng = np.random.default_rng(semitones + 7)
    onsets = np.sort(rng.uniform(0, 40, 300))
    notes = [Note(float(t), float(t + rng.uniform(0.05, 3)), int(rng.integers(40, 90)), int(rng.integers(20, 120)))
             for t in onsets]
    pedal_starts = np.arange(0.5, 40, 4.0)
    pedals = [PedalSpan(float(t), float(t + rng.uniform(0.5, 3.5))) for t in pedal_starts]
    sounding = extend_with_pedal(notes, pedals)
    rate, n_frames = FEATURES.frame_rate, 256
    for start_frame in rng.integers(0, int(40 * rate), 12):
        shift, scale = start_frame / rate, float(shift_ratio(semitones))
        moved = [Note((n.onset - shift) * scale, (n.offset - shift) * scale, n.pitch + semitones, n.velocity) for n in notes]
        moved_pedals = [PedalSpan((p.onset - shift) * scale, (p.offset - shift) * scale) for p in pedals]
        expected = frame_labels(moved, moved_pedals, n_frames, rate)
        got = crop_labels(sounding, pedals, int(start_frame), n_frames, rate, semitones)
        for name in ("onset", "offset", "frame", "velocity", "pedal"):
            np.testing.assert_array_equal(getattr(got, name), getattr(expected, name), err_msg=name)


def test_emphasis_weighs_a_segment_by_its_share_of_soft_notes_and_of_notes_in_dense_chords():
    chord = [Note(1.0 + 0.005 * k, 2.0, 48 + 4 * k, 90) for k in range(5)]  # five onsets within 30 ms
    soft = [Note(3.0, 3.5, 60, 20), Note(4.0, 4.5, 62, 47), Note(5.0, 5.5, 64, 48)]  # 48 is not below 48
    notes = chord + soft
    assert CropEmphasis().factor(notes) == 1.0
    assert CropEmphasis(soft=4.0).factor(notes) == pytest.approx(1 + 4 * 2 / 8)
    assert CropEmphasis(chords=2.0).factor(notes) == pytest.approx(1 + 2 * 5 / 8)
    assert CropEmphasis(soft=4.0, chords=2.0).factor([]) == 1.0


def test_a_sampler_with_emphasis_draws_segments_in_proportion_to_length_times_factor(tmp_path):
    from notestream.model.data.corpus import save_segment

    (tmp_path / "train").mkdir()
    for name, velocity in (("loud", 100), ("soft", 30)):  # equal lengths, all notes loud or all soft
        notes = np.array([[0.5 * k, 0.5 * k + 0.4, 60 + k, velocity] for k in range(6)], dtype=np.float64)
        save_segment(tmp_path / "train" / f"{name}.npz", audio=np.zeros(32000, np.int16), notes=notes,
                     pedals=np.zeros((0, 2)))
    plain = CropSampler(tmp_path, "train", FEATURES, crop_frames=64, seed=5)
    emphasised = CropSampler(tmp_path, "train", FEATURES, crop_frames=64, seed=5, emphasis=CropEmphasis(soft=3.0))
    assert [s.segment_id for s in plain.segments] == ["loud", "soft"]
    assert plain.weights.tolist() == [0.5, 0.5]
    assert emphasised.weights == pytest.approx([1 / 5, 4 / 5])  # the soft segment weighs 1 + 3
