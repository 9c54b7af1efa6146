"""Augmented batch streams: reproducible per seed and worker count, the same shapes from worker processes."""

from itertools import islice

import numpy as np
import torch

from notestream.model.data.augment import AugmentConfig
from notestream.model.data.batches import AugmentedBatches, batch_stream
from notestream.model.data.dataset import CropSampler
from notestream.model.features import FeatureConfig
from tests.model.data.tiny_corpus import write_tiny_corpus


def _sampler(tmp_path) -> CropSampler:
    return CropSampler(write_tiny_corpus(tmp_path / "data"), "train", FeatureConfig(), crop_frames=32, seed=0)


def test_the_stream_is_reproducible_for_a_seed_and_differs_for_another(tmp_path):
    sampler = _sampler(tmp_path)

    def audio(seed: int) -> list[torch.Tensor]:
        return [b.audio for b in islice(batch_stream(AugmentedBatches(sampler, 3, AugmentConfig(), seed), 0), 3)]

    first, again, other = audio(5), audio(5), audio(6)
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not torch.equal(first[0], other[0])
    assert first[0].abs().max() <= 1.0


def test_worker_processes_deliver_labelled_batches_each_from_its_own_draws(tmp_path):
    stream = batch_stream(AugmentedBatches(_sampler(tmp_path), 2, AugmentConfig(reverb=False, noise=False), seed=1), workers=2)
    a, b = islice(stream, 2)  # the loader takes one batch from each worker in turn
    n_samples = 31 * FeatureConfig().hop_length
    assert a.audio.shape == b.audio.shape == (2, n_samples)
    assert a.frame.shape == a.onset.shape == (2, 32, 88) and a.pedal.shape == (2, 32)
    assert not torch.equal(a.audio, b.audio)


def test_crops_come_from_every_split_named_even_with_the_same_segment_ids(tmp_path):
    root = write_tiny_corpus(tmp_path / "data")
    (root / "train-other-piano").mkdir()
    for path in (root / "train").glob("*.npz"):
        (root / "train-other-piano" / path.name).write_bytes(path.read_bytes())
    both = CropSampler(root, ("train", "train-other-piano"), FeatureConfig(), crop_frames=32, seed=0)
    assert len(both.segments) == 2 * len(CropSampler(root, "train", FeatureConfig(), crop_frames=32, seed=0).segments)
    assert both.refresh() == len(both.segments)  # nothing new on disk, nothing loaded twice


def test_batches_left_for_the_device_to_augment_are_the_clean_crops(tmp_path):
    sampler = _sampler(tmp_path)
    clean = next(batch_stream(AugmentedBatches(sampler, 2, AugmentConfig(), seed=3, augment_here=False), 0))
    again = _sampler(tmp_path)
    again.rng = np.random.default_rng([3, 0])  # the draws of worker 0 of a stream seeded 3
    expected = again.batch(2)
    assert torch.equal(clean.audio, expected.audio) and torch.equal(clean.onset, expected.onset)
