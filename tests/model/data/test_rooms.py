"""Room augmentation: image-source responses, random rooms that make sense, faster high-frequency decay."""

from __future__ import annotations

import numpy as np
import torch

from notestream.model.data.augment import AugmentConfig, augment_batch
from notestream.model.data.rooms import (
    SPEED_OF_SOUND,
    RoomBank,
    damp_high_frequencies,
    from_direct_sound,
    random_room,
    room_response,
    shoebox_response,
)

RATE = 16000


def test_a_room_response_starts_with_the_direct_path_and_decays_faster_with_more_absorption():
    room, source, mic = (6.0, 5.0, 3.0), (1.0, 1.5, 1.2), (4.5, 3.0, 1.6)
    direct = np.linalg.norm(np.subtract(source, mic)) / SPEED_OF_SOUND * RATE
    dry = shoebox_response(room, source, mic, 0.6, RATE, seconds=0.5)
    wet = shoebox_response(room, source, mic, 0.15, RATE, seconds=0.5)
    assert int(np.flatnonzero(dry)[0]) == round(direct) and np.argmax(dry) == round(direct)
    late = lambda h: float(np.sum(h[int(0.1 * RATE):] ** 2) / np.sum(h ** 2))  # noqa: E731
    assert late(wet) > 3 * late(dry)


def test_random_rooms_hold_the_piano_and_microphone_inside_and_reach_their_reverberation_range():
    rng = np.random.default_rng(0)
    rooms = [random_room(rng, (0.2, 2.0)) for _ in range(200)]
    for spec in rooms:
        for point in (spec.source, spec.mic):
            assert all(0 < p < size for p, size in zip(point, spec.room, strict=True))
        assert 0.05 <= spec.absorption <= 0.95
        assert np.linalg.norm(np.subtract(spec.source, spec.mic)) > 0.1
    rt60s = np.array([spec.rt60 for spec in rooms])
    assert rt60s.min() < 0.4 and rt60s.max() > 1.5
    big = [spec.rt60 for spec in rooms if spec.room[0] > 15]
    small = [spec.rt60 for spec in rooms if spec.room[0] < 5]
    assert np.median(big) > np.median(small)  # halls ring longer than practice rooms


def _band_energy_after(response: np.ndarray, low_hz: float, high_hz: float, after_s: float) -> float:
    spectrum = np.fft.rfft(response[int(after_s * RATE):])
    freqs = np.fft.rfftfreq(len(response) - int(after_s * RATE), 1 / RATE)
    return float(np.sum(np.abs(spectrum[(freqs >= low_hz) & (freqs < high_hz)]) ** 2))


def test_damping_shortens_the_treble_tail_and_keeps_the_bass_and_the_direct_sound():
    response = shoebox_response((8.0, 6.0, 3.0), (2.0, 2.0, 1.0), (5.0, 4.0, 1.5), 0.2, RATE, seconds=1.0)
    damped = damp_high_frequencies(response, RATE, rt60=1.0, high_ratio=0.4)
    onset = int(np.flatnonzero(response)[0])
    assert abs(damped[onset] - response[onset]) < 0.02
    treble = _band_energy_after(damped, 5000, 8000, 0.3) / _band_energy_after(response, 5000, 8000, 0.3)
    bass = _band_energy_after(damped, 50, 300, 0.3) / _band_energy_after(response, 50, 300, 0.3)
    assert treble < 0.2 and 0.85 < bass < 1.15


def test_no_damping_leaves_the_response_as_it_was():
    response = shoebox_response((8.0, 6.0, 3.0), (2.0, 2.0, 1.0), (5.0, 4.0, 1.5), 0.3, RATE, seconds=0.5)
    np.testing.assert_allclose(damp_high_frequencies(response, RATE, 0.5, 1.0), response, atol=1e-5)


def test_training_rooms_start_at_the_direct_sound_so_labels_keep_their_times():
    rng = np.random.default_rng(11)
    for _ in range(5):
        spec = random_room(rng, (0.3, 1.5))
        assert np.linalg.norm(np.subtract(spec.source, spec.mic)) / SPEED_OF_SOUND * RATE > 4  # a flight to skip
        assert int(np.argmax(np.abs(room_response(spec, RATE, high_ratio=0.5, max_seconds=0.5)))) == 0
    np.testing.assert_array_equal(from_direct_sound(np.array([0.0, 0.0, 1.0, 0.5])), [1.0, 0.5])


def test_room_responses_have_unit_energy_and_are_capped_in_length():
    spec = random_room(np.random.default_rng(3), (1.8, 2.0))
    response = room_response(spec, RATE, high_ratio=0.5, max_seconds=0.4)
    assert len(response) <= int(0.4 * RATE) + 1
    assert abs(float(np.sum(response.astype(np.float64) ** 2)) - 1.0) < 1e-4


def test_the_bank_renews_one_response_at_a_time_and_is_reproducible():
    bank = RoomBank(np.random.default_rng(5), RATE, (0.2, 0.8), size=4)
    twin = RoomBank(np.random.default_rng(5), RATE, (0.2, 0.8), size=4)
    assert all(np.array_equal(a, b) for a, b in zip(bank.responses, twin.responses, strict=True))
    before = list(bank.responses)
    bank.renew_one()
    changed = sum(not np.array_equal(a, b) for a, b in zip(before, bank.responses, strict=True))
    assert changed == 1


def test_augmenting_in_a_room_smears_a_click_into_a_tail():
    audio = torch.zeros(2, RATE)
    audio[:, 1000] = 0.5
    config = AugmentConfig(gain=False, eq_tilt=False, band_eq=False, noise=False, reverb_probability=1.0, rooms=True,
                           room_share=1.0)
    bank = RoomBank(np.random.default_rng(1), RATE, (0.5, 1.0), size=2)
    for rooms in (bank, None):
        out = augment_batch(audio, config, RATE, torch.Generator().manual_seed(0), rooms)
        assert out.shape == audio.shape and out.abs().max() <= 1.0
        assert float(out[:, 1000 + RATE // 10:].abs().max()) > 0.0  # energy arrives well after the click
        assert float(out[:, :1000].abs().max()) < 1e-6  # and none before it: the response is causal
